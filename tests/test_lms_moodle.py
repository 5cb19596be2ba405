"""Moodle round trip: its zip and worksheet in, the filled worksheet and feedback zip out."""

import csv
import subprocess
import sys
import zipfile

import pytest
from lms_fixtures import ASSIGNMENT, EXERCISE, ROOT, SOLUTION, moodle_worksheet, moodle_zip

from autograder import submissions
from autograder.lms import RosterError, moodle, rawcsv, read_roster

COMMAND = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT]
FAST = ["--workers", "2", "--timeout", "10"]
DEADLINE = "2026-12-15T23:59+03:00"
EVIL = '=HYPERLINK("http://x","y")'
RU_ROWS = [("4718205", "Иванов Иван", "Отправлено для оценивания - 1 день 11 час. опоздание",
            "четверг, 17 декабря 2026, 10:00", "100,00", ""),
           ("4718206", "Петров Пётр", "Отправлено для оценивания", "вторник, 15 декабря 2026, 12:00", "100,00", ""),
           ("4718207", "Сидоров Сидор", "Нет ответа на задание", "-", "100,00", "старый отзыв"),
           ("4718208", EVIL, "Отправлено для оценивания", "вторник, 15 декабря 2026, 20:00", "100,00", "")]


def grade(*args):
    return subprocess.run([*COMMAND, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)


def rows_of(path):
    with path.open(newline="", encoding="utf-8-sig") as file:
        return list(csv.reader(file))


def moodle_split(entry):
    """importziplib.php is_valid_filename_for_import: the first path part that fits, split by "_"."""
    for part in entry.split("/"):
        info = part.split("_", 4)
        if len(info) >= 4 and info[1].isdigit():
            return info[1], info[2], info[3], entry.split("/")[-1]
    return None


def test_worksheets_in_both_languages_are_read(tmp_path):
    ru = read_roster(moodle_worksheet(tmp_path / "ru.csv", "ru", RU_ROWS))
    assert ru.language == "ru" and list(ru.participants) == ["4718205", "4718206", "4718207", "4718208"]
    assert ru.participants["4718205"].name == "Иванов Иван" and ru.marked_late(ru.participants["4718205"])
    assert not ru.marked_late(ru.participants["4718206"])
    en = read_roster(moodle_worksheet(tmp_path / "en.csv", "en", [
        ("12", "Ann Lee", "Submitted for grading - 3 hours 5 mins late", "Wednesday, 16 December 2026, 3:04 AM",
         "10.00", "")], bom=False))
    assert en.language == "en" and en.participants["12"].max_grade == "10.00"
    assert en.marked_late(en.participants["12"])


def test_filled_worksheet_changes_only_grade_and_comment_cells(tmp_path):
    source = moodle_worksheet(tmp_path / "ru.csv", "ru", RU_ROWS)
    sheet = read_roster(source)
    out = sheet.filled({"4718205": (8.8, 11, "Итог: 8.8 из 11"), "4718206": (0.0, 11, 'с "кавычками", и запятой'),
                        "4718208": (11.0, 11, "=1+1")})
    assert out.startswith(b"\xef\xbb\xbf")
    before = rawcsv.parse(source.read_bytes()[3:].decode("utf-8"))
    after = rawcsv.parse(out[3:].decode("utf-8"))
    assert after[0].raw == before[0].raw and after[0].end == before[0].end  # the header, byte for byte
    header = before[0].values
    grade, comment, name = header.index("Оценка"), header.index("Отзыв в виде комментария"), header.index("Полное имя")
    for old, new in zip(before[1:], after[1:]):
        for index, raw in enumerate(old.raw):
            if index not in (grade, comment, name):
                assert new.raw[index] == raw, (index, raw, new.raw[index])
    values = {record.values[0]: record.values for record in after[1:]}
    assert values["Участник4718205"][grade] == "80,00"  # 8.8 of 11 points on Moodle's 100, Russian comma
    assert values["Участник4718206"][grade] == "0,00"
    assert values["Участник4718206"][comment] == 'с "кавычками", и запятой'
    assert values["Участник4718207"][grade] == "" and values["Участник4718207"][comment] == "старый отзыв"
    assert values["Участник4718208"][grade] == "100,00"
    assert values["Участник4718208"][comment] == "'=1+1" and values["Участник4718208"][name] == "'" + EVIL
    assert values["Участник4718206"][name] == "Петров Пётр" and after[1].raw[name] == before[1].raw[name]


def test_unreadable_worksheets_are_refused_with_a_reason(tmp_path):
    cp1251 = tmp_path / "cp1251.csv"
    cp1251.write_bytes("Идентификатор,Полное имя,Оценка\nУчастник1,Иванов,\n".encode("cp1251"))
    with pytest.raises(RosterError, match="UTF-8.*Windows-1251"):
        read_roster(cp1251)
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("Идентификатор;Полное имя;Оценка;Максимальная оценка\nУчастник1;Иванов;;10\n",
                          encoding="utf-8")
    with pytest.raises(RosterError, match="точка с запятой"):
        read_roster(semicolons)
    other = tmp_path / "other.csv"
    other.write_text("name,score\nx,1\n", encoding="utf-8")
    with pytest.raises(RosterError, match="Identifier"):
        read_roster(other)
    archive = moodle_zip(tmp_path / "m.zip", [("Иванов Иван", "4718205", {"a.ipynb": SOLUTION})])
    for roster in (cp1251, semicolons):
        result = grade(archive, "--out", tmp_path / "out", "--roster", roster)
        assert result.returncode == 2 and "ведомость" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing written, not even half


def test_feedback_zip_names_match_moodles_import(tmp_path):
    target = tmp_path / "feedback.zip"
    moodle.feedback_zip(target, [("4718205", "Иванов_Иван", "05.html", b"a"), ("17", "", ".hidden.html", b"b"),
                                 ("18", "a/b\nc", "05.html", b"c")])
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert names[0] == "Иванов Иван_4718205_assignfeedback_file/05.html"
    assert [moodle_split(name) for name in names] == [
        ("4718205", "assignfeedback", "file", "05.html"), ("17", "assignfeedback", "file", "hidden.html"),
        ("18", "assignfeedback", "file", "05.html")]


def _class(petrovs_work):
    return [("Иванов Иван", "4718205", {"Домашка по ГС.ipynb": SOLUTION, "заметки.txt": b"x"}),
            ("Петров Пётр", "4718206", {f"{ASSIGNMENT}.ipynb": petrovs_work, "onlinetext.html": b"<p>"}),
            (EVIL, "4718208", {"w.ipynb": SOLUTION}),
            ("Незнакомец", "4718299", {"w.ipynb": EXERCISE})]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One class graded from a Moodle zip (folder per participant) and a Russian worksheet."""
    folder = tmp_path_factory.mktemp("moodle")
    archive = moodle_zip(folder / "download.zip", _class(EXERCISE))
    roster = moodle_worksheet(folder / "worksheet.csv", "ru", RU_ROWS)
    out = folder / "out"
    result = grade(archive, "--out", out, "--roster", roster, "--deadline", DEADLINE,
                   "--late-policy", "linear:10%/d,max:50%", *FAST)
    assert result.returncode == 0, result.stderr
    return archive, roster, out, result


@pytest.mark.slow
def test_grades_penalties_worksheet_and_feedback_zip(graded):
    *_, out, result = graded
    grades = {row[0]: row for row in rows_of(out / "grades.csv")}
    header = rows_of(out / "grades.csv")[0]
    column = {name: header.index(name) for name in header}
    assert sorted(grades) == ["4718205", "4718206", "4718207", "4718208", "4718299", "student_id"]
    ivanov = grades["4718205"]
    assert ivanov[column["name"]] == "Иванов Иван" and ivanov[column["raw_score"]] == "14"
    assert ivanov[column["submitted_at"]] == "2026-12-17T10:00:00+03:00"
    assert ivanov[column["late_by"]] == "1 д 10 ч 1 мин"
    assert ivanov[column["penalty"]] == "2.8" and ivanov[column["score"]] == "11.2"  # two started days: 20 %
    assert grades["4718206"][column["score"]] == "0" and grades["4718206"][column["penalty"]] == "0"
    assert grades["4718207"][column["status"]] == "no submission" and grades["4718207"][column["score"]] == ""
    assert grades["4718208"][column["name"]] == "'" + EVIL and grades["4718208"][column["score"]] == "14"
    assert "Есть работа, но нет в ведомости: 4718299" in result.stdout
    assert "В ведомости, но работы нет (строки «no submission»): 4718207" in result.stdout

    sheet = {row[0]: row for row in rows_of(out / "lms" / "moodle_worksheet.csv")}
    assert list(sheet) == ["Идентификатор", "Участник4718205", "Участник4718206", "Участник4718207",
                           "Участник4718208"]  # the roster's rows, in its order; none added
    assert [row[4] for row in sheet.values()][1:] == ["80,00", "0,00", "", "100,00"]
    assert "штраф за опоздание 2.8" in sheet["Участник4718205"][9] and "10%" in sheet["Участник4718205"][9]
    assert sheet["Участник4718206"][9] == "Итог: 0 из 14."

    with zipfile.ZipFile(out / "lms" / "moodle_feedback.zip") as feedback:
        names = sorted(feedback.namelist())
        page = feedback.read("Иванов Иван_4718205_assignfeedback_file/05_gradient_descent.html").decode()
    assert sorted(moodle_split(name)[0] for name in names) == ["4718205", "4718206", "4718208", "4718299"]
    assert all(moodle_split(name)[1:3] == ("assignfeedback", "file") for name in names)
    assert "11.2 из 14" in page and "штраф за опоздание 2.8" in page


@pytest.mark.slow
def test_a_changed_penalty_or_file_is_in_the_audit_trail(graded):
    archive, roster, out, _ = graded
    result = grade(archive, "--out", out, "--roster", roster, "--deadline", DEADLINE,
                   "--late-policy", "zero-after:24h", *FAST)
    assert result.returncode == 0 and "уже проверено в прошлый раз: 4" in result.stderr  # nothing regraded
    audit = rows_of(out / "audit.csv")
    assert audit[0] == ["time", "student_id", "assignment", "old_score", "new_score", "cause"]
    assert [row[1:] for row in audit[1:]] == [["4718205", ASSIGNMENT, "11.2", "0", "изменился штраф за опоздание"]]
    page = (out / "feedback" / "4718205" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "0 из 14" in page and "больше чем на 1 д" in page

    moodle_zip(archive, _class(SOLUTION))  # Петров uploads again; only he is regraded
    result = grade(archive, "--out", out, "--roster", roster, "--deadline", DEADLINE,
                   "--late-policy", "zero-after:24h", "--only", "4718206", *FAST)
    assert result.returncode == 0, result.stderr
    assert "проверяется работ: 1" in result.stderr
    audit = rows_of(out / "audit.csv")
    assert [row[1:] for row in audit[2:]] == [["4718206", ASSIGNMENT, "0", "14", "файлы работы изменились"]]
    grades = {row[0]: row for row in rows_of(out / "grades.csv")}
    assert grades["4718206"][3] == "14" and grades["4718205"][3] == "0"
    assert grade(archive, "--out", out, "--only", "nobody").returncode == 2


@pytest.mark.slow
def test_flat_layout_blind_marking_and_an_english_worksheet(tmp_path):
    archive = moodle_zip(tmp_path / "flat.zip", [("", "31", {"my work.ipynb": SOLUTION}),
                                                 ("", "32", {"x.ipynb": SOLUTION})], layout="flat", blind=True)
    roster = moodle_worksheet(tmp_path / "en.csv", "en", [
        ("31", "", "Submitted for grading", "Tuesday, 15 December 2026, 11:58 PM", "10.00", ""),
        ("32", "", "Submitted for grading - 2 hours late", "-", "10.00", "")])
    result = grade(archive, "--out", tmp_path / "out", "--roster", roster, "--deadline", DEADLINE,
                   "--late-policy", "linear:10%/h", *FAST)
    assert result.returncode == 0, result.stderr
    sheet = {row[0]: row for row in rows_of(tmp_path / "out" / "lms" / "moodle_worksheet.csv")}
    assert sheet["Participant 31"][4] == "10.00"  # on time: full marks, English decimal point
    assert sheet["Participant 32"][4] == "9.00"  # only the status says late: one started hour
    grades = {row[0]: row for row in rows_of(tmp_path / "out" / "grades.csv")}
    assert "время неизвестно" in grades["32"][7] and grades["31"][6] == "2026-12-15T23:58:00+03:00"
    with zipfile.ZipFile(tmp_path / "out" / "lms" / "moodle_feedback.zip") as feedback:
        assert sorted(feedback.namelist()) == ["Participant_31_assignfeedback_file/05_gradient_descent.html",
                                               "Participant_32_assignfeedback_file/05_gradient_descent.html"]


def test_team_submissions_are_one_submission_per_group(tmp_path):
    """downloader.php with team submissions: the group's name and id, "Default group" alone without one."""
    archive = tmp_path / "teams.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(f"Team Alpha_45_assignsubmission_file/{ASSIGNMENT}.ipynb", SOLUTION)
        zipped.writestr(f"Default group_assignsubmission_file/{ASSIGNMENT}.ipynb", EXERCISE)
        zipped.writestr("Default group_assignsubmission_onlinetext/onlinetext.html", "<p>мы без группы</p>")
    found = submissions.find(archive, ASSIGNMENT)
    assert found.kind == "moodle"
    assert [(s.student_id, s.name, len(s.notebooks)) for s in found.students] == [
        ("45", "Team Alpha", 1), ("Default group", "Default group", 1)]


def test_a_name_is_needed_where_there_is_no_id():
    assert moodle.locate(("_assignsubmission_file", "hw.ipynb")) is None
    assert moodle.locate(("_assignsubmission_file_hw.ipynb",)) is None
