"""Finds each student's notebooks in what the instructor was given, trusting none of it.

The layouts read (``python -m autograder grade --help`` lists them):

* a folder with one folder per student, named by the student's id (any name, any bytes),
  holding the notebook at any depth; a notebook lying directly in the folder is a student
  whose id is the file's name;
* nbgrader's course folder: a ``submitted/<student>/<ASSIGNMENT>/`` tree (found by that
  structure, so a student whose id is ``submitted`` is still just a student);
* a zip: plain (``<id>.ipynb`` or ``<id>/<path>.ipynb``), nbgrader's tree, Moodle's "Download
  all submissions" or Canvas's "Download Submissions" (``autograder.lms`` knows their names).

Nothing here stops a batch or drops a student: a folder name that is not UTF-8 gets an id
with its bytes shown as ``%XX``, a very deep or very large folder is looked at up to a limit
(and the row says so), and notebook bytes are read only when the student is graded, within a
byte budget per student, so a small archive cannot make the grader itself large. Files are
never read through a symbolic link, a FIFO or a device.
"""

import codecs
import contextlib
import hashlib
import os
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from dateutil import parser as dateparser

from autograder.lms import canvas, moodle

MAX_BYTES = 64 * 2**20  # one notebook larger than this is not read: graded as an invalid notebook
STUDENT_BYTES = 64 * 2**20  # all of one student's notebooks together
MAX_FILES = 200  # notebooks looked at per student
MAX_DEPTH = 32  # folder levels looked into below a student's folder
MAX_ENTRIES = 10_000  # folder entries looked at per student
CHUNK = 2**20
SKIPPED = {".ipynb_checkpoints"}
ZIP_JUNK = {"__MACOSX"}  # what macOS's archiver adds beside every file
ZIP_DAMAGE = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError)
TIMESTAMP_FILE = "timestamp.txt"  # written by nbgrader's submit and kept by collect

codecs.register_error("autograder-percent", lambda error: (
    "".join(f"%{byte:02X}" for byte in error.object[error.start:error.end]), error.end))


class MissingSubmissions(ValueError):
    """The instructor's input is not something we can read: exit 2, with this message."""


class Notebook:
    """One notebook of a submission; its bytes are read when asked, never kept.

    It behaves as the pair ``(name, bytes)`` that the grader unpacks, so a class of
    notebooks is never in memory at once; ``read()`` gives None for a file that is too large,
    damaged or no longer a regular file (graded as an invalid notebook).
    """

    def __init__(self, name, size, opener, allowed=True, order=0):
        self.name, self.size, self._opener, self.allowed = name, size, opener, allowed
        self.order = order  # among uploads of one name, the later has the larger order (Canvas)

    def read(self):
        if not self.allowed:
            return None
        try:
            data = b"".join(self._pieces())
        except ZIP_DAMAGE:
            return None  # damaged, encrypted, oddly compressed or replaced: an invalid notebook
        return data if len(data) <= MAX_BYTES else None

    def chunks(self):
        """The bytes in pieces (for a digest); nothing when unreadable."""
        if self.allowed:
            with contextlib.suppress(*ZIP_DAMAGE):
                yield from self._pieces()

    def _pieces(self):
        left = MAX_BYTES + 1
        with self._opener() as file:
            while left > 0:
                piece = file.read(min(CHUNK, left))
                if not piece:
                    break
                left -= len(piece)
                yield piece

    def __iter__(self):
        yield self.name
        yield self.read()

    def __getitem__(self, index):
        return self.name if index in (0, -2) else (self.name, self.read())[index]

    def __len__(self):
        return 2

    def __eq__(self, other):
        return tuple(self) == tuple(other) if isinstance(other, (tuple, Notebook)) else NotImplemented

    def __repr__(self):
        return f"Notebook({self.name!r}, {self.size} bytes)"


