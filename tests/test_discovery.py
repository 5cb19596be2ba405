"""Discovery never stops a batch and never drops a student: odd names, depth, keywords, bombs."""

import csv
import os
import subprocess
import sys
import tracemalloc
import zipfile

import pytest
from lms_fixtures import ASSIGNMENT, EXERCISE, ROOT, SOLUTION, canvas_zip, moodle_zip

from autograder import submissions
from autograder.lms import cells


def _ids(found):
    return [student.student_id for student in found]


def test_a_folder_name_that_is_not_utf8_still_gets_a_row(tmp_path):
    folder = tmp_path / "class"
    raw = os.fsencode(folder) + b"/ivan\xff\xfe"
    os.makedirs(raw)
    with open(raw + b"/work.ipynb", "wb") as file:
        file.write(SOLUTION)
    (folder / "petrov").mkdir()
    (folder / "petrov" / "work.ipynb").write_bytes(EXERCISE)
    found = {s.student_id: s for s in submissions.discover(folder)}
    assert sorted(found) == ["ivan%FF%FE", "petrov"]
    assert found["ivan%FF%FE"].problem == "" and found["ivan%FF%FE"].notebooks[0].read() == SOLUTION
    assert submissions.id_problem("ivan%FF%FE") == ""


def test_a_very_deep_folder_is_read_to_a_limit_without_crashing(tmp_path):
    folder = tmp_path / "class"
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "work.ipynb").write_bytes(SOLUTION)
    fds = [os.open(folder / "deep", os.O_RDONLY)]
    try:
        for _ in range(1500):  # far beyond PATH_MAX and Python's recursion limit
            os.mkdir("d", dir_fd=fds[-1])
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        (folder / "other").mkdir()
        (folder / "other" / "a.ipynb").write_bytes(EXERCISE)
        found = {s.student_id: s for s in submissions.discover(folder)}
        assert sorted(found) == ["deep", "other"]
        assert [nb.name for nb in found["deep"].notebooks] == ["work.ipynb"]
        assert any("глубже" in note for note in found["deep"].notes)
    finally:  # removed here, bottom up: pytest's own clean-up would recurse too deep
        os.close(fds.pop())
        while fds:
            os.rmdir("d", dir_fd=fds[-1])
            os.close(fds.pop())


