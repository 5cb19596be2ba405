"""Sandbox user ids, leased under a lock that every grader process on the machine shares.

Each lease is an exclusive ``flock`` on a file named by the uid in one machine-wide folder:
two grading commands, or several workers of a cluster on one machine, never hand out the
same uid, and a lease ends by itself when its process dies, however it dies.
"""

import fcntl
import os
import random

from autograder import settings


class NoFreeUid(RuntimeError):
    pass


def _lock_dir():
    for folder in settings.UID_LOCK_DIRS:
        try:
            os.makedirs(folder, mode=0o755, exist_ok=True)
            return folder
        except OSError:
            continue
    raise NoFreeUid("нет папки для блокировок идентификаторов пользователей")


class Lease:
    def __init__(self, uid, fd):
        self.uid, self.fd = uid, fd

    def release(self):
        if self.fd is not None:
            os.close(self.fd)  # closing the file drops the lock
            self.fd = None


def lease():
    """A uid of the range that no other sandbox on this machine holds now."""
    folder = _lock_dir()
    start = random.randrange(settings.UID_COUNT)  # fewer collisions between graders starting together
    for step in range(settings.UID_COUNT):
        uid = settings.UID_FIRST + (start + step) % settings.UID_COUNT
        fd = os.open(os.path.join(folder, str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return Lease(uid, fd)
    raise NoFreeUid(f"все {settings.UID_COUNT} идентификаторов песочниц заняты")