@dataclass
class Submission:
    student_id: str
    notebooks: list = field(default_factory=list)  # Notebook, or (name, bytes) pairs
    problem: str = ""  # a status when there is nothing to grade ("no notebook", "bad student id")
    notes: list = field(default_factory=list)
    name: str = ""  # the person's name, where the source gives one apart from the id (an LMS)
    submitted_at: datetime = None  # when it was handed in, where the source says (aware)
    late_mark: bool = False  # the source marks it late, without saying by how much
    used: int = 0  # bytes of the per-student budget taken by its notebooks

    def add(self, name, size, opener, order=0):
        """Add a notebook, within the per-student limits; a note says what was left out."""
        if len(self.notebooks) >= MAX_FILES:
            if len(self.notebooks) == MAX_FILES:
                self.notes.append(f"тетрадей больше {MAX_FILES}: остальные не просматривались")
                self.notebooks.append(Notebook(name, size, opener, allowed=False, order=order))
            return
        allowed = size <= MAX_BYTES and self.used + size <= STUDENT_BYTES
        if allowed:
            self.used += size
        else:
            self.notes.append(f"{name}: {size / 2**20:.0f} МБ — больше предела {STUDENT_BYTES // 2**20} МБ "
                              "на работу, файл не читается")
        self.notebooks.append(Notebook(name, size, opener, allowed, order))


@dataclass
class Found:
    """What ``find`` read: the students and the kind of source they came from."""

    students: list
    kind: str  # "folder", "nbgrader", "zip", "moodle" or "canvas"
    root: Path  # the folder or zip given; for "nbgrader", the course folder


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


def shown(text):
    """``text`` fit for a terminal or a report: control characters as escapes."""
    return "".join(char if char.isprintable() or char == " " else ascii(char)[1:-1] for char in text)


def discover(path, assignment=None):
    """Every student in ``path`` (a folder or a zip), sorted by id."""
    return find(path, assignment).students


def find(path, assignment=None):
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        kind, students = _from_zip(path, assignment)
        root = path
    elif path.is_dir():
        tree = _nbgrader_tree(path, assignment)
        kind, root = ("nbgrader", path) if tree else ("folder", path)
        students = _from_folder(tree or path, assignment if tree else None)
    else:
        raise MissingSubmissions(f"Нет папки или zip-архива с работами: {path}")
    for submission in students.values():
        problem = id_problem(submission.student_id)
        if problem:
            submission.problem = "bad student id"
            submission.notes.append(problem)
        elif not submission.notebooks and not submission.problem:
            submission.problem = "no notebook"
    return Found([students[key] for key in sorted(students)], kind, root)


def digest(base, student):
    """A digest of the grader's ``base`` and the student's files, read as a stream."""
    digest = hashlib.sha256(base)
    for notebook in student.notebooks:
        name, chunks = (notebook.name, notebook.chunks()) if isinstance(notebook, Notebook) else \
            (notebook[0], [notebook[1] or b""])
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        for piece in chunks:
            digest.update(piece)
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def _display(name):
    """A name from the file system as text: bytes that are not UTF-8 become %XX."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "autograder-percent")


def _skipped(name):
    """Hidden files and tool folders; ".." is not hidden but a bad id, reported as such."""
    return name in SKIPPED or (name.startswith(".") and name not in (".", ".."))


# --- folders ---------------------------------------------------------------------------------

def _nbgrader_tree(path, assignment):
    """``path/submitted`` when it is nbgrader's tree ``submitted/<student>/<ASSIGNMENT>/``."""
    submitted = path / "submitted"
    if submitted.is_symlink() or not submitted.is_dir():
        return None
    try:
        with os.scandir(submitted) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_ENTRIES:
                    break
                if _skipped(entry.name) or not entry.is_dir(follow_symlinks=False):
                    continue
                inner = [assignment] if assignment else [e.name for e in os.scandir(entry.path)][:MAX_ENTRIES]
                if any(os.path.isdir(os.path.join(entry.path, name)) and
                       not os.path.islink(os.path.join(entry.path, name)) for name in inner):
                    return submitted
    except OSError:
        return None
    return None


