"""`python -m autograder similarity` on generated classes: a disguised copy is flagged, work
written independently is not, earlier years and the solution are references, and broken,
empty, huge or lonely input is reported, never fatal.
"""

import csv
import importlib.util
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from autograder import assignments, compose, settings, similarity, submissions

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "05_gradient_descent"
SOURCE = assignments.source_notebook(ASSIGNMENT)
INSTRUCTOR = compose.load_assignment(ASSIGNMENT, SOURCE, settings.STUB)
EXERCISE = json.loads(assignments.exercise_notebook(ASSIGNMENT).read_text(encoding="utf-8"))

# One student's own work: helpers of their own, a loop where the solution slices.
ORIGINAL = {
    "minibatch_indices": '''def minibatch_indices(n, batch_size, rng):
    perm = rng.permutation(n)
    pieces = []
    position = 0
    while position < n:
        pieces.append(perm[position:position + batch_size])
        position = position + batch_size
    return pieces
''',
    "fit_linear_regression": '''def _batch_size_or_all(batch_size, n):
    if batch_size is None:
        return n
    return int(batch_size)


def _one_epoch(X, y, w, b, lr, size, rng):
    for rows in minibatch_indices(len(y), size, rng):
        grad_w, grad_b = linear_regression_gradients(X[rows], y[rows], w, b)
        w = gd_step(w, grad_w, lr)
        b = gd_step(b, grad_b, lr)
    return w, b


def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    generator = np.random.default_rng(seed)
    weights = np.zeros(X.shape[1])
    bias = 0.0
    history = []
    size = _batch_size_or_all(batch_size, len(y))
    for epoch in range(epochs):
        weights, bias = _one_epoch(X, y, weights, bias, lr, size, generator)
        history.append(mse(y, X @ weights + bias))
    return weights, float(bias), history
''',
}
# The same work disguised: every name changed, the helpers swapped, comments and blank lines added.
COPY = {
    "minibatch_indices": '''def minibatch_indices(n, batch_size, rng):
    # shuffle the indices first
    shuffled = rng.permutation(n)
    result = []

    start = 0
    while start < n:  # walk through the data
        result.append(shuffled[start:start + batch_size])
        start = start + batch_size
    return result
''',
    "fit_linear_regression": '''def _run_epoch(features, target, coef, intercept, step, bs, random_state):
    """One pass over the data."""
    for idx in minibatch_indices(len(target), bs, random_state):
        # gradients on this batch
        dcoef, dintercept = linear_regression_gradients(features[idx], target[idx], coef, intercept)
        coef = gd_step(coef, dcoef, step)
        intercept = gd_step(intercept, dintercept, step)
    return coef, intercept


def _resolve_size(bs, total):
    # None means full batch
    if bs is None:
        return total
    return int(bs)


def fit_linear_regression(X, y, lr, epochs, batch_size=None, seed=0):
    random_state = np.random.default_rng(seed)
    coef = np.zeros(X.shape[1])
    intercept = 0.0
    losses = []
    bs = _resolve_size(batch_size, len(y))
    for _ in range(epochs):
        coef, intercept = _run_epoch(X, y, coef, intercept, lr, bs, random_state)
        losses.append(mse(y, X @ coef + intercept))  # loss after the epoch
    return coef, float(intercept), losses
''',
}


