"""`python -m autograder grade`: grade a whole class, safely and in parallel, with feedback.

For each student: take the notebook (``autograder.submissions``), put its solution cells into
the instructor's notebook (``autograder.compose``), run that in a sandbox
(``autograder.sandbox`` + ``autograder.runner``), then write the gradebook, ``grades.csv``
(``autograder.gradebook``) and the feedback page (``autograder.feedback``). Before the class,
the instructor's own notebook is graded the same way and must get full marks: a broken test,
setup cell or sandbox is the instructor's problem, reported before any student is graded.
"""

import argparse
import hashlib
import json
import os
import queue
import sys
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from autograder import assignments, compose, feedback, gradebook, sandbox, submissions
from autograder.lms import roundtrip

STUB = "# ВАШ КОД ЗДЕСЬ\nraise NotImplementedError()"  # as autograder/nbgrader_config.py sets it
SEED = 0
EXIT_INSTRUCTOR = 2
EXIT_SELF_CHECK = 3
EXIT_INTERRUPTED = 130
MAX_RUNS = 4  # a submission with more hanging cells than this loses the rest
GRADE_VERSION = b"grader-1"  # part of each row's digest: a change of grading logic regrades

EPILOG = """\
Форматы SUBMISSIONS:
  папка/<id студента>/...*.ipynb     папка на студента (id — любое имя, в т.ч. кириллица);
                                     если тетрадей несколько, берётся <ЗАДАНИЕ>.ipynb
  папка/<id студента>.ipynb          тетради прямо в папке: id — имя файла
  курс/submitted/<id>/<ЗАДАНИЕ>/     курс nbgrader (после nbgrader collect): оценки идут в
                                     курс/gradebook.db, отзывы — в курс/feedback/ для
                                     nbgrader release_feedback
  архив.zip                          <id>.ipynb или <id>/<путь>/*.ipynb внутри
  выгрузка Moodle (zip)              «Скачать все ответы»: <Полное имя>_<id участника>_
                                     assignsubmission_file/… или …_file_<файл>
  выгрузка Canvas (zip)              «Download Submissions»: <имя>[_LATE]_<id>_<id файла>_<файл>

--roster: лист оценок Moodle («Скачать таблицу оценок», UTF-8) или журнал Canvas
(«Export Entire Gradebook»). Для Moodle пишутся OUT/lms/moodle_worksheet.csv («Загрузить лист
оценок») и OUT/lms/moodle_feedback.zip («Загрузить несколько файлов отзывов в ZIP»), для
Canvas — OUT/lms/canvas_import.csv («Import»). Оценки в них — после штрафа.

Срок и штраф: --deadline 2026-12-15T23:59+03:00 --late-policy linear:10%/d,max:50%
(или zero-after:72h, none, file:правило.py); то же по заданиям — в --course-config.
Время сдачи берётся из timestamp.txt nbgrader, листа оценок Moodle, отметки LATE Canvas.

Результаты в OUT: grades.csv (строка на студента, столбец на тест, срок и штраф),
feedback/<id>/<ЗАДАНИЕ>.html, gradebook.db (gradebook nbgrader), logs/<id>.txt (вывод решения),
audit.csv (каждое изменение балла: когда, чей, было, стало, почему).
Повторный запуск продолжает с места остановки; --force проверяет всё заново, --only — только
указанных студентов.
Код выхода 0 — все работы обработаны (что бы ни делал код студентов); 2 — ошибка в аргументах
(нет задания, нет папки, ведомость не читается); 3 — тетрадь преподавателя не проходит свои тесты
в песочнице; 130 — прервано.
"""


@dataclass
class Outcome:
    """One student's result: points per test (points, max, message) and what went wrong."""

    student_id: str
    tests: dict
    status: str = "ok"
    notes: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)  # solution grade_id -> error message
    output: bytes = b""
    problem_id: bool = False  # the id cannot name a folder: no feedback page, no gradebook entry
    wall_s: float = 0.0
    startup_s: float = 0.0

    @property
    def score(self):
        return sum(points for points, _, _ in self.tests.values())


