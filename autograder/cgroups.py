"""A control group per sandbox: the kernel limits its memory, CPU share and processes, and kills all of it.

Memory is counted by the kernel once per page (copy-on-write after ``fork`` and shared memory
included), the CPU quota keeps one sandbox from starving another, ``pids`` bounds fork bombs,
and at the end every process in the group is killed (frozen first, so none escapes by forking).
cgroup v1 (separate hierarchies per controller) and v2 (one unified tree) are both handled;
each group is created below the grader's own group, so an outer limit still applies.
Where neither can be used, ``available()`` is '' and the grader says so loudly.
"""

import os
import signal
import time
from functools import cache
from pathlib import Path

V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")
CPU_PERIOD_US = 100_000
KILL_WAIT_S = 10.0


def _mounts():
    found = {}
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            _, where, kind, options, *_ = line.split()
            if kind == "cgroup2":
                found.setdefault("unified", where)
            elif kind == "cgroup":
                for option in options.split(","):
                    if option in V1_CONTROLLERS:
                        found[option] = where
    return found


def _own_paths():
    """Our own group in each hierarchy: controller (or '' for v2) -> path."""
    paths = {}
    with open("/proc/self/cgroup") as groups:
        for line in groups:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


@cache
def _layout():
    """('v1', {controller: base dir}) or ('v2', base dir) or ('', reason)."""
    mounts, own = _mounts(), _own_paths()
    if all(c in mounts for c in V1_CONTROLLERS):
        bases = {c: Path(mounts[c] + own.get(c, "/")) / "autograder" for c in V1_CONTROLLERS}
        return "v1", bases
    unified = mounts.get("unified")
    if unified and Path(unified, "cgroup.controllers").is_file():
        base = Path(unified + own.get("", "/"))
        try:
            wanted = {"memory", "cpu", "pids"}
            if not wanted <= set(Path(base, "cgroup.controllers").read_text().split()):
                return "", "в cgroup v2 нет контроллеров memory, cpu и pids"
            Path(base, "cgroup.subtree_control").write_text("+memory +cpu +pids")
        except OSError as error:
            return "", f"cgroup v2 не делегирован процессу проверки ({error.strerror})"
        return "v2", base
    return "", "не найдены контроллеры memory, cpu, cpuacct, pids и freezer"


@cache
def available():
    """'v1', 'v2' or '' (then ``problem()`` says why), checked by making and removing a group."""
    kind, _ = _layout()
    if not kind:
        return ""
    try:
        Group(f"probe-{os.getpid()}", 64 * 2**20, 1.0, 16).remove()
    except OSError:
        return ""
    return kind


def problem():
    kind, detail = _layout()
    if kind and not available():
        return "нет прав создавать группы (нужен root)"
    return "" if kind else detail


class Group:
    def __init__(self, name, memory_bytes, cpus, pids):
        self.kind, bases = _layout()
        if self.kind == "v1":
            self.dirs = {c: base / name for c, base in bases.items()}
        else:
            self.dirs = {c: bases / f"autograder-{name}" for c in ("memory", "cpu", "cpuacct", "pids", "freezer")}
        for folder in set(self.dirs.values()):
            if folder.exists():
                _empty(folder, self.kind)  # a group left by a grader that was killed
            folder.mkdir(parents=True, exist_ok=True)
        quota = f"{int(cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}"
        if self.kind == "v1":
            swap = (self.dirs["memory"] / "memory.memsw.limit_in_bytes").exists()
            if swap:  # memsw may never be below the limit: lift it first (a reused group may hold a lower one)
                self._write("memory", "memory.memsw.limit_in_bytes", -1)
            self._write("memory", "memory.limit_in_bytes", memory_bytes)
            if swap:
                self._write("memory", "memory.memsw.limit_in_bytes", memory_bytes)  # no swapping around it
            self._write("cpu", "cpu.cfs_period_us", CPU_PERIOD_US)
            self._write("cpu", "cpu.cfs_quota_us", int(cpus * CPU_PERIOD_US))
            self._write("pids", "pids.max", pids)
        else:
            self._write("memory", "memory.max", memory_bytes)
            self._write("memory", "memory.swap.max", 0, optional=True)
            self._write("cpu", "cpu.max", quota)
            self._write("pids", "pids.max", pids)

    def _write(self, controller, name, value, optional=False):
        try:
            (self.dirs[controller] / name).write_text(str(value))
        except OSError:
            if not optional:
                raise

    def _read(self, controller, name):
        try:
            return (self.dirs[controller] / name).read_text()
        except OSError:
            return ""

    def procs_files(self):
        """Where a process writes its pid to join the group (one per hierarchy)."""
        return sorted({str(folder / "cgroup.procs") for folder in self.dirs.values()})

    def cpu_seconds(self):
        if self.kind == "v1":
            text = self._read("cpuacct", "cpuacct.usage").strip()
            return int(text) / 1e9 if text.isdigit() else 0.0
        for line in self._read("cpu", "cpu.stat").splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
        return 0.0

    def oom_kills(self):
        name = "memory.oom_control" if self.kind == "v1" else "memory.events"
        for line in self._read("memory", name).splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        if self.kind == "v1":  # kernels before 4.13: a failed charge is the best sign
            text = self._read("memory", "memory.failcnt").strip()
            return 1 if text.isdigit() and int(text) else 0
        return 0

    def memory_peak(self):
        name = "memory.max_usage_in_bytes" if self.kind == "v1" else "memory.peak"
        text = self._read("memory", name).strip()
        return int(text) if text.isdigit() else 0

    def kill(self):
        """Kill every process in the group and wait until it is empty."""
        for folder in set(self.dirs.values()):
            _empty(folder, self.kind)

    def remove(self):
        self.kill()
        for folder in set(self.dirs.values()):
            for _ in range(500):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # the kernel frees a group shortly after its last process exits


def _pids(folder):
    try:
        return [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _empty(folder, kind):
    if kind == "v2" and (folder / "cgroup.kill").exists():
        try:
            (folder / "cgroup.kill").write_text("1")
        except OSError:
            pass
    freezer = folder / "freezer.state"
    frozen = kind == "v1" and freezer.exists()
    if frozen:
        try:
            freezer.write_text("FROZEN")
        except OSError:
            frozen = False
    deadline = time.monotonic() + KILL_WAIT_S
    try:
        while time.monotonic() < deadline:
            pids = _pids(folder)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if frozen:
                _thaw(freezer)  # killed processes die only once thawed
                frozen = False
            time.sleep(0.01)
    finally:
        if frozen:  # never leave a group frozen: a process joining it later would stop at once
            _thaw(freezer)


def _thaw(freezer):
    try:
        freezer.write_text("THAWED")
    except OSError:
        pass
