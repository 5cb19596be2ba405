"""Where grades are kept: nbgrader's gradebook and ``grades.csv``, written as each submission ends.

``grades.csv`` is also the ledger of a run: a row is appended and flushed to disk after the
gradebook has committed the same grades, so a crash or Ctrl-C loses at most the submissions
being graded at that moment, and the next run skips every row whose digest (the instructor's
notebook and the student's files) is unchanged. At the end the file is rewritten sorted.

A row holds the raw score of the tests, the late penalty (``autograder.late``) and the score
after it; a changed score is appended to ``audit.csv`` with its cause (``autograder.audit``).
No cell that holds a student's text can run as a spreadsheet formula (``lms.cells``).
"""

import csv
import importlib
import os
import threading
import warnings
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from autograder import audit, feedback, late, settings
from autograder.lms import cells

FIXED_COLUMNS = ["student_id", "name", "assignment", "score", "max_score", "status",
                 "submitted_at", "late_by", "raw_score", "penalty"]
TAIL_COLUMNS = ["notes", "digest"]
SCHEMA_LOCK = 0x6E626772  # PostgreSQL advisory lock id of the schema creation ("nbgr")
TEXT_COLUMNS = ["student_id", "name", "status", "late_by", "notes"]  # may hold a student's text
ABSENT = "no submission"


@dataclass
class ClassInfo:
    """What the batch knows about each student besides their files."""

    names: dict = field(default_factory=dict)  # student id -> name (from an LMS)
    lateness: dict = field(default_factory=dict)  # student id -> late.Lateness
    policy: late.Policy = field(default_factory=lambda: late.parse_policy("none"))
    deadline: object = None  # aware datetime or None
    publish: object = None  # callable(student_id, page path): where else a page goes (nbgrader's exchange)

    def deduction(self, student_id, raw, max_score):
        lateness = self.lateness.get(student_id, late.Lateness())
        penalty, reason = self.policy.penalty(lateness, raw, max_score)
        return feedback.Deduction(raw, penalty, lateness.text(), reason)


