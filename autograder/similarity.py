"""`python -m autograder similarity`: which students handed in the same code.

The detection is copydetect's (MOSS's winnowing over Pygments tokens, so renamed variables,
moved functions and added comments change nothing; it runs here, nothing leaves the machine).
What is compared is what the grader grades: each student's answer cells, taken by nbgrader
``grade_id`` from the notebook the grader would choose (``autograder.compose``), never the
instructor's cells. The released stubs are copydetect's boilerplate, so the signatures and
docstrings every student was given do not count. Earlier years' submissions (``--previous``)
and the instructor's solution are references: each student is compared with them, they are
not compared with each other.

copydetect is imported where it is used: it imports pyplot, seconds that every other
command of ``python -m autograder`` would otherwise wait for.
"""

import argparse
import csv
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder import (
    assignments,
    compose,
    pipeline,
    report,
    settings,
    similarity_page,
    submissions,
)
from autograder.lms import cells

DEFAULT_THRESHOLD = 0.5
NOISE_CHARS = 25  # of tokenised code, copydetect's default: a shorter match is chance
MAX_CELL_CHARS = 20_000  # compared per answer cell; a longer cell is cut and the page says so
SOLUTION = "решение преподавателя"
PAIRS_CSV = "similarity.csv"
SOLUTION_CSV = "similarity_to_solution.csv"
PAGE = "similarity.html"

EPILOG = """\
Сравниваются только ячейки ответов (по grade_id, как при проверке); выданные заготовки
не считаются совпадением. Работы прошлых лет (--previous, можно несколько раз) и решение
преподавателя — образцы: с ними сравнивается каждая работа. В OUT: similarity.html (пары не
ниже порога, код рядом, совпадения выделены), similarity.csv (student_a, student_b, similarity
от 0 до 1), similarity_to_solution.csv (student_id, similarity). Работа прошлого года
называется <папка>/<id>. Похожесть — повод посмотреть работы самому, а не вердикт.
"""


@dataclass
class Work:
    """One submission as compared: its answer cells, each under a comment naming the cell."""

    label: str  # the student's id; "<folder>/<id>" for an earlier year; SOLUTION
    text: str
    fingerprint: object  # copydetect's CodeFingerprint of text


@dataclass
class Pair:
    a: Work
    b: Work
    similarity: float  # the larger of the two shares: a copy inside a longer work still counts
    shares: tuple  # of a's and of b's compared code found in the other
    slices: tuple  # copydetect's matching character ranges in a.text and b.text


@dataclass
class Result:
    works: list  # the class's submissions that were compared
    previous: list
    solution: Work | None
    pairs: list  # at or above the threshold, most similar first
    to_solution: list  # a Pair (work, solution) for every compared work, most similar first
    threshold: float
    distribution: list = field(default_factory=list)  # the similarity of every pair compared
    skipped: list = field(default_factory=list)  # (label, why), in Russian
    notes: list = field(default_factory=list)  # (label, what was cut)


def add_parser(commands):
    parser = commands.add_parser(
        "similarity", help="найти похожие решения в группе",
        description="Найти пары похожих решений (copydetect, локально) и показать их код рядом.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment", metavar="ASSIGNMENT", help="задание, например 05_gradient_descent")
    parser.add_argument("submissions", metavar="SUBMISSIONS", type=Path, help="папка или zip-архив с работами")
    parser.add_argument("--out", type=Path, required=True, help="папка для результатов")
    parser.add_argument("--previous", type=Path, action="append", default=[], metavar="DIR",
                        help="работы прошлых лет (папка или zip), с которыми сравнить")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"порог похожести от 0 до 1 для списка пар ({DEFAULT_THRESHOLD})")
    parser.set_defaults(run=main)


def main(args):
    source = assignments.source_notebook(args.assignment)  # UnknownAssignment: exit 2 in __main__
    if not 0 <= args.threshold <= 1:
        return _instructor_error("--threshold — число от 0 до 1")
    try:
        students = submissions.discover(args.submissions)
        previous = [(folder, submissions.discover(folder)) for folder in args.previous]
    except submissions.MissingSubmissions as error:
        return _instructor_error(str(error))
    assignment = compose.load_assignment(args.assignment, source, settings.STUB)
    result = detect(assignment, source.read_bytes(), students, previous, args.threshold)
    args.out.mkdir(parents=True, exist_ok=True)
    paths = write(args.out, assignment.name, result)
    print(summary(result))
    for path in paths:
        print(f"  {path}")
    return 0


def _instructor_error(message):
    print(f"ошибка: {message}", file=sys.stderr)
    return settings.EXIT_INSTRUCTOR


def detect(assignment, solution_bytes, students, previous=(), threshold=DEFAULT_THRESHOLD):
    """Compare the class with itself, with earlier years and with the solution."""
    boilerplate = _boilerplate(assignment)
    result = Result([], [], None, [], [], threshold)
    result.works = _works(students, "", assignment, boilerplate, result)
    for folder, earlier in previous:
        result.previous += _works(earlier, f"{folder.name or folder}/", assignment, boilerplate, result)
    solution = compose.extract_answers(solution_bytes, assignment).sources
    text = _text(SOLUTION, solution, assignment, result)
    result.solution = Work(SOLUTION, text, _fingerprint(text, boilerplate)) if text else None
    if len(result.works) < 2:
        result.skipped.append(("", f"сравнимых работ в группе {len(result.works)}: сравнивать друг с другом нечего"))
    for index, work in enumerate(result.works):
        for other in result.works[index + 1:] + result.previous:
            pair = _compare(work, other)
            result.distribution.append(pair.similarity)
            if pair.similarity >= threshold:
                result.pairs.append(pair)
        if result.solution:
            result.to_solution.append(_compare(work, result.solution))
    result.pairs.sort(key=lambda p: (-p.similarity, p.a.label, p.b.label))
    result.to_solution.sort(key=lambda p: (-p.similarity, p.a.label))
    return result


