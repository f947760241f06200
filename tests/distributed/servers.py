"""PostgreSQL and Redis from Debian's packages, started by the distributed tier itself (no Docker, no system
service): each server runs as a child process on a free loopback port, with its data in a temporary folder, and
is stopped by process id when the tier ends, also on failure."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from airflow_provider_creatio.testing.deployment import free_port

POSTGRES_USER = "airflow"
POSTGRES_DB = "airflow"
_UP_LIMIT = 60.0


class ServerMissingError(RuntimeError):
    """A server binary is not installed (``.ci/run`` installs it with apt)."""


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise ServerMissingError("PostgreSQL is not installed: apt-get install postgresql")
    return found[-1].parent


def _as_postgres_user(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` user the Debian package creates."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _wait_for_port(what: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _UP_LIMIT
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited ({process.returncode}):\n{log.read_text(errors='replace')[-3000:]}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on {port} within {_UP_LIMIT:.0f} s")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    """``sig`` to the server's process group, then SIGKILL if it is still there 30 s later."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh PostgreSQL cluster with database ``airflow``; its SQLAlchemy URL for Airflow."""
    binaries = _postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="creatio-pg-"))
    data, log = folder / "data", folder / "postgres.log"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres_user(
            [str(binaries / "initdb"), "-D", str(data), "-U", POSTGRES_USER, "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    settings = [
        f"port={port}",
        "listen_addresses=127.0.0.1",
        f"unix_socket_directories={folder}",
        "max_connections=400",
        # A throw-away test database: durability costs time and buys nothing here.
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
    ]
    command = [str(binaries / "postgres"), "-D", str(data)] + [arg for s in settings for arg in ("-c", s)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            _as_postgres_user(command), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for_port("PostgreSQL", port, process, log)
        subprocess.run(
            [
                str(binaries / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                POSTGRES_USER,
                POSTGRES_DB,
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://{POSTGRES_USER}@127.0.0.1:{port}/{POSTGRES_DB}"
    finally:
        _stop(process, signal.SIGINT)  # PostgreSQL's "fast" shutdown
        shutil.rmtree(folder, ignore_errors=True)


def dump_database(url: str, path: Path) -> None:
    """``pg_dump`` of the database at ``url`` (as :func:`postgres_server` gives it) into ``path``."""
    plain = url.replace("+psycopg2", "")
    subprocess.run(
        [str(_postgres_bin() / "pg_dump"), "--file", str(path), plain], check=True, capture_output=True
    )


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A Redis server that keeps nothing on disk; its URL (the Celery broker)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerMissingError("Redis is not installed: apt-get install redis-server")
    folder = Path(tempfile.mkdtemp(prefix="creatio-redis-"))
    log, port = folder / "redis.log", free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for_port("Redis", port, process, log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process, signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)
