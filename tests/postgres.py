"""A throwaway PostgreSQL server for tests: initdb + pg_ctl in a temp folder, unix socket only.

initdb refuses to run as root, so under root the server runs as ``nobody`` in a folder that
user owns. No TCP port is opened: clients reach it through the socket in that folder.
"""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

USER = "postgres"  # the superuser initdb creates; trust authentication over the socket only


def _bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        pytest.skip("PostgreSQL is not installed (scripts/ensure_system_tools.sh installs it)")
    return found[-1]


def _as_owner(command, owner):
    if owner is None:
        return command
    return ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups", *command]


class Server:
    def __init__(self, folder, owner):
        self.folder, self.owner = folder, owner

    def run(self, *command):
        subprocess.run(_as_owner(list(command), self.owner), check=True, capture_output=True, text=True,
                       env={**os.environ, "LC_ALL": "C.UTF-8"})

    def database(self):
        """A new, empty database; its SQLAlchemy URL."""
        name = "grades_" + uuid.uuid4().hex[:8]
        self.run(_bin("createdb"), "-h", str(self.folder), "-U", USER, name)
        return f"postgresql+psycopg://{USER}@/{name}?host={self.folder}"


@contextlib.contextmanager
def server():
    """Start a server, yield it, stop it (pg_ctl -w waits for each step: no sleeps)."""
    owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))  # short: a socket path has ~100 bytes
    os.chmod(folder, 0o755)
    if owner:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data = folder / "data"
    srv = Server(folder, owner)
    try:
        srv.run(_bin("initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories='{folder}' -c fsync=off"
        srv.run(_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
        try:
            yield srv
        finally:
            srv.run(_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