def add_parser(commands):
    parser = commands.add_parser(
        "grade", help="проверить работы группы", description="Проверить работы всей группы по заданию.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment", metavar="ASSIGNMENT", help="задание, например 05_gradient_descent")
    parser.add_argument("submissions", metavar="SUBMISSIONS", type=Path, help="папка или zip-архив с работами")
    parser.add_argument("--out", type=Path, required=True, help="папка для результатов")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="сколько работ проверять одновременно (по умолчанию — число ядер)")
    parser.add_argument("--timeout", type=float, default=60.0, help="предел времени на ячейку, с (60)")
    parser.add_argument("--notebook-timeout", type=float, default=None,
                        help="предел времени на всю тетрадь, с (по умолчанию 10 × --timeout)")
    parser.add_argument("--memory-mb", type=int, default=4096, help="предел памяти на работу, МБ (4096)")
    parser.add_argument("--db", default=None, help="URL базы gradebook для SQLAlchemy (sqlite:///OUT/gradebook.db)")
    parser.add_argument("--force", action="store_true", help="проверить заново и уже проверенные работы")
    parser.add_argument("--only", metavar="ID[,ID…]", help="проверить заново только этих студентов")
    parser.add_argument("--roster", type=Path, help="лист оценок Moodle или журнал Canvas (CSV)")
    parser.add_argument("--lms-column", help="столбец задания в журнале Canvas, «Название (id)»")
    parser.add_argument("--deadline", help="срок сдачи, ISO 8601 с часовым поясом: 2026-12-15T23:59+03:00")
    parser.add_argument("--late-policy", help="штраф за опоздание: none, linear:10%%/d,max:50%%, zero-after:72h, "
                                              "file:правило.py")
    parser.add_argument("--course-config", type=Path, help="настройки курса (TOML): сроки и штрафы по заданиям")
    parser.set_defaults(run=main)


def main(args):
    source = assignments.source_notebook(args.assignment)  # UnknownAssignment: exit 2 in __main__
    if args.workers < 1 or args.timeout <= 0 or args.memory_mb < 64:
        return _instructor_error("--workers ≥ 1, --timeout > 0 и --memory-mb ≥ 64")
    try:
        plan = roundtrip.prepare(args, args.assignment)
        only = roundtrip.only(plan, args.only) if args.only else None
    except roundtrip.InstructorError as error:
        return _instructor_error(str(error))
    students = plan.found.students
    limits = sandbox.Limits(args.timeout, args.notebook_timeout or 10 * args.timeout, args.memory_mb)
    assignment = compose.load_assignment(args.assignment, source, STUB)
    gradebook.preload()
    kind = sandbox.mechanism()
    if sandbox.warning():
        print(f"\n!!! ВНИМАНИЕ: {sandbox.warning()}\n", file=sys.stderr)
    problem = _checked_before(args.out, assignment, source, limits, kind)
    if problem:
        print(f"ошибка: тетрадь преподавателя {source} не проходит свои тесты в песочнице ({kind}):\n{problem}",
              file=sys.stderr)
        return EXIT_SELF_CHECK
    records = gradebook.Records(args.out, assignment, args.db or plan.db_url, plan.info)
    base = hashlib.sha256(GRADE_VERSION + source.read_bytes()).hexdigest()[:16]
    todo, skipped = [], 0
    for student in students:
        if only is not None and student.student_id not in only:
            continue
        digest = f"{base}:{submissions.digest(b'', student)[:16]}"
        if only is None and not args.force and records.graded(student.student_id, digest):
            skipped += 1
        else:
            todo.append((student, digest))
    progress = Progress(len(todo), skipped)
    started = time.monotonic()
    outcomes = []
    batch = _grade_all(todo, assignment, limits, args.workers)
    try:
        for outcome, digest in batch:
            _save(args.out, records, outcome, digest, assignment)
            outcomes.append(outcome)
            progress.update(outcome, assignment.max_score)
    except KeyboardInterrupt:
        batch.close()  # kills the sandboxes still running
        progress.close()
        records.finish()
        print(f"прервано: проверено {len(outcomes)} из {len(todo)}; запустите ту же команду снова, "
              "чтобы продолжить", file=sys.stderr)
        return EXIT_INTERRUPTED
    progress.close()
    report = summary(assignment, records, outcomes, skipped, time.monotonic() - started, kind, args.workers)
    records.add_absent(plan.absent)
    records.finish()
    print("\n".join([report, *roundtrip.publish(plan, args.out, records, assignment)]))
    return 0