def _boilerplate(assignment):
    """copydetect's boilerplate: every k-gram of the stubs handed out (window 1, as copydetect takes it)."""
    from copydetect import CodeFingerprint

    hashes = [CodeFingerprint("stub.py", NOISE_CHARS, 1, language="python", fp=io.StringIO(stub)).hashes
              for stub in assignment.stubs.values()]
    return np.unique(np.array(sorted(set().union(*hashes)), dtype=np.int64))


def _fingerprint(text, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint("answer.py", NOISE_CHARS, 1, boilerplate, language="python", fp=io.StringIO(text))


def _works(students, prefix, assignment, boilerplate, result):
    works = []
    for student in students:
        label = prefix + student.student_id
        if student.problem:
            result.skipped.append((label, f"{student.problem}: {'; '.join(student.notes) or 'нечего сравнивать'}"))
            continue
        (name, data), several = pipeline.choose(student, assignment)
        if several:
            result.notes.append((label, f"тетрадей несколько: сравнивается {name}, как при проверке"))
        try:
            answers = compose.extract_answers(data, assignment)
        except compose.InvalidNotebook as error:
            result.skipped.append((label, f"{name}: {error}"))
            continue
        text = _text(label, answers.sources, assignment, result)
        fingerprint = _fingerprint(text, boilerplate) if text else None
        if not answers.sources:
            result.skipped.append((label, f"{name}: в тетради нет ни одной ячейки решения этого задания"))
        elif fingerprint is None:
            result.skipped.append((label, "нет ответов: все ячейки решения пустые или оставлены заготовкой"))
        elif not fingerprint.hashes:
            result.skipped.append((label, (f"ответы короче {NOISE_CHARS} значимых символов без заготовки: "
                                          "сравнивать нечего")))
        else:
            works.append(Work(label, text, fingerprint))
    return works


def _text(label, sources, assignment, result):
    """The answer cells in the notebook's order, each under a comment with its grade_id ('' if none).

    A comment is dropped by the tokeniser, so it marks the cell on the page and matches nothing.
    Line ends are made \\n first: Pygments does it itself, and the match offsets must agree.
    """
    parts = []
    for grade_id in assignment.names:
        source = sources.get(grade_id, "").replace("\r\n", "\n").replace("\r", "\n")
        if not source.strip() or source.split() == assignment.stubs[grade_id].split():
            continue
        if len(source) > MAX_CELL_CHARS:
            result.notes.append((label, (f"ячейка {grade_id}: сравниваются первые {MAX_CELL_CHARS} "
                                        f"символов из {len(source)}")))
            source = source[:MAX_CELL_CHARS]
        parts.append(f"# ── {grade_id} ──\n{source.strip(chr(10))}\n")
    return "\n".join(parts)


def _compare(a, b):
    from copydetect import compare_files

    _, shares, slices = compare_files(a.fingerprint, b.fingerprint)
    shares = tuple(float(share) for share in shares)
    return Pair(a, b, max(shares), shares, slices)


def write(out, assignment_name, result):
    """similarity.csv, similarity_to_solution.csv, similarity.html; the class report, when OUT has one."""
    out = Path(out)
    _write_csv(out / PAIRS_CSV, ["student_a", "student_b", "similarity"],
               [(p.a.label, p.b.label, p.similarity) for p in result.pairs])
    _write_csv(out / SOLUTION_CSV, ["student_id", "similarity"],
               [(p.a.label, p.similarity) for p in result.to_solution])
    page = out / PAGE
    temporary = out / f".{PAGE}.tmp"
    temporary.write_text(similarity_page.page(assignment_name, result), encoding="utf-8")
    os.replace(temporary, page)
    paths = [page, out / PAIRS_CSV, out / SOLUTION_CSV]
    if (out / "grades.csv").is_file():
        paths.append(report.write(out))  # so that it links to what was just written
    return paths


def _write_csv(path, header, rows):
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for row in rows:
            writer.writerow([*(cells.inert(cell) for cell in row[:-1]), f"{row[-1]:.3f}"])
    os.replace(temporary, path)


def summary(result):
    lines = [f"Сравнено работ: {len(result.works)}"
             + (f", с работами прошлых лет: {len(result.previous)}" if result.previous else "")
             + f". Пар с похожестью не ниже {result.threshold:g}: {len(result.pairs)}."]
    if result.to_solution:
        close = sum(p.similarity >= result.threshold for p in result.to_solution)
        lines.append(f"Похожи на решение преподавателя (не ниже {result.threshold:g}): {close}.")
    for label, why in result.skipped:
        lines.append(f"пропущено{' ' + _printable(label) if label else ''}: {_printable(why)}")
    for label, what in result.notes:
        lines.append(f"примечание, {_printable(label)}: {what}")
    lines.append("Похожесть — повод посмотреть работы самому, а не вердикт.")
    return "\n".join(lines)


def _printable(text):
    """No terminal escapes from a student's id."""
    return "".join(c if c.isprintable() else "?" for c in text)
