"""Fixtures for the emulator's own tests: one server per session, reset (data and settings) before each test.

Every test talks to the emulator with plain ``requests``, never with the provider's client.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def creatio(shared_emulator: EmulatorServer) -> EmulatorServer:
    """The emulator with default settings and fresh seed data."""
    shared_emulator.settings = EmulatorSettings()
    shared_emulator.reset()
    return shared_emulator


@pytest.fixture
def api(creatio: EmulatorServer) -> Iterator[requests.Session]:
    """A logged-in cookie session."""
    session = login(creatio.url)
    yield session
    session.close()


@pytest.fixture
def odata(creatio: EmulatorServer) -> str:
    """The OData root of the default (.NET Framework) layout."""
    return f"{creatio.url}/0/odata"
