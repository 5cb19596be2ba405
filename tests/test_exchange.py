"""A JupyterHub course on one machine: nbgrader's exchange from release to fetched feedback.

The instructor releases our generated exercise, three students (each their own HOME) fetch,
fill and submit it, the instructor collects, grades with ``python -m autograder grade`` into
the course's gradebook and releases the feedback, and each student fetches their own page.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lms_fixtures import ASSIGNMENT, ROOT, SOLUTION

COURSE_ID = "dl101"
CONFIG = ROOT / "autograder" / "nbgrader_config.py"


def _env(home):
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("JUPYTER_DATA_DIR", None)
    return env


def run(args, cwd, home):
    result = subprocess.run(args, cwd=cwd, env=_env(home), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def nbgrader_args(command, exchange, *args):
    return [sys.executable, "-m", "nbgrader", command, ASSIGNMENT, f"--Exchange.root={exchange}",
            f"--CourseDirectory.course_id={COURSE_ID}", *args]


def nbgrader(command, *args, cwd, home, exchange):
    return run(nbgrader_args(command, exchange, *args), cwd, home)


def each_student(command, students, tmp_path, exchange):
    """``command`` for every student at once, each in their own HOME (as on a JupyterHub)."""
    def who(student):
        return [] if command == "fetch_assignment" else [f"--student={student}"]

    runs = {student: subprocess.Popen(nbgrader_args(command, exchange, *who(student)),
                                      cwd=tmp_path / student, env=_env(tmp_path / student), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True) for student in students}
    for student, process in runs.items():
        output = process.communicate(timeout=300)[0]
        assert process.returncode == 0, (command, student, output)


def with_answer(fetched, grade_id, source):
    """The fetched notebook with one answer cell written, the rest left as given."""
    notebook = json.loads(fetched.read_text(encoding="utf-8"))
    solution = {cell["metadata"].get("nbgrader", {}).get("grade_id"): cell["source"]
                for cell in json.loads(SOLUTION)["cells"]}
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = source if source is not None else solution[grade_id]
    fetched.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")


@pytest.mark.slow
def test_release_fetch_submit_collect_grade_release_and_fetch_feedback(tmp_path):
    exchange, course, instructor = tmp_path / "exchange", tmp_path / "course", tmp_path / "instructor"
    (course / "exercises" / ASSIGNMENT).mkdir(parents=True)  # the release folder of our nbgrader config
    shutil.copy(ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", course / "exercises" / ASSIGNMENT)
    shutil.copy(CONFIG, course / "nbgrader_config.py")  # the course's config is ours (README: the recipe)
    instructor.mkdir()
    teach = [f"--CourseDirectory.root={course}"]
    nbgrader("release_assignment", *teach, cwd=course, home=instructor, exchange=exchange)

    answers = {"ann": SOLUTION, "bob": None, "cat": "gd_step"}
    for student in answers:
        (tmp_path / student).mkdir()
    each_student("fetch_assignment", answers, tmp_path, exchange)
    for student, answer in answers.items():
        fetched = tmp_path / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if answer == SOLUTION:
            fetched.write_bytes(SOLUTION)
        elif answer:
            with_answer(fetched, answer, None)  # one function right, the rest left undone
    each_student("submit", answers, tmp_path, exchange)
    nbgrader("collect", *teach, cwd=course, home=instructor, exchange=exchange)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["ann", "bob", "cat"]

    result = run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(course), "--out", str(tmp_path / "out"),
                  "--workers", "2", "--timeout", "10", "--deadline", "2099-01-01T00:00+00:00"], ROOT, instructor)
    assert "работ 3" in result.stdout
    for student in answers:
        kept = course / "feedback" / student / ASSIGNMENT
        assert sorted(p.name for p in kept.iterdir()) == [f"{ASSIGNMENT}.html", "submission_secret.txt",
                                                          "timestamp.txt"]
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        scores = {s: book.find_submission(ASSIGNMENT, s).score for s in answers}
        submitted = book.find_submission(ASSIGNMENT, "ann").timestamp
    assert scores["ann"] == 14 and scores["bob"] == 0 and 0 < scores["cat"] < 14
    assert submitted is not None  # from the timestamp.txt that submit wrote

    nbgrader("release_feedback", *teach, cwd=course, home=instructor, exchange=exchange)
    each_student("fetch_feedback", answers, tmp_path, exchange)
    for student, expected in [("ann", "14 из 14"), ("bob", "0 из 14"), ("cat", f"{scores['cat']:g} из 14")]:
        (page,) = (tmp_path / student / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
        text = page.read_text(encoding="utf-8")
        assert f"<b>{student}</b>" in text and f"<b>{expected}</b>" in text
