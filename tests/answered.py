"""A student's notebook as tests and benchmarks write one: an assignment's solution or exercise
with some answer cells (by ``grade_id``) replaced."""

import json

from autograder import assignments


def notebook(assignment, answers=None, kind="solutions"):
    """The text of ``assignment``'s notebook (``kind``: "solutions" or "exercises") with ``answers``."""
    path = assignments.source_notebook(assignment) if kind == "solutions" else assignments.exercise_notebook(assignment)
    data = json.loads(path.read_text(encoding="utf-8"))
    for cell in data["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if answers and grade_id in answers:
            cell["source"] = answers[grade_id]
    return json.dumps(data, ensure_ascii=False)
