"""Fixtures for the hook-level entity tests, which run against every site variant ({forms, OAuth} x {.NET Framework,
.NET Core}, and forms on a .NET Framework site under a virtual directory: the plugin's ``creatio_every_site``
marker on their modules)."""

from __future__ import annotations

import datetime as dt
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


class TriggererClock:
    """The triggerer's clock as CreatioRecordChangeTrigger reads it (``record_change.utc_now``), set by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def triggerer_clock(monkeypatch: pytest.MonkeyPatch) -> TriggererClock:
    """Starts at 2032-01-01, after every ``ModifiedOn`` the record change tests write (2031 and the emulator's
    now): a poll sees every change unless a test sets the clock closer to one."""
    from airflow_provider_creatio.triggers import record_change

    clock = TriggererClock(dt.datetime(2032, 1, 1, tzinfo=dt.timezone.utc))
    monkeypatch.setattr(record_change, "utc_now", clock)
    return clock


@pytest.fixture
def variables(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """The Airflow Variables that keep marks and snapshots (:mod:`airflow_provider_creatio.marks`), as a dict."""
    from airflow_provider_creatio import marks

    kept: dict[str, dict[str, Any]] = {}
    monkeypatch.setattr(marks, "read_mark", kept.get)
    monkeypatch.setattr(marks, "write_mark", lambda key, value, description: kept.__setitem__(key, value))
    return kept
