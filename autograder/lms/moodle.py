"""Moodle's assignment: the "Download all submissions" zip, the offline grading worksheet,
and the zip of feedback files it takes back.

Checked against Moodle's source (moodle/moodle):

* ``mod/assign/classes/downloader.php`` (4.1+; ``locallib.php`` before): every file of a
  participant is named from the prefix ``clean_filename(<full name, "_" replaced by " "> + "_"
  + <participant id>)`` (``get_student_prefix``); with blind marking the name is the string
  ``participant`` ("Participant" / «Участник»). Folder layout (the default since 3.1):
  ``<prefix>_assignsubmission_file/<path>`` (``_file_/`` with a trailing ``_`` before 4.1);
  flat layout: ``<prefix>_assignsubmission_file_<file name>``. The id is the per-assignment
  participant id (``get_uniqueid_for_user``), not the user id. With team submissions the
  prefix is the group's name and id, and for students in no group the string ``defaultteam``
  ("Default group") alone, without an id: such a folder is graded as one submission, under
  the group's id or, lacking one, its name.
* ``mod/assign/gradingtable.php``: the worksheet's columns (``recordid`` holds
  ``get_string('hiddenuser') . uniqueid``: "Participant 4718205" / «Участник4718205»),
  grades written with ``format_float`` (the language's decimal separator, the grade item's
  decimals), ``Last modified (submission)`` written with ``userdate`` (``strftimedaydatetime``
  of ``lang/en/langconfig.php``: "%A, %d %B %Y, %I:%M %p"; Russian: "%A, %d %B %Y, %H:%M"),
  the status with ``submittedlateshort`` ("{$a} late"; Russian packs: «… опоздание …» or
  «Срок выполнения закончился {$a} назад»).
* ``mod/assign/feedback/offline/importgradeslib.php``: the upload finds its columns by the
  header strings ``grade``, ``recordid``, ``lastmodifiedgrade`` and the comments plugin's
  name, strips the ``hiddenuser`` prefix from the id, and reads the grade with
  ``unformat_float``; every other column is left alone.
* ``mod/assign/feedback/file/importziplib.php``: a feedback file is matched to a participant
  by the first path part that splits on "_" into ``name_id_plugintype_pluginname``; the
  file itself must not start with "." or "~".
"""

import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

from autograder.lms import cells, rawcsv
from autograder.lms.located import Located

FOLDER = re.compile(r"(?P<name>[^_]*)(?:_(?P<id>\d+))?_assignsubmission_(?P<plugin>[a-z]+)_?")
FLAT = re.compile(r"(?P<name>[^_]*)(?:_(?P<id>\d+))?_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)")
FEEDBACK_PLUGIN = "assignfeedback_file"


@dataclass
class Strings:
    """The interface strings a worksheet is exported with, in one language."""

    identifier: str
    grade: str
    max_grade: tuple
    modified: str
    status: str
    full_name: str
    comments: str
    decimal: str


LANGUAGES = {
    "en": Strings("Identifier", "Grade", ("Maximum Grade", "Maximum grade"), "Last modified (submission)",
                  "Status", "Full name", "Feedback comments", "."),
    "ru": Strings("Идентификатор", "Оценка", ("Максимальная оценка",), "Последнее изменение (ответ)",
                  "Статус", "Полное имя", "Отзыв в виде комментария", ","),
}
MONTHS = {
    **{name: index for index, name in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august", "september",
         "october", "november", "december"], 1)},
    **{name: index for index, name in enumerate(
        ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
         "октябрь", "ноябрь", "декабрь"], 1)},
    **{name: index for index, name in enumerate(
        ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
         "октября", "ноября", "декабря"], 1)},
}
LONG_DATE = re.compile(r"\s*(?:[^\W\d_]+,?\s+)?(\d{1,2})\s+([^\W\d_]+)\s+(\d{4}),?\s+(\d{1,2}):(\d{2})"
                       r"(?::\d{2})?\s*([AaPp][Mm])?\s*")
LATE_STATUS = re.compile(r"\blate\b|опозда|Срок выполнения закончился", re.IGNORECASE)


class WorksheetError(ValueError):
    pass


def locate(parts):
    """Whose file a zip entry of Moodle's download is, or None when it is not Moodle's name."""
    folder = FOLDER.fullmatch(parts[0]) if len(parts) > 1 else None
    if folder and (folder["id"] or folder["name"]):
        return Located(folder["id"] or folder["name"], "/".join(parts[1:]), folder["name"])
    flat = FLAT.fullmatch(parts[0]) if len(parts) == 1 else None
    if flat and (flat["id"] or flat["name"]):
        return Located(flat["id"] or flat["name"], flat["file"], flat["name"])
    return None


@dataclass
class Participant:
    student_id: str
    name: str
    status: str
    modified: str  # "Last modified (submission)" as written
    max_grade: str  # "Maximum grade" as written
    record: rawcsv.Record


