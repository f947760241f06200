"""Shared test setup.

Airflow reads its configuration when it is first imported, so the isolated AIRFLOW_HOME is set here, at import
time, before any test module imports Airflow. Integration and DAG tests run against the emulator, a real HTTP
server started in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = REPO / "example_dags"

_HOME = Path(tempfile.mkdtemp(prefix="creatio-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(EXAMPLE_DAGS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")

pytest_plugins = ["airflow_provider_creatio.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """An initialised Airflow metadata database (SQLite) in the session's AIRFLOW_HOME."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _HOME


@pytest.fixture
def emulator() -> Iterator[object]:
    """A fresh emulator for one test (its settings can be changed freely)."""
    from airflow_provider_creatio.testing.emulator import EmulatorServer

    with EmulatorServer() as server:
        yield server