def test_a_student_named_like_a_layout_keyword_is_a_student(tmp_path):
    folder = tmp_path / "class"
    for student in ["submitted", "feedback", "ivanov"]:
        (folder / student / ASSIGNMENT).mkdir(parents=True)
        (folder / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(SOLUTION)
    found = submissions.find(folder, ASSIGNMENT)
    assert found.kind == "folder" and _ids(found.students) == ["feedback", "ivanov", "submitted"]
    # nbgrader's tree is recognised by its structure, and only this assignment's folder is read
    course = tmp_path / "course"
    (course / "submitted" / "kim" / ASSIGNMENT).mkdir(parents=True)
    (course / "submitted" / "kim" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(SOLUTION)
    (course / "submitted" / "kim" / ASSIGNMENT / "timestamp.txt").write_text("2026-12-15 20:00:00.000000 UTC")
    (course / "submitted" / "lee" / "04_other").mkdir(parents=True)
    (course / "submitted" / "lee" / "04_other" / "x.ipynb").write_bytes(SOLUTION)
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    found = submissions.find(course, ASSIGNMENT)
    assert found.kind == "nbgrader" and _ids(found.students) == ["kim", "lee"]
    kim, lee = found.students
    assert kim.submitted_at.isoformat() == "2026-12-15T20:00:00+00:00"
    assert lee.problem == "no notebook" and any(ASSIGNMENT in note for note in lee.notes)


def test_notebooks_are_read_lazily_within_a_byte_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_BYTES", 2**20)
    monkeypatch.setattr(submissions, "STUDENT_BYTES", 2 * 2**20)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for index in range(4):  # 0.9 MB of zeros each: a few kB compressed
            zf.writestr(f"bomber/part{index}.ipynb", b"0" * (9 * 2**20 // 10))
        zf.writestr("bomber/huge.ipynb", b"0" * (3 * 2**20))
        zf.writestr("calm.ipynb", SOLUTION)
    assert archive.stat().st_size < 100_000
    tracemalloc.start()
    found = {s.student_id: s for s in submissions.discover(archive)}
    digests = [submissions.digest(b"", student) for student in found.values()]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 * 2**20 and len(set(digests)) == 2  # streamed: never a whole class in memory
    bomber = found["bomber"]
    readable = [nb.name for nb in bomber.notebooks if nb.read() is not None]
    assert readable == ["part0.ipynb", "part1.ipynb"]  # the budget: 2 MB for the student
    assert sum("больше предела" in note for note in bomber.notes) == 3
    assert found["calm"].notebooks == [("calm.ipynb", SOLUTION)]


def test_folder_notebooks_are_read_when_graded_not_when_found(tmp_path):
    (tmp_path / "ivanov").mkdir()
    path = tmp_path / "ivanov" / "work.ipynb"
    path.write_bytes(EXERCISE)
    (student,) = submissions.discover(tmp_path)
    path.write_bytes(SOLUTION)
    name, data = student.notebooks[0]
    assert name == "work.ipynb" and data == SOLUTION
    path.unlink()
    os.symlink(tmp_path / "elsewhere", path)  # swapped for a link after discovery: never followed
    assert student.notebooks[0].read() is None


def test_moodle_zips_in_every_layout(tmp_path):
    people = [("Иванов Иван Иванович", "4718205", {"Моя работа (1).ipynb": SOLUTION, "notes.txt": b"x"}),
              ("O_Brien Pat", "4718206", {"onlinetext.html": b"<p>hi</p>"}),
              ("Smith", "4718207", {f"{ASSIGNMENT}.ipynb": EXERCISE})]
    for layout in ["folder", "legacy", "flat"]:
        found = submissions.find(moodle_zip(tmp_path / f"{layout}.zip", people, layout), ASSIGNMENT)
        assert found.kind == "moodle" and _ids(found.students) == ["4718205", "4718206", "4718207"]
        ivanov, obrien, smith = found.students
        assert ivanov.name == "Иванов Иван Иванович" and obrien.name == "O Brien Pat"
        assert ivanov.notebooks == [("Моя работа (1).ipynb", SOLUTION)]
        assert obrien.problem == "no notebook" and smith.notebooks == [(f"{ASSIGNMENT}.ipynb", EXERCISE)]
    for language, word in [("en", "Participant"), ("ru", "Участник")]:
        found = submissions.find(moodle_zip(tmp_path / f"blind-{language}.zip", people, blind=True,
                                            language=language), ASSIGNMENT)
        assert _ids(found.students) == ["4718205", "4718206", "4718207"]
        assert {student.name for student in found.students} == {word}


def test_a_zip_of_neither_layout_is_the_instructors_error(tmp_path):
    pdfs = tmp_path / "pdfs.zip"
    with zipfile.ZipFile(pdfs, "w") as zf:
        zf.writestr("report.pdf", b"%PDF")
        zf.writestr("grades.xlsx", b"x")
    with pytest.raises(submissions.MissingSubmissions, match="Moodle.*Canvas.*nbgrader"):
        submissions.discover(pdfs)
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(pdfs), "--out",
                             str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 2 and "Ожидалась одна из выгрузок" in result.stderr
    assert not (tmp_path / "out").exists()
    mixed = moodle_zip(tmp_path / "mixed.zip", [("Ivan", "1", {"a.ipynb": SOLUTION})])
    with zipfile.ZipFile(mixed, "a") as zf:
        zf.writestr("somebody/else.ipynb", SOLUTION)
    with pytest.raises(submissions.MissingSubmissions, match="assignsubmission_file.*somebody/else.ipynb|"
                                                             "somebody/else.ipynb.*assignsubmission_file"):
        submissions.discover(mixed)


def test_canvas_zip_late_marks_anonymous_ids_and_the_latest_upload(tmp_path):
    archive = canvas_zip(tmp_path / "canvas.zip", [
        ("ivanovivan", 1001, 5001, f"{ASSIGNMENT}.ipynb", EXERCISE, False),
        ("ivanovivan", 1001, 5007, f"{ASSIGNMENT}-1.ipynb", SOLUTION, False),  # re-uploaded: renamed by Canvas
        ("petrovpetr", 1002, 5002, "hw_2_3.ipynb", SOLUTION, True),
        (None, "anon_x7Yq2", 5003, "work.ipynb", EXERCISE, False),
        ("smith", 1004, 5004, "essay.pdf", b"%PDF", True),
    ])
    found = submissions.find(archive, ASSIGNMENT)
    assert found.kind == "canvas"
    students = {s.student_id: s for s in found.students}
    assert sorted(students) == ["1001", "1002", "1004", "anon_x7Yq2"]
    assert students["1001"].notebooks == [(f"{ASSIGNMENT}.ipynb", SOLUTION)] and students["1001"].notes
    assert students["1002"].late_mark and students["1002"].notebooks[0].name == "hw_2_3.ipynb"
    assert students["1002"].name == "petrovpetr" and not students["1001"].late_mark
    assert students["1004"].problem == "no notebook" and students["1004"].late_mark


def test_nothing_from_a_student_becomes_a_formula():
    for text in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "'=x", "＝1", "|cmd"]:
        assert not cells.inert(text).startswith(cells.FORMULA_STARTS)
        assert cells.plain(cells.inert(text)) == text
    for text in ["ivanov", "Иванов", "-", "'quoted", ""]:
        assert cells.plain(cells.inert(text)) == text
    assert cells.inert("ivanov") == "ivanov" and cells.inert("-") == "-"


@pytest.mark.slow
def test_a_batch_of_odd_folders_gives_every_student_a_row(tmp_path):
    folder = tmp_path / "class"
    os.makedirs(os.fsencode(folder) + b"/\xcf\xf0\xe8\xe2\xe5\xf2")  # «Привет» in cp1251: not UTF-8
    with open(os.fsencode(folder) + b"/\xcf\xf0\xe8\xe2\xe5\xf2/w.ipynb", "wb") as file:
        file.write(SOLUTION)
    for student in ["submitted", "=1+2", "+cmd"]:
        (folder / student / ASSIGNMENT).mkdir(parents=True)
        (folder / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(SOLUTION)
    (folder / "empty").mkdir()
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(folder), "--out",
                             str(tmp_path / "out"), "--workers", "2", "--timeout", "10"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    with (tmp_path / "out" / "grades.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    ids = [row[0] for row in rows[1:]]
    assert sorted(ids) == sorted(["%CF%F0%E8%E2%E5%F2", "submitted", "'=1+2", "'+cmd", "empty"])
    scores = {row[0]: (row[3], row[5]) for row in rows[1:]}
    assert scores["%CF%F0%E8%E2%E5%F2"] == ("14", "ok") and scores["submitted"] == ("14", "ok")
    assert scores["'=1+2"] == ("14", "ok") and scores["empty"] == ("0", "no notebook")
    assert (tmp_path / "out" / "feedback" / "=1+2" / f"{ASSIGNMENT}.html").is_file()
