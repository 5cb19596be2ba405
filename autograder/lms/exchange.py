"""nbgrader's exchange (a JupyterHub course): where feedback goes for ``release_feedback``.

``nbgrader release_feedback`` (nbgrader/exchange/default/release_feedback.py) takes every
``feedback/<student>/<assignment>/<notebook>.html`` of the course, with the
``timestamp.txt`` and ``submission_secret.txt`` that ``submit`` wrote and ``collect`` copied
into ``submitted/<student>/<assignment>/``; ``fetch_feedback`` then finds a page by the
submission's secret and the notebook's name. The course's gradebook is ``gradebook.db``.
"""

import shutil
from pathlib import Path

KEPT = ("timestamp.txt", "submission_secret.txt")


def gradebook_url(course):
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def publisher(course, assignment):
    """A function that puts a student's page where ``release_feedback`` looks for it."""
    course = Path(course)

    def publish(student_id, page):
        submitted = course / "submitted" / student_id / assignment
        target = course / "feedback" / student_id / assignment
        if not submitted.is_dir() or submitted.is_symlink() or not Path(page).is_file():
            return
        target.mkdir(parents=True, exist_ok=True)
        for name in KEPT:
            source = submitted / name
            if source.is_file() and not source.is_symlink():
                shutil.copyfile(source, target / name)
        stems = sorted(path.stem for path in submitted.glob("*.ipynb") if not path.is_symlink()) or [assignment]
        for stem in stems:
            temporary = target / f".{stem}.html.tmp"
            shutil.copyfile(page, temporary)
            temporary.replace(target / f"{stem}.html")
    return publish
