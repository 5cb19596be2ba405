"""Canvas round trip: its submissions zip and gradebook export in, the gradebook import out."""

import csv
import subprocess
import sys
import zipfile

import pytest
from lms_fixtures import ASSIGNMENT, EXERCISE, ROOT, SOLUTION, canvas_gradebook, canvas_zip

from autograder import submissions
from autograder.lms import RosterError, canvas, read_roster

COLUMN = "Gradient descent (4321)"
STUDENTS = [("Ivanov, Ivan", "1001", "S1", "ivanov", "Group 1"), ("Petrov, Petr", "1002", "S2", "petrov", "Group 1"),
            ("=cmd|' /C calc'!A0", "1003", "", "evil", "Group 2")]


def grade(*args):
    return subprocess.run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)


def test_gradebook_export_is_read_and_its_column_chosen(tmp_path):
    path = canvas_gradebook(tmp_path / "gb.csv", "Gradient descent", 4321, "20", STUDENTS)
    with pytest.raises(RosterError, match="--lms-column"):
        read_roster(path, None, ASSIGNMENT)  # two assignments, neither named like ours
    book = read_roster(path, COLUMN, ASSIGNMENT)
    assert book.kind == "canvas" and book.points_possible == 20 and list(book.students) == ["1001", "1002", "1003"]
    assert read_roster(canvas_gradebook(tmp_path / "gb2.csv", f"{ASSIGNMENT} HW", 9, "11", STUDENTS[:1]),
                       None, ASSIGNMENT).column == f"{ASSIGNMENT} HW (9)"
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text(path.read_text(encoding="utf-8-sig").replace(",", ";"), encoding="utf-8")
    assert list(read_roster(semicolons, COLUMN).students) == ["1001", "1002", "1003"]


def test_import_without_an_export_names_the_assignment_by_title():
    text = canvas.import_csv(None, {"1001": 11.0, "1002": 5.5}, {"1001": "ivanovivan"}, ASSIGNMENT, 11)
    rows = list(csv.reader(text.splitlines()))
    assert rows == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT],
                    ["    Points Possible", "", "", "", "", "11"],
                    ["ivanovivan", "1001", "", "", "", "11"], ["", "1002", "", "", "", "5.5"]]


@pytest.mark.slow
def test_canvas_class_round_trip(tmp_path):
    archive = canvas_zip(tmp_path / "submissions.zip", [
        ("ivanovivan", 1001, 5001, f"{ASSIGNMENT}.ipynb", EXERCISE, False),
        ("ivanovivan", 1001, 5009, f"{ASSIGNMENT}-1.ipynb", SOLUTION, False),  # the latest upload
        ("petrovpetr", 1002, 5002, "my_hw_2.ipynb", SOLUTION, True),
        ("stranger", 1999, 5003, "x.ipynb", EXERCISE, False)])
    roster = canvas_gradebook(tmp_path / "gradebook.csv", "Gradient descent", 4321, "20", STUDENTS)
    out = tmp_path / "out"
    assert grade(archive, "--out", out, "--roster", roster).returncode == 2  # which column? the instructor says
    assert not out.exists()
    result = grade(archive, "--out", out, "--roster", roster, "--lms-column", COLUMN,
                   "--late-policy", "linear:10%/d", "--workers", "2", "--timeout", "10")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader((out / "lms" / "canvas_import.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN]
    assert rows[1] == ["    Points Possible", "", "", "", "", "20"]
    assert rows[2:] == [["Ivanov, Ivan", "1001", "S1", "ivanov", "Group 1", "20"],
                        ["Petrov, Petr", "1002", "S2", "petrov", "Group 1", "18"],  # LATE: one day, 10 %
                        ["'=cmd|' /C calc'!A0", "1003", "", "evil", "Group 2", ""],
                        ["stranger", "1999", "", "", "", "0"]]
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        grades = {row["student_id"]: row for row in csv.DictReader(file)}
    assert grades["1002"]["late_by"] == "опоздание (по отметке LMS, время неизвестно)"
    assert grades["1002"]["penalty"] == "1.4" and grades["1002"]["score"] == "12.6"
    assert grades["1001"]["late_by"] == "" and grades["1001"]["score"] == "14"
    assert grades["1003"]["status"] == "no submission"
    assert "Есть работа, но нет в ведомости: 1999" in result.stdout


def test_text_entries_uploads_again_and_distinct_notebooks_in_a_submissions_zip(tmp_path):
    archive = canvas_zip(tmp_path / "submissions.zip", [
        ("ivanovivan", 1001, 5001, f"{ASSIGNMENT}-1.ipynb", SOLUTION, False),  # a second upload, renamed
        ("petrovpetr", 1002, 5002, "lab-1.ipynb", EXERCISE, False),  # two notebooks, not two uploads of one
        ("petrovpetr", 1002, 5003, "lab-2.ipynb", SOLUTION, False),
        ("sidorova", 1004, 5004, "hw.ipynb", EXERCISE, False),
        ("sidorova", 1004, 5008, "hw-1.ipynb", SOLUTION, False)])
    with zipfile.ZipFile(archive, "a") as zipped:  # text and URL submissions have no attachment id
        zipped.writestr("kuznetsovaanna_LATE_1003_text.html", "<p>сдаю текстом</p>")
        zipped.writestr("smirnov_1005_link.html", "<a href='x'>x</a>")
    found = submissions.find(archive, ASSIGNMENT)
    assert found.kind == "canvas"
    students = {student.student_id: student for student in found.students}
    assert sorted(students) == ["1001", "1002", "1003", "1004", "1005"]
    assert [nb.name for nb in students["1001"].notebooks] == [f"{ASSIGNMENT}.ipynb"]
    assert sorted(nb.name for nb in students["1002"].notebooks) == ["lab-1.ipynb", "lab-2.ipynb"]
    assert [(nb.name, nb.order) for nb in students["1004"].notebooks] == [("hw.ipynb", 5008)]
    assert students["1003"].notebooks == [] and students["1003"].late_mark


def test_first_and_last_name_exports_and_anonymous_ids(tmp_path):
    path = tmp_path / "split.csv"
    path.write_text("LastName,FirstName,ID,SIS User ID,SIS Login ID,Section,Gradient descent (4321)\n"
                    "    Points Possible,,,,,,20\n"
                    "Ivanov,Ivan,1001,S1,ivanov,Group 1,\n", encoding="utf-8")
    book = read_roster(path, None, ASSIGNMENT)
    assert list(book.students) == ["1001"] and book.students["1001"].name == "Ivanov, Ivan"
    rows = list(csv.reader(canvas.import_csv(book, {"1001": 11.0, "anon_Xy7": 5.0}, {}, ASSIGNMENT, 11).splitlines()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN]
    assert rows[2:] == [["Ivanov, Ivan", "1001", "S1", "ivanov", "Group 1", "20"]]  # Canvas finds no anon_ id
