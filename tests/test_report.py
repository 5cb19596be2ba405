"""The class report, OUT/report.html, on generated classes: its numbers against grades.csv,
the grouped failures, the tasks, deadlines and times against what the class was generated
with, hostile ids and broken files, and the page itself in headless Chromium with every
request that leaves the disk blocked.
"""

import csv
import json
import random
import shutil
import statistics
import subprocess
import sys
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import sync_playwright

from autograder import (
    assignments,
    compose,
    feedback,
    gradebook,
    report,
    report_data,
    settings,
    similarity,
    submissions,
)
from autograder.outcome import Outcome

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "05_gradient_descent"
INSTRUCTOR = compose.load_assignment(ASSIGNMENT, assignments.source_notebook(ASSIGNMENT), settings.STUB)
TESTS = {test.grade_id: test.points for test in INSTRUCTOR.tests}
# The solution cell each test calls first: a stub or a broken cell there fails the test.
TESTED = {"test_gd_step": "gd_step", "test_mse": "mse",
          "test_linear_regression_gradients": "linear_regression_gradients",
          "test_minibatch_indices": "minibatch_indices",
          "test_fit_linear_regression_batch": "fit_linear_regression",
          "test_fit_linear_regression_stochastic": "fit_linear_regression",
          "test_two_layer_backward": "two_layer_backward"}
# Wrong answers as the checks word them: each template is one mistake, its numbers vary.
FAILURES = {
    "test_gd_step": ["gd_step(3.0, 6.0, 0.1): ожидалось 2.4, получено {x}, наибольшая разница {d}",
                     "gd_step для массива 3×4: ожидался тип ndarray, получено None (тип NoneType)"],
    "test_mse": ["mse(y, нули) для y = 3, 5, 7, 9, 11: ожидалось 57, получено {x}, наибольшая разница {d}",
                 "mse для 9 случайных чисел: ожидалось {x}, получено {d}, наибольшая разница {d}"],
    "test_linear_regression_gradients": [("dw из примера лекции (w = 0, b = 0): ожидалось [-50], получено [{x}], "
                                         "наибольшая разница {d} (элемент (0,))")],
    "test_minibatch_indices": ["размеры кусков при n = 10, batch_size = 4: ожидалось [4, 4, 2], получено [{n}, {n}]",
                               "кусок номеров: ожидались целые числа, получен массив типа float64"],
    "test_fit_linear_regression_batch": [("w после 1000 эпох на данных лекции: ожидалось [2], получено [{x}], "
                                         "наибольшая разница {d} (элемент (0,))")],
    "test_fit_linear_regression_stochastic": [("SGD: ошибка должна упасть хотя бы в 100 раз, а вышло {x} после "
                                              "первой эпохи и {d} после последней")],
    "test_two_layer_backward": ["dW1 для сети 4×3×2: ожидалось [{x}], получено [{d}], наибольшая разница {d}"],
}
STUB_MESSAGE = "функция не реализована (NotImplementedError): замените заглушку своим кодом"
ERRORS = [("NameError", "name 'np' is not defined"), ("SyntaxError", "invalid syntax (<cell>, line 3)"),
          ("IndentationError", "unexpected indent (<cell>, line 2)")]
# (status, message of every test) of submissions that did not run to the end
BROKEN = [("timeout", "тест не выполнен: проверка остановлена (timeout)"),
          ("memory limit", "тест не выполнен: проверка остановлена (memory limit)"),
          ("invalid notebook", "файл не является JSON (Expecting value: line 1 column 1 (char 0))"),
          ("no notebook", "no notebook")]
HOSTILE_IDS = ["<img src=x onerror=alert(1)>", "=cmd()", "Кузнецова Анна", "a&b\"'"]
BAD_ID = "<script>alert(1)</script>"  # has a slash: the grader gives it no feedback page
SUPERSEDED = "СООБЩЕНИЕ ИЗ ПРЕЖНЕЙ ПРОВЕРКИ"
DEADLINE_DAY = "2025-03-01T23:59:00+03:00"


