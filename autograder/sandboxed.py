"""What both processes of a sandbox do first: become their own user, take limits, seed."""

import os
import random
import resource
import sys

from autograder import settings


def drop_privileges(uid):
    """Become the sandbox's own user (when started as root inside the sandbox).

    What the protocol itself imports lazily is imported first: outside bubblewrap the
    interpreter's files may be closed to that user.
    """
    import numpy.random  # noqa: F401 - see above

    if uid is None:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise RuntimeError("не удалось сбросить права root")


def limit_resources(job):
    limits = [(resource.RLIMIT_CPU, job["cpu_s"]), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_FSIZE, settings.FILE_SIZE_BYTES), (resource.RLIMIT_NPROC, settings.NPROC)]
    if job.get("address_space_mb"):  # only where no cgroup limits the memory
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * resource.getpagesize()
        limits.append((resource.RLIMIT_AS, used + job["address_space_mb"] * 2**20))
    for limit, value in limits:
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass  # e.g. NPROC is not lowered for root outside a namespace; the grader warns


def seed(value):
    random.seed(value)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(value)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(value)
