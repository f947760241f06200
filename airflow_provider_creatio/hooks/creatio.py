"""CreatioHook: turns an Airflow connection into a Creatio client and offers the calls operators make.

The hook stays thin. Everything about speaking Creatio (login, session expiry, retries, OData and process-engine
encoding) lives in :mod:`airflow_provider_creatio.client`, which has no Airflow import.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_creatio._compat import BaseHook, mask_secret
from airflow_provider_creatio.client.config import AuthType, CreatioConfig, RetryPolicy, SessionMode
from airflow_provider_creatio.client.errors import CreatioError
from airflow_provider_creatio.hooks._entities import EntityCallsMixin
from airflow_provider_creatio.hooks._files import FileCallsMixin
from airflow_provider_creatio.hooks._processes import ProcessCallsMixin
from airflow_provider_creatio.hooks.connection_form import (
    FIELDS,
    read_extras,
    ui_field_behaviour,
    unknown_extras,
)

if TYPE_CHECKING:
    from airflow_provider_creatio.client.http import Call
    from airflow_provider_creatio.client.transport import CreatioClient
    from airflow_provider_creatio.hooks._async import AsyncCreatioCalls

T = TypeVar("T")

# Values already handed to Airflow's masker by this process. Its masker is per process, and in the triggerer each
# mask_secret is a round trip to the supervisor: 200 triggers on one connection register the password once.
_registered_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Hand ``value`` to Airflow's secrets masker, once per process."""
    if value not in _registered_secrets:
        _registered_secrets.add(value)  # before the call: in the triggerer other triggers run during it
        mask_secret(value)


def _register_secrets(config: CreatioConfig) -> CreatioConfig:
    for value in (config.password, config.client_secret):
        if value:
            register_secret(value)
    return config