def _instructor_error(message):
    print(f"ошибка: {message}", file=sys.stderr)
    return EXIT_INSTRUCTOR


def _checked_before(out, assignment, source, limits, kind):
    """The self-check, skipped when OUT records one of this notebook, grader code and limits."""
    stamp = Path(out) / ".self-check.json"
    code = b"".join(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py")))
    digest = hashlib.sha256(source.read_bytes() + code + repr((limits, kind)).encode()).hexdigest()
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
        if recorded["digest"] == digest:
            assignment.allowed_changes.update(recorded["allowed_changes"])
            return ""
    except (OSError, ValueError, KeyError, TypeError):
        pass
    problem = self_check(assignment, source, limits)
    if not problem:
        Path(out).mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"digest": digest, "allowed_changes": sorted(assignment.allowed_changes)}),
                         encoding="utf-8")
    return problem


def self_check(assignment, source, limits):
    """Grade the instructor's notebook; '' when it gets full marks, else what failed.

    What its tests replace in trusted libraries is trusted code's own doing (a lazy set-up the
    runner's warm-up does not know): it is allowed, not taken for tampering, from then on.
    """
    own = submissions.Submission("instructor", [(source.name, source.read_bytes())])
    outcome = grade_one(own, assignment, limits, slot=0, learn=True)
    if assignment.allowed_changes:
        outcome = grade_one(own, assignment, limits, slot=0)
    failed = [f"  {test_id}: {message}" for test_id, (points, maximum, message) in outcome.tests.items()
              if points < maximum]
    if outcome.status != "ok" or failed:
        details = outcome.notes + list(outcome.errors.values())
        return "\n".join([f"  статус: {outcome.status}", *(f"  {d}" for d in details), *failed])
    return ""


def _grade_all(todo, assignment, limits, workers):
    """Yield (outcome, digest) as submissions finish, ``workers`` at a time."""
    slots = queue.Queue()
    for slot in range(workers):
        slots.put(slot)

    def task(student):
        slot = slots.get()
        try:
            return grade_one(student, assignment, limits, slot)
        except Exception as error:  # noqa: BLE001 - a grader bug costs one row, never the batch
            message = f"ошибка проверяющей системы: {type(error).__name__}: {error}"
            return Outcome(student.student_id, _empty(assignment, message), "grader error", [message],
                           problem_id=bool(student.problem == "bad student id"))
        finally:
            slots.put(slot)

    executor = ThreadPoolExecutor(max_workers=workers)
    pending = {executor.submit(task, student): digest for student, digest in todo}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result(), pending.pop(future)
    finally:
        for future in pending:
            future.cancel()
        sandbox.stop_all()
        executor.shutdown(wait=True, cancel_futures=True)


def _choose(student, assignment):
    """The notebook to grade among the student's files, and a note when there were several."""
    notebooks = student.notebooks
    if len(notebooks) == 1:
        return notebooks[0], []
    wanted = f"{assignment.name}.ipynb"
    named = [nb for nb in notebooks if nb[0].rsplit("/", 1)[-1] == wanted]
    if named:
        chosen = min(named, key=lambda nb: nb[0].count("/"))
    else:
        chosen = max(notebooks, key=lambda nb: _answer_count(nb[1], assignment))
    return chosen, [f"several notebooks: graded {chosen[0]}"]


