"""Where grades are kept: nbgrader's gradebook and ``grades.csv``, written as each submission ends.

``grades.csv`` is also the ledger of a run: a row is appended and flushed to disk after the
gradebook has committed the same grades, so a crash or Ctrl-C loses at most the submissions
being graded at that moment, and the next run skips every row whose digest (the instructor's
notebook and the student's files) is unchanged. At the end the file is rewritten sorted.
"""

import csv
import importlib
import os
import threading
import warnings
from pathlib import Path

FIXED_COLUMNS = ["student_id", "assignment", "score", "max_score", "status"]
TAIL_COLUMNS = ["notes", "digest"]
SCHEMA_LOCK = 0x6E626772  # PostgreSQL advisory lock id of the schema creation ("nbgr")


class Records:
    def __init__(self, out, assignment, db_url=None):
        self.assignment = assignment
        self.path = Path(out) / "grades.csv"
        self.columns = FIXED_COLUMNS + [test.grade_id for test in assignment.tests] + TAIL_COLUMNS
        self.rows = self._previous()
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
            self._declare(book)
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
        """Rows of an earlier run with the same columns; a torn last line is dropped."""
        if not self.path.is_file():
            return {}
        with self.path.open(newline="", encoding="utf-8", errors="replace") as file:
            reader = csv.reader(file)
            if next(reader, None) != self.columns:
                return {}  # the tests changed: nothing of the old run can be reused
            rows = [row for row in reader if len(row) == len(self.columns)]
        return {row[0]: dict(zip(self.columns, row)) for row in rows}

    def _rewrite(self):
        temporary = self.path.with_suffix(".csv.tmp")
        with temporary.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, self.columns)
            writer.writeheader()
            for student_id in sorted(self.rows):
                writer.writerow(self.rows[student_id])
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    def _declare(self, book):
        name = self.assignment.name
        book.update_or_create_assignment(name)
        book.update_or_create_notebook(name, name)
        for test in self.assignment.tests:
            book.update_or_create_grade_cell(test.grade_id, name, name, max_score=test.points, cell_type="code")
        for grade_id in self.assignment.names:
            book.update_or_create_solution_cell(grade_id, name, name)

    def graded(self, student_id, digest):
        """Whether an earlier run already graded exactly this submission.

        If so, its grades are written to the gradebook again: the ledger is the reference,
        and the gradebook may be new (another --db) or have missed the row before a crash.
        """
        row = self.rows.get(student_id)
        if row is None or row["digest"] != digest:
            return False
        if not row["status"].startswith("bad student id"):
            self._resync.append(row)
        return True

    def record(self, outcome, digest):
        """Write one submission's grades: the gradebook first, then the ledger row."""
        if not outcome.problem_id:
            self._write_grades(outcome.student_id, {test_id: points for test_id, (points, _, _) in outcome.tests.items()})
        row = {"student_id": outcome.student_id, "assignment": self.assignment.name,
               "score": _number(outcome.score), "max_score": _number(self.assignment.max_score),
               "status": _inert(outcome.status), "notes": _inert("; ".join(outcome.notes)), "digest": digest}
        row.update({test_id: _number(points) for test_id, (points, _, _) in outcome.tests.items()})
        self.rows[outcome.student_id] = row
        with self.path.open("a", newline="", encoding="utf-8") as file:
            csv.DictWriter(file, self.columns).writerow(row)
            file.flush()
            os.fsync(file.fileno())

    def _write_grades(self, student_id, points):
        from sqlalchemy.exc import IntegrityError

        try:
            self._write_grades_once(student_id, points)
        except IntegrityError:
            # Another grade command on a shared database (PostgreSQL) added the same student
            # between our lookup and our insert: it exists now, so the second try finds it.
            self.gradebook.db.rollback()
            self._write_grades_once(student_id, points)

    def _write_grades_once(self, student_id, points):
        from nbgrader.api import MissingEntry
        from sqlalchemy.exc import SAWarning

        name, book = self.assignment.name, self.gradebook
        book.update_or_create_student(student_id)
        try:
            book.find_submission(name, student_id)
        except MissingEntry:
            with warnings.catch_warnings():
                # nbgrader 0.9 builds the submission before adding it to the session; harmless.
                warnings.simplefilter("ignore", SAWarning)
                book.add_submission(name, student_id)
        for test_id, score in points.items():
            book.find_grade(test_id, name, name, student_id).auto_score = score
        book.db.commit()

    def finish(self):
        self._rewrite()
        for row in self._resync:
            self._write_grades(row["student_id"], {test.grade_id: float(row[test.grade_id])
                                                   for test in self.assignment.tests})
        self.gradebook.close()


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


def _inert(text):
    """Text that a spreadsheet will not run as a formula (it may quote a student's file name)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _number(value):
    return f"{value:g}"
