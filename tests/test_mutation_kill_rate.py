"""scripts/mutation_kill_rate.py on a tiny notebook: mutants come from the solution cells only,
a test cell that fails kills a mutant, a mutant that hangs is stopped by the timeout."""

import importlib.util
from pathlib import Path

import nbformat

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mutation_kill_rate.py"
spec = importlib.util.spec_from_file_location("mutation_kill_rate", SCRIPT)
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)


def _notebook(solution, test):
    cells = [nbformat.v4.new_code_cell("import math"),
             nbformat.v4.new_code_cell(solution, metadata={"nbgrader": {"solution": True, "grade_id": "f"}}),
             nbformat.v4.new_code_cell(test, metadata={"nbgrader": {"grade": True, "grade_id": "test_f"}})]
    return nbformat.v4.new_notebook(cells=cells)


def test_weak_tests_leave_survivors_and_strong_tests_kill_them():
    solution = "def f(x):\n    return x + 1\n"
    weak = _notebook(solution, "if f(0) != 1:\n    raise AssertionError('f(0)')\n")
    strong = _notebook(solution, "if f(0) != 1 or f(3) != 4:\n    raise AssertionError('f')\n")
    found = script.mutants("tiny", weak, script._operators())
    assert found and all(m.cell == "f" and m.key.startswith("tiny/f/core/") for m in found)
    changes = {m.change for m in found}
    assert "- return x + 1 / + return x - 1" in changes
    assert script.passes(weak, {}, 5) and script.passes(strong, {}, 5)
    weak_survivors = [m for m in found if script.passes(weak, {m.cell: m.source}, 5)]
    strong_survivors = [m for m in found if script.passes(strong, {m.cell: m.source}, 5)]
    # x | 1 and x ^ 1 agree with x + 1 at 0 only; x - 1 disagrees everywhere.
    assert {m.change for m in weak_survivors} == {
        "- return x + 1 / + return x | 1", "- return x + 1 / + return x ^ 1"}
    assert not strong_survivors


def test_a_hanging_mutant_is_killed_by_the_timeout():
    notebook = _notebook("def f():\n    pass\n", "f()\n")
    assert script.passes(notebook, {}, 5)
    assert not script.passes(notebook, {"f": "def f():\n    while True:\n        pass\n"}, 0.2)