def _answer_count(data, assignment):
    try:
        return len(compose.extract_answers(data, assignment).sources)
    except compose.InvalidNotebook:
        return -1


def _empty(assignment, message):
    return {test.grade_id: (0.0, test.points, message) for test in assignment.tests}


def grade_one(student, assignment, limits, slot, learn=False):
    """Grade one submission; never raises for anything the student did."""
    if student.problem:
        return Outcome(student.student_id, _empty(assignment, student.problem), student.problem,
                       list(student.notes), problem_id=student.problem == "bad student id")
    (name, data), qualifiers = _choose(student, assignment)
    notes = list(student.notes)
    try:
        answers = compose.extract_answers(data, assignment)
    except compose.InvalidNotebook as error:
        notes.append(f"{name}: {error}")
        return Outcome(student.student_id, _empty(assignment, str(error)), _status("invalid notebook", qualifiers),
                       notes)
    notes += answers.notes
    if not answers.sources:
        status = "other assignment" if answers.other_ids else "no solution cells"
        message = "в тетради нет ни одной ячейки решения этого задания"
        return Outcome(student.student_id, _empty(assignment, message), _status(status, qualifiers), notes)
    cells, missing = compose.compose(assignment, answers)
    if missing:
        qualifiers.append("missing cells: " + ", ".join(missing))
        notes.append("нет ячеек решения (взяты заготовки): " + ", ".join(missing))
    if any("повторяется" in note for note in answers.notes):
        qualifiers.append("duplicate cells")
    job = {"cells": [cell.__dict__ for cell in cells], "graded_names": assignment.graded_names,
           "imports": assignment.imports, "seed": SEED,
           "warm_up_optimizers": any("torch.optim" in cell.source for cell in assignment.cells),
           "allowed_changes": sorted(assignment.allowed_changes)}
    run = _run_with_retries(job, cells, limits, slot)
    if learn:
        assignment.allowed_changes.update(run.changes)
    if run.output_dropped:
        qualifiers.append("output truncated")
        notes.append(f"вывод решения обрезан: отброшено {run.output_dropped / 2**20:.1f} МБ")
    tests, errors = {}, {}
    for index, cell in enumerate(cells):
        verdict = run.verdicts.get(index)
        if cell.kind == "solution" and verdict and not verdict[0]:
            errors[cell.grade_id] = verdict[1]
        elif cell.kind == "test":
            if verdict is None:
                verdict = (False, f"тест не выполнен: проверка остановлена ({run.status})")
            tests[cell.grade_id] = (cell.points if verdict[0] else 0.0, cell.points, verdict[1])
    notes += run.notes
    if run.failure:
        notes.append(run.failure)
    outcome = Outcome(student.student_id, tests, _status(run.status, qualifiers), notes, errors, run.output,
                      wall_s=run.wall_s, startup_s=run.startup_s)
    return outcome


def _run_with_retries(job, cells, limits, slot):
    """Run the job; when a cell hangs, crashes or exhausts memory, run again without it.

    One bad cell then costs only the tests that depend on it, not every test after it. The
    first run's status stays; all runs together stay within the notebook's time limit.
    """
    total = sandbox.Run()
    started = time.monotonic()
    skip = set()
    for _ in range(MAX_RUNS):
        remaining = limits.notebook_timeout - (time.monotonic() - started)
        if remaining <= 0:
            break
        done = {index for index, (ok, _) in total.verdicts.items() if cells[index].kind == "test"}
        run = sandbox.run({**job, "skip": sorted(skip | done)},
                          sandbox.Limits(limits.timeout, remaining, limits.memory_mb), slot)
        for index, verdict in run.verdicts.items():
            total.verdicts.setdefault(index, verdict)
        if total.status == "ok":
            total.status = run.status
        total.notes += [note for note in run.notes if note not in total.notes]
        total.output += run.output[: max(0, sandbox.OUTPUT_CAP - len(total.output))]
        total.output_dropped += run.output_dropped
        total.startup_s = total.startup_s or run.startup_s
        total.failure = total.failure or run.failure
        total.changes |= run.changes
        left = [index for index, cell in enumerate(cells)
                if cell.kind == "test" and index not in total.verdicts and index not in skip]
        if run.stopped_at is None or run.failure or not left or not any(i > run.stopped_at for i in left):
            break
        skip.add(run.stopped_at)
    total.wall_s = time.monotonic() - started
    return total


