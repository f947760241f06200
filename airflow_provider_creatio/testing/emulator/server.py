"""``EmulatorServer``: the emulator under uvicorn in a background thread, with a Python API for tests.

One uvicorn server listens on two sockets: the Creatio site (``url``) and its identity server (``identity_url``).
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from airflow_provider_creatio.testing.emulator.app import PortRouter, build_app, build_identity_app
from airflow_provider_creatio.testing.emulator.files_store import FileStore
from airflow_provider_creatio.testing.emulator.log import LoggedRequest
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.state import EmulatorState
from airflow_provider_creatio.testing.emulator.store import EntityStore

STARTUP_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 5.0


class EmulatorServer:
    """A running stand-in Creatio site and its identity server. Use as a context manager::

        with EmulatorServer(EmulatorSettings(net_core=True)) as creatio:
            requests.post(f"{creatio.url}/ServiceModel/AuthService.svc/Login", json={...})
            requests.post(f"{creatio.identity_url}/connect/token", data={...})

    ``settings`` is live: changing a field changes the next answer. Port 0 (the default for both) picks a free one.
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        identity_port: int = 0,
    ) -> None:
        self.state = EmulatorState(settings)
        self.host = host
        self._port = port
        self._identity_port = identity_port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        site, identity = self._listen(self._port), self._listen(self._identity_port)
        self._port, self._identity_port = site.getsockname()[1], identity.getsockname()[1]
        app = PortRouter(build_app(self.state), build_identity_app(self.state), self._identity_port)
        config = uvicorn.Config(
            app,
            log_config=None,  # leave the host process's logging alone (Airflow configures its own)
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._sockets = [site, identity]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": self._sockets}, name="creatio-emulator", daemon=True
        )
        self._thread.start()
        self._wait_until_serving()
        return self

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        return sock

    def _wait_until_serving(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Creatio emulator did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        server, thread, sockets = self._server, self._thread, self._sockets
        self._server, self._thread, self._sockets = None, None, []
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(SHUTDOWN_TIMEOUT)
        for sock in sockets:
            sock.close()
        self.state.close()

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
        """``http://127.0.0.1:PORT`` and the virtual directory ``settings.base_path`` if any (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self._port}{self.settings.base_path}"

    @property
    def identity_port(self) -> int:
        return self._identity_port

    @property
    def identity_url(self) -> str:
        """The identity server, ``http://127.0.0.1:PORT`` (its token endpoint is ``/connect/token`` below it)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return f"http://{self.host}:{self._identity_port}"

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
    def files(self) -> FileStore:
        """The bytes of file records: ``files.read_bytes("ContactFile", file_id)``, ``files.path_of(...)`` (the file
        on disk of a large one, None for one kept in memory), ``files.directory``, ``files.stats()``."""
        return self.state.files

    @property
    def requests(self) -> list[LoggedRequest]:
        """A snapshot of the request log (admin endpoints excluded)."""
        return self.state.log.snapshot()

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many logged requests match the method (any case) and contain ``path_contains`` in their path."""
        return self.state.log.count(method, path_contains)

    def stats(self) -> dict[str, Any]:
        """The admin endpoint's ``GET stats``: requests, rows read, ``api_calls`` (``{user: {UTC day: calls}}``),
        sessions, tokens, and ``server`` (work, queueing and peak concurrency of the server model)."""
        return self.state.stats()

    @property
    def login_count(self) -> int:
        return self.state.log.login_count

    @property
    def token_request_count(self) -> int:
        """Token requests the identity server answered (granted or refused) since the last reset."""
        return sum(1 for entry in self.requests if entry.service == "identity")

    def expire_sessions(self) -> None:
        """End every session and make every bearer token expire, now."""
        self.state.expire_credentials()

    def expire_tokens(self) -> None:
        """Make every bearer token expire now; cookie sessions live on."""
        self.state.identity.expire_tokens()

    def register_oauth_client(
        self, client_id: str, client_secret: str, token_lifetime: float | None = None
    ) -> None:
        """Register one more OAuth client (until a reset). ``token_lifetime`` None: the settings' lifetime."""
        self.state.identity.register(client_id, client_secret, token_lifetime)

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
        """Fresh starting data, no stored files, empty log, no sessions, tokens, extra OAuth clients or scripted
        faults. Settings are kept."""
        self.state.reset()