class Records:
    def __init__(self, out, assignment, db_url=None, info=None):
        self.assignment = assignment
        self.out = Path(out)
        self.info = info or ClassInfo()
        self.path = Path(out) / "grades.csv"
        self.columns = FIXED_COLUMNS + [test.grade_id for test in assignment.tests] + TAIL_COLUMNS
        self.rows = self._previous()
        self.absent = {}  # roster ids without a submission: rows written, never graded
        self._rewrite()
        self._resync = []
        # Opening nbgrader's gradebook takes seconds (imports, tables): it happens meanwhile.
        url = db_url or f"sqlite:///{Path(out).resolve() / 'gradebook.db'}"
        self._opening = threading.Thread(target=self._open_meanwhile, args=(url,), daemon=True)
        self._opened = None
        self._opening.start()

    def _open_meanwhile(self, db_url):
        try:
            book = _open(db_url)
            rows = 2 + len(self.assignment.tests) + len(self.assignment.names)  # assignment, notebook, cells
            _despite_clashes(book, lambda: self._declare(book), rows)
            self._opened = book
        except Exception as error:  # noqa: BLE001 - raised where the gradebook is used
            self._opened = error

    @property
    def gradebook(self):
        self._opening.join()
        if isinstance(self._opened, Exception):
            raise self._opened
        return self._opened

    def _previous(self):
        """Rows of an earlier run with the same columns (the last row of a student wins)."""
        if not self.path.is_file():
            return {}
        with self.path.open(newline="", encoding="utf-8", errors="replace") as file:
            reader = csv.reader(file)
            if next(reader, None) != self.columns:
                return {}  # the tests changed: nothing of the old run can be reused
            rows = [dict(zip(self.columns, row)) for row in reader if len(row) == len(self.columns)]
        for row in rows:
            for column in TEXT_COLUMNS:
                row[column] = cells.plain(row[column])
        return {row["student_id"]: row for row in rows if row["status"] != ABSENT}

    def _rewrite(self):
        temporary = self.path.with_suffix(".csv.tmp")
        with temporary.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, self.columns)
            writer.writeheader()
            every = {**self.absent, **self.rows}
            for student_id in sorted(every):
                writer.writerow(_inert_row(every[student_id]))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    def _declare(self, book):
        name = self.assignment.name
        deadline = self.info.deadline
        book.update_or_create_assignment(name, duedate=deadline and _utc(deadline))
        book.update_or_create_notebook(name, name)
        for test in self.assignment.tests:
            book.update_or_create_grade_cell(test.grade_id, name, name, max_score=test.points, cell_type="code")
        for grade_id in self.assignment.names:
            book.update_or_create_solution_cell(grade_id, name, name)

    def graded(self, student_id, digest):
        """Whether an earlier run already graded exactly this submission.

        If so, its grades are written to the gradebook again: the ledger is the reference,
        and the gradebook may be new (another --db) or have missed the row before a crash.
        A late penalty is worked out again: a changed deadline or policy changes the score
        (and the audit trail says so) without grading again.
        """
        row = self.rows.get(student_id)
        if row is None or row["digest"] != digest:
            return False
        try:
            raw = float(row["raw_score"])
        except ValueError:
            return False
        deduction = self.info.deduction(student_id, raw, self.assignment.max_score)
        updated = {**row, **self._late_columns(student_id, deduction),
                   "name": self.info.names.get(student_id, row["name"])}
        if updated != row:
            if updated["score"] != row["score"]:
                audit.append(self.out, student_id, self.assignment.name, row["score"], updated["score"],
                             [audit.PENALTY_CHANGED])
                if feedback.rewrite(self.out, student_id, self.assignment, deduction) and self.info.publish:
                    self.info.publish(student_id, self._page(student_id))
            self.rows[student_id] = updated
            self._append(updated)
        if not row["status"].startswith("bad student id"):
            self._resync.append(updated)
        return True

    def record(self, outcome, digest):
        """Write one submission's grades: the gradebook, the page and audit, then the ledger row."""
        deduction = self.info.deduction(outcome.student_id, outcome.score, self.assignment.max_score)
        if not outcome.problem_id:
            self._write_grades(outcome.student_id,
                               {test_id: points for test_id, (points, _, _) in outcome.tests.items()},
                               deduction.penalty)
            feedback.write(self.out, outcome, self.assignment, deduction)
            if self.info.publish:
                self.info.publish(outcome.student_id, self._page(outcome.student_id))
        row = {"student_id": outcome.student_id, "name": self.info.names.get(outcome.student_id, ""),
               "assignment": self.assignment.name, "max_score": _number(self.assignment.max_score),
               "status": outcome.status, "notes": "; ".join(outcome.notes)[: settings.MESSAGE_CHARS], "digest": digest,
               **self._late_columns(outcome.student_id, deduction)}
        row.update({test_id: _number(points) for test_id, (points, _, _) in outcome.tests.items()})
        previous = self.rows.get(outcome.student_id)
        if previous and previous["score"] != row["score"]:
            audit.append(self.out, outcome.student_id, self.assignment.name, previous["score"], row["score"],
                         audit.causes(previous, digest, deduction.raw, deduction.penalty))
        self.rows[outcome.student_id] = row
        self._append(row)  # last: the ledger row marks the submission as done

    def add_absent(self, students):
        """Rows for roster participants without a submission: no grade, status "no submission"."""
        for student_id, name in students.items():
            row = dict.fromkeys(self.columns, "")
            row.update(student_id=student_id, name=name, assignment=self.assignment.name,
                       max_score=_number(self.assignment.max_score), status=ABSENT)
            self.absent[student_id] = row

    def _late_columns(self, student_id, deduction):
        lateness = self.info.lateness.get(student_id, late.Lateness())
        at = lateness.submitted_at
        return {"score": _number(deduction.score), "raw_score": _number(deduction.raw),
                "penalty": _number(deduction.penalty), "late_by": deduction.late_by,
                "submitted_at": at.isoformat(timespec="seconds") if at else ""}

    def _page(self, student_id):
        return self.out / "feedback" / student_id / f"{self.assignment.name}.html"

    def _append(self, row):
        with self.path.open("a", newline="", encoding="utf-8") as file:
            csv.DictWriter(file, self.columns).writerow(_inert_row(row))
            file.flush()
            os.fsync(file.fileno())

    def _write_grades(self, student_id, points, penalty=0.0):
        _despite_clashes(self.gradebook, lambda: self._write_grades_once(student_id, points, penalty), 2)

    def _write_grades_once(self, student_id, points, penalty=0.0):
        from nbgrader.api import MissingEntry
        from sqlalchemy.exc import SAWarning

        name, book = self.assignment.name, self.gradebook
        book.update_or_create_student(student_id)
        try:
            submission = book.find_submission(name, student_id)
        except MissingEntry:
            with warnings.catch_warnings():
                # nbgrader 0.9 builds the submission before adding it to the session; harmless.
                warnings.simplefilter("ignore", SAWarning)
                submission = book.add_submission(name, student_id)
        at = self.info.lateness.get(student_id, late.Lateness()).submitted_at
        submission.timestamp = at and _utc(at)
        for test_id, score in points.items():
            book.find_grade(test_id, name, name, student_id).auto_score = score
        book.find_submission_notebook(name, name, student_id).late_submission_penalty = penalty or None
        book.db.commit()

    def finish(self):
        self._rewrite()
        for row in self._resync:
            self._write_grades(row["student_id"], {test.grade_id: float(row[test.grade_id])
                                                   for test in self.assignment.tests}, float(row["penalty"] or 0))
        self.gradebook.close()


