"""`--db postgresql+psycopg://…`: a real PostgreSQL server that the tests start and stop themselves."""

import csv
import subprocess
import sys
from pathlib import Path

import postgres
import pytest

from autograder import compose, gradebook, settings
from autograder.outcome import Outcome

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "autograder", "grade"]


@pytest.fixture(scope="module")
def server():
    with postgres.server() as running:
        yield running


def class_of(tmp_path, assignment, count):
    """Solutions (full marks) and untouched exercises (zero) under the ids s0, s1, …"""
    folder = tmp_path / f"subs-{assignment}"
    for index in range(count):
        kind = "solutions" if index % 2 == 0 else "exercises"
        (folder / f"s{index}").mkdir(parents=True)
        (folder / f"s{index}" / f"{assignment}.ipynb").write_bytes(
            (ROOT / kind / assignment / f"{assignment}.ipynb").read_bytes())
    return folder


def rows_of(out):
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        return {row["student_id"]: row for row in csv.DictReader(file)}


def book_scores(url, assignment):
    from nbgrader.api import Gradebook

    book = Gradebook(url)
    try:
        return {submission.student.id: submission.score
                for submission in book.find_assignment(assignment).submissions}
    finally:
        book.close()


def expected(out, count):
    rows = rows_of(out)
    maximum = float(next(iter(rows.values()))["max_score"])
    assert maximum > 0
    return {f"s{index}": (maximum if index % 2 == 0 else 0.0) for index in range(count)}


@pytest.mark.slow
def test_grade_resume_force(server, tmp_path):
    url, assignment = server.database(), "05_gradient_descent"
    submissions, out = class_of(tmp_path, assignment, 3), tmp_path / "out"
    command = [*COMMAND, assignment, str(submissions), "--out", str(out), "--db", url, "--workers", "2"]
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert first.returncode == 0, first.stderr
    scores = expected(out, 3)
    assert {sid: float(row["score"]) for sid, row in rows_of(out).items()} == scores
    assert book_scores(url, assignment) == scores

    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0 and "уже проверено в прошлый раз: 3" in again.stderr, again.stderr
    forced = subprocess.run([*command, "--force"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert forced.returncode == 0 and "проверяется работ: 3" in forced.stderr, forced.stderr
    assert book_scores(url, assignment) == scores


@pytest.mark.slow
def test_two_commands_at_once_into_one_database(server, tmp_path):
    """Two assignments, the same students, one new database: both finish, nbgrader exports every grade."""
    url, count = server.database(), 3
    runs = {}
    for assignment in ("05_gradient_descent", "00_architectures"):
        out = tmp_path / f"out-{assignment}"
        runs[assignment] = out, subprocess.Popen(
            [*COMMAND, assignment, str(class_of(tmp_path, assignment, count)), "--out", str(out), "--db", url,
             "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for assignment, (out, process) in runs.items():
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, f"{assignment}: {stderr}"
        assert book_scores(url, assignment) == expected(out, count)

    exported = tmp_path / "export.csv"
    result = subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--CourseDirectory.db_url={url}",
                             f"--CsvExportPlugin.to={exported}"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    with exported.open(newline="", encoding="utf-8") as file:
        lines = {(row["assignment"], row["student_id"]): float(row["score"]) for row in csv.DictReader(file)}
    for assignment, (out, _) in runs.items():
        for student_id, score in expected(out, count).items():
            assert lines[(assignment, student_id)] == score


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission, harmless
def test_rows_another_command_inserts_meanwhile(server, tmp_path, monkeypatch):
    """The clashes behind two commands at once, forced: another writer adds the assignment, the
    student and the submission each between our lookup and our insert; the grades still land."""
    from nbgrader.api import Gradebook, MissingEntry

    url, name = server.database(), "00_architectures"
    other = Gradebook(url)  # first: nbgrader's own creation of the tables takes no lock
    clashes = []

    def lookup_outrun_by(insert, real):
        def lookup(book, *args):
            if book is not other and insert not in clashes:
                clashes.append(insert)
                getattr(other, insert)(*args)
                raise MissingEntry("another command inserts it meanwhile")
            return real(book, *args)
        return lookup

    for lookup, insert in [("find_assignment", "add_assignment"), ("find_student", "add_student"),
                           ("find_submission", "add_submission")]:
        monkeypatch.setattr(Gradebook, lookup, lookup_outrun_by(insert, getattr(Gradebook, lookup)))
    assignment = compose.load_assignment(name, ROOT / "solutions" / name / f"{name}.ipynb", settings.STUB)
    records = gradebook.Records(tmp_path, assignment, url)
    points = {test.grade_id: test.points for test in assignment.tests}
    records.record(Outcome("s0", {grade_id: (value, value, "") for grade_id, value in points.items()}), "d")
    records.finish()
    other.close()

    assert clashes == ["add_assignment", "add_student", "add_submission"]
    assert book_scores(url, name) == {"s0": assignment.max_score}
