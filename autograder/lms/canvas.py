"""Canvas: the "Download Submissions" zip, the gradebook export, and the file its import reads.

Checked against Canvas's source (instructure/canvas-lms):

* ``lib/content_zipper.rb``: each uploaded file is named
  ``<sortable name>[_LATE]_<user id>_<attachment id>_<file name>``, the first part cleaned of
  everything but word characters and lower-cased (``get_filename``, ``sanitize_user_name``,
  ``sanitize_file_name``); with anonymous grading the id is ``anon_<anonymous id>`` and there
  is no name. A text or URL submission is ``<sortable name>[_LATE]_<id>_text.html`` /
  ``_link.html`` (``add_text_or_url``), without an attachment id. Only the submission's current
  attempt is zipped. The attachment id keeps names in the zip apart; a ``-1`` style suffix
  (``Attachment.make_unique_filename``) comes from the student's own files, where a second
  upload of ``hw.ipynb`` became ``hw-1.ipynb``.
* ``lib/gradebook_exporter.rb``: the export's header ``Student, ID, [SIS User ID,] SIS Login ID,
  [Integration ID, Root Account,] Section, <custom columns>, <Title> (<assignment id>), …``
  (``LastName, FirstName, ID, …`` when the course shows first and last names apart), then a
  row ``    Points Possible``; comma or semicolon separated.
* ``lib/gradebook_importer.rb``: the import needs ``Student`` and ``ID`` first and ``Section``
  as the last student column, finds an assignment by the id in ``Title (id)`` (or by its
  title), skips the ``Points Possible`` row, matches a student by ``ID``, and reads scores in
  points ("9.5" or "9,5"). It finds students by their numeric ``ID``: an ``anon_…`` id of an
  anonymously graded assignment matches nobody.
"""

import csv
import io
import re
from dataclasses import dataclass

from autograder.lms import cells
from autograder.lms.located import Located

ENTRY = re.compile(r"(?:(?P<name>.+?)_)??(?:(?P<late>LATE)_)?(?P<id>\d+|anon_[0-9A-Za-z]+)_(?P<attachment>\d+)_"
                   r"(?P<file>.+)")
TEXT_ENTRY = re.compile(r"(?:(?P<name>.+?)_)??(?:(?P<late>LATE)_)?(?P<id>\d+|anon_[0-9A-Za-z]+)_"
                        r"(?P<file>text\.html|link\.html)")
DUPLICATE = re.compile(r"(?P<stem>.+)-\d+(?P<suffix>\.[^.]+)")
ASSIGNMENT = re.compile(r"(?P<title>.*) \((?P<id>\d+)\)")
STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
ANONYMOUS = "anon_"  # the id prefix of an anonymously graded assignment's submissions
NOT_ASSIGNMENTS = re.compile("Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
                             "Override Score|Override Grade|Override Status")


class GradebookError(ValueError):
    pass


def locate(parts):
    """Whose file a zip entry of Canvas's download is, or None when it is not Canvas's name."""
    match = ENTRY.fullmatch(parts[0]) if len(parts) == 1 else None
    if match and (match["name"] is not None or match["id"].startswith("anon_")):
        return Located(match["id"], match["file"], match["name"] or "", bool(match["late"]), int(match["attachment"]))
    text = TEXT_ENTRY.fullmatch(parts[0]) if len(parts) == 1 else None
    if text and (text["name"] is not None or text["id"].startswith("anon_")):
        return Located(text["id"], text["file"], text["name"] or "", bool(text["late"]))
    return None


def keep_latest(submission, expected):
    """Of one notebook uploaded again (``hw.ipynb``, then ``hw-1.ipynb``), keep the latest.

    A ``-N`` suffix counts as a renamed upload only where the name without it is another
    notebook of the same submission or the assignment's own (``expected``): ``lab-1.ipynb``
    and ``lab-2.ipynb`` alone are two notebooks. The latest has the largest attachment id.
    """
    names = {notebook.name for notebook in submission.notebooks}

    def original(name):
        match = DUPLICATE.fullmatch(name)
        stem = match and match["stem"] + match["suffix"]
        return stem if stem and (stem in names or stem == expected) else name

    latest = {}
    for notebook in submission.notebooks:
        key = original(notebook.name)
        if key not in latest or notebook.order > latest[key].order:
            latest[key] = notebook
    for notebook in submission.notebooks:
        if latest[original(notebook.name)] is not notebook:
            submission.notes.append(f"{notebook.name}: более ранняя загрузка, взята последняя")
    submission.notebooks = [nb for nb in submission.notebooks if latest[original(nb.name)] is nb]
    for notebook in submission.notebooks:
        notebook.name = original(notebook.name)


