"""EmulatorServer's lifecycle: free port, live settings, clean stop, independent instances."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings


def test_two_servers_run_side_by_side_with_their_own_settings_and_data() -> None:
    with (
        EmulatorServer(EmulatorSettings(username="A", password="a")) as first,
        EmulatorServer(EmulatorSettings(net_core=True)) as second,
    ):
        assert first.url != second.url
        assert first.url.startswith("http://127.0.0.1:")
        login(first.url, "A", "a")
        second_session = login(second.url)
        second_session.post(f"{second.url}/odata/Account", json={"Name": "Only here"})

        assert first.login_count == 1
        assert second.login_count == 1
        assert second.store.count("Account") == first.store.count("Account") + 1


def test_stop_closes_the_port() -> None:
    server = EmulatorServer()
    with server:
        url = server.url
        assert requests.get(f"{url}/__emulator__/stats", timeout=5).status_code == 200

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/__emulator__/stats", timeout=5)
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018


def test_a_fixed_port_is_used() -> None:
    with EmulatorServer(port=0) as probe:
        port = probe.port
    with EmulatorServer(port=port) as server:
        assert server.url == f"http://127.0.0.1:{port}"


def test_settings_given_to_the_server_are_the_live_settings() -> None:
    settings = EmulatorSettings()
    with EmulatorServer(settings) as server:
        assert server.settings is settings
        settings.expiry_form = "html"
        answer = requests.get(f"{server.url}/0/odata/Contact", timeout=5)
        assert answer.headers["Content-Type"].startswith("text/html")
