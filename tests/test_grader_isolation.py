"""Sandboxes never hurt each other: two graders at once, a CPU hog beside a neighbour, memory after fork.

And the instructor's own mistakes (a malformed notebook, a bad --db, a zero time limit) get
a clear message and exit code 2 before anything is graded.
"""

import csv
import subprocess
import sys
from pathlib import Path

import answered
import pytest

from autograder import assignments, cgroups, grade, settings

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "05_gradient_descent"
SOURCE = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
COMMAND = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT]


def write_class(folder, students):
    for student_id, text in students.items():
        (folder / student_id).mkdir(parents=True)
        (folder / student_id / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
    return folder


def rows_of(out):
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        return {row["student_id"]: row for row in csv.DictReader(file)}


needs_cgroups = pytest.mark.skipif(not cgroups.available(), reason="control groups are not available here")


@pytest.mark.slow
def test_two_graders_at_once_do_not_touch_each_others_sandboxes(tmp_path):
    wrong = answered.notebook(ASSIGNMENT, {"gd_step": "def gd_step(w, grad, lr):\n    return w + lr * grad\n"})
    folder = write_class(tmp_path / "subs", {"a": SOURCE.read_text(encoding="utf-8"), "b": wrong,
                                             "c": SOURCE.read_text(encoding="utf-8")})
    runs = [subprocess.Popen([*COMMAND, str(folder), "--out", str(tmp_path / f"out{n}"), "--workers", "2"],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    for run in runs:
        _, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr[-2000:]
    for n in (1, 2):
        rows = rows_of(tmp_path / f"out{n}")
        assert {sid: (row["score"], row["status"]) for sid, row in rows.items()} == {
            "a": ("14", "ok"), "b": ("8", "ok"), "c": ("14", "ok")}


@pytest.mark.slow
@needs_cgroups
def test_a_cpu_hog_does_not_starve_its_neighbour(tmp_path):
    hog = answered.notebook(ASSIGNMENT, {"gd_step": "import os\n"
                                                    "for _ in range(12):\n"
                                                    "    if os.fork() == 0:\n"
                                                    "        while True:\n"
                                                    "            pass\n"
                                                    "def gd_step(w, grad, lr):\n    return w - lr * grad\n"})
    folder = write_class(tmp_path / "subs", {"hog": hog, "neighbour": SOURCE.read_text(encoding="utf-8")})
    result = subprocess.run([*COMMAND, str(folder), "--out", str(tmp_path / "out"), "--workers", "2",
                             "--timeout", "10"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = rows_of(tmp_path / "out")
    assert rows["neighbour"]["score"] == "14" and rows["neighbour"]["status"] == "ok", rows["neighbour"]


@pytest.mark.slow
@needs_cgroups
def test_memory_shared_after_fork_is_counted_once(tmp_path):
    forks = answered.notebook(ASSIGNMENT, {"gd_step": "import os, time\nimport numpy as np\n"
                                                      "hoard = np.ones(300 * 2**20 // 8)\n"
                                                      "children = []\n"
                                                      "for _ in range(3):\n"
                                                      "    pid = os.fork()\n"
                                                      "    if pid == 0:\n"
                                                      "        time.sleep(2)\n"
                                                      "        os._exit(0)\n"
                                                      "    children.append(pid)\n"
                                                      "for pid in children:\n"
                                                      "    os.waitpid(pid, 0)\n"
                                                      "def gd_step(w, grad, lr):\n    return w - lr * grad\n"})
    folder = write_class(tmp_path / "subs", {"forks": forks})
    result = subprocess.run([*COMMAND, str(folder), "--out", str(tmp_path / "out"), "--memory-mb", "700"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    row = rows_of(tmp_path / "out")["forks"]
    assert row["status"] == "ok" and row["score"] == "14", row


@pytest.mark.slow
def test_regrading_repeats_string_hashing(tmp_path):
    hashed = answered.notebook(ASSIGNMENT, {"gd_step": "def gd_step(w, grad, lr):\n"
                                                       "    if hash('a salt') % 2:\n        return w - lr * grad\n"
                                                       "    return w + lr * grad\n"})
    folder = write_class(tmp_path / "subs", {"hashed": hashed})
    scores = set()
    for _ in range(2):
        result = subprocess.run([*COMMAND, str(folder), "--out", str(tmp_path / "out"), "--force"], cwd=ROOT,
                                capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        scores.add(rows_of(tmp_path / "out")["hashed"]["score"])
    assert len(scores) == 1


def test_instructors_mistakes_exit_2_before_grading(tmp_path, monkeypatch, capsys):
    folder = write_class(tmp_path / "subs", {"a": "{}"})
    parser = __import__("autograder.__main__", fromlist=["parser"]).parser()

    def run(*extra):
        return grade.main(parser.parse_args(["grade", ASSIGNMENT, str(folder), "--out", str(tmp_path / "out"),
                                             *extra]))

    assert run("--notebook-timeout", "0") == settings.EXIT_INSTRUCTOR
    assert "--notebook-timeout" in capsys.readouterr().err
    assert run("--db", "no-such-driver://x") == settings.EXIT_INSTRUCTOR
    assert "--db" in capsys.readouterr().err
    broken = tmp_path / "solutions" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [{"cell_type": "code"', encoding="utf-8")
    monkeypatch.setattr(assignments, "SOLUTIONS", tmp_path / "solutions")
    assert run() == settings.EXIT_INSTRUCTOR
    assert "не читается" in capsys.readouterr().err
    assert not (tmp_path / "out" / "grades.csv").exists()
