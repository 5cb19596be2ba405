"""Unit tests of the grader's parts: composing, test compilation, submissions, feedback, snapshots."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from autograder import compose, feedback, grade, runner, sandbox, submissions

ROOT = Path(__file__).resolve().parents[1]


def code(source, **nbgrader):
    meta = {"nbgrader": {"schema_version": 3, "solution": False, "grade": False, "locked": False, **nbgrader}}
    return {"cell_type": "code", "metadata": meta if nbgrader else {}, "source": source, "outputs": [],
            "execution_count": None}


def notebook(*cells):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}


INSTRUCTOR = notebook(
    {"cell_type": "markdown", "metadata": {}, "source": "# Задание"},
    code("import numpy as np\nfrom dlcourse.checks import assert_close\n", grade_id="setup", locked=True),
    code(["def double(x):\n", "    \"\"\"Удвоить.\"\"\"\n", "    ### BEGIN SOLUTION\n", "    return 2 * x\n",
          "    ### END SOLUTION\n"], grade_id="double", solution=True),
    code("assert_close(double(1), 2, 'double(1)')\n### BEGIN HIDDEN TESTS\nassert_close(double(-3), -6, 'x')\n"
         "### END HIDDEN TESTS\n", grade_id="test_double", grade=True, points=2),
    code("print('demo')\n"),
)


@pytest.fixture
def assignment(tmp_path):
    path = tmp_path / "fixture.ipynb"
    path.write_text(json.dumps(INSTRUCTOR), encoding="utf-8")
    return compose.load_assignment("fixture", path, grade.STUB)


def student(*cells, **top):
    return json.dumps({**notebook(*cells), **top}).encode()


def test_instructor_cells_keep_hidden_tests_without_markers(assignment):
    kinds = [(cell.kind, cell.grade_id) for cell in assignment.cells]
    assert kinds == [("setup", ""), ("solution", "double"), ("test", "test_double")]
    test = assignment.tests[0]
    assert "double(-3)" in test.source and "HIDDEN" not in test.source and test.points == 2
    assert assignment.names == {"double": {"double"}} and assignment.max_score == 2
    assert "raise NotImplementedError()" in assignment.stubs["double"] and "2 * x" not in assignment.stubs["double"]


def test_only_solution_cells_are_taken_from_the_student(assignment):
    data = student(code("import os\n", grade_id="setup"),
                   code("def double(x):\n    return x + x\n", grade_id="double", solution=True),
                   code("pass\n", grade_id="test_double", grade=True, points=100))
    answers = compose.extract_answers(data, assignment)
    cells, missing = compose.compose(assignment, answers)
    assert missing == []
    assert [cell.source for cell in cells] == [assignment.cells[0].source, "def double(x):\n    return x + x\n",
                                               assignment.cells[2].source]
    assert cells[2].points == 2


def test_duplicates_take_the_first_and_say_so(assignment):
    data = student(code("def double(x):\n    return 2 * x\n", grade_id="double", solution=True),
                   code("def double(x):\n    return 0\n", grade_id="double", solution=True))
    answers = compose.extract_answers(data, assignment)
    assert "return 2 * x" in answers.sources["double"] and any("повторяется" in n for n in answers.notes)


def test_lost_metadata_is_found_by_the_function_name(assignment):
    answers = compose.extract_answers(student(code("def double(x):\n    return 2 * x\n")), assignment)
    assert "return 2 * x" in answers.sources["double"] and answers.notes


def test_missing_solution_cell_gets_the_stub(assignment):
    answers = compose.extract_answers(student(code("x = 1\n")), assignment)
    cells, missing = compose.compose(assignment, compose.Answers({"double": "x"}))
    assert missing == [] and cells[1].source == "x"
    cells, missing = compose.compose(assignment, answers)
    assert missing == ["double"] and "NotImplementedError" in cells[1].source


def test_nbformat3_and_string_sources(assignment):
    old = {"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["def double(x):\n", "    return 2 * x\n"],
         "metadata": {"nbgrader": {"grade_id": "double", "solution": True}}}]}]}
    assert "2 * x" in compose.extract_answers(json.dumps(old).encode(), assignment).sources["double"]


@pytest.mark.parametrize("data", [b"", b"  \n", b"{", b"[1, 2]", b"\xff\xfe\x00garbage", b'{"cells": 3}', None])
def test_unreadable_files_are_invalid_notebooks(assignment, data):
    with pytest.raises(compose.InvalidNotebook):
        compose.extract_answers(data, assignment)


def test_garbage_metadata_is_ignored(assignment):
    data = json.dumps(notebook(
        {"cell_type": "code", "metadata": "oops", "source": 5},
        {"cell_type": "code", "metadata": {"nbgrader": ["x"]}, "source": "x"},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": 7, "solution": True}}, "source": "y"},
        "not a cell",
    )).encode()
    answers = compose.extract_answers(data, assignment)
    assert answers.sources == {} and answers.other_ids == set()


def test_another_assignment_is_recognised(assignment):
    data = student(code("def relu(x):\n    return x\n", grade_id="relu", solution=True))
    answers = compose.extract_answers(data, assignment)
    assert answers.sources == {} and answers.other_ids == {"relu"}


def test_imported_modules_are_found_anywhere():
    sources = ["import numpy as np\nfrom dlcourse.checks import check\n",
               "def f():\n    import torch.nn.functional as F\n", "from . import x\n", "x = ("]
    assert compose.imported_modules(sources) == ["dlcourse.checks", "numpy", "torch.nn.functional"]


def test_compiled_test_keeps_setup_names_out_of_the_students_reach():
    namespace = {"__builtins__": __builtins__, "check": lambda *a: None}
    source = "calls = []\noriginal = step\ndef counting(x):\n    calls.append(x)\n    return original(x)\n" \
             "step = counting\nrun()\ncheck(calls == [3], 'one call')\n"
    exec(compile("def step(x):\n    return x\ndef run():\n    return step(3)\n", "<student>", "exec"), namespace)  # noqa: S102

    def check(condition, message):
        if not condition:
            raise AssertionError(message)

    code, used = runner.compile_test(source, "test_x", ["check"], ["step", "run"])
    assert used == []
    exec(code, namespace)  # noqa: S102
    namespace.pop(runner.TEST_FUNCTION)(check=check)  # the student's run() saw the counting step
    assert namespace["step"].__name__ == "counting"  # graded names are the notebook's globals
    assert "calls" not in namespace  # the test's own variables are not


def test_compiled_test_sees_real_builtins_whatever_the_student_defined():
    namespace = {"__builtins__": __builtins__, "len": lambda x: 2, "all": lambda x: True, "check": None}
    code, used = runner.compile_test("result = [len('abc'), all([False])]\nout.append(result)\n", "t",
                                     ["out"], [])
    assert used == ["all", "len"]
    exec(code, namespace)  # noqa: S102
    out = []
    namespace.pop(runner.TEST_FUNCTION)(out=out, len=len, all=all)
    assert out == [[3, False]]


def test_status_text_and_escaping_in_feedback(assignment):
    outcome = grade.Outcome("<script>alert(1)</script>", {"test_double": (0.0, 2.0, "<b>ожидалось</b> & 2")},
                            "timeout; output truncated", ["вывод <обрезан>"], {"double": "Error: <x>"})
    page = feedback.page(outcome, assignment)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;ожидалось" in page
    assert "остановлено по времени" in page and "0 из 2" in page and "test_double" in page
    assert "assert_close" not in page and "double(-3)" not in page


def test_student_ids_that_cannot_name_a_folder():
    for good in ["ivanov", "Иванов Иван", "学生", "😀 x", "a.b"]:
        assert submissions.id_problem(good) == ""
    for bad in ["", " ", ".", "..", "a/b", "a\\b", "line\nbreak", "x" * 300]:
        assert submissions.id_problem(bad)


def test_folder_layouts(tmp_path):
    folder = tmp_path / "subs"
    (folder / "ivanov").mkdir(parents=True)
    (folder / "ivanov" / "05_gradient_descent.ipynb").write_text("{}")
    (folder / "petrov" / "05_gradient_descent" / "sub").mkdir(parents=True)
    (folder / "petrov" / "05_gradient_descent" / "sub" / "work.ipynb").write_text("{}")
    (folder / "sidorov").mkdir()
    (folder / "sidorov" / "README").write_text("")
    (folder / "flat.ipynb").write_text("{}")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / "linker").symlink_to(ROOT / "solutions")
    (folder / "smith").mkdir()
    (folder / "smith" / "x.ipynb").symlink_to(ROOT / "Makefile")
    os.mkfifo(folder / "smith" / "fifo.ipynb")
    found = {s.student_id: s for s in submissions.discover(folder)}
    assert sorted(found) == ["flat", "ivanov", "linker", "petrov", "sidorov", "smith"]
    assert found["petrov"].notebooks == [("05_gradient_descent/sub/work.ipynb", b"{}")]
    assert found["sidorov"].problem == "no notebook" and found["linker"].problem == "no notebook"
    assert found["smith"].problem == "no notebook"  # a link and a FIFO: never read, never blocks
    (tmp_path / "course" / "submitted" / "kim" / "05_gradient_descent").mkdir(parents=True)
    (tmp_path / "course" / "submitted" / "kim" / "05_gradient_descent" / "a.ipynb").write_text("{}")
    assert [s.student_id for s in submissions.discover(tmp_path / "course")] == ["kim"]


def test_lms_zip(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ivanov.ipynb", "{}")
        zf.writestr("Петров Пётр/work/05_gradient_descent.ipynb", "{}")
        zf.writestr("Петров Пётр/notes.txt", "x")
        zf.writestr("__MACOSX/ivanov.ipynb", "junk")
        zf.writestr("../escape.ipynb", "{}")
        zf.writestr("empty/", "")
    found = {s.student_id: s for s in submissions.discover(archive)}
    assert sorted(found) == ["..", "empty", "ivanov", "Петров Пётр"]
    assert found["Петров Пётр"].notebooks == [("work/05_gradient_descent.ipynb", b"{}")]
    assert found[".."].problem == "bad student id" and found["empty"].problem == "no notebook"
    with pytest.raises(submissions.MissingSubmissions):
        submissions.discover(tmp_path / "missing")


SNAPSHOT_SCRIPT = textwrap.dedent("""
    import builtins, json, math, sys, types
    import numpy as np
    import dlcourse.checks as checks
    from autograder import integrity

    def isclose_before(a, b):
        return np.isclose(a, b)

    restore = integrity.snapshot(exclude=[sys.modules["__main__"]])
    integrity.install_guard()
    real = (np.isclose, builtins.abs, math.isclose, checks.assert_close.__code__, np.ndarray)
    np.isclose = lambda *a, **k: True
    builtins.abs = lambda x: 0
    math.isclose = lambda *a, **k: True
    checks.assert_close.__code__ = (lambda *a, **k: None).__code__
    checks.fail.__defaults__ = (1,)
    checks._SHOWN = 1000
    sys.modules["numpy"] = types.ModuleType("numpy")
    sys.modules["json.fake"] = types.ModuleType("json.fake")
    sys.meta_path.insert(0, object())
    np.__class__ = type("Evil", (types.ModuleType,), {})
    vars(math)[3] = "odd key"
    changes = restore()
    back = (np.isclose, builtins.abs, math.isclose, checks.assert_close.__code__, np.ndarray) == real
    refused = []
    for attempt in (lambda: sys.settrace(None), lambda: __import__("gc").get_objects(),
                    lambda: sys.addaudithook(print)):
        try:
            attempt()
        except RuntimeError as error:
            refused.append(str(error))
    print(json.dumps({"changes": changes, "back": back, "again": restore(), "shown": checks._SHOWN,
                      "fake": "json.fake" in sys.modules, "class": type(np).__name__,
                      "meta": len(sys.meta_path), "refused": refused, "odd": 3 in vars(math)}))