def _status(primary, qualifiers):
    return "; ".join([primary, *qualifiers])


def _save(out, records, outcome, digest, assignment):
    if not outcome.problem_id:
        feedback.write(out, outcome, assignment)
        if outcome.output:
            logs = Path(out) / "logs"
            logs.mkdir(exist_ok=True)
            (logs / f"{outcome.student_id}.txt").write_bytes(outcome.output)
    records.record(outcome, digest)  # last: the ledger row marks the submission as done
    outcome.output = b""  # the log has it; a class of outputs need not stay in memory


class Progress:
    """A plain-text progress bar on stderr; one line per submission when stderr is not a terminal."""

    WIDTH = 30

    def __init__(self, total, skipped, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.statuses = Counter()
        self.tty = stream.isatty()
        if skipped:
            print(f"уже проверено в прошлый раз: {skipped} (--force, чтобы проверить заново)", file=stream)
        if total:
            print(f"проверяется работ: {total}", file=stream)

    def update(self, outcome, max_score):
        self.done += 1
        self.statuses[outcome.status.split(";")[0]] += 1
        elapsed = time.monotonic() - self.started
        if self.tty:
            filled = self.WIDTH * self.done // max(self.total, 1)
            counts = " ".join(f"{status} {n}" for status, n in self.statuses.most_common())
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} "
                              f"{elapsed:.0f} с  {counts}\033[K")
        else:
            shown = "".join(c if c.isprintable() else "?" for c in outcome.student_id)  # no terminal escapes
            self.stream.write(f"[{self.done}/{self.total}] {shown}: {outcome.score:g}/{max_score:g} "
                              f"{outcome.status} ({elapsed:.0f} с)\n")
        self.stream.flush()

    def close(self):
        if self.tty and self.done:
            self.stream.write("\n")


def summary(assignment, records, outcomes, skipped, elapsed, kind, workers):
    """The report printed at the end: over every row of grades.csv, this run's and earlier ones."""
    rows = list(records.rows.values())
    scores = [float(row["score"]) for row in rows]
    header = f"Задание {assignment.name}: работ {len(rows)} (проверено сейчас {len(outcomes)}, из прошлых запусков {skipped})"
    lines = [header]
    if rows:
        lines.append(f"Средний балл: {sum(scores) / len(scores):.2f} из {assignment.max_score:g}")
        lines.append("Тесты (сдали полностью / всего, средний балл):")
        for test in assignment.tests:
            points = [float(row[test.grade_id]) for row in rows]
            passed = sum(p >= test.points for p in points)
            lines.append(f"  {test.grade_id} ({test.points:g}): {passed}/{len(points)}, "
                         f"{sum(points) / len(points):.2f}")
        statuses = Counter(row["status"].split(";")[0] for row in rows)
        lines.append("Статусы: " + ", ".join(f"{status} {n}" for status, n in statuses.most_common()))
    if outcomes:
        per = elapsed / len(outcomes)
        startup = [o.startup_s for o in outcomes if o.startup_s]
        overhead = f", запуск песочницы и импорт {sum(startup) / len(startup):.2f} с" if startup else ""
        lines.append(f"Время: {elapsed:.1f} с, {per:.2f} с на работу при {workers} потоках{overhead}; "
                     f"песочница: {kind}")
    return "\n".join(lines)
