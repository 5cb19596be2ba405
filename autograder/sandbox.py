"""Starts the two processes of one submission, each in a sandbox of its own, and watches them.

The student's process (``autograder.student_side``) runs the answer cells; the tests' process
(``autograder.trusted_side``) runs setup and tests and reports each verdict on a pipe only it
has. They talk through two pipes carrying plain data (``autograder.protocol``). Each process:

* runs under the strongest mechanism present, and anything weaker is announced loudly:
  ``bwrap`` (bubblewrap: new pid, network, IPC and UTS namespaces, a root file system of
  read-only binds of only what Python needs — /usr, the base Python, the venv, and the few
  modules of ``autograder`` and ``dlcourse.checks`` that the two sides import — and a private
  tmpfs as /tmp), ``unshare`` (root only: the namespaces, but the whole file system is seen),
  or ``rlimits`` alone;
* has its own user id, leased machine-wide (``autograder.uids``), so the two never share
  memory, signals or ptrace, and no other grader's sandbox is ever touched;
* has its own control group (``autograder.cgroups``): memory, a CPU quota and a process limit
  enforced by the kernel, and every process of it killed at the end.

This side enforces, per cell, the CPU time of the student's group (``--timeout``) and a wall
clock limit (``settings.WALL_FACTOR`` × ``--timeout``), and the wall time of the whole
notebook; it caps the captured output. Without control groups the limits fall back to wall
clock time per cell and polled memory.
"""

import json
import os
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

from autograder import cgroups, settings, uids

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = [ROOT / "autograder" / name for name in
           ("__init__.py", "settings.py", "protocol.py", "sandboxed.py", "student_side.py", "trusted_side.py",
            "proxies.py")] + [ROOT / "dlcourse" / name for name in ("__init__.py", "checks.py")]
END_GRACE_S = 2.0  # after "end", output still drains until the processes exit
POLL_S = 0.05
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
TRUSTED_OUTPUT_CAP = 64 * 2**10
ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": settings.HASH_SEED,
    "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/.matplotlib", "IPYTHONDIR": "/tmp/.ipython", "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TORCH_NUM_THREADS": "1",
}
INSTALL = "Установите bubblewrap: sudo apt-get install bubblewrap (или bash scripts/ensure_system_tools.sh)."
WARNINGS = {
    "unshare": "bubblewrap (bwrap) не найден: песочница на unshare — сеть, процессы и пользователь "
               "изолированы, но файловая система видна целиком (решения могут читать solutions/). " + INSTALL,
    "rlimits": "ни bubblewrap, ни unshare недоступны: работает только ограничение ресурсов (rlimits) "
               "и отдельный пользователь — нет изоляции сети и файловой системы. " + INSTALL,
}

_running = set()  # processes being watched, for stop_all()
_running_lock = threading.Lock()


@dataclass
class Limits:
    timeout: float = settings.CELL_CPU_S
    notebook_timeout: float = settings.NOTEBOOK_FACTOR * settings.CELL_CPU_S
    memory_mb: int = settings.MEMORY_MB


@dataclass
class Run:
    """What happened to one submission: verdicts by cell index, and why it stopped if it did."""

    verdicts: dict = field(default_factory=dict)  # cell index -> (ok, message)
    error_types: dict = field(default_factory=dict)  # answer cell index -> exception type
    status: str = "ok"
    notes: list = field(default_factory=list)
    output: bytes = b""
    output_dropped: int = 0
    trusted_output: bytes = b""
    startup_s: float = 0.0
    wall_s: float = 0.0
    cells_s: float = 0.0  # wall time from the end of start-up: what the notebook limit counts
    cpu_s: float = 0.0
    failure: str = ""  # the instructor's or the grader's problem, not the student's
    stopped_at: int | None = None  # the cell that was running when the student's process stopped


def python_command(entry, fds):
    # -s and -P keep the user's site-packages and the current folder off sys.path; -I would
    # also drop PYTHONHASHSEED, which a regrade needs to repeat string hashing.
    return [sys.executable, "-s", "-P", "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); from autograder import {entry}; {entry}.main()",
            *map(str, fds)]


