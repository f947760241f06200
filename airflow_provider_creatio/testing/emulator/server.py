"""``EmulatorServer``: the emulator under uvicorn in a background thread, with a Python API for tests."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from airflow_provider_creatio.testing.emulator.app import build_app
from airflow_provider_creatio.testing.emulator.log import LoggedRequest
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.state import EmulatorState
from airflow_provider_creatio.testing.emulator.store import EntityStore

STARTUP_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 5.0


class EmulatorServer:
    """A running stand-in Creatio site. Use as a context manager::

        with EmulatorServer(EmulatorSettings(net_core=True)) as creatio:
            requests.post(f"{creatio.url}/ServiceModel/AuthService.svc/Login", json={...})

    ``settings`` is live: changing a field changes the next answer. ``port=0`` picks a free port.
    """

    def __init__(
        self, settings: EmulatorSettings | None = None, port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        self.state = EmulatorState(settings)
        self.host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self.state),
            log_config=None,  # leave the host process's logging alone (Airflow configures its own)
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._socket = sock
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="creatio-emulator", daemon=True
        )
        self._thread.start()
        self._wait_until_serving()
        return self

    def _wait_until_serving(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Creatio emulator did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(SHUTDOWN_TIMEOUT)
        if sock is not None:
            sock.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the test API -------------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self._port}"

    @property
    def settings(self) -> EmulatorSettings:
        return self.state.settings

    @settings.setter
    def settings(self, settings: EmulatorSettings) -> None:
        self.state.settings = settings

    @property
    def store(self) -> EntityStore:
        return self.state.store

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of the request log (admin endpoints excluded)."""
        return self.state.log.snapshot()

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many logged requests match the method (any case) and contain ``path_contains`` in their path."""
        return self.state.log.count(method, path_contains)

    @property
    def login_count(self) -> int:
        return self.state.log.login_count

    def expire_sessions(self) -> None:
        """End every session and revoke every bearer token now."""
        self.state.auth.expire_all()

    def script(
        self,
        path_regex: str,
        statuses: list[int],
        retry_after: float | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next requests whose path matches ``path_regex`` with ``statuses`` (see ``FaultPlan.script``)."""
        self.state.faults.script(path_regex, statuses, retry_after=retry_after, method=method)

    def reset(self) -> None:
        """Fresh seed data, empty log, no sessions, tokens or scripted faults. Settings are kept."""
        self.state.reset()
