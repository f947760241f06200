"""pytest plugin: test your own DAGs against the bundled Creatio emulator.

Enable it in your ``conftest.py``::

    pytest_plugins = ["airflow_provider_creatio.testing.pytest_plugin"]

Fixtures:

``creatio_emulator``
    A running emulator (one per test session), reset before each test that uses ``creatio_connection``.
``creatio_connection``
    Points the ``creatio_default`` connection (environment variable ``AIRFLOW_CONN_CREATIO_DEFAULT``) at the
    emulator for one test, and yields the emulator. The test may change any of its ``settings``: they are a copy,
    and the session's come back after it.
``creatio_auth_type`` / ``creatio_net_core`` / ``creatio_base_path``
    How ``creatio_connection`` logs in (``"forms"`` or ``"oauth"``, default forms), which layout the emulator
    serves (default ``False``: .NET Framework) and the virtual directory the site lives in (default ``""``: the
    root; ``"/7.15.1.1295_SalesEnterprise"`` as Creatio's own examples show). Override them in a
    ``conftest.py`` to test against a site like yours.

Marker:

``@pytest.mark.creatio_every_site``
    Runs a test that takes ``creatio_connection`` five times: {forms, oauth} x {.NET Framework, .NET Core}, with
    the test ids ``forms-netfx``, ``forms-netcore``, ``oauth-netfx`` and ``oauth-netcore``, and once more with
    forms on a .NET Framework site under a virtual directory (``forms-netfx-vdir``). One variant, not a second
    copy of the matrix: a base path changes only where URLs and cookies point, which the login flow (forms, the one
    that carries cookies) exercises in full. (Its old name, ``creatio_every_deployment``, still works with a
    deprecation warning: in this project a *deployment* is a running Airflow, see ``testing/deployment.py``.)
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_creatio.deprecated import warn_renamed
from airflow_provider_creatio.testing.connection import connection_env_name, emulator_connection_json

VIRTUAL_DIRECTORY = "/7.15.1.1295_SalesEnterprise"  # the site in Creatio's ProcessEngineService examples
SITE_VARIANTS = [
    ("forms", False, ""),
    ("forms", True, ""),
    ("oauth", False, ""),
    ("oauth", True, ""),
    ("forms", False, VIRTUAL_DIRECTORY),
]
EVERY_SITE = "creatio_every_site"
OLD_EVERY_SITE = "creatio_every_deployment"  # deprecated spelling


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{EVERY_SITE}: run the test against every variant of a Creatio site: {{forms, oauth}} x "
        "{.NET Framework, .NET Core}, and forms on a .NET Framework site under a virtual directory (tests that "
        "take creatio_connection)",
    )
    config.addinivalue_line("markers", f"{OLD_EVERY_SITE}: deprecated, use {EVERY_SITE}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "creatio_connection" not in metafunc.fixturenames:
        return
    old = metafunc.definition.get_closest_marker(OLD_EVERY_SITE)
    if old:
        warn_renamed(f"@pytest.mark.{OLD_EVERY_SITE}", f"@pytest.mark.{EVERY_SITE}", stacklevel=2)
    if old or metafunc.definition.get_closest_marker(EVERY_SITE):
        ids = [
            f"{auth}-{'netcore' if net_core else 'netfx'}{'-vdir' if base_path else ''}"
            for auth, net_core, base_path in SITE_VARIANTS
        ]
        metafunc.parametrize(
            ("creatio_auth_type", "creatio_net_core", "creatio_base_path"), SITE_VARIANTS, ids=ids
        )


@pytest.fixture(scope="session")
def creatio_emulator() -> Iterator[Any]:
    from airflow_provider_creatio.testing.emulator import EmulatorServer

    with EmulatorServer() as server:
        yield server


@pytest.fixture
def creatio_auth_type() -> str:
    return "forms"


@pytest.fixture
def creatio_net_core() -> bool:
    return False


@pytest.fixture
def creatio_base_path() -> str:
    return ""


@pytest.fixture
def creatio_connection(
    creatio_emulator: Any,
    creatio_auth_type: str,
    creatio_net_core: bool,
    creatio_base_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    # A copy for the test, which may change any setting; the session's own settings come back after it.
    before = creatio_emulator.settings
    creatio_emulator.settings = dataclasses.replace(
        copy.deepcopy(before), net_core=creatio_net_core, base_path=creatio_base_path
    )
    creatio_emulator.reset()
    monkeypatch.setenv(
        connection_env_name("creatio_default"),
        emulator_connection_json(creatio_emulator, creatio_auth_type, backoff_initial=0.01, backoff_max=0.05),
    )
    yield creatio_emulator
    creatio_emulator.settings = before
