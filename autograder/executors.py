"""Where submissions are graded: the local pool (``autograder.cluster`` has the Dask one)."""

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from autograder import pipeline, sandbox
from autograder.outcome import Outcome, empty_tests

POLL_S = 0.2  # how soon a Ctrl-C (a flag set by the signal handler) is noticed


def grade_safely(student, assignment, limits, show_student_text, stop=None):
    """``pipeline.grade_one``, where a grader bug costs one row, never the batch."""
    try:
        return pipeline.grade_one(student, assignment, limits, show_student_text, stop)
    except Exception as error:  # noqa: BLE001 - the row says what broke; the batch goes on
        return error_outcome(student, assignment, error)


def error_outcome(student, assignment, error):
    message = f"ошибка проверяющей системы: {type(error).__name__}: {error}"
    return Outcome(student.student_id, empty_tests(assignment, message), "grader error", [message],
                   problem_id=student.problem == "bad student id")


class LocalPool:
    """``workers`` sandboxes at a time on this machine, each submission in a thread."""

    def __init__(self, workers):
        self.workers = workers

    def report(self):
        return []

    def grade(self, todo, assignment, limits, show_student_text, stop):
        """Yield (outcome, digest) as submissions finish, until ``stop`` is set; closing kills the rest."""
        executor = ThreadPoolExecutor(max_workers=self.workers)
        pending = {executor.submit(grade_safely, student, assignment, limits, show_student_text, stop): digest
                   for student, digest in todo}
        try:
            while pending and not stop.is_set():
                done, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    if stop.is_set():
                        break
                    yield future.result(), pending.pop(future)
        finally:
            for future in pending:
                future.cancel()
            if pending:
                sandbox.stop_all()  # interrupted: the sandboxes still running are killed
            executor.shutdown(wait=True, cancel_futures=True)
