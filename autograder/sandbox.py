"""Runs ``autograder.runner`` for one submission in a sandbox and watches it from outside.

The strongest mechanism present is used, and anything weaker is announced loudly:

* ``bwrap`` (bubblewrap): new pid, network, IPC and UTS namespaces; a root file system that
  holds read-only binds of only what Python needs (the system's /usr, the base Python, the
  venv, the repository's ``autograder/`` and the test helpers ``dlcourse/checks.py``) and a private tmpfs as the
  working folder; the process dies with the grader, and all of its processes die with it.
* ``unshare`` (util-linux, root only): the same namespaces, but the whole file system is seen.
* ``rlimits``: limits alone.

In every case the runner drops to a user id of its own (when the grader runs as root), sets
rlimits (address space, CPU, file size, processes, no core dumps), and this side enforces the
per-cell and whole-notebook time limits, the memory limit (the private memory of the process
tree, polled), and a cap on captured output, then kills the whole tree.
"""

import hashlib
import hmac
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
# The repository root is put on the path here, not taken from the venv's .pth file.
RUNNER = ["-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); import autograder.runner as r; r.main()"]
BASE_UID = 61000  # worker k runs as BASE_UID + k, so that workers cannot signal each other
STARTUP_TIMEOUT_S = 180  # Python, numpy, torch and IPython imports, under load
END_GRACE_S = 2.0  # after "end", output still drains until the runner exits
MEMORY_POLL_S = 0.1  # RLIMIT_AS stops a fast allocation at once; this catches the process tree
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
OUTPUT_CAP = 2**20
TMPFS_BYTES = 256 * 2**20
NPROC = 256
ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/.matplotlib", "IPYTHONDIR": "/tmp/.ipython", "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TORCH_NUM_THREADS": "1",
}
WARNINGS = {
    "unshare": "bubblewrap (bwrap) не найден: песочница на unshare — сеть, процессы и пользователь "
               "изолированы, но файловая система видна целиком (решения могут читать solutions/). "
               "Установите bubblewrap: sudo apt-get install bubblewrap (или bash scripts/ensure_system_tools.sh).",
    "rlimits": "ни bubblewrap, ни unshare недоступны: работает только ограничение ресурсов (rlimits) "
               "и отдельный пользователь — нет изоляции сети и файловой системы. "
               "Установите bubblewrap: sudo apt-get install bubblewrap (или bash scripts/ensure_system_tools.sh).",
}


_running = set()  # processes being watched, for stop_all()
_running_lock = threading.Lock()


@dataclass
class Limits:
    timeout: float = 60.0  # per cell, seconds
    notebook_timeout: float = 600.0  # all cells of a submission, seconds
    memory_mb: int = 4096


@dataclass
class Run:
    """What happened to one submission: verdicts by cell index, and why it stopped if it did."""

    verdicts: dict = field(default_factory=dict)  # cell index -> (ok, message)
    status: str = "ok"
    notes: list = field(default_factory=list)
    output: bytes = b""
    output_dropped: int = 0
    startup_s: float = 0.0
    wall_s: float = 0.0
    failure: str = ""  # the instructor's or the grader's problem, not the student's
    stopped_at: int | None = None  # the cell that was running when the process was stopped
    changes: set = field(default_factory=set)  # trusted state that tests found replaced


def _ancestors(path):
    return [parent for parent in reversed(path.parents) if parent != Path("/")]