def _despite_clashes(book, write, inserts):
    """``write()``, tried again when another grade command on a shared database (PostgreSQL)
    inserted one of the same rows between nbgrader's lookup and its insert.

    nbgrader's add_* methods roll back and raise InvalidEntry; a flush of ours raises
    IntegrityError. Each clash means one more of the ``inserts`` rows exists, so that many
    tries and one more are enough.
    """
    from nbgrader.api import InvalidEntry
    from sqlalchemy.exc import IntegrityError

    for attempt in range(inserts + 1):
        try:
            return write()
        except (IntegrityError, InvalidEntry):
            book.db.rollback()
            if attempt == inserts:
                raise


def preload():
    """Import nbgrader (seconds: it pulls in Jupyter's server) while the self-check runs."""
    threading.Thread(target=importlib.import_module, args=("nbgrader.api",), daemon=True).start()


def _open(db_url):
    """nbgrader's Gradebook; a new database gets its tables here, in-process.

    nbgrader would ask a separate `alembic` process for the schema version (seconds);
    alembic's ScriptDirectory gives the same head from nbgrader's migration scripts.
    """
    import nbgrader
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.api import Base, Gradebook, InvalidEntry
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # Two grade commands may open one new database at once: the first creates the
                # tables (DDL is transactional there), the other waits and finds them.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            if not inspect(connection).get_table_names():
                config = Config()
                config.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
                head = ScriptDirectory.from_config(config).get_current_head()
                Base.metadata.create_all(bind=connection)
                connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
                connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head})
    finally:
        engine.dispose()
    try:
        return Gradebook(db_url)
    except InvalidEntry:
        # Another command on the shared database added nbgrader's course row between
        # nbgrader's lookup and its insert: the row exists now.
        return Gradebook(db_url)


def _inert_row(row):
    """The row as written: no text from a student can run as a spreadsheet formula."""
    return {**row, **{column: cells.inert(row[column]) for column in TEXT_COLUMNS}}


def _utc(moment):
    """nbgrader keeps naive UTC times."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _number(value):
    return f"{value:g}"
