"""A Dask grading cluster on loopback: `python -m autograder scheduler` and `worker` as processes.

Every process is started in its own session, so that a test can SIGKILL a worker (its nanny,
worker and sandboxes) as one group. Readiness is observed, never slept on: the scheduler's
address file, then ``Client.wait_for_workers``.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_S = 120  # a loaded machine imports torch, numpy and Dask slowly


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self, folder, tls=None, port=0):
        self.folder, self.tls, self.port = Path(folder), tls, port
        self.folder.mkdir(parents=True, exist_ok=True)
        self.scheduler, self.workers = None, {}

    def tls_args(self, who="node"):
        if not self.tls:
            return []
        return ["--tls-ca-file", str(self.tls / "ca.pem"), "--tls-cert", str(self.tls / f"{who}.pem"),
                "--tls-key", str(self.tls / f"{who}.key")]

    def _start(self, args, log, root=ROOT, env=None):
        return subprocess.Popen([sys.executable, "-m", "autograder", *args], cwd=root, start_new_session=True,
                                stdout=(self.folder / log).open("wb"), stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})

    def start_scheduler(self):
        file = self.folder / "scheduler.json"
        file.unlink(missing_ok=True)
        self.scheduler = self._start(["scheduler", "--port", str(self.port), "--scheduler-file", str(file),
                                      *self.tls_args()], "scheduler.log")
        started = time.monotonic()
        while not file.is_file() or not file.read_text().strip():
            assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
            assert time.monotonic() - started < START_S, "the scheduler wrote no address"
            time.sleep(0.05)  # polling an observable file, not waiting for time to pass
        self.address = json.loads(file.read_text())["address"]
        return self.address

    def start_worker(self, name, slots=1, root=ROOT):
        """A worker from the checkout at ``root`` (another copy plays a different machine)."""
        env = {"PYTHONPATH": str(root)} if root != ROOT else None
        self.workers[name] = self._start(["worker", self.address, "--slots", str(slots), "--name", name,
                                          *self.tls_args()], f"worker-{name}.log", root, env)

    def client(self):
        from distributed import Client

        from autograder import cluster

        return Client(self.address, timeout=START_S, set_as_default=False,
                      security=cluster.security(*[str(self.tls / f) for f in ("ca.pem", "node.pem", "node.key")])
                      if self.tls else None)

    def wait_for_workers(self, count):
        with self.client() as client:
            client.wait_for_workers(count, timeout=START_S)

    def kill(self, process):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=60)

    def log(self, name):
        return (self.folder / name).read_text(encoding="utf-8", errors="replace")

    def stop(self):
        for process in [*self.workers.values(), self.scheduler]:
            if process is not None:
                self.kill(process)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()


def make_tls(folder):
    """A throwaway CA, a certificate for every node (and the coordinator), one from a foreign CA."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    for ca in ("ca", "foreign-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={ca}",
                "-keyout", f"{ca}.key", "-out", f"{ca}.pem")
    for name, ca in (("node", "ca"), ("intruder", "foreign-ca")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f"{name}.key",
                "-out", f"{name}.csr")
        (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", f"{name}.pem")
    return folder
