"""Builds the notebook that is graded: the instructor's notebook with the student's answers in it.

The student's file is untrusted input. Only the source of its solution cells is taken, matched
by nbgrader ``grade_id``; the setup cell, the tests (hidden ones included) and their points
come from the instructor's notebook, so whatever else the student changed cannot change a grade.
"""

import ast
import json
import re
import threading
from dataclasses import dataclass, field

from autograder import settings

HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
# CPython 3.11's ast.parse may fail with "AST constructor recursion depth mismatch" when two
# threads parse at once (gh-106905); the grader's workers are threads.
_PARSE_LOCK = threading.Lock()
MAX_NOTEBOOK_BYTES = 64 * 2**20
# Parsed JSON takes up to some 60 bytes a value ("[]," is an empty list): the grader's own memory
# for one file stays near 100 MiB. Commas, brackets and braces outside strings count values
# from above (outputs are strings: a printed list of a million numbers is one value).
MAX_NOTEBOOK_VALUES = 2 * 10**6
JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')  # possessive: linear on a 64 MB output


class MalformedAssignment(ValueError):
    """The instructor's notebook cannot be read as an nbgrader source notebook."""


class InvalidNotebook(ValueError):
    """The student's file is not a notebook we can read; the message says why, in Russian."""


@dataclass
class Cell:
    kind: str  # "setup", "solution" or "test"
    source: str
    grade_id: str = ""
    points: float = 0.0
    hidden: list = field(default_factory=list)  # a test's lines (1-based) between the hidden markers


@dataclass
class Assignment:
    """What the instructor's notebook says about grading: cells in order and the graded names."""

    name: str
    cells: list
    names: dict  # solution grade_id -> top-level names its cell defines
    stubs: dict  # solution grade_id -> source given to students
    grade_ids: set  # every grade_id of the notebook, to recognise another assignment's file

    @property
    def tests(self):
        return [cell for cell in self.cells if cell.kind == "test"]

    @property
    def max_score(self):
        return sum(cell.points for cell in self.tests)

    @property
    def graded_names(self):
        return sorted({name for names in self.names.values() for name in names})


@dataclass
class Answers:
    """The student's solution cells by grade_id, and what was odd about the file."""

    sources: dict
    notes: list = field(default_factory=list)
    other_ids: set = field(default_factory=set)


def source_text(source):
    """A cell's source, stored as a string or as a list of lines; anything else is empty."""
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return ""


def nbgrader_meta(cell):
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def split_hidden(source):
    """A test's code without the marker lines, and the numbers (1-based) of its hidden lines."""
    lines, hidden, inside = [], [], False
    for line in source.splitlines(keepends=True):
        if line.strip() in HIDDEN_MARKERS:
            inside = line.strip() == HIDDEN_MARKERS[0]
            continue
        lines.append(line)
        if inside:
            hidden.append(len(lines))
    return "".join(lines), hidden


def _parse(source):
    with _PARSE_LOCK:
        return ast.parse(source)


def defined_names(source):
    """Top-level names the instructor's cell defines (functions, classes, assignments): the graded names."""
    try:
        tree = _parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


_TOP_LEVEL = re.compile(r"^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)|^class[ \t]+([A-Za-z_]\w*)"
                        r"|^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)", re.MULTILINE)


def scanned_names(text):
    """Top-level names a student's cell seems to define, found in linear time without parsing it."""
    if len(text) > settings.MAX_NAME_SCAN_BYTES:
        return set()
    return {next(group for group in match.groups() if group) for match in _TOP_LEVEL.finditer(text)}


def _stub_source(source, stub):
    """What nbgrader leaves of a solution cell: the region between the markers becomes the stub."""
    lines, out, inside = source.splitlines(keepends=True), [], False
    for line in lines:
        marker = line.strip()
        if marker == "### BEGIN SOLUTION":
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + part + "\n" for part in stub.splitlines())
        elif marker == "### END SOLUTION":
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def load_assignment(name, path, stub):
    """Read the instructor's notebook (trusted) into the cells that grading runs."""
    try:
        return _load_assignment(name, json.loads(path.read_text(encoding="utf-8")), stub)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise MalformedAssignment(f"{type(error).__name__}: {error}") from None


