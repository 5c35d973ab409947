"""A throwaway PostgreSQL server on 127.0.0.1 for the tests, from the machine's initdb/pg_ctl.

initdb refuses to run as root (CI runs as root), so as root the cluster is owned by and run as the
unprivileged user ``nobody``; as anyone else, as that user. The data folder lives under /tmp (pytest's
own temp folders are 0700 root, unreadable to ``nobody``), fsync is off (a test cluster), and the
server is stopped with ``-m immediate`` when the session ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
START_TIMEOUT_S = 30


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    superuser: str

    def url(self, database: str, user: str | None = None) -> str:
        return f"postgresql://{user or self.superuser}@{self.host}:{self.port}/{database}"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
            return str(candidate)
        raise RuntimeError(f"{name} not found: install PostgreSQL (e.g. apt-get install postgresql)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", *argv]


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    base = Path(tempfile.mkdtemp(prefix="tpi-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "nobody", "nogroup")
    data, log = base / "data", base / "server.log"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "HOME": str(base)}
    port = _free_port()
    try:
        subprocess.run(
            _as_owner([_binary("initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                       "--locale=C.UTF-8", "--no-sync"]),
            check=True, capture_output=True, env=env, cwd=base, timeout=120,
        )
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        subprocess.run(
            _as_owner([_binary("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", str(START_TIMEOUT_S),
                       "-o", options, "start"]),
            check=True, capture_output=True, env=env, cwd=base, timeout=START_TIMEOUT_S + 10,
        )
    except subprocess.CalledProcessError as error:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {error.stderr.decode(errors='replace')}{server_log}") from None
    try:
        yield Server("127.0.0.1", port, SUPERUSER)
    finally:
        subprocess.run(_as_owner([_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       check=False, capture_output=True, env=env, cwd=base, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def create_database(server: Server, name: str) -> str:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)


def drop_database(server: Server, name: str) -> None:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
