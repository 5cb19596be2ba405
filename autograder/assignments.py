"""Where the course's assignments live: one folder per assignment in solutions/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
NBGRADER_CONFIG = ROOT / "autograder" / "nbgrader_config.py"


class UnknownAssignment(ValueError):
    pass


def names():
    """The assignments, in course order."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file())


def source_notebook(assignment):
    """The instructor's notebook of ``assignment``, the single source of its exercise."""
    path = SOLUTIONS / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        known = ", ".join(names()) or "нет ни одного"
        raise UnknownAssignment(f"Нет задания {assignment!r}. Известные задания: {known}.")
    return path


def exercise_notebook(assignment):
    return EXERCISES / assignment / f"{assignment}.ipynb"