class Worksheet:
    """Moodle's offline grading worksheet, kept as exported except the cells we fill."""

    kind = "moodle"

    def __init__(self, text, bom):
        self.bom = bom
        records = rawcsv.parse(text, ",")
        header = records[0].values if records else []
        self.language = next((code for code, strings in LANGUAGES.items() if strings.identifier in header), None)
        if self.language is None:
            raise WorksheetError(_header_problem(header, text))
        self.strings = strings = LANGUAGES[self.language]
        self.header = records[0]
        self.columns = {}
        for key, names in [("identifier", (strings.identifier,)), ("grade", (strings.grade,)),
                           ("max_grade", strings.max_grade), ("modified", (strings.modified,)),
                           ("status", (strings.status,)), ("full_name", (strings.full_name,)),
                           ("comments", (strings.comments,))]:
            found = [header.index(name) for name in names if name in header]
            if found:
                self.columns[key] = found[0]
        for key, text_ in [("grade", strings.grade), ("max_grade", strings.max_grade[0])]:
            if key not in self.columns:
                raise WorksheetError(f"в листе оценок нет столбца «{text_}» (оценка по шкале не поддерживается)")
        self.records = records
        self.participants = {}
        for record in records[1:]:
            if len(record.values) == 1 and not record.values[0].strip():
                continue  # the empty line at the end
            if len(record.values) != len(header):
                raise WorksheetError(f"в строке листа оценок {len(record.values)} столбцов вместо {len(header)}: "
                                     f"{cells.inert(record.values[0])[:60]!r}")
            match = re.search(r"(\d+)\s*$", record.values[self.columns["identifier"]])
            if not match:
                raise WorksheetError(f"идентификатор {record.values[self.columns['identifier']]!r} не похож на "
                                     f"«{strings.identifier}» Moodle (Participant 123 / Участник123)")
            value = {key: record.values[index] for key, index in self.columns.items()}
            self.participants[match[1]] = Participant(match[1], value.get("full_name", ""), value.get("status", ""),
                                                      value.get("modified", ""), value["max_grade"], record)

    def submitted_at(self, participant, zone):
        """When it was submitted, read from the long date in the zone of the deadline."""
        return parse_long_date(participant.modified, zone)

    def marked_late(self, participant):
        return bool(LATE_STATUS.search(participant.status))

    def filled(self, results):
        """The worksheet's bytes with ``results`` (id -> (score, max score, comment) or None) in it."""
        for participant in self.participants.values():
            record = participant.record
            result = results.get(participant.student_id)
            if result is None:
                record.set(self.columns["grade"], "")
            else:
                score, max_score, comment = result
                record.set(self.columns["grade"], self._grade(score, max_score, participant.max_grade))
                if "comments" in self.columns:
                    record.set(self.columns["comments"], cells.inert(comment))
            for index, value in enumerate(record.values):  # nothing from a name may run as a formula
                if index not in record.changed and cells.inert(value) != value:
                    record.set(index, cells.inert(value))
        text = "".join(record.text(",") for record in self.records)
        return ("\ufeff" if self.bom else "").encode() + text.encode("utf-8")

    def _grade(self, score, max_score, written_max):
        """Points scaled to the worksheet's maximum, written as Moodle writes it ("9.00", «9,00»)."""
        written = written_max.strip().replace(",", ".")
        try:
            maximum = float(written)
        except ValueError:
            maximum, written = max_score, "0.00"
        value = score / max_score * maximum if max_score else 0.0
        return f"{value:.{len(written.partition('.')[2])}f}".replace(".", self.strings.decimal)


def _header_problem(header, text):
    first = text.splitlines()[0] if text else ""
    for delimiter, name in ((";", "точка с запятой"), ("\t", "табуляция")):
        if any(strings.identifier in first.split(delimiter) for strings in LANGUAGES.values()):
            return (f"лист оценок разделён символом «{name}», а Moodle выгружает и принимает его с запятыми: "
                    "скачайте лист из Moodle заново или сохраните его как CSV (UTF-8, разделитель — запятая)")
    return ("это не лист оценок Moodle: в первой строке нет столбца «Identifier» / «Идентификатор» "
            "(«Задание → Все ответы → Скачать таблицу оценок»)")


def parse_long_date(text, zone):
    """``Tuesday, 15 December 2026, 11:59 PM`` / «вторник, 15 декабря 2026, 23:59» -> aware time."""
    match = LONG_DATE.fullmatch(text or "")
    month = MONTHS.get(match[2].lower()) if match else None
    if not month:
        return None
    hour, minute = int(match[4]), int(match[5])
    if match[6]:
        hour = hour % 12 + (12 if match[6].lower() == "pm" else 0)
    try:
        return datetime(int(match[3]), month, int(match[1]), hour, minute, tzinfo=zone)
    except ValueError:
        return None


def feedback_entry(student_id, name, file_name):
    """The path in the feedback zip that Moodle's "upload multiple feedback files" matches."""
    clean = re.sub(r"[_/\\\x00-\x1f\x7f]+", " ", name).strip() or "Participant"
    return f"{clean}_{student_id}_{FEEDBACK_PLUGIN}/{file_name.lstrip('.~')}"


def feedback_zip(target, pages):
    """Write ``target`` from (participant id, name, file name, bytes) entries."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for student_id, name, file_name, data in pages:
            archive.writestr(feedback_entry(student_id, name, file_name), data)
