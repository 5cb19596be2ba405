"""A batch's round trip: what the class list says before grading, what goes back after.

``prepare`` joins the submissions found, the roster (``--roster``), the deadline and the
late policy into the batch's ``ClassInfo``; ``publish`` writes what the LMS takes back
(``OUT/lms/``) and says what did not match.
"""

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from autograder import course_config, feedback, gradebook, late, submissions
from autograder.lms import RosterError, canvas, exchange, moodle, rawcsv, read_roster


class InstructorError(ValueError):
    """A mistake in the command's input: exit 2 with this message, nothing written."""


@dataclass
class Plan:
    found: submissions.Found
    info: gradebook.ClassInfo
    roster: object = None  # moodle.Worksheet, canvas.Gradebook or None
    absent: dict = field(default_factory=dict)  # roster id -> name: no submission
    unlisted: list = field(default_factory=list)  # ids with a submission, not in the roster
    db_url: str = None  # the course's own gradebook (nbgrader's tree)

    @property
    def lms(self):
        found = self.found.kind if self.found.kind in ("moodle", "canvas") else None
        return getattr(self.roster, "kind", None) or found


def prepare(args, assignment):
    """The plan of a batch, or InstructorError."""
    try:
        config = course_config.settings(args.course_config, assignment) if args.course_config else {}
        deadline_text = args.deadline or config.get("deadline")
        deadline = late.parse_deadline(deadline_text) if deadline_text else None
        policy = late.parse_policy(args.late_policy or config.get("late_policy"))
        found = submissions.find(args.submissions, assignment)
        roster = read_roster(args.roster, args.lms_column, assignment) if args.roster else None
    except (course_config.ConfigError, late.PolicyError, submissions.MissingSubmissions, RosterError) as error:
        raise InstructorError(str(error)) from None
    if roster is not None and found.kind in ("moodle", "canvas") and roster.kind != found.kind:
        raise InstructorError(f"ведомость --roster из {_LMS[roster.kind]}, а работы — выгрузка {_LMS[found.kind]}")
    zone = deadline.tzinfo if deadline else datetime.now().astimezone().tzinfo
    info = gradebook.ClassInfo(policy=policy, deadline=deadline)
    listed = roster.participants if roster is not None else {}
    for student in found.students:
        participant = listed.get(student.student_id)
        info.names[student.student_id] = participant.name if participant else student.name
        submitted_at, marked = student.submitted_at, student.late_mark
        if participant:
            submitted_at = submitted_at or roster.submitted_at(participant, zone)
            marked = marked or roster.marked_late(participant)
        info.lateness[student.student_id] = late.lateness(submitted_at, deadline, marked)
    ids = {student.student_id for student in found.students}
    plan = Plan(found, info, roster, {key: p.name for key, p in listed.items() if key not in ids},
                sorted(ids - set(listed)) if roster is not None else [])
    if found.kind == "nbgrader":
        plan.db_url = exchange.gradebook_url(found.root)
        info.publish = exchange.publisher(found.root, assignment)
    return plan


_LMS = {"moodle": "Moodle", "canvas": "Canvas"}


def only(plan, text):
    """The students of ``--only ID[,ID…]``; InstructorError for an id not in the batch."""
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    known = {student.student_id for student in plan.found.students}
    unknown = [student_id for student_id in wanted if student_id not in known]
    if unknown or not wanted:
        raise InstructorError(f"--only: нет таких работ: {', '.join(map(submissions.shown, unknown)) or '(пусто)'}")
    return set(wanted)


def publish(plan, out, records, assignment):
    """Write OUT/lms/ for the batch's LMS; the lines to add to the summary."""
    lines = []
    if plan.unlisted:
        lines.append("Есть работа, но нет в ведомости: " + ", ".join(map(submissions.shown, plan.unlisted)))
    if plan.absent:
        lines.append("В ведомости, но работы нет (строки «no submission»): " +
                     ", ".join(map(submissions.shown, sorted(plan.absent))))
    if plan.lms is None:
        return lines
    target = Path(out) / "lms"
    target.mkdir(parents=True, exist_ok=True)
    names = {**plan.absent, **plan.info.names}
    maximum = assignment.max_score
    if plan.lms == "moodle":
        results = {}
        for student_id, row in records.rows.items():
            deduction = plan.info.deduction(student_id, float(row["raw_score"]), maximum)
            if deduction.penalty != float(row["penalty"]):  # kept from a run with another policy (--only)
                deduction = feedback.Deduction(float(row["raw_score"]), float(row["penalty"]), row["late_by"])
            results[student_id] = (deduction.score, maximum, feedback.comment(deduction, maximum, row["status"]))
        worksheet = plan.roster or moodle.Worksheet(_blank_worksheet(records.rows, maximum), bom=True)
        _replace(target / "moodle_worksheet.csv", worksheet.filled(results))
        pages = []
        for student_id in sorted(records.rows):
            page = Path(out) / "feedback" / student_id / f"{assignment.name}.html"
            if page.is_file():
                pages.append((student_id, names.get(student_id, ""), page.name, page.read_bytes()))
        temporary = target / ".moodle_feedback.zip.tmp"
        moodle.feedback_zip(temporary, pages)
        os.replace(temporary, target / "moodle_feedback.zip")
        lines.append(f"Для Moodle: {target / 'moodle_worksheet.csv'} («Загрузить лист оценок»), "
                     f"{target / 'moodle_feedback.zip'} («Загрузить несколько файлов отзывов в ZIP»)")
        if plan.roster is None:
            lines.append("Лист оценок составлен без --roster (на русском): лучше выгрузить «Скачать таблицу оценок» "
                         "и указать её в --roster")
    else:
        results = {student_id: float(row["score"]) for student_id, row in records.rows.items()}
        text = canvas.import_csv(plan.roster, results, names, assignment.name, maximum)
        _replace(target / "canvas_import.csv", text.encode("utf-8"))
        lines.append(f"Для Canvas: {target / 'canvas_import.csv'} («Grades → Import»)")
        anonymous = [student_id for student_id in results if student_id.startswith(canvas.ANONYMOUS)]
        if anonymous:
            lines.append(f"Canvas: работ с анонимными id (anon_…): {len(anonymous)}, в canvas_import.csv их нет — "
                         "импорт находит студентов по числовому ID. Снимите анонимность задания в Canvas, "
                         "скачайте архив заново и проверьте снова")
    return lines


def _blank_worksheet(rows, maximum):
    strings = moodle.LANGUAGES["ru"]
    header = [strings.identifier, strings.full_name, strings.grade, strings.max_grade[0],
              "Последнее изменение (оценка)", strings.comments]
    lines = [",".join(header)]
    for student_id in sorted(rows):
        maximum_text = rawcsv.quote(f"{maximum:.2f}".replace(".", ","), ",")
        lines.append(",".join([f"Участник{student_id}", "", "", maximum_text, "-", ""]))
    return "\n".join(lines) + "\n"


def _replace(target, data):
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