class CreatioHook(EntityCallsMixin, FileCallsMixin, ProcessCallsMixin, BaseHook):  # type: ignore[misc]
    """Interact with Creatio through its AuthService, OData 4 and ProcessEngineService endpoints.

    One hook instance holds one Creatio session: it logs in lazily on the first call and again only after the
    session expired. Use it as a context manager, or call :meth:`close`, to log out.

    :param creatio_conn_id: the Airflow connection (type ``creatio``) to use.
    :param retry_attempts: overrides the connection's ``retry_attempts`` (tries of one request, first included).
    :param timeout: overrides the connection's read ``timeout`` in seconds.
    :param backoff_initial: first retry wait in seconds (doubles with jitter), default 0.5.
    :param backoff_max: cap of one retry wait in seconds, default 30.
    """

    conn_name_attr = "creatio_conn_id"
    default_conn_name = "creatio_default"
    conn_type = "creatio"
    hook_name = "Creatio"

    def __init__(
        self,
        creatio_conn_id: str = default_conn_name,
        *,
        retry_attempts: int | None = None,
        timeout: float | None = None,
        backoff_initial: float | None = None,
        backoff_max: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.creatio_conn_id = creatio_conn_id
        self._closed_api_calls = 0  # the calls of the clients this hook closed
        self._overrides = {
            "retry_attempts": retry_attempts,
            "timeout": timeout,
            "backoff_initial": backoff_initial,
            "backoff_max": backoff_max,
        }
        self._lane_clients: dict[
            int, CreatioClient
        ] = {}  # blocking lanes' own sessions (lane 0 is ``client``)

    # ----------------------------------------------------------------- connection -> configuration

    @classmethod
    def config_from_connection(cls, conn: Any, **overrides: Any) -> CreatioConfig:
        """Build the client configuration from an Airflow ``Connection`` (a pure conversion)."""
        # Every extra is read through the form's definition: a name it lacks fails here, not silently.
        extras = read_extras(conn.extra_dejson or {}, overrides)
        verify: bool | str = extras["verify"]
        if verify and extras["ca_bundle"]:
            verify = extras["ca_bundle"]
        return CreatioConfig(
            base_url=cls._base_url(conn),
            username=conn.login or None,
            password=conn.password or None,
            auth_type=AuthType(extras["auth_type"]),
            client_id=extras["client_id"],
            client_secret=extras["client_secret"],
            identity_server_url=extras["identity_server_url"],
            net_core=extras["net_core"],
            verify=verify,
            allow_insecure=extras["allow_insecure"],
            connect_timeout=extras["connect_timeout"],
            read_timeout=extras["timeout"],
            retry=RetryPolicy(
                attempts=extras["retry_attempts"],
                backoff_initial=extras["backoff_initial"],
                backoff_max=extras["backoff_max"],
            ),
            odata_max_filter_nodes=extras["odata_max_filter_nodes"],
            session_mode=SessionMode(extras["session_mode"]),
        )

    @staticmethod
    def _base_url(conn: Any) -> str:
        """The connection's host, with the connection's port added when the host is a URL without a port of its
        own (a port written in the URL wins). A host that is no URL is passed on as it is, for the
        configuration to refuse with its own message."""
        host = (conn.host or "").strip()
        parts = urlsplit(host)
        if not (conn.port and parts.scheme and parts.netloc) or ":" in parts.netloc:
            return host
        return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{conn.port}"))

    @cached_property
    def connection(self) -> Any:
        """The Airflow connection, read once per hook."""
        return self.get_connection(self.creatio_conn_id)

    @cached_property
    def config(self) -> CreatioConfig:
        config = _register_secrets(self.config_from_connection(self.connection, **self._overrides))
        for line in self.unknown_extras:  # once per hook, so once per task
            self.log.warning("%s (connection %s)", line, self.creatio_conn_id)
        return config

    @cached_property
    def unknown_extras(self) -> list[str]:
        """The extras of the connection that the provider does not read, each with the closest known name."""
        return unknown_extras(self.connection.extra_dejson or {})

    @cached_property
    def client(self) -> CreatioClient:
        from airflow_provider_creatio.client.transport import CreatioClient

        return CreatioClient(self.config, on_secret=register_secret)

    def lane_sessions(self, session_mode: SessionMode | str | None = None) -> Callable[[int], CreatioClient]:
        """The session of each lane of parallel writes (:class:`~..client.lanes.Lanes`), by ``session_mode`` (None:
        the connection's). Nonblocking: every lane shares this hook's session, one login. Blocking: lane 0 is
        this hook's session and each other lane logs in with its own (an OAuth lane gets a token of its own),
        kept for the hook's life and logged out by :meth:`close`."""
        client = self.client  # created here, before any lane's thread asks for it
        mode = SessionMode.parse(session_mode) if session_mode else self.config.session_mode
        if mode is SessionMode.NONBLOCKING:
            return lambda _lane: client
        return self._lane_client

    def _lane_client(self, lane: int) -> CreatioClient:
        """Lane ``lane``'s own session (the lanes call this under their lock)."""
        from airflow_provider_creatio.client.transport import CreatioClient

        if lane == 0:
            return self.client
        if lane not in self._lane_clients:
            self._lane_clients[lane] = CreatioClient(self.config, on_secret=register_secret)
        return self._lane_clients[lane]

    def get_conn(self) -> CreatioClient:
        """The session-holding client of this hook (logs in lazily on its first call)."""
        return self.client

    @classmethod
    @contextlib.asynccontextmanager
    async def shared_async_calls(
        cls, creatio_conn_id: str, **overrides: Any
    ) -> AsyncIterator[AsyncCreatioCalls]:
        """For triggers: the calls they make, on the async client of this connection shared by every user in the
        running event loop (one login, one connection pool), held for the ``async with`` and logged out after its
        last user. The connection is looked up without blocking the event loop."""
        from airflow_provider_creatio._compat import aget_connection
        from airflow_provider_creatio.client.aio import shared_clients
        from airflow_provider_creatio.hooks._async import AsyncCreatioCalls

        conn = await aget_connection(creatio_conn_id)
        config = _register_secrets(cls.config_from_connection(conn, **overrides))
        async with shared_clients.use(config, on_secret=register_secret) as client:
            yield AsyncCreatioCalls(client)

    @property
    def api_calls(self) -> int:
        """The calls this hook's sessions made, as Creatio counts them against the user's daily quota (each
        operation of a ``$batch`` apart, logins excluded: :mod:`~airflow_provider_creatio.client.api_calls`)."""
        open_clients = [self.__dict__.get("client"), *self._lane_clients.values()]
        return self._closed_api_calls + sum(client.api_calls for client in open_clients if client is not None)

    def call(self, call: Call[T]) -> T:
        """Execute one protocol call on this hook's session."""
        return self.client.execute(call)

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Log out (if logged in) and release the HTTP sessions, the lanes' too."""
        while self._lane_clients:
            lane_client = self._lane_clients.popitem()[1]
            self._closed_api_calls += lane_client.api_calls
            lane_client.close()
        if "client" in self.__dict__:
            client = self.__dict__.pop("client")
            self._closed_api_calls += client.api_calls
            client.close()

    def __enter__(self) -> CreatioHook:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def test_connection(self) -> tuple[bool, str]:
        """Log in (or get an OAuth token) and make one cheap authenticated read (one Contact Id)."""
        from airflow_provider_creatio.client import odata

        try:
            self.call(odata.query_records("Contact", select=["Id"], top=1))
        except CreatioError as err:
            return False, str(err) + self._extras_warnings()
        finally:
            self.close()
        login = "an OAuth token" if self.config.auth_type is AuthType.OAUTH else "login"
        succeeded = f"Connected to {self.config.base_url}: {login} and an OData read succeeded."
        return True, succeeded + self._extras_warnings()

    def _extras_warnings(self) -> str:
        return "".join(f" Warning: {line}." for line in self.unknown_extras)

    # ----------------------------------------------------------------- connection form (Airflow < 3.2)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Airflow < 3.2 calls this (3.2+ reads get_provider_info()): the same behaviour, with the underscored
        keys (``hidden_fields``) this method's schema requires."""
        return {key.replace("-", "_"): value for key, value in ui_field_behaviour().items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Airflow < 3.2 builds the extra fields from these (3.2+ reads ``conn-fields``).

        Plain wtforms fields: Airflow 3's API server turns them into the form's fields and ignores FAB widgets,
        so flask_appbuilder (absent without the FAB provider) is not imported."""
        from wtforms import BooleanField, PasswordField, StringField
        from wtforms.validators import any_of

        widgets: dict[str, Any] = {}
        for field in FIELDS:
            if field.kind == "bool":
                widgets[field.name] = BooleanField(
                    field.label, description=field.description, default=field.default
                )
            elif field.kind == "secret":
                widgets[field.name] = PasswordField(field.label, description=field.description)
            elif field.kind == "choice":  # any_of becomes the field's enum: a drop-down
                widgets[field.name] = StringField(
                    field.label,
                    description=field.description,
                    default=field.default,
                    validators=[any_of(list(field.choices))],
                )
            else:
                widgets[field.name] = StringField(field.label, description=field.description)
        return widgets
