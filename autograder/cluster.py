"""Grading on a Dask cluster: the executor beside ``executors.LocalPool``, and the workers' task.

A job is plain data (the student's files as bytes, the assignment's name and the digest of the
coordinator's instructor notebook, the limits); a result is plain data (``Outcome`` as a dict).
Each worker rebuilds the assignment from its own checkout, refuses a checkout whose instructor
notebook differs, and before its first job grades that notebook in its own sandbox: a worker
that fails takes no jobs (it leaves the cluster) and the coordinator names it in its summary.
The coordinator stays the single writer of every file and of the gradebook.
"""

import contextlib
import hashlib
import threading
from dataclasses import asdict

from autograder import assignments, compose, executors, pipeline, sandbox, settings, submissions
from autograder.outcome import Outcome, empty_tests


class ClusterFailed(RuntimeError):
    """The batch cannot go on (the scheduler went away, no worker can grade): what was graded is kept."""


def security(ca_file, cert, key):
    """Mutual TLS from the three files, or None for plain tcp (a trusted private network only)."""
    if not (ca_file or cert or key):
        return None
    from distributed.security import Security

    return Security(tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key,
                    tls_scheduler_cert=cert, tls_scheduler_key=key, tls_worker_cert=cert, tls_worker_key=key,
                    require_encryption=True)


def digest_of(source):
    return hashlib.sha256(source.read_bytes()).hexdigest()


# --- on a worker -------------------------------------------------------------------------------

BAD_WORKER_EVENTS = "autograder-bad-worker"  # topic of the scheduler's event log
_checks = {}  # (assignment, digest, limits) -> '' or why this machine cannot grade it
_checks_lock = threading.Lock()


def grade_task(job):
    """Grade one submission on this worker; a dict of ``Outcome``, or {"bad_worker": why}."""
    from distributed import get_worker

    worker = get_worker()
    limits = sandbox.Limits(*job["limits"])
    problem, assignment = _ready(job["assignment"], job["digest"], limits)
    if problem:
        _leave(worker, problem)
        return {"bad_worker": problem, "worker": worker.name or worker.address}
    student = submissions.Submission(job["student_id"], [tuple(nb) for nb in job["notebooks"]],
                                     job["problem"], list(job["notes"]))
    outcome = executors.grade_safely(student, assignment, limits, job["show_student_text"])
    outcome.worker = str(worker.name or worker.address)
    return asdict(outcome)


def _ready(name, digest, limits):
    """('' and the assignment) once this machine has graded the instructor's notebook at full marks."""
    with _checks_lock:  # the worker's other threads wait for the one check, then reuse it
        try:
            source = assignments.source_notebook(name)
        except assignments.UnknownAssignment as error:
            return f"в копии репозитория на этой машине: {error}", None
        if digest_of(source) != digest:
            return (f"тетрадь преподавателя {name} на этой машине отличается от тетради координатора "
                    "(устаревшая копия репозитория?)"), None
        try:
            assignment = compose.load_assignment(name, source, settings.STUB)
        except compose.MalformedAssignment as error:
            return f"тетрадь преподавателя {name} не читается: {error}", None
        key = (name, digest, tuple(vars(limits).values()))
        if key not in _checks:
            problem = pipeline.self_check(assignment, source, limits)
            _checks[key] = (f"тетрадь преподавателя не проходит свои тесты в песочнице "
                            f"({sandbox.mechanism()}):\n{problem}") if problem else ""
        return _checks[key], assignment


def _leave(worker, problem):
    """Retire from the cluster: the scheduler gives this worker's queued jobs to the others."""
    if getattr(worker, "_autograder_leaving", False):
        return
    worker._autograder_leaving = True
    print(f"ошибка: исполнитель не может проверять: {problem}", flush=True)
    # The scheduler keeps the event for the coordinator's summary: the job's own result may never
    # arrive, as the scheduler hands a leaving worker's jobs to the others.
    # (Sent and acknowledged before leaving; Worker.log_event's stream may not flush in time.)
    from distributed.utils import sync

    sync(worker.loop, worker.scheduler.log_event, topic=BAD_WORKER_EVENTS,
         msg={"worker": str(worker.name or worker.address), "problem": problem})
    worker.loop.add_callback(worker.close_gracefully, reason="autograder self-check failed")


