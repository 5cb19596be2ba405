"""`python -m autograder grade`: grade a whole class, safely and in parallel, with feedback.

Discovery (``autograder.submissions``) finds each student's files; the pipeline
(``autograder.pipeline``) grades one submission in its sandboxes (``autograder.sandbox``);
an executor (``autograder.executors``) runs many at once; this module records each outcome
(``autograder.gradebook``, ``autograder.feedback``, OUT/outcomes.jsonl) and reports
(``autograder.reporting``). Before the class, the instructor's own notebook is graded the same
way and must get full marks: a broken test, setup cell or sandbox is the instructor's
problem, reported before any student is graded.
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from autograder import (
    assignments,
    cluster,
    compose,
    executors,
    gradebook,
    pipeline,
    report,
    reporting,
    sandbox,
    settings,
    submissions,
)
from autograder.lms import roundtrip

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
outcomes.jsonl и report.html (отчёт по группе), audit.csv (каждое изменение балла: когда, чей, было, стало, почему).
Повторный запуск продолжает с места остановки; --force проверяет всё заново, --only — только
указанных студентов.
Код выхода 0 — все работы обработаны (что бы ни делал код студентов); 2 — ошибка преподавателя
(нет задания или папки, неверный параметр, ведомость или тетрадь преподавателя не читается,
база --db не открывается); 3 — тетрадь преподавателя не проходит свои тесты в песочнице;
4 — (--cluster) планировщик пропал или ни один исполнитель не может проверять (проверенное
сохранено); 130 — прервано.
"""


def add_parser(commands):
    parser = commands.add_parser(
        "grade", help="проверить работы группы", description="Проверить работы всей группы по заданию.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment", metavar="ASSIGNMENT", help="задание, например 05_gradient_descent")
    parser.add_argument("submissions", metavar="SUBMISSIONS", type=Path, help="папка или zip-архив с работами")
    parser.add_argument("--out", type=Path, required=True, help="папка для результатов")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="сколько работ проверять одновременно (по умолчанию — число ядер)")
    parser.add_argument("--timeout", type=float, default=settings.CELL_CPU_S,
                        help=f"предел процессорного времени на ячейку, с ({settings.CELL_CPU_S:g}); "
                             f"ожидание — не дольше {settings.WALL_FACTOR:g} × --timeout по часам")
    parser.add_argument("--notebook-timeout", type=float, default=None,
                        help=f"предел времени по часам на всю тетрадь, с (по умолчанию "
                             f"{settings.NOTEBOOK_FACTOR} × --timeout)")
    parser.add_argument("--memory-mb", type=int, default=settings.MEMORY_MB,
                        help=f"предел памяти на работу, МБ ({settings.MEMORY_MB})")
    parser.add_argument("--show-errors", action="store_true",
                        help="показывать в отзыве текст исключений, которые код студента вызвал в тестах "
                             "(по умолчанию только тип: текст мог бы раскрыть входные данные скрытых тестов)")
    parser.add_argument("--db", default=None, help="URL базы gradebook для SQLAlchemy (sqlite:///OUT/gradebook.db)")
    parser.add_argument("--force", action="store_true", help="проверить заново и уже проверенные работы")
    parser.add_argument("--only", metavar="ID[,ID…]", help="проверить заново только этих студентов")
    parser.add_argument("--roster", type=Path, help="лист оценок Moodle или журнал Canvas (CSV)")
    parser.add_argument("--lms-column", help="столбец задания в журнале Canvas, «Название (id)»")
    parser.add_argument("--deadline", help="срок сдачи, ISO 8601 с часовым поясом: 2026-12-15T23:59+03:00")
    parser.add_argument("--late-policy", help="штраф за опоздание: none, linear:10%%/d,max:50%%, zero-after:72h, "
                                              "file:правило.py")
    parser.add_argument("--course-config", type=Path, help="настройки курса (TOML): сроки и штрафы по заданиям")
    parser.add_argument("--cluster", default=None, metavar="ADDRESS",
                        help="проверять на кластере Dask: адрес планировщика, например tcp://HEAD:8786 "
                             "(см. `python -m autograder scheduler` и `worker`)")
    parser.add_argument("--tls-ca-file", default=None, help="--cluster по TLS: сертификат центра сертификации")
    parser.add_argument("--tls-cert", default=None, help="--cluster по TLS: сертификат этой машины")
    parser.add_argument("--tls-key", default=None, help="--cluster по TLS: закрытый ключ этой машины")
    parser.set_defaults(run=main)


def _executor(args):
    """The local pool, or the Dask cluster named by --cluster; a message when it cannot be reached."""
    if args.cluster is None:
        return executors.LocalPool(args.workers), ""
    pool = cluster.DaskCluster(args.cluster, cluster.security(args.tls_ca_file, args.tls_cert, args.tls_key))
    return pool, pool.connect()


