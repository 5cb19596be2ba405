"""Finds each student's notebooks in what the instructor was given.

Three layouts are read (see ``python -m autograder grade --help``):

* a folder with one folder per student, named by the student's id (any Unicode name), holding
  the notebook, directly or in a subfolder (``<id>/<ASSIGNMENT>/<file>.ipynb`` as nbgrader
  keeps it); a folder ``submitted/`` inside is nbgrader's own tree and is read the same way;
  a notebook lying directly in the folder is a student whose id is the file's name;
* a zip exported by an LMS: ``<id>.ipynb`` or ``<id>/<any path>.ipynb`` inside.

Only notebooks are read, never through a symbolic link and never beyond a size limit: the
files are untrusted, and nothing else of a submission reaches the sandbox.
"""

import os
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_BYTES = 64 * 2**20  # a larger file is not read: it is graded as an invalid notebook
MAX_FILES = 200  # notebooks looked at per student
SKIPPED = {"__MACOSX", ".ipynb_checkpoints"}


class MissingSubmissions(ValueError):
    pass


@dataclass
class Submission:
    student_id: str
    notebooks: list = field(default_factory=list)  # (path inside the submission, bytes or None)
    problem: str = ""  # a status when there is nothing to grade ("no notebook", "bad student id")
    notes: list = field(default_factory=list)


def id_problem(student_id):
    """Why ``student_id`` cannot name a feedback folder, or ''."""
    if not student_id.strip() or student_id in (".", ".."):
        return "пустой идентификатор или . / .."
    if "/" in student_id or "\\" in student_id:
        return "в идентификаторе есть / или \\"
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in student_id):
        return "в идентификаторе есть управляющие символы"
    if len(student_id.encode("utf-8", "surrogateescape")) > 200:
        return "идентификатор длиннее 200 байт"
    return ""


def discover(path):
    """Every student in ``path`` (a folder or a zip), sorted by id."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        students = _from_zip(path)
    elif path.is_dir():
        students = _from_folder(path / "submitted" if (path / "submitted").is_dir() else path)
    else:
        raise MissingSubmissions(f"Нет папки или zip-архива с работами: {path}")
    for submission in students.values():
        problem = id_problem(submission.student_id)
        if problem:
            submission.problem = "bad student id"
            submission.notes.append(problem)
        elif not submission.notebooks and not submission.problem:
            submission.problem = "no notebook"
    return [students[key] for key in sorted(students)]


def _skipped(name):
    """Hidden files and tool folders; ".." is not hidden but a bad id, reported as such."""
    return name in SKIPPED or (name.startswith(".") and name not in (".", ".."))


def _from_folder(folder):
    students = {}
    for entry in os.scandir(folder):
        if _skipped(entry.name):
            continue
        if entry.is_symlink():
            students[entry.name] = Submission(entry.name, problem="no notebook",
                                              notes=["символическая ссылка не читается"])
        elif entry.is_dir(follow_symlinks=False):
            students[entry.name] = Submission(entry.name, _folder_notebooks(Path(entry.path)))
        elif entry.name.endswith(".ipynb") and entry.is_file(follow_symlinks=False):
            student_id = entry.name[: -len(".ipynb")]
            students.setdefault(student_id, Submission(student_id)).notebooks.append(
                (entry.name, _read(Path(entry.path))))
    return students


def _folder_notebooks(folder):
    found = []
    for top, dirs, files in os.walk(folder):  # os.walk does not follow links to folders
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        for name in sorted(files):
            path = Path(top, name)
            wanted = name.endswith(".ipynb") and not _skipped(name) and len(found) < MAX_FILES
            if wanted and stat.S_ISREG(os.lstat(path).st_mode):
                found.append((path.relative_to(folder).as_posix(), _read(path)))
    return found


def _read(path):
    """The file's bytes, or None: never follows a link, never blocks on a FIFO, never reads past the limit."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = file.read(MAX_BYTES + 1)
    return data if len(data) <= MAX_BYTES else None


def _zip_name(info):
    """Names in zips made without the UTF-8 flag are usually UTF-8 anyway, not cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _from_zip(path):
    students = {}
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise MissingSubmissions(f"Не удалось открыть zip-архив {path}: {error}") from None
    with archive:
        for info in archive.infolist():
            parts = PurePosixPath(_zip_name(info).replace("\\", "/")).parts
            if parts and parts[0] == "submitted":
                parts = parts[1:]
            if not parts or any(_skipped(part) for part in parts):
                continue
            if len(parts) == 1 and not info.is_dir():
                if not parts[0].endswith(".ipynb"):
                    continue
                student_id = parts[0][: -len(".ipynb")]
            else:
                student_id = parts[0]
            submission = students.setdefault(student_id, Submission(student_id))
            if info.is_dir() or not parts[-1].endswith(".ipynb") or len(submission.notebooks) >= MAX_FILES:
                continue
            submission.notebooks.append(("/".join(parts[1:]) or parts[0], _read_member(archive, info)))
    return students


def _read_member(archive, info):
    if info.file_size > MAX_BYTES:
        return None
    try:
        with archive.open(info) as member:
            data = member.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError):
        return None  # damaged, encrypted or oddly compressed: graded as an invalid notebook
    return data if len(data) <= MAX_BYTES else None
