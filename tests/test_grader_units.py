"""Unit tests of the grader's parts: composing, submissions, feedback, the sandbox's mechanisms."""

import json
import os
import zipfile
from pathlib import Path

import pytest

from autograder import compose, feedback, pipeline, sandbox, settings, submissions
from autograder.outcome import Outcome

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
    return compose.load_assignment("fixture", path, settings.STUB)


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


@pytest.mark.parametrize("data", [b"", b"  \n", b"{", b"[1, 2]", b"\xff\xfe\x00garbage", b'{"cells": 3}', None,
                                  b'{"cells": [], "x": ' + b"9" * 5000 + b"}",
                                  b'{"cells": [' + b"[], " * 2_100_000 + b"[]]}"])
def test_unreadable_files_are_invalid_notebooks(assignment, data):
    with pytest.raises(compose.InvalidNotebook):
        compose.extract_answers(data, assignment)


def test_an_output_full_of_commas_is_one_value(assignment):
    printed = {"output_type": "stream", "name": "stdout", "text": ", ".join(["1"] * 2_500_000) + ' \\" [{'}
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": "def double(x):\n    return 2 * x\n", "outputs": [printed],
         "metadata": {"nbgrader": {"grade_id": "double", "solution": True}}}]}
    assert "2 * x" in compose.extract_answers(json.dumps(notebook).encode(), assignment).sources["double"]


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


def test_a_huge_unlabelled_cell_is_not_scanned_for_names():
    huge = "x = [" + "(" * 100_000 + ")" * 100_000 + "]\n"  # would exhaust ast.parse's nesting
    assert compose.scanned_names("def double(x):\n    return 2 * x\nclass A:\n    pass\ny: int = 1\n") == {
        "double", "A", "y"}
    assert compose.scanned_names(huge) == {"x"}
    assert compose.scanned_names("def f():\n    pass\n" + "#" * settings.MAX_NAME_SCAN_BYTES) == set()


def test_status_text_and_escaping_in_feedback(assignment):
    outcome = Outcome("<script>alert(1)</script>", {"test_double": (0.0, 2.0, "<b>ожидалось</b> & 2")},
                      "timeout; output truncated", ["вывод <обрезан>"], {"double": {"type": "E", "message": "E: <x>"}})
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


def test_a_hidden_test_says_what_failed_but_never_what_was_expected():
    def test(grade_id, visible, hidden):
        code, lines = compose.split_hidden(f"{visible}### BEGIN HIDDEN TESTS\n{hidden}### END HIDDEN TESTS\n")
        return compose.Cell("test", code, grade_id, 1, lines)

    cells = [compose.Cell("setup", "from dlcourse.checks import assert_close\n"),
             compose.Cell("solution", "def f(x):\n    return 2 * x\n\ndef g(x):\n    return f'LEAKED {x}'\n", "f"),
             test("test_checked", "assert_close(f(1.0), 2.0, 'f(1.0)')\n", "assert_close(f(5.0), 31.5, 'f(5.0)')\n"),
             test("test_plain", "", "assert f(5.0) == 31.5, 'ожидалось 31.5'\n"),
             test("test_visible", "assert_close(f(3.0), 7.25, 'f(3.0)')\n", ""),
             test("test_converts", "", "float(g(5.0))\n"),
             test("test_helper", "def probe(x):\n    assert_close(f(x), 31.5, f'f({x})')\n", "probe(5.0)\n")]
    assignment = compose.Assignment("fixture", cells, {"f": {"f", "g"}}, {"f": settings.STUB},
                                    {c.grade_id for c in cells})
    student_job, trusted_job = pipeline.jobs(cells, assignment, False)
    run = sandbox.run(student_job, {**trusted_job, "skip": []}, sandbox.Limits(timeout=30))
    checked, plain, visible, converts, helper = (run.verdicts[index] for index in (2, 3, 4, 5, 6))
    assert not checked[0] and checked[1].startswith("f(5.0) (скрытый тест") and "31.5" not in checked[1], checked
    assert "10" not in checked[1]  # nor what the student's code answered
    assert not plain[0] and "31.5" not in plain[1], plain
    assert not visible[0] and "ожидалось 7.25, получено 6" in visible[1], visible
    assert not converts[0] and converts[1].startswith("ValueError") and "LEAKED" not in converts[1], converts
    assert not helper[0] and helper[1].startswith("f(5.0) (скрытый тест") and "31.5" not in helper[1], helper


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["unshare", "rlimits"])
def test_weaker_sandboxes_still_grade_and_are_announced(kind, monkeypatch):
    if kind == "unshare" and os.geteuid() != 0:
        pytest.skip("unshare needs root")
    cells = [compose.Cell("setup", "x = 2\nfrom dlcourse.checks import check\n"),
             compose.Cell("solution", "def f():\n    return x\n", "f"),
             compose.Cell("test", "check(f() == 2, 'f')\n", "test_f", 1),
             compose.Cell("test", "check(f() == 3, 'f() != 3')\n", "test_g", 1)]
    assignment = compose.Assignment("fixture", cells, {"f": {"f"}}, {"f": settings.STUB}, {"f", "test_f", "test_g"})
    student_job, trusted_job = pipeline.jobs(cells, assignment, False)
    run = sandbox.run(student_job, {**trusted_job, "skip": []}, sandbox.Limits(timeout=30), kind=kind)
    assert run.status == "ok" and run.verdicts[2] == (True, "") and run.verdicts[3] == (False, "f() != 3")
    monkeypatch.setattr(sandbox, "mechanism", lambda: kind)
    assert "bubblewrap" in " ".join(sandbox.warnings())