def _load_assignment(name, notebook, stub):
    cells, names, stubs, grade_ids, seen_solution = [], {}, {}, set(), False
    for raw in notebook["cells"]:
        meta, source = nbgrader_meta(raw), source_text(raw.get("source"))
        if "grade_id" in meta:
            grade_ids.add(meta["grade_id"])
        if raw.get("cell_type") != "code":
            continue
        if meta.get("solution"):
            seen_solution = True
            grade_id = meta["grade_id"]
            names[grade_id] = defined_names(source)
            stubs[grade_id] = _stub_source(source, stub)
            cells.append(Cell("solution", "", grade_id))
        elif meta.get("grade"):
            code, hidden = split_hidden(source)
            cells.append(Cell("test", code, meta["grade_id"], float(meta.get("points", 0)), hidden))
        elif not seen_solution:
            cells.append(Cell("setup", source))
        # Other code cells after the first answer are demonstrations: tests may not rely on them.
    if not any(cell.kind == "test" for cell in cells):
        raise ValueError("в тетради нет ни одной ячейки с тестом (nbgrader grade)")
    return Assignment(name, cells, names, stubs, grade_ids)


def _cells_of(notebook):
    """Cells of an nbformat 4 or nbformat 3 (worksheets) notebook, as (type, source, meta)."""
    if not isinstance(notebook, dict):
        raise InvalidNotebook("файл не является тетрадью Jupyter (ожидался объект JSON)")
    if isinstance(notebook.get("cells"), list):
        raw_cells = notebook["cells"]
    elif isinstance(notebook.get("worksheets"), list):
        raw_cells = [c for ws in notebook["worksheets"] if isinstance(ws, dict)
                     for c in (ws.get("cells") if isinstance(ws.get("cells"), list) else [])]
    else:
        raise InvalidNotebook("в файле нет ячеек тетради (ни cells, ни worksheets)")
    for cell in raw_cells:
        if not isinstance(cell, dict):
            continue
        text = source_text(cell.get("source", cell.get("input")))
        yield cell.get("cell_type"), text, nbgrader_meta(cell)


def parse_notebook(data):
    """Decode the student's bytes into JSON, or say in Russian why they are not a notebook."""
    if data is None:
        raise InvalidNotebook(f"файл не читается или больше {MAX_NOTEBOOK_BYTES // 2**20} МБ")
    if not data.strip():
        raise InvalidNotebook("пустой файл")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"файл больше {MAX_NOTEBOOK_BYTES // 2**20} МБ")
    structure = JSON_STRING.sub(b"", data)
    if structure.count(b",") + structure.count(b"[") + structure.count(b"{") > MAX_NOTEBOOK_VALUES:
        raise InvalidNotebook("в файле слишком много элементов: очистите выводы ячеек "
                              "(Kernel → Restart Kernel and Clear Outputs) и сохраните тетрадь снова")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InvalidNotebook("файл не в кодировке UTF-8") from None
    except (ValueError, RecursionError) as error:  # ValueError: also an integer of over 4300 digits
        raise InvalidNotebook(f"файл не является JSON ({str(error)[:100]})") from None


def extract_answers(data, assignment):
    """The student's solution sources by grade_id, taken from untrusted notebook bytes."""
    cells = list(_cells_of(parse_notebook(data)))
    answers = Answers({})
    code_cells = [(text, meta) for kind, text, meta in cells if kind == "code"]
    for text, meta in code_cells:
        grade_id = meta.get("grade_id")
        if not isinstance(grade_id, str):
            continue
        if grade_id not in assignment.grade_ids:
            answers.other_ids.add(grade_id)
        elif grade_id in assignment.names and meta.get("solution") is True:
            if grade_id in answers.sources:
                note = f"ячейка {grade_id} повторяется: взята первая"
                if note not in answers.notes:  # once, however many copies: a row must stay small
                    answers.notes.append(note)
            else:
                answers.sources[grade_id] = text
    # Editors that drop cell metadata (Colab, VS Code) leave the answer in a plain cell, and a
    # renamed grade_id is no reason to lose it: find it by the names the instructor's cell defines.
    for grade_id, names in assignment.names.items():
        if grade_id in answers.sources or not names:
            continue
        for text, meta in code_cells:
            if meta.get("grade_id") not in assignment.grade_ids and names <= scanned_names(text):
                answers.sources[grade_id] = text
                answers.notes.append(f"ячейка {grade_id} без своих метаданных nbgrader: найдена по имени функции")
                break
    return answers


def compose(assignment, answers):
    """The cells to run: the instructor's, with each solution cell's source from ``answers``."""
    cells, missing = [], []
    for cell in assignment.cells:
        if cell.kind == "solution":
            source = answers.sources.get(cell.grade_id)
            if source is None:
                missing.append(cell.grade_id)
                source = assignment.stubs[cell.grade_id]
            cells.append(Cell("solution", source, cell.grade_id))
        else:
            cells.append(cell)
    return cells, missing
