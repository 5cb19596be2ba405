"""Grades notebooks with real nbgrader in scratch courses, for the assignment tests.

`cell_scores` is the one place that decides which test cells of a notebook passed; the
rest of the tests only read its result, so another grader can replace nbgrader here.
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from autograder import assignments, release


def cell_scores(assignment, notebooks, course=None, workers=None):
    """Autograde ``notebooks`` (student id -> notebook) as submissions of ``assignment``.

    ``course`` is a scratch course where the assignment was already generated (see
    `autograder.release.release`); without it one is generated here. The students are
    shared among ``workers`` concurrent `nbgrader autograde` runs (one per CPU by default),
    each in its own copy of the course. Returns ``(scores, log)``: scores maps a student id
    to {test cell grade_id: points earned}; a student whose notebook nbgrader could not
    grade or run to the end is missing, and the log says why.
    """
    students = list(notebooks)
    workers = max(1, min(workers or os.cpu_count() or 1, len(students)))
    name = assignments.source_notebook(assignment).name
    with tempfile.TemporaryDirectory(prefix=f"nbgrader-{assignment}-") as scratch:
        if course is None:
            course = Path(scratch) / "generated"
            release.generate(assignment, course)
        courses = [shutil.copytree(course, Path(scratch) / f"course-{k}") for k in range(workers)]
        runs = []
        for k, course in enumerate(courses):
            for student in students[k::workers]:
                target = course / "submitted" / student / assignment / name
                target.parent.mkdir(parents=True)
                nbformat.write(notebooks[student], str(target))
            runs.append(subprocess.Popen(
                [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force",
                 f"--CourseDirectory.root={course}", f"--db=sqlite:///{course / 'gradebook.db'}"],
                cwd=course, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            ))
        log = "".join(run.communicate()[0] for run in runs)
        scores = {}
        for k, course in enumerate(courses):
            with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
                for student in students[k::workers]:
                    try:
                        submitted = gradebook.find_submission_notebook(Path(name).stem, assignment, student)
                    except MissingEntry:  # nbgrader could not grade it; the log says why
                        continue
                    ran, errors = _outcome(course / "autograded" / student / assignment / name)
                    log += "".join(f"\n{student}: {error}" for error in errors)
                    if ran:
                        scores[student] = {grade.name: grade.score for grade in submitted.grades}
    return scores, log


def _outcome(notebook):
    """(every code cell was executed, the errors its cells raised) of an autograded notebook.

    A kernel that never started (or died) leaves cells unrun and zero points everywhere,
    which would pass for a notebook whose tests all failed.
    """
    if not notebook.is_file():
        return False, ["no autograded notebook"]
    cells = [c for c in nbformat.read(str(notebook), as_version=4).cells if c.cell_type == "code"]
    errors = [f"{c.metadata.get('nbgrader', {}).get('grade_id', 'cell')}: {o.ename}: {o.evalue}"
              for c in cells for o in c.outputs if o.output_type == "error"]
    return all(c.execution_count is not None for c in cells if c.source.strip()), errors


def _env():
    # nbgrader starts alembic and the kernel as subprocesses: both come from this venv.
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


def our_cell_scores(assignment, notebooks, folder):
    """The same as `cell_scores`, from the course's own grader (`python -m autograder grade`)."""
    submissions = Path(folder) / "submissions"
    for student, notebook in notebooks.items():
        (submissions / student).mkdir(parents=True)
        nbformat.write(notebook, str(submissions / student / f"{assignment}.ipynb"))
    out = Path(folder) / "out"
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(submissions), "--out",
                             str(out)], env=_env(), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    tests = [grade_id for grade_id in _test_ids(assignment)]
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        return {row["student_id"]: {test: float(row[test]) for test in tests} for row in csv.DictReader(file)}


def _test_ids(assignment):
    notebook = nbformat.read(str(assignments.source_notebook(assignment)), as_version=4)
    return [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")]
