"""One submission, start to end: choose the notebook → compose → run in the sandbox → an outcome.

Nothing here writes files: the outcome is plain data (``autograder.outcome``) that the caller
records, so the same function serves the local pool and a cluster's workers.
"""

import time

from autograder import compose, sandbox, settings, submissions
from autograder.outcome import Outcome, empty_tests


def choose(student, assignment):
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


def jobs(cells, assignment, show_student_text):
    """What each side of the sandbox is given: the student's side never sees a test."""
    setup = [cell.source for cell in cells if cell.kind == "setup"]
    student = {"setup": setup, "seed": settings.SEED,
               "solutions": {str(i): cell.source for i, cell in enumerate(cells) if cell.kind == "solution"}}
    trusted = {"setup": setup, "seed": settings.SEED, "graded_names": assignment.graded_names,
               "show_student_text": show_student_text, "solutions": student["solutions"],
               "cells": [{"kind": cell.kind, "grade_id": cell.grade_id, "hidden": cell.hidden,
                          "source": cell.source if cell.kind == "test" else ""} for cell in cells]}
    return student, trusted


def grade_one(student, assignment, limits, show_student_text=False, stop=None):
    """Grade one submission; never raises for anything the student did."""
    if student.problem:
        return Outcome(student.student_id, empty_tests(assignment, student.problem), student.problem,
                       list(student.notes), problem_id=student.problem == "bad student id")
    (name, data), qualifiers = choose(student, assignment)
    notes = list(student.notes)
    try:
        answers = compose.extract_answers(data, assignment)
    except compose.InvalidNotebook as error:
        notes.append(f"{name}: {error}")
        return Outcome(student.student_id, empty_tests(assignment, str(error)),
                       _status("invalid notebook", qualifiers), notes)
    notes += answers.notes
    if not answers.sources:
        status = "other assignment" if answers.other_ids else "no solution cells"
        message = "в тетради нет ни одной ячейки решения этого задания"
        return Outcome(student.student_id, empty_tests(assignment, message), _status(status, qualifiers), notes)
    cells, missing = compose.compose(assignment, answers)
    if missing:
        qualifiers.append("missing cells: " + ", ".join(missing))
        notes.append("нет ячеек решения (взяты заготовки): " + ", ".join(missing))
    if any("повторяется" in note for note in answers.notes):
        qualifiers.append("duplicate cells")
    run = run_with_retries(cells, assignment, limits, show_student_text, stop)
    if run.output_dropped:
        qualifiers.append("output truncated")
        notes.append(f"вывод решения обрезан: отброшено {run.output_dropped / 2**20:.1f} МБ")
    tests, errors = {}, {}
    for index, cell in enumerate(cells):
        verdict = run.verdicts.get(index)
        if cell.kind == "solution" and verdict and not verdict[0]:
            errors[cell.grade_id] = {"type": run.error_types.get(index, ""), "message": verdict[1]}
        elif cell.kind == "test":
            if verdict is None:
                verdict = (False, f"тест не выполнен: проверка остановлена ({run.status})")
            tests[cell.grade_id] = (cell.points if verdict[0] else 0.0, cell.points, verdict[1])
    notes += run.notes
    if run.failure:
        notes.append(run.failure)
    stubs = [cell.grade_id for cell in cells if cell.kind == "solution"
             and cell.source.strip() == assignment.stubs[cell.grade_id].strip()]
    output = run.output + ("\n--- вывод тестов ---\n".encode() + run.trusted_output if run.trusted_output else b"")
    return Outcome(student.student_id, tests, _status(run.status, qualifiers), notes, errors, output,
                   wall_s=run.wall_s, startup_s=run.startup_s, cpu_s=run.cpu_s, stub=stubs)


def run_with_retries(cells, assignment, limits, show_student_text, stop=None):
    """Run the cells; when one hangs, crashes or exhausts memory, run again without it.

    One bad cell then costs only the tests that depend on it, not every test after it. The
    first run's status stays; all runs together stay within the notebook's time limit.
    """
    student_job, trusted_job = jobs(cells, assignment, show_student_text)
    total = sandbox.Run()
    started = time.monotonic()
    skip = set()
    for _ in range(settings.MAX_RUNS):
        remaining = limits.notebook_timeout - total.cells_s  # start-up under load is not the student's
        if remaining <= 0:
            break
        done = {index for index in total.verdicts if cells[index].kind == "test"}
        run = sandbox.run(student_job, {**trusted_job, "skip": sorted(skip | done)},
                          sandbox.Limits(limits.timeout, remaining, limits.memory_mb))
        for index, verdict in run.verdicts.items():
            total.verdicts.setdefault(index, verdict)
        for index, kind in run.error_types.items():
            total.error_types.setdefault(index, kind)
        if total.status == "ok":
            total.status = run.status
        total.notes += [note for note in run.notes if note not in total.notes]
        total.output += run.output[: max(0, settings.OUTPUT_CAP - len(total.output))]
        total.output_dropped += run.output_dropped
        total.trusted_output = total.trusted_output or run.trusted_output
        total.startup_s = total.startup_s or run.startup_s
        total.cpu_s += run.cpu_s
        total.cells_s += run.cells_s
        total.failure = total.failure or run.failure
        left = [index for index, cell in enumerate(cells)
                if cell.kind == "test" and index not in total.verdicts and index not in skip]
        if run.stopped_at is None or run.failure or not left or not any(i > run.stopped_at for i in left):
            break
        if stop is not None and stop.is_set():
            break  # the batch is being interrupted: this outcome is not recorded anyway
        skip.add(run.stopped_at)
    total.wall_s = time.monotonic() - started
    return total


def _status(primary, qualifiers):
    return "; ".join([primary, *qualifiers])


def self_check(assignment, source, limits):
    """Grade the instructor's notebook; '' when it gets full marks, else what failed."""
    own = submissions.Submission("instructor", [(source.name, source.read_bytes())])
    outcome = grade_one(own, assignment, limits, show_student_text=True)
    failed = [f"  {test_id}: {message}" for test_id, (points, maximum, message) in outcome.tests.items()
              if points < maximum]
    if outcome.status != "ok" or failed:
        details = outcome.notes + [error["message"] for error in outcome.errors.values()]
        return "\n".join([f"  статус: {outcome.status}", *(f"  {d}" for d in details), *failed])
    return ""
