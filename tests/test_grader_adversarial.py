"""The grader against hostile and broken submissions: one batch, every outcome asserted.

The cases live in tests/adversarial/cases.py. The batch runs the real command with two
workers, as an instructor would, while a TCP listener on the host waits for a connection
that must never come.
"""

import csv
import hashlib
import html
import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from autograder import settings

ROOT = Path(__file__).resolve().parents[1]
UIDS = range(settings.UID_FIRST, settings.UID_FIRST + settings.UID_COUNT)
ASSIGNMENT = "05_gradient_descent"
SOURCE = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
EXERCISE = ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def _load_cases():
    spec = importlib.util.spec_from_file_location("adversarial_cases", ROOT / "tests" / "adversarial" / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cases = _load_cases()


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _with_cells(notebook, replacements):
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook["cells"]:
        grade_id = _meta(cell).get("grade_id")
        if _meta(cell).get("solution") and grade_id in replacements:
            cell["source"] = replacements[grade_id]
    return notebook


def _delete_tests(notebook):
    notebook["cells"] = [cell for cell in notebook["cells"] if not _meta(cell).get("grade")]
    return notebook


def _edit_tests(notebook):
    for cell in notebook["cells"]:
        if _meta(cell).get("grade"):
            cell["source"] = "pass\n"
    return notebook


def _inflate_points(notebook):
    for cell in notebook["cells"]:
        if _meta(cell).get("grade"):
            cell["metadata"]["nbgrader"]["points"] = 1000
    bonus = {"cell_type": "code", "execution_count": None, "outputs": [], "source": "pass\n",
             "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": True, "points": 100,
                                       "grade_id": "test_bonus", "schema_version": 3}}}
    notebook["cells"].append(bonus)
    return notebook


def _rename_ids(notebook):
    for cell in notebook["cells"]:
        meta = _meta(cell)
        if "grade_id" in meta:
            meta["grade_id"] = "renamed_" + meta["grade_id"]
    return notebook


