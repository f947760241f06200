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
# Where tests/dags/dag_files/test_lineage.py has its producer write files, which its consumer DAG mentions: one
# folder for the session, since dag.test stores every DAG of the folder (an older Airflow keeps what it parsed
# first) and the consumer must mention the very paths the producer writes.
os.environ.setdefault("CREATIO_LINEAGE_FOLDER", tempfile.mkdtemp(prefix="creatio-lineage-"))

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