""")


def test_snapshot_restores_and_names_what_was_replaced():
    result = subprocess.run([sys.executable, "-c", SNAPSHOT_SCRIPT], capture_output=True, text=True, cwd=ROOT,
                            check=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["back"] and report["again"] == [] and report["shown"] == 6
    assert not report["fake"] and report["class"] == "module" and not report["odd"]
    changes = " ".join(report["changes"])
    for name in ["numpy.isclose", "builtins.abs", "math.isclose", "assert_close.__code__", "fail.__defaults__",
                 "sys.modules['numpy']", "numpy.__class__", "sys.meta_path", "посторонние ключи"]:
        assert name in changes, (name, changes)
    assert "checks._SHOWN" not in changes  # plain data is restored without blame
    assert len(report["refused"]) == 2  # settrace and gc; a second audit hook is dropped silently


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["unshare", "rlimits"])
def test_weaker_sandboxes_still_grade_and_are_announced(kind, monkeypatch):
    if kind == "unshare" and os.geteuid() != 0:
        pytest.skip("unshare needs root")
    job = {"cells": [{"kind": "setup", "source": "x = 2\n", "grade_id": "", "points": 0},
                     {"kind": "solution", "source": "def f():\n    return x\n", "grade_id": "f", "points": 0},
                     {"kind": "test", "source": "check(f() == 2, 'f')\n", "grade_id": "test_f", "points": 1},
                     {"kind": "test", "source": "check(f() == 3, 'f() != 3')\n", "grade_id": "test_g", "points": 1}],
           "graded_names": ["f"], "imports": [], "seed": 0}
    job["cells"][0]["source"] = "x = 2\nfrom dlcourse.checks import check\n"
    run = sandbox.run(job, sandbox.Limits(timeout=30), slot=5, kind=kind)
    assert run.status == "ok" and run.verdicts[2] == (True, "") and run.verdicts[3] == (False, "f() != 3")
    monkeypatch.setattr(sandbox, "mechanism", lambda: kind)
    assert "bubblewrap" in sandbox.warning()
