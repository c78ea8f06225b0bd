"""Throwaway PostgreSQL clusters for the fault-injection runs and the replica test: `initdb`
(or `pg_basebackup -R` from another cluster) into a temporary folder, listening on loopback
only, owned by the `postgres` OS user when we are root (PostgreSQL refuses to run as root).
The shared server is never touched."""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def pg_bin() -> Path:
    """The newest installed server's binaries (Debian keeps them out of PATH)."""
    return Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent


def as_postgres(command: list[str]) -> list[str]:
    """`command`, run as the `postgres` OS user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def private_dir(prefix: str) -> Path:
    """A temporary folder the `postgres` OS user owns when we are root."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def wait_until(predicate, timeout: float, step: float = 0.2) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


class Postgres:
    """A private cluster in a temporary folder, listening on 127.0.0.1:`port` with fsync on."""

    def __init__(self, port: int, *, database: str = "chaos", prefix: str = "bankledger-chaos-pg-"):
        self.port = port
        self.bin = pg_bin()
        self.dir = private_dir(prefix)
        self.data = self.dir / "data"
        self.logfile = self.dir / "postgres.log"
        self.url = f"postgres://postgres@127.0.0.1:{port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = as_postgres([str(self.bin / args[0]), *args[1:]])
        return subprocess.run(command, check=check, capture_output=True, text=True, cwd=self.dir)

    def init(self) -> None:
        # --no-sync: a throwaway cluster need not survive an OS crash before its first start.
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def clone(self, primary: "Postgres") -> None:
        """A streaming standby of `primary` (which must allow replication connections, as a
        fresh `initdb` with trust on loopback does): `pg_basebackup -R` writes the
        `primary_conninfo` and `standby.signal` that make it follow."""
        self._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.data),
            "-R",
            "-X",
            "stream",
            # An immediate checkpoint: the default spread one waits minutes on an idle server.
            "--checkpoint=fast",
        )

    def start(self, *settings: str) -> None:
        """Start it; each of `settings` is one extra `name=value` server setting."""
        options = " ".join(
            [
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on",
                "-c synchronous_commit=on -c max_connections=200",
                *(f"-c {setting}" for setting in settings),
            ]
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            f"postgres://postgres@127.0.0.1:{self.port}/{database}", autocommit=True
        )

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        with self.connect(database) as connection:
            cursor = connection.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def signal_all(self, signum: int) -> None:
        """Send `signum` to the postmaster, then to every backend and worker it forked: a
        SIGSTOP to the postmaster alone would leave the backends already open answering."""
        postmaster = self.pid()
        for pid in [postmaster, *children(postmaster)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def children(parent: int) -> list[int]:
    """The processes whose parent is `parent`, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


def free_port() -> int:
    """A loopback port nobody listens on now, picked by the OS: parallel test runs on one
    machine never reach for the same fixed port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