@dataclass
class Student:
    student_id: str
    name: str
    cells: dict  # the student columns of the export, by header


class Gradebook:
    """Canvas's gradebook export: its students, and the assignment column to fill."""

    kind = "canvas"

    def __init__(self, text, column=None, assignment=""):
        delimiter = ";" if _fields(text, ";") > _fields(text, ",") else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        header = rows[0] if rows else []
        # "LastName, FirstName, ID" when the course shows the two names apart (the importer takes both).
        split_names = len(header) > 3 and "LastName" in header[0] and "FirstName" in header[1]
        first_id = 2 if split_names else 1
        if len(header) < 3 or not (split_names or "Student" in header[0]) or "ID" not in header[first_id]:
            raise GradebookError("это не выгрузка журнала оценок Canvas: первая строка должна начинаться с "
                                 "«Student,ID» или «LastName,FirstName,ID» («Grades → Export → Export Entire "
                                 "Gradebook»)")
        self.header = header
        assignments = [title for title in header if ASSIGNMENT.fullmatch(title) and not NOT_ASSIGNMENTS.search(title)]
        self.column = _choose_column(assignments, column, assignment)
        index = header.index(self.column)
        self.points_possible = None
        self.students = {}
        for row in rows[1:]:
            if not row or not any(cell.strip() for cell in row):
                continue
            if "Points Possible" in row[0]:
                self.points_possible = _number(row[index]) if index < len(row) else None
                continue
            if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", cell, re.IGNORECASE) for cell in row):
                continue
            student = dict(zip(header, row))
            name = ", ".join(part for part in row[:2] if part.strip()) if split_names else row[0]
            self.students[row[first_id].strip()] = Student(row[first_id].strip(), name, student)

    @property
    def participants(self):
        return self.students

    def submitted_at(self, participant, zone):
        return None  # the export has no submission times; the zip's LATE mark is all there is

    def marked_late(self, participant):
        return False


def _fields(text, delimiter):
    first = text.splitlines()[0] if text else ""
    return len(next(csv.reader([first], delimiter=delimiter), []))


def _choose_column(assignments, column, assignment):
    if column:
        if column not in assignments:
            raise GradebookError(f"в журнале Canvas нет столбца {column!r}; "
                                 f"есть: {', '.join(assignments) or 'никаких'}")
        return column
    named = [title for title in assignments if assignment and assignment in title]
    if len(named) == 1:
        return named[0]
    if len(assignments) == 1:
        return assignments[0]
    raise GradebookError("в журнале Canvas не ясно, в какой столбец ставить оценки: укажите --lms-column "
                         f"«Название (id)»; столбцы заданий: {', '.join(assignments) or 'нет ни одного'}")


def _number(text):
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def import_csv(gradebook, results, names, title, max_score):
    """The text of a gradebook import: ``results`` is id -> penalised score or None (no grade).

    With an export (``gradebook``) its students and column are used, scores scaled to the
    column's points possible; without one, the title alone names the assignment (Canvas then
    finds it by title), and ``names`` gives each student's name.
    """
    points = (gradebook.points_possible if gradebook else None) or max_score
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*STUDENT_COLUMNS, gradebook.column if gradebook else title])
    writer.writerow(["    Points Possible", "", "", "", "", _points(points)])
    ids = list(gradebook.students) if gradebook else []
    ids += sorted(set(results) - set(ids))
    for student_id in [i for i in ids if not i.startswith(ANONYMOUS)]:  # the import would match nobody
        known = gradebook.students.get(student_id) if gradebook else None
        row = [known.name, *(known.cells.get(column, "") for column in STUDENT_COLUMNS[1:])] if known else \
            [names.get(student_id, ""), student_id, "", "", ""]
        score = results.get(student_id)
        row.append("" if score is None else _points(score / max_score * points if max_score else 0.0))
        writer.writerow([cells.inert(cell) for cell in row])
    return out.getvalue()


def _points(value):
    return f"{value:.2f}".rstrip("0").rstrip(".")