def _bwrap_command(python):
    """bwrap arguments that expose read-only only what the runner needs."""
    base = Path(sys.base_prefix).resolve()
    venv = Path(sys.prefix).resolve()
    # Of the course's package only the test helpers: a submission must not import the
    # chapters' ready-made code (conv2d, gram_matrix, ...) in place of its own answers.
    helpers = [ROOT / "dlcourse" / name for name in ("__init__.py", "checks.py")]
    binds = [Path("/usr"), base, venv, ROOT / "autograder", *helpers]
    command = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if os.geteuid() != 0:
        command.append("--unshare-user")
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        link = Path("/") / name
        if link.is_symlink():
            command += ["--symlink", os.readlink(link), str(link)]
        elif link.is_dir():
            binds.append(link)
    # The scratch tmpfs comes first, so that a checkout or venv under /tmp (as in a CI clone)
    # is bound on top of it instead of being hidden by it.
    command += ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
    made = {Path("/tmp")}
    for path in binds:
        for parent in _ancestors(path):
            if parent not in made and parent not in binds:
                made.add(parent)
                command += ["--perms", "0755", "--dir", str(parent)]
        command += ["--ro-bind", str(path), str(path)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        command += ["--ro-bind-try", etc, etc]
    command += ["--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp"]
    for name, value in ENVIRONMENT.items():
        command += ["--setenv", name, value]
    if os.geteuid() == 0:
        # The runner needs these two to drop to its own user id; every other one is gone.
        command += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command += ["--cap-drop", "ALL"]
    return command + [python]


def _unshare_command(python):
    return ["unshare", "--net", "--ipc", "--uts", "--pid", "--fork", "--kill-child", "--mount-proc", python]


@cache
def mechanism():
    """The strongest sandbox that works here: 'bwrap', 'unshare' or 'rlimits'."""
    python = sys.executable
    probe = [*RUNNER[:1], "-c", "import numpy"]
    if shutil.which("bwrap") and _works(_bwrap_command(python) + probe):
        return "bwrap"
    if os.geteuid() == 0 and shutil.which("unshare") and _works(_unshare_command(python) + probe):
        return "unshare"
    return "rlimits"


def _works(command):
    try:
        return subprocess.run(command, check=False, capture_output=True, timeout=120, env=_host_env()).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _host_env():
    return {**ENVIRONMENT, "PATH": os.environ.get("PATH", ENVIRONMENT["PATH"])}


def warning():
    """The loud warning for a weak mechanism, or ''."""
    return WARNINGS.get(mechanism(), "")


def command_for(kind, result_fd):
    python = sys.executable
    prefix = {"bwrap": _bwrap_command, "unshare": _unshare_command}.get(kind)
    return (prefix(python) if prefix else [python]) + RUNNER + [str(result_fd)]


def run(job, limits, slot=0, kind=None):
    """Run ``job`` (see ``autograder.runner``) under ``limits``; return a ``Run``."""
    kind = kind or mechanism()
    key = secrets.token_bytes(32)
    root = os.geteuid() == 0
    uid = BASE_UID + slot if root else None
    job = {**job, "key": key.hex(), "uid": uid, "memory_mb": limits.memory_mb,
           "cpu_s": int(limits.notebook_timeout + STARTUP_TIMEOUT_S), "nproc": NPROC,
           # kill(-1) reaches only the sandbox: its pid namespace, or its own user id.
           "sweep": kind != "rlimits" or root}
    return _Watch(job, limits, key, kind, uid).run()


class _Watch:
    """The grader's side of one runner process."""

    def __init__(self, job, limits, key, kind, uid):
        self.job, self.limits, self.key, self.kind, self.uid = job, limits, key, kind, uid
        self.result = Run()
        self.started = 0.0
        self.buffer = b""
        self.phase = "startup"
        self.cell = None
        self.cell_started = 0.0
        self.ended = 0.0  # when the runner said "end"
        self.memory_peak = 0

    def run(self):
        self.started = started = time.monotonic()
        result_read, result_write = os.pipe()
        output_read, output_write = os.pipe()
        try:
            process = subprocess.Popen(
                command_for(self.kind, result_write), stdin=subprocess.PIPE, stdout=output_write,
                stderr=output_write, pass_fds=(result_write,), start_new_session=True, env=_host_env(), cwd="/tmp")
        except OSError as error:
            for fd in (result_read, result_write, output_read, output_write):
                os.close(fd)
            self.result.failure = f"не удалось запустить песочницу: {error}"
            self.result.status = "grader error"
            return self.result
        os.close(result_write)
        os.close(output_write)
        with _running_lock:
            _running.add(process)
        payload = json.dumps(self.job).encode()
        threading.Thread(target=_feed, args=(process.stdin, payload), daemon=True).start()
        try:
            self._watch(process, result_read, output_read, started)
        finally:
            _kill_tree(process, self.uid)
            with _running_lock:
                _running.discard(process)
            os.close(result_read)
            os.close(output_read)
        self.result.wall_s = time.monotonic() - started
        return self.result

    def _watch(self, process, result_read, output_read, started):
        selector = selectors.DefaultSelector()
        selector.register(result_read, selectors.EVENT_READ, "result")
        selector.register(output_read, selectors.EVENT_READ, "output")
        open_pipes = 2
        next_poll = 0.0
        deadline_notebook = None
        while open_pipes:
            for key, _ in selector.select(timeout=MEMORY_POLL_S / 2):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fd)
                    open_pipes -= 1
                elif key.data == "output":
                    self._output(data)
                else:
                    self._results(data)
            now = time.monotonic()
            if self.phase == "startup" and now - started > STARTUP_TIMEOUT_S:
                return self._stop(process, "timeout", f"запуск проверки занял больше {STARTUP_TIMEOUT_S} с")
            if self.phase == "cells":
                deadline_notebook = deadline_notebook or now + self.limits.notebook_timeout
                if self.cell is not None and now - self.cell_started > self.limits.timeout:
                    return self._stop(process, "timeout", f"ячейка выполнялась дольше {self.limits.timeout:g} с")
                if now > deadline_notebook:
                    return self._stop(process, "timeout",
                                      f"вся тетрадь выполнялась дольше {self.limits.notebook_timeout:g} с")
            if now >= next_poll:
                next_poll = now + MEMORY_POLL_S
                used = _private_memory(process.pid)
                self.memory_peak = max(self.memory_peak, used)
                if used > self.limits.memory_mb * 2**20:
                    return self._stop(process, "memory limit",
                                      f"память превысила {self.limits.memory_mb} МБ")
            if self.ended and (open_pipes < 2 or now - self.ended > END_GRACE_S):
                break  # the runner has exited, or has had its moment to
        returncode = process.wait()
        if not self.ended and not self.result.failure:
            near_limit = self.memory_peak > 0.8 * self.limits.memory_mb * 2**20
            why = "память на пределе" if near_limit else _exit_reason(returncode)
            self._stop(process, "memory limit" if near_limit else "kernel died",
                       f"процесс проверки завершился ({why})")

    def _stop(self, process, status, message):
        _kill_tree(process, self.uid)
        self._set_status(status)
        self.result.stopped_at = self.cell
        self.result.notes.append(message)
        if self.cell is not None:
            self.result.verdicts[self.cell] = (False, message)

    def _set_status(self, status):
        if self.result.status == "ok":
            self.result.status = status

    def _output(self, data):
        room = OUTPUT_CAP - len(self.result.output)
        if room > 0:
            self.result.output += data[:room]
        self.result.output_dropped += max(0, len(data) - max(room, 0))

    def _results(self, data):
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        if len(self.buffer) > OUTPUT_CAP:
            self.buffer = b""
            self._tampered("слишком длинное сообщение в канале результатов")
        for line in lines:
            mac, _, payload = line.partition(b" ")
            expected = hmac.new(self.key, payload, hashlib.sha256).hexdigest().encode()
            if not hmac.compare_digest(mac, expected):
                self._tampered("поддельное сообщение в канале результатов")
                continue
            event, index, ok, mem, tamper, message = payload.split(b" ")
            self._event(event.decode(), int(index), ok == b"1", mem == b"1", tamper == b"1",
                        bytes.fromhex(message.decode()).decode("utf-8", "replace"))

    def _tampered(self, note):
        if note not in self.result.notes:
            self.result.notes.append(note)
        self._set_status("tampering")

    def _event(self, kind, index, ok, mem, tamper, message):
        if kind == "ready":
            self.phase = "cells"
            self.result.startup_s = time.monotonic() - self.started
        elif kind == "start":
            self.cell, self.cell_started = index, time.monotonic()
        elif kind == "done":
            if index != self.cell or index in self.result.verdicts:
                self._tampered("нарушен порядок сообщений о ячейках")
                return
            self.result.verdicts[index] = (ok, message)
            if mem:
                self._set_status("memory limit")
            if tamper:
                self._tampered("решение вмешивалось в проверку во время теста")
            self.cell = None
        elif kind == "changes":
            self.result.changes.update(message.split("\n"))
        elif kind == "end":
            self.ended = time.monotonic()
        elif kind in ("setup_error", "crash"):
            self.result.failure = f"{kind}: {message}"
            self._set_status("grader error")
            self.ended = time.monotonic()


