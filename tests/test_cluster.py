"""`grade --cluster`: a Dask scheduler and workers as separate processes on loopback.

The same class graded by the local pool and by the cluster gets the same grades.csv; a worker
SIGKILLed mid-batch loses nothing and duplicates nothing; a worker whose machine fails the
instructor's self-check takes no jobs; a submission that kills its worker every time gets
"worker lost"; a vanished scheduler stops the command (exit 4), and the same command resumes;
TLS with mutual certificates grades, and a client without a certificate is refused.
"""

import csv
import importlib.util
import json
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import answered
import cloudpickle
import local_cluster
import postgres
import psutil
import pytest
from distributed.diagnostics.plugin import WorkerPlugin

from autograder import settings

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "autograder", "grade"]
GD = "05_gradient_descent"
OPT = "06_optimizers"  # torch in both processes, and a scenario that runs on the student's side
LIMITS = []  # the default limits: a loaded machine must not turn a correct answer into a timeout


def _cases():
    spec = importlib.util.spec_from_file_location("adversarial_cases", ROOT / "tests" / "adversarial" / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {case.student_id: case for case in module.CASES}


HOSTILE = ("os_exit", "segfault", "memory_bomb_in_function", "print_flood")


def write_class(folder, assignment, count, hostile=()):
    """``count`` students: solutions, untouched exercises, wrong answers and hostile cases."""
    cases = _cases()
    wrong = {GD: {"gd_step": "def gd_step(w, grad, lr):\n    return w + lr * grad\n"},
             OPT: {"sgd": "class SGD:\n    def __init__(self, lr):\n        self.lr = lr\n\n"
                          "    def step(self, params, grads):\n        for p, g in zip(params, grads):\n"
                          "            p += self.lr * g\n"}}[assignment]
    texts = {}
    for name in hostile:
        texts[name] = answered.notebook(assignment, cases[name].cells)
    index = 0
    while len(texts) < count:
        kind = index % 3
        if kind == 2 and wrong:
            texts[f"wrong{index}"] = answered.notebook(assignment, wrong)
        else:
            texts[f"s{index}"] = answered.notebook(assignment, kind="solutions" if kind == 0 else "exercises")
        index += 1
    texts["garbled"] = "{ это не json"
    for student_id, text in texts.items():
        (folder / student_id).mkdir(parents=True, exist_ok=True)
        (folder / student_id / f"{assignment}.ipynb").write_text(text, encoding="utf-8")
    return folder


def grade(assignment, submissions, out, *options, timeout=900):
    return subprocess.run([*COMMAND, assignment, str(submissions), "--out", str(out), *LIMITS, *map(str, options)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def rows_of(out):
    with (out / "grades.csv").open(newline="", encoding="utf-8") as file:
        return [row for row in csv.DictReader(file)]


def workers_of(out):
    return [json.loads(line)["worker"] for line in (out / "outcomes.jsonl").read_text(encoding="utf-8").splitlines()]


def _sandboxes_under(process):
    uids = range(settings.UID_FIRST, settings.UID_FIRST + settings.UID_COUNT)
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if child.uids().real in uids:
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def _wait_for(condition, failure, limit=300):
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < limit, failure
        time.sleep(0.05)  # polling an observable condition


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "count"), [(GD, 20), (OPT, 8)])
def test_cluster_grades_as_the_local_pool(tmp_path, assignment, count):
    submissions = write_class(tmp_path / "subs", assignment, count, HOSTILE if assignment == GD else ())
    local = grade(assignment, submissions, tmp_path / "local", "--workers", "2")
    assert local.returncode == 0, local.stderr
    with local_cluster.Cluster(tmp_path / "cluster") as cluster:
        cluster.start_scheduler()
        cluster.start_worker("w1")
        cluster.start_worker("w2")
        cluster.wait_for_workers(2)
        remote = grade(assignment, submissions, tmp_path / "remote", "--cluster", cluster.address)
    assert remote.returncode == 0, remote.stderr
    assert rows_of(tmp_path / "remote") == rows_of(tmp_path / "local")
    assert len(rows_of(tmp_path / "remote")) == count + 1  # and the garbled notebook
    assert set(workers_of(tmp_path / "remote")) == {"w1", "w2"}
    assert "Работ по исполнителям: w1" in remote.stdout
    full = next(row for row in rows_of(tmp_path / "remote") if row["student_id"] == "s0")
    assert full["score"] == full["max_score"] and full["status"] == "ok"


def _bad_checkout(folder):
    """Another machine's checkout whose sandbox cannot start: the self-check fails there."""
    for part in ("autograder", "dlcourse", f"solutions/{GD}"):
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
    with (folder / "autograder" / "settings.py").open("a", encoding="utf-8") as file:
        file.write("STARTUP_TIMEOUT_S = 0  # this machine is broken\n")
    return folder


@pytest.mark.slow
def test_killed_worker_and_failed_self_check_with_postgres(tmp_path):
    submissions = write_class(tmp_path / "subs", GD, 8)
    local = grade(GD, submissions, tmp_path / "local", "--workers", "2")
    assert local.returncode == 0, local.stderr
    with postgres.server() as database, local_cluster.Cluster(tmp_path / "cluster") as cluster:
        url = database.database()
        cluster.start_scheduler()
        cluster.start_worker("broken", root=_bad_checkout(tmp_path / "other-machine"))
        cluster.start_worker("doomed")
        cluster.start_worker("survivor")
        cluster.wait_for_workers(3)
        process = subprocess.Popen([*COMMAND, GD, str(submissions), "--out", str(tmp_path / "remote"), *LIMITS,
                                    "--cluster", cluster.address, "--db", url], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        doomed = cluster.workers["doomed"]
        _wait_for(lambda: _sandboxes_under(doomed) or process.poll() is not None, "the worker started no job")
        cluster.kill(doomed)  # SIGKILL: nanny, worker and its sandboxes at once
        stdout, stderr = process.communicate(timeout=900)
        assert process.returncode == 0, stderr
        assert "ошибка: исполнитель не может проверять" in cluster.log("worker-broken.log")
        from nbgrader.api import Gradebook

        book = Gradebook(url)
        in_book = {s.student.id: s.score for s in book.find_assignment(GD).submissions}
        book.close()
    rows = rows_of(tmp_path / "remote")
    assert sorted(row["student_id"] for row in rows) == sorted(row["student_id"] for row in rows_of(tmp_path / "local"))
    assert rows == rows_of(tmp_path / "local")  # the same score as a local run, one row each
    assert in_book == {row["student_id"]: float(row["score"]) for row in rows}
    assert "broken" not in workers_of(tmp_path / "remote")
    assert "Исполнитель broken не принял работ" in stdout and "не проходит свои тесты" in stdout


class KillOnStudent(WorkerPlugin):
    """A test's worker plugin: the worker dies (SIGKILL) whenever it starts the named student's job."""

    name = "kill-on-student"

    def __init__(self, student_id):
        self.student_id = student_id

    def setup(self, worker):
        self.worker = worker

    def transition(self, key, start, finish, **kwargs):
        import os
        import signal

        task = self.worker.state.tasks.get(key)
        if finish == "executing" and task is not None and repr(self.student_id) in repr(task.run_spec.args):
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.slow
def test_a_job_that_kills_every_worker_gets_worker_lost(tmp_path):
    submissions = tmp_path / "subs"
    for student_id, kind in (("fine", "solutions"), ("killer", "solutions"), ("other", "exercises")):
        (submissions / student_id).mkdir(parents=True)
        (submissions / student_id / f"{GD}.ipynb").write_text(answered.notebook(GD, kind=kind), encoding="utf-8")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with local_cluster.Cluster(tmp_path / "cluster") as cluster:
        cluster.start_scheduler()
        cluster.start_worker("w1")
        cluster.start_worker("w2")
        cluster.wait_for_workers(2)
        with cluster.client() as client:
            client.register_plugin(KillOnStudent("killer"))  # the nannies start new workers with it
        result = grade(GD, submissions, tmp_path / "out", "--cluster", cluster.address)
    assert result.returncode == 0, result.stderr
    rows = {row["student_id"]: row for row in rows_of(tmp_path / "out")}
    assert rows["killer"]["status"] == "worker lost" and rows["killer"]["score"] == "0"
    assert rows["fine"]["score"] == rows["fine"]["max_score"] and rows["other"]["score"] == "0"
    assert "погибали при каждой попытке: 1" in result.stdout


@pytest.mark.slow
def test_lost_scheduler_stops_the_command_and_it_resumes(tmp_path):
    submissions = write_class(tmp_path / "subs", GD, 6)
    out = tmp_path / "out"
    with local_cluster.Cluster(tmp_path / "cluster", port=local_cluster.free_port()) as cluster:
        cluster.start_scheduler()
        cluster.start_worker("w1")
        cluster.wait_for_workers(1)
        command = [*COMMAND, GD, str(submissions), "--out", str(out), *LIMITS, "--cluster", cluster.address]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(lambda: (out / "grades.csv").is_file() and len(rows_of(out)) >= 1 or process.poll() is not None,
                  "no row was graded")
        cluster.kill(cluster.scheduler)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == settings.EXIT_CLUSTER, stderr
        assert "связь с планировщиком" in stderr and "запустите ту же команду снова" in stderr
        kept = len(rows_of(out))
        assert 1 <= kept < 7

        cluster.kill(cluster.workers.pop("w1"))
        cluster.start_scheduler()  # the same port: the same command line
        cluster.start_worker("w2")
        cluster.wait_for_workers(1)
        again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert again.returncode == 0, again.stderr
    assert f"уже проверено в прошлый раз: {kept}" in again.stderr
    assert sorted(row["student_id"] for row in rows_of(out)) == sorted(p.name for p in submissions.iterdir())


@pytest.mark.slow
def test_tls_cluster_grades_and_refuses_a_client_without_certificate(tmp_path):
    tls = local_cluster.make_tls(tmp_path / "tls")
    submissions = tmp_path / "subs"
    for student_id, kind in (("a", "solutions"), ("b", "exercises")):
        (submissions / student_id).mkdir(parents=True)
        (submissions / student_id / f"{GD}.ipynb").write_text(answered.notebook(GD, kind=kind), encoding="utf-8")
    with local_cluster.Cluster(tmp_path / "cluster", tls=tls) as cluster:
        address = cluster.start_scheduler()
        assert address.startswith("tls://")
        cluster.start_worker("w1")
        cluster.wait_for_workers(1)
        result = grade(GD, submissions, tmp_path / "out", "--cluster", address, *cluster.tls_args())
        assert result.returncode == 0, result.stderr
        rows = {row["student_id"]: row for row in rows_of(tmp_path / "out")}
        assert rows["a"]["score"] == rows["a"]["max_score"] and rows["a"]["status"] == "ok"
        assert rows["b"]["score"] == "0" and rows["b"]["status"] == "ok"

        # A client with no certificate: the scheduler ends the TLS handshake.
        host, port = address.removeprefix("tls://").rsplit(":", 1)
        context = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        context.check_hostname = False
        with socket.create_connection((host, int(port)), timeout=30) as raw, \
                context.wrap_socket(raw, server_hostname=host) as connection, \
                pytest.raises((ssl.SSLError, ConnectionResetError)):  # an alert, or the line cut
            connection.sendall(b"\0" * 8)
            connection.recv(1)
        # A certificate from another CA: refused as well, and the command says so (exit 2).
        refused = grade(GD, submissions, tmp_path / "out2", "--cluster", address,
                        "--tls-ca-file", tls / "ca.pem", "--tls-cert", tls / "intruder.pem",
                        "--tls-key", tls / "intruder.key", timeout=300)
        assert refused.returncode == settings.EXIT_INSTRUCTOR and "не отвечает" in refused.stderr
