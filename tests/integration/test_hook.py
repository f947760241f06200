"""CreatioHook against the emulator: lazy single login, logout on close, test_connection, and the CLI check."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.connection import connection_json


def use(monkeypatch: pytest.MonkeyPatch, emulator: Any, password: str | None = None, **extra: Any) -> None:
    settings = emulator.settings
    monkeypatch.setenv(
        "AIRFLOW_CONN_CREATIO_DEFAULT",
        connection_json(emulator.url, settings.username, password or settings.password, **extra),
    )


def test_one_login_for_many_calls_and_logout_on_close(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, emulator)
    with CreatioHook() as hook:
        assert emulator.login_count == 0  # lazy: creating the hook sends nothing
        for _ in range(50):
            hook.call(odata.query_records("Contact", select=["Id"], top=1))
    assert emulator.login_count == 1
    assert emulator.count(method="GET", path_contains="/odata/Contact") == 50
    assert emulator.count(method="POST", path_contains="AuthService.svc/Logout") == 1


@pytest.mark.parametrize("form", ["401", "302", "html"])
def test_expired_session_is_renewed_once(emulator: Any, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    use(monkeypatch, emulator, backoff_initial=0.01)
    emulator.settings.expiry_form = form
    with CreatioHook() as hook:
        hook.call(odata.query_records("Contact", top=1))
        emulator.expire_sessions()
        page = hook.call(odata.query_records("Contact", top=1))
    assert len(page.records) == 1
    assert emulator.login_count == 2


def test_test_connection_reports_success_and_creatio_message(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, emulator)
    ok, message = CreatioHook().test_connection()
    assert ok, message
    use(monkeypatch, emulator, password="not-the-password")
    ok, message = CreatioHook().test_connection()
    assert not ok
    assert "Either user name or password specified incorrectly." in message
    assert "not-the-password" not in message


@pytest.mark.parametrize(
    ("password", "expected"), [(None, "Connection success!"), ("bad", "Connection failed!")]
)
def test_airflow_connections_test_cli(emulator: Any, password: str | None, expected: str) -> None:
    env = dict(os.environ, AIRFLOW__CORE__TEST_CONNECTION="Enabled")
    env["AIRFLOW_CONN_CREATIO_DEFAULT"] = connection_json(
        emulator.url, "Supervisor", password or "Supervisor"
    )
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "connections", "test", "creatio_default"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert expected in out.stdout, out.stdout + out.stderr
    if password:
        assert "Either user name or password specified incorrectly." in out.stdout