def _ancestors(path):
    return [parent for parent in reversed(path.parents) if parent != Path("/")]


def _bwrap_prefix():
    """bwrap arguments that expose read-only only what the two sides need."""
    base = Path(sys.base_prefix).resolve()
    venv = Path(sys.prefix).resolve()
    binds = [Path("/usr"), base, venv, *RUNTIME]
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
    command += ["--perms", "1777", "--size", str(settings.TMPFS_BYTES), "--tmpfs", "/tmp"]
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
        # The processes need these two to drop to their own user id; every other one is gone.
        command += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command += ["--cap-drop", "ALL"]
    return command


def _prefix(kind):
    if kind == "bwrap":
        return _bwrap_prefix()
    if kind == "unshare":
        return ["unshare", "--net", "--ipc", "--uts", "--pid", "--fork", "--kill-child", "--mount-proc"]
    return []


def _joining(group, command):
    """``command`` started inside ``group``: the shell writes its pid there, then becomes the command."""
    if group is None:
        return command
    script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *group.procs_files(), "--", *command]


@cache
def mechanism():
    """The strongest sandbox that works here: 'bwrap', 'unshare' or 'rlimits'."""
    probe = [sys.executable, "-s", "-P", "-c", "import numpy"]
    if shutil.which("bwrap") and _works(_bwrap_prefix() + probe):
        return "bwrap"
    if os.geteuid() == 0 and shutil.which("unshare") and _works(_prefix("unshare") + probe):
        return "unshare"
    return "rlimits"


def _works(command):
    try:
        return subprocess.run(command, check=False, capture_output=True, timeout=120, env=_host_env()).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _host_env():
    return {**ENVIRONMENT, "PATH": os.environ.get("PATH", ENVIRONMENT["PATH"])}


def warnings():
    """The loud warnings for a weak mechanism or missing control groups."""
    found = [WARNINGS[mechanism()]] if mechanism() in WARNINGS else []
    if not cgroups.available():
        found.append(f"контрольные группы (cgroups) недоступны — {cgroups.problem()}: память опрашивается "
                     "извне, пределы времени на ячейку — по часам, а не по процессорному времени, и квоты "
                     "процессора нет (одна работа может замедлить другие).")
    return found


class _Side:
    """One sandboxed process: its uid lease, control group and pipes."""

    def __init__(self, memory_mb):
        self.lease = uids.lease() if os.geteuid() == 0 else None
        self.uid = self.lease.uid if self.lease else None
        self.group = None
        if cgroups.available() and self.uid is not None:
            self.group = cgroups.Group(str(self.uid), memory_mb * 2**20, settings.SANDBOX_CPUS, settings.NPROC)
        self.process = None

    def start(self, kind, entry, fds, output_fd, job):
        command = _joining(self.group, _prefix(kind) + python_command(entry, fds))
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=output_fd, stderr=output_fd,
                                        pass_fds=fds, start_new_session=True, env=_host_env(), cwd="/tmp")
        with _running_lock:
            _running.add(self.process)
        payload = _payload({**job, "uid": self.uid})
        threading.Thread(target=_feed, args=(self.process.stdin, payload), daemon=True).start()

    def cpu_seconds(self):
        if self.group is not None:
            return self.group.cpu_seconds()
        try:
            process = psutil.Process(self.process.pid)
            return sum(sum(p.cpu_times()[:2]) for p in [process, *process.children(recursive=True)])
        except psutil.Error:
            return 0.0

    def kill(self):
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.group is not None:
            self.group.kill()
        elif self.uid is not None:  # only our own leased uid: no other grader's sandbox has it
            for victim in psutil.process_iter(["uids"]):
                try:
                    if victim.info["uids"] and victim.info["uids"].real == self.uid:
                        victim.kill()
                except psutil.Error:
                    pass
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            with _running_lock:
                _running.discard(self.process)

    def close(self):
        self.kill()
        if self.group is not None:
            self.group.remove()
        if self.lease is not None:
            self.lease.release()