def _nbformat3(notebook):
    cells = []
    for cell in notebook["cells"]:
        old = {"cell_type": cell["cell_type"], "metadata": cell.get("metadata", {})}
        old["input" if cell["cell_type"] == "code" else "source"] = cell["source"]
        cells.append(old)
    return {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": cells, "metadata": {}}]}


def _string_sources(notebook):
    for cell in notebook["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return notebook


def _other_assignment(notebook):
    def cell(grade_id, source, **flags):
        meta = {"grade_id": grade_id, "schema_version": 3, "locked": False, "solution": False, "grade": False}
        meta.update(flags)
        return {"cell_type": "code", "metadata": {"nbgrader": meta}, "source": source, "outputs": [],
                "execution_count": None}

    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [cell("relu", "def relu(x):\n    return x\n", solution=True),
                      cell("test_relu", "assert relu(1) == 1\n", grade=True, points=1)]}


def _repeat_a_cell(notebook):
    cell = next(cell for cell in notebook["cells"] if _meta(cell).get("grade_id") == "gd_step")
    notebook["cells"] += [json.loads(json.dumps(cell)) for _ in range(3500)]
    return notebook


EDITS = {"repeat_a_cell": _repeat_a_cell, "delete_tests": _delete_tests, "edit_tests": _edit_tests,
         "inflate_points": _inflate_points, "rename_ids": _rename_ids, "nbformat3": _nbformat3,
         "string_sources": _string_sources, "other_assignment": _other_assignment}


def _fill(source, places):
    for name, value in places.items():
        source = source.replace("{" + name + "}", str(value))
    return source


def build_submissions(folder, places):
    instructor = json.loads(SOURCE.read_text(encoding="utf-8"))
    exercise = json.loads(EXERCISE.read_text(encoding="utf-8"))
    for case in cases.CASES:
        student = folder / case.student_id
        student.mkdir(parents=True)
        for name, text in case.extra_files.items():
            (student / name).write_text(text, encoding="utf-8")
        if case.edit == "no_notebook":
            continue
        if case.raw is not None:
            data = case.raw
        else:
            base = exercise if case.edit == "exercise" else instructor
            replacements = {grade_id: _fill(source, places) for grade_id, source in case.cells.items()}
            notebook = _with_cells(base, replacements)
            if case.edit in EDITS:
                notebook = EDITS[case.edit](notebook)
            data = json.dumps(notebook, ensure_ascii=False).encode("utf-8")
        (student / f"{ASSIGNMENT}.ipynb").write_bytes(data)


def tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


class Listener:
    """A TCP server on the host's loopback that counts who reached it."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.server.accept()
                self.connections += 1
                connection.close()
            except TimeoutError:
                continue

    def close(self):
        self.running = False
        self.thread.join()
        self.server.close()


def run_grader(submissions, out, *extra, watch_memory=False):
    command = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(submissions), "--out", str(out), *extra]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    if watch_memory:
        watched = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.Error:
                break
            time.sleep(0.2)
    stdout, stderr = process.communicate(timeout=900)
    return SimpleNamespace(returncode=process.returncode, stdout=stdout.decode(), stderr=stderr.decode(), peak=peak)


def read_rows(out):
    with (Path(out) / "grades.csv").open(newline="", encoding="utf-8") as file:
        return {row["student_id"]: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("adversarial")
    submissions, out = base / "submissions", base / "out"
    listener = Listener()
    places = {"submissions": submissions, "out": out, "solutions": ROOT / "solutions", "repo": ROOT,
              "port": listener.port, "marker": f"PWNED-{uuid.uuid4().hex}"}
    build_submissions(submissions, places)
    before = tree_digest(submissions)
    try:
        result = run_grader(submissions, out, "--workers", "2", "--timeout", "5", "--memory-mb", "1024",
                            watch_memory=True)
    finally:
        listener.close()
    return SimpleNamespace(result=result, out=out, submissions=submissions, rows=read_rows(out), places=places,
                           before=before, after=tree_digest(submissions), connections=listener.connections)


def _tests_of(rows, names):
    columns = [column for column in next(iter(rows.values())) if column.startswith("test_")]
    return [column for column in columns if any(column.startswith(f"test_{name}") for name in names)]


@pytest.mark.slow
def test_the_batch_finishes_with_exit_code_0_and_a_row_per_student(batch):
    assert batch.result.returncode == 0, batch.result.stderr[-3000:]
    assert set(batch.rows) == {case.student_id for case in cases.CASES}


@pytest.mark.slow
@pytest.mark.parametrize("case", cases.CASES, ids=lambda case: case.student_id)
def test_each_submission_gets_its_expected_outcome(batch, case):
    row = batch.rows[case.student_id]
    context = f"{case.student_id}: {row}"
    assert row["status"].startswith(case.status), context
    assert float(row["max_score"]) == 14, context
    for column in _tests_of(batch.rows, case.passed):
        assert float(row[column]) > 0, f"{column} should pass — {context}"
    for column in _tests_of(batch.rows, case.failed):
        assert float(row[column]) == 0, f"{column} should fail — {context}"
    if case.score is not None:
        assert float(row["score"]) == case.score, context
    assert float(row["score"]) == sum(float(row[c]) for c in _tests_of(batch.rows, cases.ALL)), context


@pytest.mark.slow
def test_nothing_outside_the_sandbox_changed_or_leaked(batch):
    # Other people edit the repository meanwhile, so its files are checked for the marker only.
    assert batch.before == batch.after
    marker = batch.places["marker"].encode()
    written = [*batch.out.rglob("*"), *(ROOT / "solutions").rglob("*"), ROOT / "Makefile",
               ROOT / "dlcourse" / "checks.py"]
    for path in written:
        if path.is_file():
            assert marker not in path.read_bytes(), path
    assert not Path(f"/tmp/escape-{batch.places['marker']}").exists()
    assert batch.connections == 0


@pytest.mark.slow
def test_no_process_of_a_submission_survives(batch):
    leftovers = []
    for process in psutil.process_iter(["cmdline", "uids"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        uids = process.info["uids"]
        # A sandbox user's process of this checkout (another grader on the machine has its own).
        ours = uids and UIDS.start <= uids.real < UIDS.stop and str(ROOT) in cmdline
        if "4321" in cmdline or "4322" in cmdline or ours:
            leftovers.append(cmdline)
    assert leftovers == []


@pytest.mark.slow
def test_the_students_process_holds_no_test(batch):
    log = (batch.out / "logs" / "hunts_hidden_tests.txt").read_text(encoding="utf-8", errors="replace")
    assert "FOUND 0" in log, log[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("student_id", ["leaks_inputs_through_errors", "leaks_as_unsupported", "leaks_in_results",
                                        "leaks_through_a_later_cell", "leaks_in_a_class_name"])
def test_hidden_inputs_do_not_reach_the_feedback(batch, student_id):
    page = (batch.out / "feedback" / student_id / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "LEAKED" not in page, page
    if student_id == "leaks_inputs_through_errors":
        assert "ValueError" in page


@pytest.mark.slow
def test_no_expected_value_of_a_hidden_test_reaches_the_feedback(batch):
    """A gd_step right on the visible example only: the page names the hidden case, without its numbers."""
    page = (batch.out / "feedback" / "right_only_on_visible" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    page = html.unescape(page)
    assert "gd_step(1.0, -2.0, 0.5): шаг идёт против градиента (скрытый тест" in page, page
    assert "ожидалось 2" not in page


@pytest.mark.slow
def test_output_is_capped_and_the_grader_stays_small(batch):
    assert (batch.out / "logs" / "print_flood.txt").stat().st_size <= 2**20
    assert "отброшено" in batch.rows["print_flood"]["notes"]
    assert 0 < batch.result.peak < 600 * 2**20


@pytest.mark.slow
def test_feedback_shows_tests_and_messages_but_no_test_or_solution_code(batch):
    instructor = json.loads(SOURCE.read_text(encoding="utf-8"))
    secrets = set()
    for cell in instructor["cells"]:
        meta = _meta(cell)
        if meta.get("grade") or meta.get("solution"):
            lines = "".join(cell["source"]).splitlines()
            secrets.update(line.strip() for line in lines if len(line.strip()) > 25 and "def " not in line)
    for case in cases.CASES:
        if case.status == "bad student id":
            assert not (batch.out / "feedback" / case.student_id).exists()
            continue
        page = (batch.out / "feedback" / case.student_id / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
        assert case.student_id in page
        for test_id in _tests_of(batch.rows, cases.ALL):
            assert test_id in page
        leaked = [line for line in secrets if line in page]
        assert leaked == [], (case.student_id, leaked)
    wrong = (batch.out / "feedback" / "Иванов Пётр" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "ожидалось 57" in wrong and "0 из 1" in wrong


@pytest.mark.slow
def test_summary_and_progress(batch):
    out, err = batch.result.stdout, batch.result.stderr
    assert "Средний балл" in out and "Статусы:" in out and "test_gd_step" in out
    assert "timeout" in out and "invalid notebook" in out and "memory limit" in out
    assert f"[{len(cases.CASES)}/{len(cases.CASES)}]" in err
    assert "\x1b[31m" not in err and "\x07" not in err and "\x1b[31m" not in out  # a folder name's escapes


@pytest.mark.slow
def test_gradebook_holds_the_same_scores(batch):
    from autograder.gradebook import _open

    book = _open(f"sqlite:///{batch.out / 'gradebook.db'}")
    try:
        for student_id, row in batch.rows.items():
            if row["status"] == "bad student id":
                continue
            submission = book.find_submission(ASSIGNMENT, student_id)
            assert submission.score == pytest.approx(float(row["score"])), student_id
    finally:
        book.close()
