"""What the class report knows about a graded class, read from what the grader left in OUT.

``grades.csv`` is the ledger: who was graded, with what score and status, and each test's
points. ``outcomes.jsonl`` (a JSON object per graded submission, the last one per student
wins) adds what the ledger cannot hold: the tests' messages, the answers left as stubs, the
exceptions, times and deadlines. Both hold text the students control, so nothing here is
trusted beyond its type: a line or row that does not read is skipped and counted, never fatal.
"""

import csv
import json
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder import assignments, compose, gradebook

GRADES = "grades.csv"
OUTCOMES = "outcomes.jsonl"
# Columns the LMS helper may add to grades.csv; any other unknown column is a test's points.
LMS_COLUMNS = ("submitted_at", "late_by", "raw_score", "penalty")
# Numbers in a failure message (values, sizes, indices): "ожидалось 2.4, получено 2.6" and
# "ожидалось 1, получено 7" are one mistake. A run of numbers (an array) counts as one.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b")
NUMBER_RUN = re.compile(r"#(?:[\s,;]*#)+")
SHAPE_CHARS = 300  # of a message, enough to tell mistakes apart; tracebacks differ further down


class MissingResults(ValueError):
    """OUT holds no grades.csv: nothing was graded there."""


@dataclass
class Student:
    student_id: str
    score: float
    max_score: float
    status: str
    points: dict  # test grade_id -> points, from grades.csv
    outcome: dict = field(default_factory=dict)  # the last line of outcomes.jsonl, {} if none
    submitted_at: str | None = None
    late_by_s: float | None = None
    penalty: float = 0.0
    raw_score: float | None = None

    @property
    def primary_status(self):
        return self.status.split(";")[0].strip()


@dataclass
class TestStats:
    grade_id: str
    max_points: float
    mean_points: float
    passed: int
    total: int
    failures: list  # (count, shape, an example message), most common first
    without_message: int  # failed, but outcomes.jsonl has no message for them

    @property
    def pass_rate(self):
        return self.passed / self.total if self.total else 0.0


@dataclass
class TaskStats:
    grade_id: str
    stubs: int
    errors: int
    error_types: list  # (exception type, count), most common first


@dataclass
class ClassResults:
    out: Path
    assignment: str
    students: list
    test_ids: list
    test_max: dict
    solution_ids: list
    problems: list = field(default_factory=list)  # what could not be read, in Russian
    with_outcomes: int = 0  # students that outcomes.jsonl describes

    @property
    def scores(self):
        return [s.score for s in self.students]

    @property
    def max_score(self):
        maxima = Counter(s.max_score for s in self.students)
        return maxima.most_common(1)[0][0] if maxima else sum(self.test_max.values())


def load(out):
    """Everything the report shows, from OUT/grades.csv and OUT/outcomes.jsonl."""
    out = Path(out)
    if not (out / GRADES).is_file():
        raise MissingResults(f"В папке {out} нет {GRADES}: сначала проверьте работы "
                             "(python -m autograder grade ЗАДАНИЕ РАБОТЫ --out OUT).")
    problems = []
    header, rows = _read_grades(out / GRADES, problems)
    assignment = Counter(row.get("assignment") or "" for row in rows).most_common(1)[0][0] if rows else ""
    outcomes = _read_outcomes(out / OUTCOMES, assignment, problems)
    instructor = _instructor_assignment(assignment)
    test_ids = _test_columns(header)
    students = []
    for row in rows:
        if row.get("assignment") != assignment:
            problems.append(f"строка {GRADES} студента {row['student_id']!r} от другого задания "
                            f"({row.get('assignment')!r}): не показана")
            continue
        student = _student(row, test_ids, outcomes.get(row["student_id"], {}))
        if student is None:
            problems.append(f"строка {GRADES} студента {row['student_id']!r} с нечисловыми баллами: не показана")
        else:
            students.append(student)
    return ClassResults(out, assignment, students, test_ids, _test_maxima(test_ids, students, instructor),
                        _solution_ids(students, instructor), problems,
                        sum(bool(s.outcome) for s in students))


def _read_grades(path, problems):
    with path.open(newline="", encoding="utf-8", errors="replace") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        if "student_id" not in header:
            problems.append(f"{GRADES}: нет столбца student_id, файл не прочитан")
            return [], []
        rows = []
        for line, values in enumerate(reader, start=2):
            if len(values) != len(header):
                problems.append(f"{GRADES}, строка {line}: не то число столбцов, пропущена")
                continue
            rows.append(dict(zip(header, values)))
    return header, rows


def _read_outcomes(path, assignment, problems):
    """The last parseable line per student of this assignment."""
    if not path.is_file():
        return {}
    outcomes, unreadable = {}, 0
    with path.open(encoding="utf-8", errors="replace") as file:
        for line in file:
            try:
                outcome = json.loads(line)
            except ValueError:
                unreadable += bool(line.strip())
                continue
            if isinstance(outcome, dict) and isinstance(outcome.get("student_id"), str):
                if outcome.get("assignment") in (assignment, None):
                    outcomes[outcome["student_id"]] = outcome
            else:
                unreadable += 1
    if unreadable:
        problems.append(f"{OUTCOMES}: нечитаемых строк {unreadable}, пропущены")
    return outcomes


