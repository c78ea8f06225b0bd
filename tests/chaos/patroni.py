"""A throwaway high-availability PostgreSQL on loopback: one etcd member and two PostgreSQL
nodes managed by Patroni with synchronous replication required for commit (Patroni's
synchronous mode, strict), all as plain processes with their files in one temporary folder,
run as the `postgres` OS user when we are root. Used by `make ha-chaos`."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.chaos.postgres import as_postgres, children, pg_bin, private_dir, wait_until

SCOPE = "bankledger-ha"


@dataclass
class Node:
    name: str
    pg_port: int
    rest_port: int
    process: subprocess.Popen | None = None

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"


def _dcs_settings() -> dict:
    """The cluster-wide settings Patroni writes into etcd when it bootstraps."""
    return {
        # ttl >= loop_wait + 2 * retry_timeout, as Patroni requires.
        "ttl": 20,
        "loop_wait": 2,
        "retry_timeout": 5,
        "synchronous_mode": True,
        # No commit is acknowledged unless a standby has it, even with no standby left.
        "synchronous_mode_strict": True,
        # A crashed primary is failed over (when a synchronous standby can take over), not
        # restarted in place.
        "primary_start_timeout": 0,
        "maximum_lag_on_failover": 0,
        "postgresql": {
            "use_pg_rewind": True,
            "parameters": {
                "wal_level": "replica",
                "hot_standby": "on",
                "wal_log_hints": "on",
                "max_wal_senders": 10,
                "max_replication_slots": 10,
                "max_connections": 200,
                "fsync": "on",
                "synchronous_commit": "on",
            },
        },
    }


class PatroniCluster:
    def __init__(self, *, pg_ports: tuple[int, int], rest_ports: tuple[int, int], etcd_port: int):
        self.dir = private_dir("bankledger-ha-")
        self.etcd_port = etcd_port
        self.etcd: subprocess.Popen | None = None
        self.nodes = [
            Node(f"node{n}", pg, rest)
            for n, (pg, rest) in enumerate(zip(pg_ports, rest_ports, strict=True), start=1)
        ]

    @property
    def url(self) -> str:
        """libpq's multi-host form: whichever node takes writes."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        return f"postgres://postgres@{hosts}/chaos?target_session_attrs=read-write"

    def _spawn(self, command: list[str], log_name: str) -> subprocess.Popen:
        log = (self.dir / log_name).open("ab")
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True
        )

    def start_etcd(self) -> None:
        client, peer = (
            f"http://127.0.0.1:{self.etcd_port}",
            f"http://127.0.0.1:{self.etcd_port + 1}",
        )
        self.etcd = self._spawn(
            as_postgres(
                [
                    "etcd",
                    "--name=ha",
                    f"--data-dir={self.dir / 'etcd'}",
                    f"--listen-client-urls={client}",
                    f"--advertise-client-urls={client}",
                    f"--listen-peer-urls={peer}",
                    f"--initial-advertise-peer-urls={peer}",
                    f"--initial-cluster=ha={peer}",
                ]
            ),
            "etcd.log",
        )
        if not wait_until(lambda: _get(f"{client}/health") == 200, timeout=30):
            raise RuntimeError(f"etcd did not start; see {self.dir / 'etcd.log'}")

    def _config(self, node: Node) -> Path:
        trust = ["local all all trust", "host all all 127.0.0.1/32 trust"]
        trust.append("host replication all 127.0.0.1/32 trust")
        config = {
            "scope": SCOPE,
            "name": node.name,
            "log": {"level": "INFO"},
            "restapi": {
                "listen": f"127.0.0.1:{node.rest_port}",
                "connect_address": f"127.0.0.1:{node.rest_port}",
            },
            "etcd3": {"hosts": f"127.0.0.1:{self.etcd_port}"},
            "bootstrap": {
                "dcs": _dcs_settings(),
                "initdb": [{"encoding": "UTF8"}, {"auth": "trust"}],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{node.pg_port}",
                "connect_address": f"127.0.0.1:{node.pg_port}",
                "data_dir": str(self.dir / node.name),
                "bin_dir": str(pg_bin()),
                "pgpass": str(self.dir / f"{node.name}.pgpass"),
                "pg_hba": trust,
                "authentication": {
                    "superuser": {"username": "postgres"},
                    "replication": {"username": "postgres"},
                    "rewind": {"username": "postgres"},
                },
                "parameters": {"unix_socket_directories": str(self.dir)},
            },
        }
        path = self.dir / f"{node.name}.yml"
        path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")
        return path

    def start_node(self, node: Node) -> None:
        node.process = self._spawn(
            as_postgres(["patroni", str(self._config(node))]), f"{node.name}.log"
        )

    def members(self) -> dict[str, dict]:
        """Name -> Patroni's view of that member (role, state, ...), from any node that answers."""
        for node in self.nodes:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                reply = httpx.get(f"{node.rest}/cluster", timeout=2).json()
                return {m["name"]: m for m in reply.get("members", [])}
        return {}

    def leader(self) -> Node | None:
        roles = {name: m.get("role") for name, m in self.members().items()}
        return next((n for n in self.nodes if roles.get(n.name) == "leader"), None)

    def healthy(self) -> bool:
        """A running leader and a streaming synchronous standby."""
        members = self.members().values()
        roles = sorted(
            m.get("role", "") for m in members if m.get("state") in {"running", "streaming"}
        )
        return roles == ["leader", "sync_standby"]

    def unreplicated_commits(self) -> int:
        """Commits whose wait for the synchronous standby was cancelled: PostgreSQL reports
        them to the client as done though only the primary has them."""
        return sum(
            log.read_text(errors="replace").count("canceling wait for synchronous replication")
            for log in self.dir.glob("node*.log")
        )

    def postmaster_pids(self, node: Node) -> list[int]:
        """The node's postmaster and its children: its PostgreSQL as the OS sees it."""
        pid_file = self.dir / node.name / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0])
        return [postmaster, *children(postmaster)]

    def stop(self) -> None:
        for process in [*(n.process for n in self.nodes), self.etcd]:
            _terminate(process)
        for node in self.nodes:  # whatever PostgreSQL a killed Patroni left running
            subprocess.run(
                as_postgres(
                    [
                        str(pg_bin() / "pg_ctl"),
                        "-D",
                        str(self.dir / node.name),
                        "-m",
                        "immediate",
                        "stop",
                    ]
                ),
                capture_output=True,
                check=False,
            )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _get(url: str) -> int | None:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=2).status_code
    return None


def _terminate(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
