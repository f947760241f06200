"""Build ``AIRFLOW_CONN_*`` values that point a Creatio connection at a URL (usually the emulator)."""

from __future__ import annotations

import json
from typing import Any


def connection_json(
    url: str, username: str = "Supervisor", password: str = "Supervisor", **extra: Any
) -> str:
    """The JSON form of a ``creatio`` connection, as Airflow reads it from ``AIRFLOW_CONN_<ID>``."""
    return json.dumps(
        {"conn_type": "creatio", "host": url, "login": username, "password": password, "extra": extra}
    )


def connection_env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"
