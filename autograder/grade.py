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
    feedback,
    gradebook,
    pipeline,
    report,
    reporting,
    sandbox,
    settings,
    submissions,
)

EPILOG = """\
Форматы SUBMISSIONS:
  папка/<id студента>/...*.ipynb     папка на студента (id — любое имя, в т.ч. кириллица);
                                     если тетрадей несколько, берётся <ЗАДАНИЕ>.ipynb
  папка/<id студента>.ipynb          тетради прямо в папке: id — имя файла
  курс/submitted/<id>/<ЗАДАНИЕ>/     дерево nbgrader (submitted/ внутри папки)
  архив.zip                          выгрузка LMS: <id>.ipynb или <id>/<путь>/*.ipynb внутри

Результаты в OUT: grades.csv (строка на студента, столбец на тест), feedback/<id>/<ЗАДАНИЕ>.html,
gradebook.db (gradebook nbgrader), outcomes.jsonl (подробности для отчёта по группе),
logs/<id>.txt (вывод решения, обрезанный).
Повторный запуск продолжает с места остановки; --force проверяет всё заново.
Код выхода 0 — все работы обработаны (что бы ни делал код студентов); 2 — ошибка преподавателя
(нет задания или папки, неверный параметр, тетрадь преподавателя не читается, база --db не открывается);
3 — тетрадь преподавателя не проходит свои тесты в песочнице; 4 — (--cluster) планировщик пропал или ни
один исполнитель не может проверять (проверенное сохранено); 130 — прервано.
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
        students = submissions.discover(args.submissions)
    except submissions.MissingSubmissions as error:
        return _instructor_error(str(error))
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
    records = gradebook.Records(args.out, assignment, args.db)
    base = hashlib.sha256(settings.GRADE_VERSION + source.read_bytes()).digest()
    todo, skipped = [], 0
    for student in students:
        digest = _digest(base, student)
        if not args.force and records.graded(student.student_id, digest):
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
        print(f"ошибка: {reporting.shown(str(error))}. Проверено {len(outcomes)} из {len(todo)}, "
              "это сохранено; запустите ту же команду снова, когда кластер заработает", file=sys.stderr)
        return settings.EXIT_CLUSTER
    finally:
        signal.signal(signal.SIGINT, previous)
        batch.close()
        progress.close()
        records.finish()
    if stop.is_set():
        print(f"прервано: проверено {len(outcomes)} из {len(todo)}; запустите ту же команду снова, "
              "чтобы продолжить", file=sys.stderr)
        return settings.EXIT_INTERRUPTED
    print(reporting.summary(assignment, records, outcomes, skipped, time.monotonic() - started, kind, args.workers))
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


def _digest(base, student):
    digest = hashlib.sha256(base)
    for name, data in student.notebooks:
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0" + (data or b"") + b"\0")
    return digest.hexdigest()[:32]


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
    if not outcome.problem_id:
        feedback.write(out, outcome, assignment)
        if outcome.output:
            logs = out / "logs"
            logs.mkdir(exist_ok=True)
            (logs / f"{outcome.student_id}.txt").write_bytes(outcome.output)
    line = json.dumps(outcome.record(assignment.name, assignment.max_score), ensure_ascii=False)
    with (out / "outcomes.jsonl").open("a", encoding="utf-8", errors="surrogateescape") as file:
        file.write(line + "\n")
    records.record(outcome, digest)  # last: the ledger row marks the submission as done
    outcome.output = b""  # the log has it; a class of outputs need not stay in memory