# --- on the coordinator ------------------------------------------------------------------------


class DaskCluster:
    """Submissions graded by the workers of the Dask scheduler at ``address``."""

    def __init__(self, address, security=None):
        self.address, self.security = address, security
        self.problems = {}  # worker -> why it took no jobs
        self.lost = 0  # submissions whose worker died every try

    def connect(self):
        """The client, or a Russian message why the scheduler cannot be reached (an instructor error)."""
        from distributed import Client

        try:
            self.client = Client(self.address, security=self.security, timeout=settings.CLUSTER_CONNECT_S,
                                 set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as error:  # TypeError: tls:// without --tls-*
            return f"планировщик {self.address} не отвечает: {type(error).__name__}: {error}"
        return ""

    def grade(self, todo, assignment, limits, show_student_text, stop):
        """Yield (outcome, digest) as submissions finish, until ``stop`` is set."""
        from concurrent.futures import FIRST_COMPLETED, CancelledError, wait

        from distributed.scheduler import KilledWorker

        digest = digest_of(assignments.source_notebook(assignment.name))
        # Dask's concurrent.futures view: one sandbox slot ("grader") per job, never cached.
        executor = self.client.get_executor(resources={"grader": 1}, pure=False)
        jobs = {}

        def submit(student, row_digest):
            job = {"student_id": student.student_id, "notebooks": [list(nb) for nb in student.notebooks],
                   "problem": student.problem, "notes": list(student.notes), "assignment": assignment.name,
                   "digest": digest, "limits": (limits.timeout, limits.notebook_timeout, limits.memory_mb),
                   "show_student_text": show_student_text}
            jobs[executor.submit(grade_task, job)] = (student, row_digest)

        for student, row_digest in todo:
            submit(student, row_digest)
        try:
            while jobs and not stop.is_set():
                done, _ = wait(list(jobs), timeout=executors.POLL_S, return_when=FIRST_COMPLETED)
                if not done:
                    self._check_alive()
                for future in done:
                    student, row_digest = jobs.pop(future)
                    try:
                        result = future.result()
                    except CancelledError:
                        raise ClusterFailed(f"связь с планировщиком {self.address} потеряна") from None
                    except KilledWorker:
                        self.lost += 1
                        yield self._worker_lost(student, assignment), row_digest
                        continue
                    except Exception as error:  # noqa: BLE001 - a grader bug costs one row
                        yield executors.error_outcome(student, assignment, error), row_digest
                        continue
                    if "bad_worker" in result:
                        self.problems[result["worker"]] = result["bad_worker"]
                        submit(student, row_digest)  # graded by another worker
                        continue
                    yield Outcome(**result), row_digest
        finally:
            for future in jobs:
                future.cancel()
            with contextlib.suppress(Exception):  # a lost scheduler cannot be asked or told goodbye
                self._collect_problems()
                self.client.close(timeout=settings.CLUSTER_CONNECT_S)

    def _check_alive(self):
        if self.client.status not in ("running", "newly-created"):
            raise ClusterFailed(f"связь с планировщиком {self.address} потеряна")
        if not self.client.scheduler_info()["workers"] and self._collect_problems():
            raise ClusterFailed("ни один исполнитель не может проверять: " + "; ".join(
                f"{name}: {why}" for name, why in sorted(self.problems.items())))

    def _collect_problems(self):
        for _, event in self.client.get_events(BAD_WORKER_EVENTS):
            self.problems[event["worker"]] = event["problem"]
        return self.problems

    @staticmethod
    def _worker_lost(student, assignment):
        message = (f"исполнитель, проверявший работу, завершился аварийно {settings.CLUSTER_ALLOWED_FAILURES + 1} "
                   "раз подряд; работа не проверена")
        return Outcome(student.student_id, empty_tests(assignment, message), "worker lost", [message],
                       problem_id=student.problem == "bad student id")

    def report(self):
        """Lines for the summary: the workers that took no jobs, and why; submissions lost with workers."""
        lines = [f"Исполнитель {name} не принял работ: {why}" for name, why in sorted(self.problems.items())]
        if self.lost:
            lines.append(f"Работ, на которых исполнители погибали при каждой попытке: {self.lost}")
        return lines
