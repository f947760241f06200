"""Fixtures for the hook-level entity tests, which run in every deployment ({forms, OAuth} x {.NET Framework,
.NET Core}, and forms on a .NET Framework site under a virtual directory: the plugin's ``creatio_every_deployment``
marker on their modules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_creatio.testing.connection import connection_env_name, emulator_connection_json


@pytest.fixture
def odata_root(creatio_net_core: bool) -> str:
    """The OData root path of the deployment's layout."""
    return "/odata" if creatio_net_core else "/0/odata"


@pytest.fixture
def connect_through(
    creatio_connection: Any, creatio_auth_type: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, str], None]:
    """Point connection ``conn_id`` at ``url`` (a proxy in front of the emulator) with the deployment's auth, and
    the site's virtual directory if it has one (the proxy forwards paths as they are)."""

    def connect(conn_id: str, url: str) -> None:
        host = f"{url}{creatio_connection.settings.base_path}"
        value = emulator_connection_json(
            creatio_connection, creatio_auth_type, host=host, backoff_initial=0.01, backoff_max=0.05
        )
        monkeypatch.setenv(connection_env_name(conn_id), value)

    return connect