def _from_folder(folder, assignment):
    """Students of a folder; with ``assignment``, each one's ``<student>/<ASSIGNMENT>/`` only."""
    students = {}
    with os.scandir(folder) as entries:
        listed = sorted(entries, key=lambda entry: entry.name)
    for entry in listed:
        if _skipped(entry.name):
            continue
        student_id = _display(entry.name)
        if entry.is_symlink():
            submission = Submission(student_id, problem="no notebook", notes=["символическая ссылка не читается"])
        elif entry.is_dir(follow_symlinks=False):
            submission = Submission(student_id)
            parts = (entry.name, assignment) if assignment else (entry.name,)
            _walk(Path(folder), parts, submission)
            if assignment:
                submission.submitted_at = _timestamp(Path(folder), parts)
        elif entry.name.endswith(".ipynb") and entry.is_file(follow_symlinks=False):
            student_id = student_id[: -len(".ipynb")]
            submission = students.get(student_id) or Submission(student_id)
            submission.add(student_id + ".ipynb", entry.stat(follow_symlinks=False).st_size,
                           _file_opener(Path(folder), (entry.name,)))
        else:
            continue
        if student_id in students and students[student_id] is not submission:
            submission.problem = "bad student id"
            submission.notes.append("этот же идентификатор у другой папки (имя не в UTF-8?)")
            student_id = f"{student_id} ({len(students)})"
            submission.student_id = student_id
        students[student_id] = submission
    return students


def _walk(root, parts, submission):
    """Add the notebooks below ``root/parts`` to ``submission``: no recursion, no links, bounded."""
    stack, seen = [tuple(parts)], 0
    while stack:
        here = stack.pop()
        try:
            fd = _open_dir(root, here)
        except OSError:
            if len(here) == len(parts) and len(parts) > 1:
                submission.notes.append(f"нет папки {_display(parts[-1])}")
            continue
        try:
            with os.scandir(fd) as entries:
                names = []
                for entry in entries:
                    seen += 1
                    if seen > MAX_ENTRIES:
                        submission.notes.append(f"в папке больше {MAX_ENTRIES} файлов: остальные не просматривались")
                        stack.clear()
                        break
                    if not _skipped(entry.name):
                        names.append((entry.name, entry.stat(follow_symlinks=False)))
        finally:
            os.close(fd)
        subfolders = []
        for name, info in sorted(names, key=lambda item: item[0]):
            if stat.S_ISDIR(info.st_mode):
                subfolders.append(here + (name,))
            elif stat.S_ISREG(info.st_mode) and name.endswith(".ipynb"):
                inner = "/".join(_display(part) for part in here[1:] + (name,))
                submission.add(inner, info.st_size, _file_opener(root, here + (name,)))
        if subfolders and len(here) - 1 >= MAX_DEPTH:
            submission.notes.append(f"папки вложены глубже {MAX_DEPTH} уровней: глубже не просматривалось")
            subfolders = []
        stack.extend(reversed(subfolders))


def _open_dir(root, parts):
    """A descriptor of ``root/parts``, opened one level at a time: no path length limit, no links."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
    except OSError:
        os.close(fd)
        raise
    return fd


def _file_opener(root, parts):
    @contextlib.contextmanager
    def opener():
        folder = _open_dir(root, parts[:-1])
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        finally:
            os.close(folder)
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError("not a regular file")
            yield file
    return opener


def _timestamp(root, parts):
    """The submission time nbgrader wrote into ``timestamp.txt`` (UTC when it names no zone)."""
    try:
        with _file_opener(root, tuple(parts) + (TIMESTAMP_FILE,))() as file:
            return parse_time(file.read(200).decode("utf-8", "replace"))
    except OSError:
        return None


def parse_time(text):
    """An aware time from nbgrader's ``2026-12-15 20:59:00.123456 UTC`` style, or None."""
    try:
        moment = dateparser.parse(text.strip())
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- zips ------------------------------------------------------------------------------------

