"""Generates the students' notebooks in exercises/ from the instructor's in solutions/.

nbgrader's generate_assignment copies every file of the source folder into the release,
so it runs on a scratch course that holds the notebook alone: nothing else of solutions/
can reach exercises/.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder import assignments


def generate(assignment, course):
    """Run nbgrader's generate_assignment for ``assignment`` in the scratch ``course``.

    Returns the generated notebook's path; the scratch gradebook is left in ``course``.
    """
    source = assignments.source_notebook(assignment)
    (course / "solutions" / assignment).mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, course / "solutions" / assignment / source.name)
    shutil.copy2(assignments.NBGRADER_CONFIG, course / "nbgrader_config.py")
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
         f"--CourseDirectory.root={course}", f"--db=sqlite:///{course / 'gradebook.db'}"],
        check=False, cwd=course, env=env, capture_output=True, text=True,
    )
    released = course / "exercises" / assignment / source.name
    if result.returncode != 0 or not released.is_file():
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.stdout}\n{result.stderr}")
    return released


def release(assignment, check=False, course=None):
    """Write exercises/<assignment>/ from solutions/; with ``check``, only compare.

    The scratch course is ``course`` when given (its gradebook is left there for reuse,
    e.g. by a test that autogrades next), a temporary folder otherwise.
    Returns True when exercises/ already held exactly what is generated now.
    """
    if course is None:
        with tempfile.TemporaryDirectory() as scratch:
            return release(assignment, check, Path(scratch))
    generated = generate(assignment, Path(course)).read_bytes()
    target = assignments.exercise_notebook(assignment)
    up_to_date = target.is_file() and target.read_bytes() == generated and _only_notebook(target.parent)
    if not check and not up_to_date:
        if target.parent.exists():
            shutil.rmtree(target.parent)
        target.parent.mkdir(parents=True)
        target.write_bytes(generated)
    return up_to_date


def _only_notebook(folder):
    return [p.name for p in folder.iterdir()] == [f"{folder.name}.ipynb"]


def main(args):
    names = assignments.names() if args.all or not args.assignments else args.assignments
    stale = [name for name in names if not release(name, check=args.check)]
    if args.check:
        for name in stale:
            print(f"exercises/{name} устарел: выполните `make exercises`", file=sys.stderr)
        return 1 if stale else 0
    for name in names:
        print(f"exercises/{name}: {'без изменений' if name not in stale else 'обновлён'}")
    return 0
