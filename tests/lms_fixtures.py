"""Generated LMS files, shaped as Moodle and Canvas write them (no real student data).

Moodle: the "Download all submissions" zip in its layouts and the offline grading worksheet
in English and Russian (see ``autograder/lms/moodle.py`` for the source each name comes
from). Canvas: the "Download Submissions" zip and the gradebook export.
"""

import csv
import io
import re
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "05_gradient_descent"
SOLUTION = (ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
EXERCISE = (ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
MOODLE_HEADERS = {
    "en": ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
           "Last modified (submission)", "Last modified (grade)", "Feedback comments"],
    "ru": ["Идентификатор", "Полное имя", "Адрес электронной почты", "Статус", "Оценка", "Максимальная оценка",
           "Оценка может быть изменена", "Последнее изменение (ответ)", "Последнее изменение (оценка)",
           "Отзыв в виде комментария"],
}
PARTICIPANT = {"en": "Participant ", "ru": "Участник"}  # mod/assign hiddenuser


def moodle_prefix(name, participant_id, blind=False, language="en"):
    """downloader.php get_student_prefix: "_" in the name becomes " ", then clean_filename
    (PARAM_FILE) drops what a file name cannot hold."""
    shown = {"en": "Participant", "ru": "Участник"}[language] if blind else name.replace("_", " ")
    return re.sub(r'[\x00-\x1f\x7f\\/:*?"<>|]', "", f"{shown}_{participant_id}")


def moodle_zip(path, participants, layout="folder", blind=False, language="en"):
    """``participants``: (name, participant id, {file name: bytes}); layout folder, legacy or flat."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, participant_id, files in participants:
            prefix = moodle_prefix(name, participant_id, blind, language)
            for file_name, data in files.items():
                plugin = "onlinetext" if file_name == "onlinetext.html" else "file"
                if layout == "flat":
                    entry = f"{prefix}_assignsubmission_{plugin}_{file_name}"
                else:
                    entry = f"{prefix}_assignsubmission_{plugin}{'_' if layout == 'legacy' else ''}/{file_name}"
                archive.writestr(entry, data)
    return path


def moodle_worksheet(path, language, rows, bom=True):
    """``rows``: (participant id, name, status, modified, max grade, comment); written as Moodle does,
    with some cells quoted though they need not be, so that keeping them byte for byte shows."""
    out = io.StringIO()
    out.write(",".join(f'"{h}"' if " " in h else h for h in MOODLE_HEADERS[language]) + "\n")
    for participant_id, name, status, modified, maximum, comment in rows:
        cells = [f"{PARTICIPANT[language]}{participant_id}", '"' + name.replace('"', '""') + '"',
                 f"s{participant_id}@example.org",
                 _quoted(status), "", _quoted(maximum), "Yes" if language == "en" else "Да", _quoted(modified),
                 "-", _quoted(comment)]
        out.write(",".join(cells) + "\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    return path


def _quoted(value):
    return '"' + value.replace('"', '""') + '"' if any(char in value for char in ', "') else value


def canvas_zip(path, entries):
    """``entries``: (sortable name or None, user id, attachment id, file name, bytes, late)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, user_id, attachment_id, file_name, data, late in entries:
            parts = [name, "LATE" if late else None, user_id]
            archive.writestr("_".join(str(p) for p in parts if p is not None) + f"_{attachment_id}_{file_name}", data)
    return path


def canvas_gradebook(path, title, assignment_id, points, students):
    """``students``: (name, user id, SIS user id, login, section); the export's layout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{title} ({assignment_id})",
                     "Other task (77)", "Current Score", "Final Score"])
    writer.writerow(["    Points Possible", "", "", "", "", points, "5", "(read only)", "(read only)"])
    for student in students:
        writer.writerow([*student, "", "3", "50", "50"])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return path