def make_class(out, count=30, seed=13, deadlines=False, workers=False, lms_columns_last=False):
    """Write a class's grades.csv, outcomes.jsonl and feedback pages to ``out``; return what was drawn."""
    rng = random.Random(seed)
    ids = [f"student{i:02d}" for i in range(count)]
    if count >= 10:
        ids[1:1 + len(HOSTILE_IDS)], ids[-1] = HOSTILE_IDS, BAD_ID
    truth = []
    for index, student_id in enumerate(ids):
        tests, errors, stubs, drawn, status = {}, {}, [], {}, "ok"
        if student_id == BAD_ID:
            status = message = "bad student id"
        elif index % 9 == 4:
            status, message = BROKEN[(index // 9) % len(BROKEN)]
        if status != "ok":
            tests = {t: (0.0, points, message) for t, points in TESTS.items()}
            drawn = dict.fromkeys(TESTS, status)
        else:
            for cell in INSTRUCTOR.names:
                draw = rng.random()
                if draw < 0.12:
                    stubs.append(cell)
                elif draw < 0.2:
                    errors[cell] = ERRORS[rng.randrange(len(ERRORS))]
            for test_id, points in TESTS.items():
                cell = TESTED[test_id]
                if cell in stubs:
                    tests[test_id], drawn[test_id] = (0.0, points, STUB_MESSAGE), "stub"
                elif cell in errors:
                    message = f"имя {cell} не определено: ячейка решения удалена, переименована или упала с ошибкой"
                    tests[test_id], drawn[test_id] = (0.0, points, message), "error"
                elif rng.random() < 0.35:
                    template = rng.randrange(len(FAILURES[test_id]))
                    numbers = {"x": f"{rng.uniform(-9, 9):.6g}", "d": f"{rng.uniform(0, 5):.3g}",
                               "n": rng.randrange(1, 9)}
                    tests[test_id] = (0.0, points, FAILURES[test_id][template].format(**numbers))
                    drawn[test_id] = template
                else:
                    tests[test_id] = (points, points, "")
            if stubs and index % 5 == 0:
                status = "ok; missing cells: " + ", ".join(stubs)
        raw = sum(points for points, _, _ in tests.values())
        late_by = rng.choice([0.0, 0.0, 0.0, 3600.0 * rng.uniform(1, 60)]) if deadlines else None
        penalty = round(0.1 * raw * (late_by // 86400 + 1), 2) if late_by else 0.0
        truth.append({"student_id": student_id, "status": status, "tests": tests, "errors": errors,
                      "stubs": stubs, "drawn": drawn, "raw": raw, "score": raw - penalty, "late_by": late_by,
                      "penalty": penalty, "wall_s": round(rng.uniform(0.4, 3.0), 2) if status != "timeout" else 60.0,
                      "worker": f"node-{index % 3 + 1}" if workers else None})
    _write(out, truth, deadlines, lms_columns_last)
    return truth


def _write(out, truth, deadlines, lms_columns_last):
    out.mkdir(parents=True, exist_ok=True)
    lms = list(report_data.LMS_COLUMNS) if deadlines else []
    columns = gradebook.FIXED_COLUMNS + ([] if lms_columns_last else lms) + list(TESTS) + gradebook.TAIL_COLUMNS
    columns += lms if lms_columns_last else []
    with (out / "grades.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        for s in sorted(truth, key=lambda s: s["student_id"]):
            row = {"student_id": s["student_id"], "assignment": ASSIGNMENT, "score": f"{s['score']:g}",
                   "max_score": f"{INSTRUCTOR.max_score:g}", "status": s["status"], "notes": "", "digest": "0" * 32}
            row.update({t: f"{points:g}" for t, (points, _, _) in s["tests"].items()})
            if deadlines:
                row.update({"submitted_at": DEADLINE_DAY, "late_by": s["late_by"] or 0, "raw_score": s["raw"],
                            "penalty": s["penalty"]})
            writer.writerow(row)
    lines = ["{not json", json.dumps(["a list"])]
    first = truth[len(truth) // 2]
    # An earlier run of one student, graded again since: the last line must win.
    lines.append(json.dumps({**_outcome(first, deadlines), "score": 0,
                             "tests": {t: {"points": 0, "max": p, "message": SUPERSEDED} for t, p in TESTS.items()}}))
    lines += [json.dumps(_outcome(s, deadlines), ensure_ascii=False) for s in truth]
    (out / "outcomes.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for s in truth:
        if not submissions.id_problem(s["student_id"]):
            outcome = Outcome(s["student_id"], s["tests"], s["status"], [],
                              {cell: {"type": kind, "message": f"{kind}: {text}"}
                               for cell, (kind, text) in s["errors"].items()})
            feedback.write(out, outcome, INSTRUCTOR)


def _outcome(s, deadlines):
    return {"student_id": s["student_id"], "assignment": ASSIGNMENT, "score": s["score"],
            "max_score": INSTRUCTOR.max_score, "status": s["status"],
            "tests": {t: {"points": p, "max": m, "message": msg} for t, (p, m, msg) in s["tests"].items()},
            "errors": {cell: {"type": kind, "message": text} for cell, (kind, text) in s["errors"].items()},
            "stub": s["stubs"], "notes": [], "wall_s": s["wall_s"], "worker": s["worker"],
            "submitted_at": DEADLINE_DAY if deadlines else None,
            "late_by_s": s["late_by"], "penalty": s["penalty"], "raw_score": s["raw"]}


def rows_of(out):
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def soup_of(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("class") / "OUT"
    truth = make_class(out, deadlines=True, workers=True)
    return out, truth, soup_of(report.write(out))


def test_scores_and_statuses_match_grades_csv(graded):
    out, _, soup = graded
    rows = rows_of(out)
    scores = [float(row["score"]) for row in rows]
    assert int(soup.find(id="count").text) == len(rows) == 30
    assert soup.find(id="mean").text == f"{statistics.fmean(scores):.2f}"
    assert float(soup.find(id="median").text) == statistics.median(scores)
    statuses = Counter(row["status"].split(";")[0] for row in rows)
    shown = {cell["data-status"]: int(cell.text) for cell in soup.select("#statuses td[data-status]")}
    assert shown == statuses and {"ok", "timeout", "memory limit", "invalid notebook"} <= set(shown)
    table = {tr["data-student"]: tr for tr in soup.select("#students tbody tr")}
    assert set(table) == {row["student_id"] for row in rows}
    for row in rows:
        cells = table[row["student_id"]].find_all("td")
        assert float(cells[1]["data-v"]) == float(row["score"]) and cells[2].text == row["status"]
        for offset, test_id in enumerate(TESTS, start=3):
            assert float(cells[offset]["data-v"]) == float(row[test_id])


def test_per_test_pass_counts_match_grades_csv(graded):
    out, _, soup = graded
    rows = rows_of(out)
    for test_id, points in TESTS.items():
        passed = sum(float(row[test_id]) >= points for row in rows)
        assert int(soup.select_one(f'#tests tr[data-test="{test_id}"] td.passed').text) == passed


def test_failure_messages_are_grouped_by_shape(graded):
    _, truth, soup = graded
    for test_id in TESTS:
        # A template with other numbers, a stub, a broken cell, a status: one mistake each.
        drawn = Counter(s["drawn"][test_id] for s in truth if test_id in s["drawn"])
        group = soup.select_one(f'table.failures[data-test="{test_id}"]')
        counts = [int(td.text) for td in group.select("td.failure-count")]
        assert counts == sorted(drawn.values(), reverse=True)[:5], test_id
    gd = soup.select_one('table.failures[data-test="test_gd_step"]')
    (first,) = [tr for tr in gd.select("tbody tr") if "ожидалось 2.4, получено" in tr.text]
    assert int(first.td.text) == sum(s["drawn"].get("test_gd_step") == 0 for s in truth) > 1
    assert "ожидалось #, получено #, наибольшая разница #" in first.text
    assert SUPERSEDED not in soup.text, "the last outcome line of a student must win"


def test_tasks_count_stubs_errors_and_exception_types(graded):
    _, truth, soup = graded
    for cell in INSTRUCTOR.names:
        row = soup.select_one(f'#tasks tr[data-task="{cell}"]')
        assert int(row.select_one(".stubs").text) == sum(cell in s["stubs"] for s in truth)
        assert int(row.select_one(".errors").text) == sum(cell in s["errors"] for s in truth)
        for kind, count in Counter(s["errors"][cell][0] for s in truth if cell in s["errors"]).items():
            assert f"{kind} × {count}" in row.text


def test_deadlines_times_and_workers(graded):
    _, truth, soup = graded
    assert int(soup.find(id="late-count").text) == sum(bool(s["late_by"]) for s in truth)
    assert len(soup.select("#late tbody tr")) == sum(bool(s["late_by"]) for s in truth)
    slowest = max(truth, key=lambda s: s["wall_s"])
    assert f"{slowest['wall_s']:.1f} с" in soup.find("h2", string="Время проверки").find_next("p").text
    workers = {tr.td.text: int(tr.find_all("td")[1].text) for tr in soup.select("#workers tbody tr")}
    assert workers == Counter(s["worker"] for s in truth)


def test_unreadable_lines_are_reported_not_fatal(graded):
    _, _, soup = graded
    assert "outcomes.jsonl: нечитаемых строк 2" in soup.find(id="problems").text


def test_student_text_is_inert(graded):
    out, _, soup = graded
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in text and "<script>alert" not in text
    assert [img["src"][:22] for img in soup.find_all("img")] == ["data:image/png;base64,"] * 3
    assert len(soup.find_all("script")) == 1 and not soup.find_all(attrs={"onerror": True})
    names = [tr.td.text for tr in soup.select("#students tbody tr")]
    assert HOSTILE_IDS[0] in names and BAD_ID in names
    bad = soup.select_one(f'#students tr[data-student="{BAD_ID}"] td')
    assert bad.a is None, "a bad id has no feedback page to link to"


def test_feedback_links_resolve(graded):
    out, _, soup = graded
    links = [a["href"] for a in soup.select("#students tbody a")]
    assert len(links) == 29
    for link in links:
        assert (out / urllib.parse.unquote(link)).is_file(), link


def test_no_outcomes_no_deadlines_lms_columns_last(tmp_path):
    out = tmp_path / "OUT"
    make_class(out, count=12, deadlines=True, lms_columns_last=True)
    (out / "outcomes.jsonl").unlink()
    soup = soup_of(report.write(out))
    assert [tr["data-test"] for tr in soup.select("#tests tbody tr")] == list(TESTS)
    assert soup.find(id="tasks") is None, "without outcomes.jsonl nothing is known of the tasks"
    assert int(soup.find(id="count").text) == 12
    late = sum(float(row["late_by"]) > 0 for row in rows_of(out))
    assert late and int(soup.find(id="late-count").text) == late


def test_empty_class_torn_rows_and_a_class_of_one(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    header = gradebook.FIXED_COLUMNS + list(TESTS) + gradebook.TAIL_COLUMNS
    (empty / "grades.csv").write_text(",".join(header) + "\n", encoding="utf-8")
    assert "нет ни одной проверенной работы" in soup_of(report.write(empty)).text

    one = tmp_path / "one"
    (student,) = make_class(one, count=1)
    columns = (one / "grades.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    nan_row = {**dict.fromkeys(columns, "0"), "student_id": "nan_row", "assignment": ASSIGNMENT, "score": "abc",
               "status": "ok"}
    with (one / "grades.csv").open("a", encoding="utf-8") as file:
        file.write("torn,05_gradient_descent,1\n")  # a crash mid-row
        file.write(",".join(nan_row[column] for column in columns) + "\n")
    soup = soup_of(report.write(one))
    assert int(soup.find(id="count").text) == 1 and soup.find(id="mean").text == f"{student['score']:.2f}"
    problems = soup.find(id="problems").text
    assert "не то число столбцов" in problems and "nan_row" in problems

    odd = tmp_path / "odd"
    make_class(odd, count=3)
    with (odd / "outcomes.jsonl").open("a", encoding="utf-8") as file:
        file.write(json.dumps({"student_id": "student01", "assignment": ASSIGNMENT, "tests": "x", "errors": [1],
                               "stub": "gd_step", "wall_s": "fast", "worker": 5, "late_by_s": True,
                               "penalty": "x", "submitted_at": 7}) + "\n")
        file.write(json.dumps({"student_id": "student02", "errors": {"mse": "not a dict"},
                               "tests": {"test_mse": {"message": 42}}}) + "\n")
    soup = soup_of(report.write(odd))
    assert int(soup.find(id="count").text) == 3 and "?" in soup.select_one('#tasks tr[data-task="mse"]').text

    unknown = tmp_path / "unknown"
    unknown.mkdir()
    (unknown / "grades.csv").write_text("student_id,assignment,score,max_score,status,t1,notes,digest\n"
                                        "x,99_elsewhere,1,2,ok,1,,d\ny,99_elsewhere,0,2,ok,0,,d\n", encoding="utf-8")
    soup = soup_of(report.write(unknown))
    assert soup.select_one('#tests tr[data-test="t1"] td.passed').text == "1"


def test_command_line(tmp_path):
    out = tmp_path / "OUT"
    make_class(out, count=8)
    (out / "report.html").unlink(missing_ok=True)
    command = [sys.executable, "-m", "autograder", "report"]
    done = subprocess.run([*command, str(out)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (out / "report.html").is_file() and str(out / "report.html") in done.stdout
    missing = subprocess.run([*command, str(tmp_path / "nothing")], cwd=ROOT, capture_output=True, text=True,
                             check=False)
    assert missing.returncode == 2 and "нет grades.csv" in missing.stderr


def _similar_class(folder):
    """Three notebooks for the similarity page the report links to: a pair and one apart."""
    exercise = json.loads(assignments.exercise_notebook(ASSIGNMENT).read_text(encoding="utf-8"))
    answers = {"a": "def gd_step(w, grad, lr):\n    step = lr * grad\n    new_w = w - step\n    return new_w\n"
                    "\n\ndef _unused_helper(values):\n    total = 0\n    for v in values:\n        total += v * v\n"
                    "    return total / len(values)\n"}
    answers["b"] = answers["a"].replace("step", "delta").replace("new_w", "result") + "# mine\n"
    answers["c"] = "def gd_step(w, grad, lr):\n    return np.subtract(w, np.multiply(lr, grad))\n"
    for student_id, source in answers.items():
        notebook = json.loads(json.dumps(exercise))
        for cell in notebook["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == "gd_step":
                cell["source"] = source
        (folder / student_id).mkdir(parents=True)
        (folder / student_id / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")


def _chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("No Chromium found for the browser test: install Debian's package "
                    "(sudo apt-get install chromium, or run scripts/ensure_system_tools.sh).")
    return path


def _open(context, url):
    """Load ``url``; return the page, its console errors and the requests that left the disk."""
    page = context.new_page()
    seen = {"errors": [], "remote": []}
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("request",
            lambda r: urllib.parse.urlsplit(r.url).scheme in ("file", "data") or seen["remote"].append(r.url))
    page.goto(url, wait_until="load")
    return page, seen


IMAGES_JS = """() => Promise.all([...document.images].map((i) => i.decode().then(() => i.naturalWidth, () => 0)))"""


def test_in_a_browser_offline(graded, tmp_path):
    out, _, _ = graded
    _similar_class(tmp_path / "subs")
    subs = submissions.discover(tmp_path / "subs")
    source = assignments.source_notebook(ASSIGNMENT).read_bytes()
    similarity.write(out, ASSIGNMENT, similarity.detect(INSTRUCTOR, source, subs))  # and the report again
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context()
        context.route("**/*", lambda route: route.continue_() if urllib.parse.urlsplit(route.request.url).scheme
                      in ("file", "data") else route.abort())
        page, seen = _open(context, (out / "report.html").as_uri())
        widths = page.evaluate(IMAGES_JS)
        assert len(widths) == 3 and all(widths), f"images that did not load: {widths}"
        header = page.locator("#students thead th").nth(1)
        header.click()
        ascending = [float(v) for v in page.locator("#students tbody td.score").evaluate_all(
            "cells => cells.map((c) => c.dataset.v)")]
        header.click()
        descending = [float(v) for v in page.locator("#students tbody td.score").evaluate_all(
            "cells => cells.map((c) => c.dataset.v)")]
        assert ascending == sorted(ascending) and descending == sorted(ascending, reverse=True)
        assert len(ascending) == 30
        page.locator("#students tbody a").first.click()
        page.wait_for_url("**/feedback/**")
        assert "Задание 05_gradient_descent" in page.locator("h1").inner_text()
        similar, seen_similar = _open(context, (out / "report.html").as_uri())
        similar.locator('#similarity a[href="similarity.html"]').click()
        similar.wait_for_url("**/similarity.html")
        assert all(similar.evaluate(IMAGES_JS)) and similar.locator("section.pair mark").count() >= 2
        assert "не вердикт" in similar.locator("#not-a-verdict").inner_text()
        browser.close()
    for problems in (seen, seen_similar):
        assert not problems["errors"], problems["errors"]
        assert not problems["remote"], problems["remote"]
