"""pytest plugin: test your own DAGs against the bundled Creatio emulator.

Enable it in your ``conftest.py``::

    pytest_plugins = ["airflow_provider_creatio.testing.pytest_plugin"]

Fixtures:

``creatio_emulator``
    A running emulator (one per test session), reset before each test that uses ``creatio_connection``.
``creatio_connection``
    Points the ``creatio_default`` connection (environment variable ``AIRFLOW_CONN_CREATIO_DEFAULT``) at the
    emulator for one test, and yields the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_creatio.testing.connection import connection_env_name, connection_json


@pytest.fixture(scope="session")
def creatio_emulator() -> Iterator[Any]:
    from airflow_provider_creatio.testing.emulator import EmulatorServer

    with EmulatorServer() as server:
        yield server


@pytest.fixture
def creatio_connection(creatio_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    creatio_emulator.reset()
    settings = creatio_emulator.settings
    monkeypatch.setenv(
        connection_env_name("creatio_default"),
        connection_json(
            creatio_emulator.url,
            settings.username,
            settings.password,
            net_core=settings.net_core,
            backoff_initial=0.01,
            backoff_max=0.05,
        ),
    )
    yield creatio_emulator