def _instructor_assignment(name):
    """The instructor's notebook of ``name`` when this checkout has it: the tests' points, the cells."""
    try:
        return compose.load_assignment(name, assignments.source_notebook(name), "")
    except (assignments.UnknownAssignment, OSError, ValueError, KeyError):
        return None


def _test_columns(header):
    known = set(gradebook.FIXED_COLUMNS) | set(gradebook.TAIL_COLUMNS) | set(LMS_COLUMNS)
    return [column for column in header if column not in known]


def number(value):
    """A finite float from a CSV cell or JSON value, else None ('' and 'nan' included)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _student(row, test_ids, outcome):
    score, max_score = number(row.get("score")), number(row.get("max_score"))
    points = {test_id: number(row.get(test_id)) for test_id in test_ids}
    if score is None or max_score is None or None in points.values():
        return None
    late = number(outcome.get("late_by_s")) if outcome else number(row.get("late_by"))
    penalty = number(outcome.get("penalty") if outcome else row.get("penalty"))
    raw = number(outcome.get("raw_score") if outcome else row.get("raw_score"))
    submitted = outcome.get("submitted_at") if outcome else row.get("submitted_at")
    return Student(row["student_id"], score, max_score, row.get("status") or "", points, outcome,
                   submitted if isinstance(submitted, str) and submitted else None, late, penalty or 0.0, raw)


def _test_maxima(test_ids, students, instructor):
    """Full marks of each test: as graded (outcomes), else the instructor's notebook, else the best seen."""
    declared = {test.grade_id: test.points for test in instructor.tests} if instructor else {}
    maxima = {}
    for test_id in test_ids:
        graded = Counter(m for s in students if (m := number(_test(s, test_id).get("max"))) is not None)
        if graded:
            maxima[test_id] = graded.most_common(1)[0][0]
        elif test_id in declared:
            maxima[test_id] = declared[test_id]
        else:
            maxima[test_id] = max((s.points[test_id] for s in students), default=0.0)
    return maxima


def _solution_ids(students, instructor):
    ids = list(instructor.names) if instructor else []
    for student in students:
        for grade_id in [*_dict(student.outcome, "errors"), *_list(student.outcome, "stub")]:
            if isinstance(grade_id, str) and grade_id not in ids:
                ids.append(grade_id)
    return ids


def _dict(outcome, key):
    value = outcome.get(key)
    return value if isinstance(value, dict) else {}


def _list(outcome, key):
    value = outcome.get(key)
    return value if isinstance(value, list) else []


def _test(student, test_id):
    value = _dict(student.outcome, "tests").get(test_id)
    return value if isinstance(value, dict) else {}


def message_shape(message):
    """A failure message with its numbers replaced by #, whitespace collapsed, cut to SHAPE_CHARS."""
    shape = NUMBER_RUN.sub("#", NUMBER.sub("#", message))
    return " ".join(shape.split())[:SHAPE_CHARS]


def score_summary(results):
    scores = results.scores
    if not scores:
        return {}
    top = results.max_score
    return {"count": len(scores), "mean": statistics.fmean(scores), "median": statistics.median(scores),
            "min": min(scores), "max": max(scores), "full": sum(s >= top for s in scores),
            "zero": sum(s == 0 for s in scores)}


def status_counts(results):
    return Counter(s.primary_status for s in results.students).most_common()


def test_stats(results, top=5):
    stats = []
    for test_id in results.test_ids:
        maximum = results.test_max[test_id]
        points = [s.points[test_id] for s in results.students]
        failed = [s for s in results.students if s.points[test_id] < maximum]
        shapes, examples, without = Counter(), {}, 0
        for student in failed:
            message = _test(student, test_id).get("message")
            if not isinstance(message, str) or not message.strip():
                without += 1
                continue
            shape = message_shape(message)
            shapes[shape] += 1
            examples.setdefault(shape, message)
        failures = [(count, shape, examples[shape]) for shape, count in shapes.most_common(top)]
        stats.append(TestStats(test_id, maximum, statistics.fmean(points) if points else 0.0,
                               len(points) - len(failed), len(points), failures, without))
    return stats


def task_stats(results):
    stats = []
    for grade_id in results.solution_ids:
        stubs = sum(grade_id in _list(s.outcome, "stub") for s in results.students)
        types = Counter()
        for student in results.students:
            error = _dict(student.outcome, "errors").get(grade_id)
            if error is not None:
                kind = error.get("type") if isinstance(error, dict) else None
                types[kind if isinstance(kind, str) and kind else "?"] += 1
        stats.append(TaskStats(grade_id, stubs, sum(types.values()), types.most_common()))
    return stats


def late_students(results):
    """Students handed in after the deadline or penalised, latest first."""
    late = [s for s in results.students if (s.late_by_s or 0) > 0 or s.penalty > 0]
    return sorted(late, key=lambda s: (-(s.late_by_s or 0), s.student_id))


def wall_times(results):
    """(student_id, seconds) of every student whose outcome has a time, slowest first."""
    times = [(s.student_id, number(s.outcome.get("wall_s"))) for s in results.students]
    return sorted(((sid, t) for sid, t in times if t is not None), key=lambda item: -item[1])


def worker_counts(results):
    workers = Counter(s.outcome.get("worker") for s in results.students)
    named = ((w, n) for w, n in workers.items() if isinstance(w, str) and w)
    return sorted(named, key=lambda item: (-item[1], item[0]))
