"""Learning management systems: what they export (submissions, rosters) and what they import.

``moodle`` and ``canvas`` read each system's own file names and tables; ``exchange`` is
nbgrader's exchange of a JupyterHub course; ``roundtrip`` joins them to a batch of grades.
"""

from pathlib import Path

from autograder.lms import canvas, moodle

BOM = b"\xef\xbb\xbf"


class RosterError(ValueError):
    """The roster given with --roster cannot be read; the message says why and what to do."""


def read_roster(path, column=None, assignment=""):
    """Moodle's grading worksheet or Canvas's gradebook export, by its header."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RosterError(f"не удалось прочитать ведомость {path}: {error.strerror}") from None
    bom = data.startswith(BOM)
    try:
        text = data[len(BOM) if bom else 0:].decode("utf-8")
    except UnicodeDecodeError:
        hint = " (похоже на Windows-1251)" if _looks_cp1251(data) else ""
        raise RosterError(f"ведомость {path} не в кодировке UTF-8{hint}: Moodle и Canvas выгружают её в UTF-8 — "
                          "скачайте заново или сохраните как «CSV UTF-8»") from None
    first = text.splitlines()[0] if text else ""
    try:
        if any(strings.identifier in first for strings in moodle.LANGUAGES.values()):
            return moodle.Worksheet(text, bom)
        if first.startswith(("Student", '"Student', "LastName", '"LastName')):
            return canvas.Gradebook(text, column, assignment)
    except (moodle.WorksheetError, canvas.GradebookError) as error:
        raise RosterError(f"ведомость {path}: {error}") from None
    raise RosterError(f"ведомость {path} не похожа ни на лист оценок Moodle (столбец «Identifier» / "
                      "«Идентификатор»), ни на журнал Canvas (первая строка «Student,ID,…» "
                      "или «LastName,FirstName,ID,…»)")


def _looks_cp1251(data):
    try:
        return any("а" <= char <= "я" for char in data.decode("cp1251").lower())
    except UnicodeDecodeError:
        return False