def stop_all():
    """Kill every sandbox still running (Ctrl-C): their watchers then finish at once."""
    with _running_lock:
        processes = list(_running)
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _feed(stream, payload):
    try:
        stream.write(payload)
        stream.close()
    except (BrokenPipeError, OSError):
        pass


def _descendants(pid):
    """``pid`` and every process below it, from /proc/<pid>/task/*/children (no scan of /proc)."""
    found, queue = [], [pid]
    while queue and len(found) < 4 * NPROC:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    queue.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def _private_memory(pid):
    """Resident memory not shared with files (numpy's and torch's libraries), of the whole tree."""
    pages = 0
    for process in _descendants(pid):
        try:
            with open(f"/proc/{process}/statm") as statm:
                fields = statm.read().split()
            pages += int(fields[1]) - int(fields[2])  # resident minus file-backed shared
        except (OSError, IndexError, ValueError):
            pass
    return pages * PAGE_BYTES


def _exit_reason(returncode):
    if returncode is not None and returncode < 0:
        try:
            return f"сигнал {signal.Signals(-returncode).name}"
        except ValueError:
            return f"сигнал {-returncode}"
    return f"код выхода {returncode}"


def _kill_tree(process, uid):
    """Kill the runner, everything it started, and (as root) everything of its user id."""
    try:
        victims = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        victims = []
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for victim in victims:
        try:
            victim.kill()
        except psutil.Error:
            pass
    if uid is not None:
        for victim in psutil.process_iter(["uids"]):
            try:
                if victim.info["uids"] and victim.info["uids"].real == uid:
                    victim.kill()
            except psutil.Error:
                pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
