"""The state one emulator instance shares between its routes, its admin endpoints and its Python API.

The process engine (``process_routes.routes(state)``) reaches everything through this object:
``state.settings`` (live), ``state.store``, ``state.log``, ``state.check_auth(request)`` and
``state.register_schema(install)`` for entities that must exist again after every reset. ``state.identity`` is the
identity server: the OAuth clients and the bearer tokens it issued. ``state.files`` holds the bytes of stream
columns (a file record's ``Data``): a record's go with it when it is deleted, and all of them at a reset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from airflow_provider_creatio.testing.emulator.auth import AuthRegistry, Verdict, bearer_token
from airflow_provider_creatio.testing.emulator.faults import ChaosPlan, FaultPlan
from airflow_provider_creatio.testing.emulator.files_store import FileStore, StreamKey
from airflow_provider_creatio.testing.emulator.identity import IdentityServer
from airflow_provider_creatio.testing.emulator.log import RequestLog
from airflow_provider_creatio.testing.emulator.seed import install_seed
from airflow_provider_creatio.testing.emulator.server_model import ServerModel
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.store import EntityStore
from airflow_provider_creatio.testing.emulator.values import GUID_ORDERS

ODATA_ROOTS = ("/0/odata", "/odata")
SERVICE_ROOTS = ("/0/ServiceModel", "/ServiceModel")
# Configuration web services (FileApiService, FileService): "rest" beside ServiceModel, /0/ first as for the others.
REST_ROOTS = ("/0/rest", "/rest")
DATA_SERVICE_ROOTS = ("/0/DataService", "/DataService")
SchemaInstaller = Callable[[EntityStore], None]


@dataclass(frozen=True)
class Caller:
    """Who a request that passed the gate calls as: the user its API calls count for, and its session (the key of
    a cookie session, or the bearer token itself), which the blocking session mode serves one request at a time."""

    user: str
    session: str


class EmulatorState:
    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings if settings is not None else EmulatorSettings()
        self.store = EntityStore(seed=self.settings.seed)
        self.files = FileStore()
        self.store.on_delete(self._forget_streams)
        self.log = RequestLog()
        self.auth = AuthRegistry()
        self.identity = IdentityServer()
        self.faults = FaultPlan()
        self.chaos = ChaosPlan()
        self.server = ServerModel()
        self._installers: list[SchemaInstaller] = []
        install_seed(self.store, self.settings)

    def register_schema(self, install: SchemaInstaller) -> None:
        """Run ``install(store)`` now and again after every reset (define entities, insert their fixed rows)."""
        with self.store.lock:
            self._installers.append(install)
            install(self.store)

    def reset(self) -> None:
        """Fresh starting data (and registered schemas), empty log, no sessions, tokens, registered OAuth clients or
        scripted faults."""
        with self.store.lock:
            self.store.clear(self.settings.seed)
            self.store.guid_key = GUID_ORDERS[self.settings.database]
            self.store.guid_ordering = self.settings.guid_ordering
            install_seed(self.store, self.settings)
            for install in self._installers:
                install(self.store)
        self.files.clear()
        self.log.clear()
        self.server.clear()
        self.auth.expire_all()
        self.identity.clear()
        self.faults.clear()
        self.chaos.configure(self.settings.faults)

    def _forget_streams(self, entity: str, record_id: str) -> None:
        """A deleted record's bytes (and any upload of them under way) go with it."""
        for column in self.store.schema(entity).media:
            self.files.delete(StreamKey(entity, record_id, column))

    def check_auth(self, request: HTTPConnection) -> Verdict:
        """May this request call Creatio? The gate asks this for every protected path, so routes need not.
        A bearer token, when sent, is the only credential looked at."""
        token = bearer_token(request.headers)
        if token is not None:
            return Verdict.BEARER if self.identity.accepts(token) else Verdict.BAD_TOKEN
        return self.auth.check(self.settings, request.headers, request.cookies)

    def caller(self, request: HTTPConnection) -> Caller | None:
        """Who an admitted request calls as (None for a login, which has no session yet). A bearer call counts for
        its OAuth client: Creatio runs it as the user bound to the client, which the emulator does not model."""
        token = bearer_token(request.headers)
        if token is not None:
            client = self.identity.client_of(token)
            return None if client is None else Caller(client, token)
        owner = self.auth.owner(request.cookies)
        return None if owner is None else Caller(*owner)

    def stats(self) -> dict[str, Any]:
        """The counters of the admin endpoint ``GET stats``: requests, rows read, API calls per user and UTC day,
        sessions, tokens, and what the server model saw (``server``)."""
        return {
            **self.log.stats(),
            "sessions": self.auth.session_count(),
            **self.identity.stats(),
            "server": self.server.stats(),
            "files": self.files.stats(),
        }

    def close(self) -> None:
        """Let go of what lives outside the process's memory: the files kept on disk (the server's stop)."""
        self.files.close()

    def expire_credentials(self) -> None:
        """End every session and make every bearer token expire, now."""
        self.auth.expire_all()
        self.identity.expire_tokens()

    def odata_roots(self) -> tuple[str, ...]:
        """The OData roots the current layout serves: ``/0/odata``, and ``/odata`` on .NET Core."""
        return ODATA_ROOTS if self.settings.net_core else ODATA_ROOTS[:1]

    def service_roots(self) -> tuple[str, ...]:
        return SERVICE_ROOTS if self.settings.net_core else SERVICE_ROOTS[:1]

    def rest_roots(self) -> tuple[str, ...]:
        return REST_ROOTS if self.settings.net_core else REST_ROOTS[:1]

    def data_service_roots(self) -> tuple[str, ...]:
        return DATA_SERVICE_ROOTS if self.settings.net_core else DATA_SERVICE_ROOTS[:1]