def _zip_name(info):
    """Names in zips made without the UTF-8 flag are usually UTF-8 anyway, not cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _from_zip(path, assignment):
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise MissingSubmissions(f"Не удалось открыть zip-архив {path}: {error}") from None
    entries = []
    for info in infos:
        parts = PurePosixPath(_zip_name(info).replace("\\", "/")).parts
        if parts and not any(part in ZIP_JUNK or _skipped(part) for part in parts):
            entries.append((parts, info))
    kind, locate = _zip_layout(path, [(parts, info.is_dir()) for parts, info in entries], assignment)
    students = {}
    for parts, info in entries:
        place = locate(parts, info.is_dir())
        if place is None:
            continue
        submission = students.setdefault(place.student_id, Submission(place.student_id, name=place.name))
        submission.late_mark |= place.late
        if place.inner.endswith(".ipynb") and not info.is_dir():
            submission.add(place.inner, info.file_size, _member_opener(path, info), place.order)
        elif place.inner == TIMESTAMP_FILE and kind == "zip":
            submission.submitted_at = _member_time(path, info)
    if kind == "canvas":
        for submission in students.values():
            canvas.keep_latest(submission, assignment and f"{assignment}.ipynb")
    return kind, students


@dataclass
class Place:
    """Where a zip entry belongs: whose it is and its path inside that student's files."""

    student_id: str
    inner: str
    name: str = ""
    late: bool = False
    order: int = 0


def _zip_layout(path, entries, assignment):
    """(kind, locate) for the archive's names; an instructor error when they fit no layout."""
    files = [parts for parts, is_dir in entries if not is_dir]
    for kind, module in (("moodle", moodle), ("canvas", canvas)):
        fits = [module.locate(parts) is not None for parts in files]
        if files and all(fits):
            return kind, _lms_locator(module)
        if kind == "moodle" and any(fits):
            odd = [("/".join(parts)) for parts, fit in zip(files, fits) if not fit][:3]
            raise MissingSubmissions(
                f"Архив {path} похож на выгрузку Moodle («Скачать все ответы»), но не все имена в нём "
                f"такие: {', '.join(shown(name) for name in odd)}. Ожидалось «<Полное имя>_<id "
                "участника>_assignsubmission_file/<файл>» (папка на участника) или "
                "«<Полное имя>_<id>_assignsubmission_file_<файл>» (без папок).")
    if not any(len(parts) > 1 or parts[0].endswith(".ipynb") for parts, _ in entries):
        raise MissingSubmissions(
            f"В архиве {path} нет ни тетрадей, ни папок студентов. Ожидалась одна из выгрузок: "
            "Moodle («<Полное имя>_<id>_assignsubmission_file/…»), Canvas "
            "(«<фамилияимя>[_LATE]_<id>_<id файла>_<файл>»), дерево nbgrader "
            "(«submitted/<студент>/<ЗАДАНИЕ>/…») или «<id студента>.ipynb» / «<id студента>/…».")
    tree = any(len(parts) >= 4 and parts[0] == "submitted" and (assignment is None or parts[2] == assignment)
               for parts, _ in entries)
    return "zip", lambda parts, is_dir: _plain_place(parts, is_dir, tree, assignment)


def _lms_locator(module):
    def locate(parts, is_dir):
        found = None if is_dir else module.locate(parts)
        return found and Place(found.student_id, found.inner, found.name, found.late, getattr(found, "order", 0))
    return locate


def _plain_place(parts, is_dir, tree, assignment):
    if tree:
        if parts[0] != "submitted" or len(parts) < 2:
            return None  # the rest of a zipped course folder (source/, release/, ...)
        parts = parts[1:]
        if len(parts) < 3 or (assignment and parts[1] != assignment):
            return Place(parts[0], "")  # the student, without another assignment's files
        return Place(parts[0], "/".join(parts[2:]))
    if len(parts) == 1 and not is_dir:
        return Place(parts[0][: -len(".ipynb")], parts[0]) if parts[0].endswith(".ipynb") else None
    return Place(parts[0], "/".join(parts[1:]))


def _member_opener(path, info):
    @contextlib.contextmanager
    def opener():
        with zipfile.ZipFile(path) as archive, archive.open(info) as member:
            yield member  # a member never yields more than its declared size
    return opener


def _member_time(path, info):
    try:
        with _member_opener(path, info)() as member:
            return parse_time(member.read(200).decode("utf-8", "replace"))
    except ZIP_DAMAGE:
        return None
