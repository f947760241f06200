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
from typing import Any

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
# Where tests/dags/dag_files/test_lineage.py has its producer write files, which its consumer DAG mentions: one
# folder for the session, since dag.test stores every DAG of the folder (an older Airflow keeps what it parsed
# first) and the consumer must mention the very paths the producer writes. Each pytest-xdist worker is a session
# of its own (its own AIRFLOW_HOME and metadata database), so it gets a folder of its own too: the one a worker
# inherits from the controller's environment would be emptied by two workers at once.
if "CREATIO_LINEAGE_FOLDER" not in os.environ or os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["CREATIO_LINEAGE_FOLDER"] = tempfile.mkdtemp(prefix="creatio-lineage-")

pytest_plugins = ["airflow_provider_creatio.testing.pytest_plugin"]

# Folders whose tests run in one pytest-xdist worker, one after another, as one unit of work: the deployment tier
# (its Airflow deployments are session fixtures, stopped after its last test; two of them starting at once in two
# workers would share a 2-core machine with each other and with every other test).
ONE_WORKER = ("tests/deployment/",)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With -n: every test is a unit of work of its own, sent to whichever worker is free, except the ``ONE_WORKER``
    folders, each one unit (first, as the largest). pytest-xdist's own ``--dist loadgroup`` would do it with
    ``xdist_group`` marks, but it renames the node ids to do so, which pytest 9.2's node ids no longer allow."""
    from xdist.scheduler import LoadScopeScheduling

    if config.getvalue("dist") != "load":  # -n's default; another --dist given on the command line is kept
        return None

    class FolderScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((folder for folder in ONE_WORKER if nodeid.startswith(folder)), nodeid)

    return FolderScheduling(config, log)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The random order's seed, at the end of the run: pytest -q leaves out the header line where pytest-randomly
    tells it, and a failure that depends on the order needs the seed to be seen again."""
    seed = config.getoption("randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(f"random order: PYTEST_ARGS=--randomly-seed={seed} runs this order again")


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


S3_CONN_ID = "creatio_test_s3"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3-compatible server (moto's server mode) on a free loopback port, for the session: its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty bucket on the S3 server, reached through the Airflow connection ``creatio_test_s3`` (type
    aws, ``endpoint_url`` in its extra): its root URI, ``s3://creatio_test_s3@<bucket>``."""
    import json
    import uuid

    import boto3

    monkeypatch.setenv(
        f"AIRFLOW_CONN_{S3_CONN_ID.upper()}",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": s3_server, "region_name": "us-east-1"},
            }
        ),
    )
    name = f"bucket-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    yield f"s3://{S3_CONN_ID}@{name}"
