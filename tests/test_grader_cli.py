"""The `grade` command as an instructor runs it: exit codes, input layouts, resuming, regrading."""

import csv
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import answered
import psutil
import pytest

from autograder import settings

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "05_gradient_descent"
SOURCE = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
EXERCISE = ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
COMMAND = [sys.executable, "-m", "autograder", "grade"]


def grade(*args, timeout=600):
    return subprocess.run([*COMMAND, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)


def rows_of(out):
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_help_describes_the_formats():
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", "--help"], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0
    for word in ["--workers", "--timeout", "--memory-mb", "--force", "zip", "submitted", "grades.csv"]:
        assert word in result.stdout


def test_instructor_mistakes_exit_with_a_clear_message(tmp_path):
    unknown = grade("99_nothing", tmp_path, "--out", tmp_path / "out")
    assert unknown.returncode == 2 and "Нет задания" in unknown.stderr and "05_gradient_descent" in unknown.stderr
    missing = grade(ASSIGNMENT, tmp_path / "absent", "--out", tmp_path / "out")
    assert missing.returncode == 2 and "Нет папки" in missing.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_lms_zip_and_nbgrader_tree(tmp_path):
    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ivanov.ipynb", SOURCE.read_text(encoding="utf-8"))
        zf.writestr("Петров Пётр/work/05_gradient_descent.ipynb", EXERCISE.read_text(encoding="utf-8"))
        zf.writestr("../evil.ipynb", SOURCE.read_text(encoding="utf-8"))
    result = grade(ASSIGNMENT, archive, "--out", tmp_path / "zip_out", "--workers", "2")
    assert result.returncode == 0, result.stderr
    rows = {row["student_id"]: row for row in rows_of(tmp_path / "zip_out")}
    assert rows["ivanov"]["score"] == "14" and rows["Петров Пётр"]["score"] == "0"
    assert rows[".."]["status"] == "bad student id"
    assert sorted(p.name for p in (tmp_path / "zip_out" / "feedback").iterdir()) == ["ivanov", "Петров Пётр"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lms.zip", "zip_out"]

    tree = tmp_path / "course" / "submitted" / "kim" / ASSIGNMENT
    tree.mkdir(parents=True)
    wrong = answered.notebook(ASSIGNMENT, {"mse": "def mse(a, b):\n    return 0.0\n"})
    (tree / f"{ASSIGNMENT}.ipynb").write_text(wrong, encoding="utf-8")
    result = grade(ASSIGNMENT, tmp_path / "course", "--out", tmp_path / "tree_out")
    assert result.returncode == 0, result.stderr
    (kim,) = rows_of(tmp_path / "tree_out")
    assert kim["student_id"] == "kim" and kim["test_mse"] == "0" and kim["test_gd_step"] == "1"


def _wait_for_rows(out, count, process, limit=300):
    started = time.monotonic()
    while time.monotonic() - started < limit and process.poll() is None:
        path = out / "grades.csv"
        if path.is_file() and len(path.read_text(encoding="utf-8").splitlines()) > count:
            return
        time.sleep(0.2)
    raise AssertionError("the grader wrote no rows in time")


def _wait_for(condition, failure, limit=30):
    """Poll an observable condition (a process list, a file) until it holds, or fail."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < limit, failure
        time.sleep(0.05)


def _sandbox_processes():
    uids = range(settings.UID_FIRST, settings.UID_FIRST + settings.UID_COUNT)
    return [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real in uids]


@pytest.mark.slow
def test_interrupt_crash_resume_force(tmp_path):
    submissions, out = tmp_path / "subs", tmp_path / "out"
    wrong = "def gd_step(w, grad, lr):\n    return w + lr * grad\n"
    for index in range(5):
        (submissions / f"s{index}").mkdir(parents=True)
        text = SOURCE.read_text(encoding="utf-8") if index % 2 else answered.notebook(ASSIGNMENT, {"gd_step": wrong})
        (submissions / f"s{index}" / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
    command = [*COMMAND, ASSIGNMENT, str(submissions), "--out", str(out), "--workers", "1"]

    # Ctrl-C after the first row: exit 130, what was graded is kept.
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_rows(out, 1, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "прервано" in stderr
    first = len(rows_of(out))
    assert 1 <= first < 5

    # A crash (SIGKILL) after one more row: the sandboxes die with the grader.
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_rows(out, first + 1, process)
    process.kill()
    process.communicate(timeout=60)
    _wait_for(lambda: _sandbox_processes() == [], "the sandboxes outlived the killed grader")
    second = len(rows_of(out))
    assert first < second

    # The next run resumes: only the rest is graded, every student ends up with one row.
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert f"уже проверено в прошлый раз: {second}" in result.stderr
    rows = rows_of(out)
    assert sorted(row["student_id"] for row in rows) == [f"s{index}" for index in range(5)]
    scores = {row["student_id"]: row["score"] for row in rows}
    assert scores == {f"s{index}": "14" if index % 2 else "8" for index in range(5)}

    # A changed file is regraded, and --force regrades all with the same scores.
    (submissions / "s0" / f"{ASSIGNMENT}.ipynb").write_text(SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert "уже проверено в прошлый раз: 4" in result.stderr and "проверяется работ: 1" in result.stderr
    assert {row["student_id"]: row["score"] for row in rows_of(out)}["s0"] == "14"
    result = subprocess.run([*command, "--force", "--workers", "2"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600, check=False)
    assert "проверяется работ: 5" in result.stderr
    assert {row["student_id"]: row["score"] for row in rows_of(out)} == {**scores, "s0": "14"}