def run(student_job, trusted_job, limits, kind=None):
    """Grade one submission's cells under ``limits``; return a ``Run``."""
    kind = kind or mechanism()
    cpu_s = int(limits.notebook_timeout + settings.STARTUP_TIMEOUT_S)
    memory = None if cgroups.available() else limits.memory_mb  # rlimit only where no group counts it
    student_job = {**student_job, "cpu_s": cpu_s, "address_space_mb": memory}
    trusted_job = {**trusted_job, "cpu_s": cpu_s, "address_space_mb": None}
    return _Watch(limits, kind).run(student_job, trusted_job)


class _Watch:
    """The grader's side of one submission's two processes."""

    def __init__(self, limits, kind):
        self.limits, self.kind = limits, kind
        self.result = Run()
        self.phase = "startup"
        self.cell = None
        self.cell_started = self.cell_cpu = 0.0
        self.ended = 0.0
        self.gone = None  # (index, message) when the tests' process lost the student's
        self.memory_peak = 0

    def run(self, student_job, trusted_job):
        self.started = started = time.monotonic()
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        events_r, events_w = os.pipe()
        student_out_r, student_out_w = os.pipe()
        trusted_out_r, trusted_out_w = os.pipe()
        child_ends = [request_r, request_w, reply_r, reply_w, events_w, student_out_w, trusted_out_w]
        ours = [events_r, student_out_r, trusted_out_r]
        self.student = self.trusted = None
        try:
            self.student = _Side(self.limits.memory_mb)
            self.trusted = _Side(settings.TRUSTED_MEMORY_MB)
            self.student.start(self.kind, "student_side", (request_r, reply_w), student_out_w, student_job)
            self.trusted.start(self.kind, "trusted_side", (request_w, reply_r, events_w), trusted_out_w, trusted_job)
        except (OSError, uids.NoFreeUid) as error:
            self.result.failure = f"не удалось запустить песочницу: {error}"
            self.result.status = "grader error"
        finally:
            for fd in child_ends:
                os.close(fd)
        try:
            if not self.result.failure:
                self._watch(events_r, student_out_r, trusted_out_r, started)
        finally:
            self.result.cpu_s = self.student.cpu_seconds() if self.student and self.student.process else 0.0
            for side in (self.trusted, self.student):
                if side is not None:
                    side.close()
            for fd in ours:
                os.close(fd)
        self.result.wall_s = time.monotonic() - started
        if self.result.startup_s:
            self.result.cells_s = self.result.wall_s - self.result.startup_s
        return self.result

    def _watch(self, events_r, student_out_r, trusted_out_r, started):
        selector = selectors.DefaultSelector()
        for fd, name in ((events_r, "events"), (student_out_r, "student"), (trusted_out_r, "trusted")):
            selector.register(fd, selectors.EVENT_READ, name)
        open_pipes, buffer, deadline, closed = 3, b"", None, set()
        while open_pipes:
            for key, _ in selector.select(timeout=POLL_S):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fd)
                    open_pipes -= 1
                    closed.add(key.data)
                elif key.data == "student":
                    self._output(data)
                elif key.data == "trusted":
                    self.result.trusted_output = (self.result.trusted_output + data)[:TRUSTED_OUTPUT_CAP]
                else:
                    buffer += data
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        self._event(json.loads(line))
            now = time.monotonic()
            if self.gone is not None:
                return self._lost(*self.gone)
            if self.phase == "startup" and now - started > settings.STARTUP_TIMEOUT_S:
                return self._stop("timeout", f"запуск проверки занял больше {settings.STARTUP_TIMEOUT_S} с")
            if self.phase == "cells":
                deadline = deadline or now + self.limits.notebook_timeout
                if self._over_cell_limit(now):
                    return
                if now > deadline:
                    return self._stop("timeout", f"вся тетрадь выполнялась дольше {self.limits.notebook_timeout:g} с")
            if self.student.group is None and self._over_polled_memory():
                return
            # After "end" the student's process sees its request pipe close, flushes and exits.
            if self.ended and ("student" in closed or now - self.ended > END_GRACE_S):
                return
            if "events" in closed and not self.ended:  # every event it sent has been read by now
                self.result.failure = "процесс тестов завершился, не сообщив результатов"
                self._set_status("grader error")
                return

    def _over_cell_limit(self, now):
        if self.cell is None:
            return False
        timeout = self.limits.timeout
        if self.student.group is not None:
            if self.student.cpu_seconds() - self.cell_cpu > timeout:
                self._stop("timeout", f"ячейка заняла больше {timeout:g} с процессорного времени")
                return True
            if now - self.cell_started > settings.WALL_FACTOR * timeout:
                self._stop("timeout", f"ячейка выполнялась дольше {settings.WALL_FACTOR * timeout:g} с")
                return True
        elif now - self.cell_started > timeout:
            self._stop("timeout", f"ячейка выполнялась дольше {timeout:g} с")
            return True
        return False

    def _over_polled_memory(self):
        used = _private_memory(self.student.process.pid)
        self.memory_peak = max(self.memory_peak, used)
        if used > self.limits.memory_mb * 2**20:
            self._stop("memory limit", f"память превысила {self.limits.memory_mb} МБ")
            return True
        return False

    def _lost(self, index, message, protocol_broken):
        """The student's process ended, or broke the protocol, during cell ``index``."""
        process = self.student.process
        try:
            returncode = process.wait(timeout=END_GRACE_S)
        except subprocess.TimeoutExpired:
            returncode = None
        group = self.student.group
        near_limit = self.memory_peak > 0.8 * self.limits.memory_mb * 2**20
        if (group is not None and group.oom_kills()) or near_limit:
            status, why = "memory limit", f"память превысила {self.limits.memory_mb} МБ"
        elif protocol_broken:
            status, why = "tampering", message  # it wrote into the channel itself
        elif returncode is not None:
            status, why = "kernel died", f"процесс с кодом студента завершился ({_exit_reason(returncode)})"
        else:
            status, why = "tampering", message
        self._stop(status, why, index)

    def _stop(self, status, message, index=None):
        index = self.cell if index is None else index
        for side in (self.student, self.trusted):
            side.kill()
        self._set_status(status)
        self.result.stopped_at = index
        self.result.notes.append(message)
        if index is not None:
            self.result.verdicts[index] = (False, message)

    def _set_status(self, status):
        if self.result.status == "ok":
            self.result.status = status

    def _output(self, data):
        room = settings.OUTPUT_CAP - len(self.result.output)
        if room > 0:
            self.result.output += data[:room]
        self.result.output_dropped += max(0, len(data) - max(room, 0))

    def _event(self, event):
        kind, index = event.get("e"), event.get("i", -1)
        if kind == "ready":
            self.phase = "cells"
            self.result.startup_s = time.monotonic() - self.started
        elif kind == "start":
            self.cell, self.cell_started, self.cell_cpu = index, time.monotonic(), self.student.cpu_seconds()
        elif kind == "done":
            self.result.verdicts[index] = (bool(event.get("ok")), str(event.get("msg", "")))
            if event.get("error_type"):
                self.result.error_types[index] = str(event["error_type"])
            if event.get("memory"):
                self._set_status("memory limit")
            self.cell = None
        elif kind == "gone":
            self.gone = (index, str(event.get("msg", "")), bool(event.get("protocol")))
        elif kind == "end":
            self.ended = time.monotonic()
        elif kind in ("setup_error", "crash"):
            self.result.failure = f"{kind}: {event.get('msg', '')}"
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


def _payload(job):
    """The job as JSON: UTF-8 as it is (escaped, an emoji takes 12 bytes), escaped only where
    a student's text holds a lone surrogate, which UTF-8 cannot encode."""
    try:
        return json.dumps(job, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(job).encode("ascii")


def _feed(stream, payload):
    try:
        stream.write(payload)
        stream.close()
    except (BrokenPipeError, OSError):
        pass


def _descendants(pid):
    """``pid`` and every process below it, from /proc/<pid>/task/*/children (no scan of /proc)."""
    found, queue = [], [pid]
    while queue and len(found) < 4 * settings.NPROC:
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
    """Resident memory not shared with files, of the whole tree (where no control group counts it)."""
    pages = 0
    for process in _descendants(pid):
        try:
            with open(f"/proc/{process}/statm") as statm:
                fields = statm.read().split()
            pages += int(fields[1]) - int(fields[2])
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
