"""Build ``AIRFLOW_CONN_*`` values that point a Creatio connection at a URL (usually the emulator)."""

from __future__ import annotations

import json
from typing import Any

AUTH_TYPES = ("forms", "oauth")


def connection_json(
    url: str, username: str = "Supervisor", password: str = "Supervisor", **extra: Any
) -> str:
    """The JSON form of a ``creatio`` connection, as Airflow reads it from ``AIRFLOW_CONN_<ID>``."""
    return json.dumps(
        {"conn_type": "creatio", "host": url, "login": username, "password": password, "extra": extra}
    )


def oauth_connection_json(
    url: str, identity_server_url: str, client_id: str, client_secret: str, /, **extra: Any
) -> str:
    """A ``creatio`` connection with OAuth 2.0 client credentials (no login or password). ``extra`` wins over the
    other arguments (``client_secret=...`` in it replaces the secret)."""
    oauth = {
        "auth_type": "oauth",
        "client_id": client_id,
        "client_secret": client_secret,
        "identity_server_url": identity_server_url,
    }
    return json.dumps({"conn_type": "creatio", "host": url, "extra": {**oauth, **extra}})


def emulator_connection_json(
    emulator: Any, auth_type: str = "forms", *, host: str | None = None, **extra: Any
) -> str:
    """A connection to a running ``EmulatorServer``: the layout its settings serve, and the settings' user
    (``auth_type="forms"``) or OAuth client (``"oauth"``, through the emulator's identity server). ``host``
    replaces the emulator's URL, for a proxy in front of it."""
    if auth_type not in AUTH_TYPES:
        raise ValueError(f"auth_type must be one of {', '.join(AUTH_TYPES)}, got {auth_type!r}")
    settings = emulator.settings
    extra = {"net_core": settings.net_core, **extra}
    if auth_type == "oauth":
        return oauth_connection_json(
            host or emulator.url,
            emulator.identity_url,
            settings.oauth_client_id,
            settings.oauth_client_secret,
            **extra,
        )
    return connection_json(host or emulator.url, settings.username, settings.password, **extra)


def connection_env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"
