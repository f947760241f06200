"""CreatioHook against the emulator: lazy single login, logout on close, test_connection, and the CLI check."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.connection import connection_json, emulator_connection_json


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


def test_an_extra_the_provider_does_not_read_is_named_once_per_task_and_by_test_connection(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, emulator, authtype="forms", extra__creatio__timeout=30, colour="blue")
    with CreatioHook() as hook:  # a task's hook (Airflow's task logging prints its warnings)
        for _ in range(3):
            hook.call(odata.query_records("Contact", select=["Id"], top=1))
    logged = capsys.readouterr().out
    ok, message = CreatioHook().test_connection()

    typo = (
        "connection extra 'authtype' is not one the Creatio provider reads, so it has no effect; did you mean "
        "'auth_type'? (connection creatio_default)"
    )
    assert logged.count(typo) == 1  # once for the hook's three calls
    assert logged.count("connection extra 'colour' is not one the Creatio provider reads") == 1
    assert "extra__creatio__timeout" not in logged  # the legacy spelling of timeout is read
    assert ok
    assert "Warning: connection extra 'authtype' is not one the Creatio provider reads" in message


def use_oauth(monkeypatch: pytest.MonkeyPatch, emulator: Any, **extra: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CREATIO_DEFAULT", emulator_connection_json(emulator, "oauth", **extra))


def test_an_oauth_hook_asks_for_one_token_and_one_more_after_a_forced_expiry(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_oauth(monkeypatch, emulator)
    with CreatioHook() as hook:
        for _ in range(20):
            hook.call(odata.query_records("Contact", select=["Id"], top=1))
        assert emulator.token_request_count == 1
        emulator.expire_tokens()
        for _ in range(20):
            hook.call(odata.query_records("Contact", select=["Id"], top=1))
    assert emulator.token_request_count == 2
    assert emulator.count(path_contains="AuthService.svc") == 0  # no login, and nothing to log out of
    assert emulator.count(method="GET", path_contains="/odata/Contact") == 41  # 40 calls, one replayed


def test_test_connection_with_oauth(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_oauth(monkeypatch, emulator)
    ok, message = CreatioHook().test_connection()
    assert ok and "an OAuth token and an OData read succeeded" in message
    use_oauth(monkeypatch, emulator, client_secret="not-the-secret")
    ok, message = CreatioHook().test_connection()
    assert not ok
    assert "invalid_client - Client authentication failed" in message
    assert "not-the-secret" not in message


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        ("forms", "Connection success!"),
        ("forms-bad-password", "Connection failed!"),
        ("oauth", "Connection success!"),
    ],
)
def test_airflow_connections_test_cli(emulator: Any, connection: str, expected: str) -> None:
    env = dict(os.environ, AIRFLOW__CORE__TEST_CONNECTION="Enabled")
    if connection == "oauth":
        env["AIRFLOW_CONN_CREATIO_DEFAULT"] = emulator_connection_json(emulator, "oauth")
    else:
        password = "bad" if connection.endswith("bad-password") else "Supervisor"
        env["AIRFLOW_CONN_CREATIO_DEFAULT"] = connection_json(emulator.url, "Supervisor", password)
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "connections", "test", "creatio_default"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert expected in out.stdout, out.stdout + out.stderr
    if connection.endswith("bad-password"):
        assert "Either user name or password specified incorrectly." in out.stdout