def _alternatives(choice):
    """Correct answers written differently from the solution (tests/mutants), ``choice``-th of each."""
    spec = importlib.util.spec_from_file_location("mutants", ROOT / "tests" / "mutants" / f"{ASSIGNMENT}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    by_cell = {}
    for grade_id, _, source in module.ALTERNATIVES:
        by_cell.setdefault(grade_id, []).append(source)
    return {grade_id: sources[min(choice, len(sources) - 1)] for grade_id, sources in by_cell.items()}


def notebook(answers):
    """The released exercise with ``answers`` (grade_id -> source) in its solution cells."""
    copy = json.loads(json.dumps(EXERCISE))
    for cell in copy["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return json.dumps(copy, ensure_ascii=False)


def write_class(folder, students):
    """One folder per student; a dict of answers becomes a notebook, a str is the file's text."""
    for student_id, work in students.items():
        (folder / student_id).mkdir(parents=True)
        text = notebook(work) if isinstance(work, dict) else work
        (folder / student_id / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
    return folder


def detect(folder, previous=(), threshold=similarity.DEFAULT_THRESHOLD):
    earlier = [(Path(p), submissions.discover(p)) for p in previous]
    return similarity.detect(INSTRUCTOR, SOURCE.read_bytes(), submissions.discover(folder), earlier, threshold)


def run(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "similarity", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=300)


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def pair_of(result, a, b):
    (pair,) = [p for p in result.pairs if {p.a.label, p.b.label} == {a, b}] or [None]
    return pair


def test_a_disguised_copy_is_flagged_and_independent_work_is_not(tmp_path):
    folder = write_class(tmp_path / "class", {"orig": ORIGINAL, "copy": COPY, "alt0": _alternatives(0),
                                              "alt1": _alternatives(1)})
    result = detect(folder)
    copied = pair_of(result, "orig", "copy")
    assert copied is not None and copied.similarity >= 0.8, [(p.a.label, p.b.label, p.similarity)
                                                            for p in result.pairs]
    assert result.pairs[0] is copied
    similar_to_solution = {p.a.label: p.similarity for p in result.to_solution}
    assert similar_to_solution["alt0"] < similarity.DEFAULT_THRESHOLD
    assert similar_to_solution["alt1"] < similarity.DEFAULT_THRESHOLD
    assert similar_to_solution["orig"] < similarity.DEFAULT_THRESHOLD
    assert pair_of(result, "orig", "alt0") is None and pair_of(result, "copy", "alt1") is None


def test_command_writes_ranked_csvs_and_a_page_with_marked_code(tmp_path):
    folder = write_class(tmp_path / "class", {"orig": ORIGINAL, "copy": COPY, "alt0": _alternatives(0),
                                              "leak": compose.extract_answers(SOURCE.read_bytes(), INSTRUCTOR).sources})
    done = run(ASSIGNMENT, folder, "--out", tmp_path / "OUT")
    assert done.returncode == 0, done.stderr
    assert "не вердикт" in done.stdout
    pairs = read_csv(tmp_path / "OUT" / "similarity.csv")
    assert pairs[0] == ["student_a", "student_b", "similarity"]
    values = [float(row[2]) for row in pairs[1:]]
    assert values == sorted(values, reverse=True) and all(0 <= v <= 1 for v in values)
    assert {"orig", "copy"} in [set(row[:2]) for row in pairs[1:]]
    to_solution = read_csv(tmp_path / "OUT" / "similarity_to_solution.csv")
    assert to_solution[0] == ["student_id", "similarity"]
    assert to_solution[1][0] == "leak" and float(to_solution[1][1]) > 0.9
    assert sorted(row[0] for row in to_solution[1:]) == ["alt0", "copy", "leak", "orig"]
    soup = BeautifulSoup((tmp_path / "OUT" / "similarity.html").read_text(encoding="utf-8"), "html.parser")
    assert "не вердикт" in soup.find(id="not-a-verdict").text
    first = soup.select_one("section.pair")
    marked = "".join(m.text for m in first.select("mark"))
    assert "minibatch_indices" in marked or "gd_step" in marked
    # Both students' code is on the page, the stub's docstring too, but never the tests.
    assert "_resolve_size" in first.text and "_batch_size_or_all" in first.text
    assert "HIDDEN TESTS" not in soup.text and "assert_close" not in soup.text


def test_runs_with_the_network_cut(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the similarity run tried to connect: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    folder = write_class(tmp_path / "class", {"orig": ORIGINAL, "copy": COPY})
    similarity.write(tmp_path, ASSIGNMENT, detect(folder))
    page = (tmp_path / "similarity.html").read_text(encoding="utf-8")
    assert "section" in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_earlier_years_are_references(tmp_path):
    last_year = write_class(tmp_path / "2024", {"old": ORIGINAL, "old2": ORIGINAL})
    folder = write_class(tmp_path / "class", {"copy": COPY, "alt0": _alternatives(0)})
    result = detect(folder, previous=[last_year])
    flagged = [(p.a.label, p.b.label) for p in result.pairs]
    assert ("copy", "2024/old") in flagged and ("copy", "2024/old2") in flagged
    assert ("2024/old", "2024/old2") not in flagged, "earlier years are not compared with each other"
    assert {p.a.label for p in result.to_solution} == {"copy", "alt0"}, "only the class is compared with the solution"


def test_hostile_ids_and_code_are_inert(tmp_path):
    payload = dict(ORIGINAL, gd_step="def gd_step(w, grad, lr):\n    # </pre><script>alert(1)</script>\n"
                                     "    return w - lr * grad\n")
    folder = write_class(tmp_path / "class", {"=cmd()": payload, "<img src=x onerror=alert(1)>": payload})
    done = run(ASSIGNMENT, folder, "--out", tmp_path / "OUT")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "OUT" / "similarity.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page and "&lt;img src=x" in page
    soup = BeautifulSoup(page, "html.parser")
    assert len(soup.find_all("script")) == 1 and not soup.find_all(attrs={"onerror": True})
    rows = read_csv(tmp_path / "OUT" / "similarity.csv")
    assert "'=cmd()" in rows[1][:2], "a spreadsheet must not run a student's id as a formula"


def test_bad_input_is_skipped_with_a_reason(tmp_path):
    huge = dict(ORIGINAL, gd_step="def gd_step(w, grad, lr):\n" + "    w = w - 0 * grad\n" * 3000
                + "    return w - lr * grad\n")
    folder = write_class(tmp_path / "class", {
        "orig": ORIGINAL, "copy": COPY, "huge": huge,
        "broken": '{"cells": [', "empty": "", "list": "[1, 2]",
        "stubs": {}, "short": {"gd_step": "def gd_step(w, grad, lr):\n    return w - lr * grad\n"},
        "other": json.dumps({"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}}]}),
    })
    (folder / "nothing").mkdir()
    (folder / "copy" / "draft.ipynb").write_text(notebook({}), encoding="utf-8")  # the grader takes the named one
    result = detect(folder)
    skipped = dict(result.skipped)
    assert set(skipped) == {"broken", "empty", "list", "stubs", "short", "other", "nothing"}
    assert "JSON" in skipped["broken"] and "пустой файл" in skipped["empty"]
    assert "заготовк" in skipped["stubs"] and "короче" in skipped["short"]
    assert "нет ни одной ячейки решения" in skipped["other"] and "no notebook" in skipped["nothing"]
    assert dict(result.notes)["copy"] == f"тетрадей несколько: сравнивается {ASSIGNMENT}.ipynb, как при проверке"
    (note,) = [what for label, what in result.notes if label == "huge"]
    assert f"первые {similarity.MAX_CELL_CHARS}" in note
    assert {w.label for w in result.works} == {"orig", "copy", "huge"}
    assert max(len(w.text) for w in result.works) < 3 * similarity.MAX_CELL_CHARS
    page = similarity.similarity_page.page(ASSIGNMENT, result)
    assert "пустой файл" in page and f"первые {similarity.MAX_CELL_CHARS}" in page


def test_a_class_of_one(tmp_path):
    folder = write_class(tmp_path / "class", {"alone": ORIGINAL})
    done = run(ASSIGNMENT, folder, "--out", tmp_path / "OUT")
    assert done.returncode == 0, done.stderr
    assert "сравнивать друг с другом нечего" in done.stdout
    assert read_csv(tmp_path / "OUT" / "similarity.csv") == [["student_a", "student_b", "similarity"]]
    assert [row[0] for row in read_csv(tmp_path / "OUT" / "similarity_to_solution.csv")] == ["student_id", "alone"]
    assert "Пар с похожестью не ниже" in (tmp_path / "OUT" / "similarity.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["99_nothing", "{tmp}", "--out", "{tmp}/OUT"], "Нет задания"),
    ([ASSIGNMENT, "{tmp}/absent", "--out", "{tmp}/OUT"], "Нет папки"),
    ([ASSIGNMENT, "{tmp}", "--out", "{tmp}/OUT", "--threshold", "1.5"], "от 0 до 1"),
    ([ASSIGNMENT, "{tmp}", "--out", "{tmp}/OUT", "--previous", "{tmp}/absent"], "Нет папки"),
])
def test_instructor_mistakes_exit_2(tmp_path, args, message):
    done = run(*(arg.format(tmp=tmp_path) for arg in args))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "OUT").exists()


# Code an instructor may hand out inside an answer cell, outside the solution markers.
SCAFFOLD = '''def check_inputs(X, y, lr, epochs):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    if not lr > 0 or int(epochs) != epochs or epochs < 1:
        raise ValueError(f"lr must be positive and epochs a positive integer, got {lr} and {epochs}")
    return X, y


'''


def test_handed_out_code_is_boilerplate(tmp_path):
    """Two students who keep the given helper and answer differently are not alike."""
    notebook = json.loads(SOURCE.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "fit_linear_regression":
            cell["source"] = SCAFFOLD + compose.source_text(cell["source"])
    path = tmp_path / f"{ASSIGNMENT}.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    scaffolded = compose.load_assignment(ASSIGNMENT, path, settings.STUB)
    assert SCAFFOLD in scaffolded.stubs["fit_linear_regression"]
    solution = compose.extract_answers(SOURCE.read_bytes(), INSTRUCTOR).sources["fit_linear_regression"]
    folder = write_class(tmp_path / "class", {
        "first": {**_alternatives(0), "fit_linear_regression": SCAFFOLD + _alternatives(0)["fit_linear_regression"]},
        "second": {**_alternatives(1), "fit_linear_regression": SCAFFOLD + solution}})
    students = submissions.discover(folder)
    (given,) = similarity.detect(scaffolded, path.read_bytes(), students, threshold=0).pairs
    (counted,) = similarity.detect(INSTRUCTOR, SOURCE.read_bytes(), students, threshold=0).pairs
    assert given.similarity < similarity.DEFAULT_THRESHOLD / 2 <= counted.similarity


def test_a_long_list_of_pairs_is_cut_on_the_page_not_in_the_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(similarity.similarity_page, "MAX_SHOWN", 1)
    monkeypatch.setattr(similarity.similarity_page, "MAX_LISTED", 2)
    folder = write_class(tmp_path / "class", {f"s{i}": ORIGINAL for i in range(4)})
    similarity.write(tmp_path, ASSIGNMENT, detect(folder))
    soup = BeautifulSoup((tmp_path / "similarity.html").read_text(encoding="utf-8"), "html.parser")
    assert len(soup.select("#pairs tbody tr")) == 2 and len(soup.select("section.pair")) == 1
    assert "первые 2 пар из 6" in soup.text and "первых 1 пар из 6" in soup.text
    assert len(read_csv(tmp_path / "similarity.csv")) == 7