def main(args):
    source = assignments.source_notebook(args.assignment)  # UnknownAssignment: exit 2 in __main__
    if args.workers < 1 or args.timeout <= 0 or args.memory_mb < 64 or (
            args.notebook_timeout is not None and args.notebook_timeout <= 0):
        return _instructor_error("--workers ≥ 1, --timeout > 0, --notebook-timeout > 0 и --memory-mb ≥ 64")
    try:
        assignment = compose.load_assignment(args.assignment, source, settings.STUB)
    except compose.MalformedAssignment as error:
        return _instructor_error(f"тетрадь преподавателя {source} не читается: {error}")
    try:
        plan = roundtrip.prepare(args, args.assignment)
        only = roundtrip.only(plan, args.only) if args.only else None
    except roundtrip.InstructorError as error:
        return _instructor_error(str(error))
    students = plan.found.students
    limits = sandbox.Limits(args.timeout, args.notebook_timeout or settings.NOTEBOOK_FACTOR * args.timeout,
                            args.memory_mb)
    problem = _db_problem(args.db)
    if problem:
        return _instructor_error(f"база --db не открывается: {problem}")
    gradebook.preload()
    kind = sandbox.mechanism()
    for warning in sandbox.warnings():
        print(f"\n!!! ВНИМАНИЕ: {warning}\n", file=sys.stderr)
    problem = _checked_before(args.out, assignment, source, limits, kind)
    if problem:
        print(f"ошибка: тетрадь преподавателя {source} не проходит свои тесты в песочнице ({kind}):\n{problem}",
              file=sys.stderr)
        return settings.EXIT_SELF_CHECK
    pool, problem = _executor(args)
    if problem:
        return _instructor_error(problem)
    records = gradebook.Records(args.out, assignment, args.db or plan.db_url, plan.info)
    records.gradebook  # noqa: B018 - open before the batch, so that each row is written as it is graded
    base = hashlib.sha256(settings.GRADE_VERSION + source.read_bytes()).hexdigest()[:16]
    todo, skipped = [], 0
    for student in students:
        if only is not None and student.student_id not in only:
            continue
        digest = f"{base}:{submissions.digest(b'', student)[:16]}"
        if only is None and not args.force and records.graded(student.student_id, digest):
            skipped += 1
        else:
            todo.append((student, digest))
    progress = reporting.Progress(len(todo), skipped)
    started = time.monotonic()
    outcomes = []
    stop = threading.Event()
    # Ctrl-C only sets a flag that the loop reads: no library call on the way can swallow it.
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    batch = pool.grade(todo, assignment, limits, args.show_errors, stop)
    try:
        for outcome, digest in batch:
            _save(args.out, records, outcome, digest, assignment)
            outcomes.append(outcome)
            progress.update(outcome, assignment.max_score)
    except cluster.ClusterFailed as error:
        records.finish()
        print(f"ошибка: {reporting.shown(str(error))}. Проверено {len(outcomes)} из {len(todo)}, "
              "это сохранено; запустите ту же команду снова, когда кластер заработает", file=sys.stderr)
        return settings.EXIT_CLUSTER
    finally:
        signal.signal(signal.SIGINT, previous)
        batch.close()
        progress.close()
    if stop.is_set():
        records.finish()
        print(f"прервано: проверено {len(outcomes)} из {len(todo)}; запустите ту же команду снова, "
              "чтобы продолжить", file=sys.stderr)
        return settings.EXIT_INTERRUPTED
    text = reporting.summary(assignment, records, outcomes, skipped, time.monotonic() - started, kind, args.workers)
    records.add_absent(plan.absent)
    records.finish()
    print("\n".join([text, *roundtrip.publish(plan, args.out, records, assignment)]))
    for line in pool.report():
        print(reporting.shown(line))
    print(f"Отчёт по группе: {report.write(args.out)}")
    return settings.EXIT_OK


def _db_problem(url):
    """Why the gradebook at ``url`` cannot be used, or '': checked before anything is graded."""
    if url is None:
        return ""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - SQLAlchemy and its drivers raise many kinds
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return ""


def _instructor_error(message):
    print(f"ошибка: {message}", file=sys.stderr)
    return settings.EXIT_INSTRUCTOR


def _checked_before(out, assignment, source, limits, kind):
    """The self-check, skipped when OUT records one of this notebook, grader code and limits."""
    stamp = Path(out) / ".self-check.json"
    code = b"".join(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py")))
    digest = hashlib.sha256(source.read_bytes() + code + repr((limits, kind)).encode()).hexdigest()
    try:
        if json.loads(stamp.read_text(encoding="utf-8"))["digest"] == digest:
            return ""
    except (OSError, ValueError, KeyError, TypeError):
        pass
    problem = pipeline.self_check(assignment, source, limits)
    if not problem:
        Path(out).mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"digest": digest}), encoding="utf-8")
    return problem


def _save(out, records, outcome, digest, assignment):
    out = Path(out)
    if not outcome.problem_id and outcome.output:
        logs = out / "logs"
        logs.mkdir(exist_ok=True)
        (logs / f"{outcome.student_id}.txt").write_bytes(outcome.output)
    records.record(outcome, digest)  # the gradebook, the feedback page with any penalty, the ledger row
    row = records.rows[outcome.student_id]
    lateness = records.info.lateness.get(outcome.student_id)
    late_by = lateness.late_by if lateness is not None else None
    line = {**outcome.record(assignment.name, assignment.max_score), "score": float(row["score"]),
            "raw_score": float(row["raw_score"]), "penalty": float(row["penalty"]),
            "submitted_at": row["submitted_at"] or None,
            "late_by_s": late_by.total_seconds() if late_by is not None else None}
    with (out / "outcomes.jsonl").open("a", encoding="utf-8", errors="surrogateescape") as file:
        file.write(json.dumps(line, ensure_ascii=False) + "\n")
    outcome.output = b""  # the log has it; a class of outputs need not stay in memory
