"""The distributed tier: Airflow spread as it is when it outgrows one machine, on this machine, with the real parts.

PostgreSQL is the metadata database and Redis the Celery broker (both from Debian's packages, started here); the
CeleryExecutor runs tasks on two Celery workers and two triggerers share the deferred waits, beside a scheduler,
a dag-processor and an api-server, each a separate process group. Workers and triggerers are replicas with an
``AIRFLOW_HOME`` of their own: they share no disk with the rest, only the DAGs folder. The connection reaches every
component through the environment, as from a secrets backend. Run by ``make test-distributed``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from issued_secrets import Issued, assert_no_secret_in_files, recording_issued
from servers import dump_database, postgres_server, redis_server

from airflow_provider_creatio.testing.connection import connection_env_name, emulator_connection_json
from airflow_provider_creatio.testing.deployment import AirflowDeployment
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings

DAG_FILES = Path(__file__).parent / "dag_files"
WORKERS = ("celery-worker-1", "celery-worker-2")
TRIGGERERS = ("triggerer-1", "triggerer-2")
COMPONENTS = ("api-server", "scheduler", "dag-processor", *TRIGGERERS, *WORKERS)
TRIGGERER_CAPACITY = 150  # 200 waits cannot fit in one triggerer: both carry some
PASSWORD = "Cluster-Pw-5b1e07aa-never-log-me"
CLIENT_SECRET = "Cluster-Cs-c43d9e12-never-log-me"


# The check of what every other test of the tier left in the cluster's files and database: it runs last in any
# order (pytest-randomly shuffles before this hook), or it would find nothing to check.
AUDIT = "test_no_secret_in_any_component_home_or_the_database"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.name == AUDIT)  # a stable sort: the random order of the others stays


@dataclass
class Cluster:
    airflow: AirflowDeployment
    creatio: EmulatorServer
    database_url: str
    issued: Issued

    def assert_no_secret_leaked(self) -> None:
        """No password, client secret, cookie value or token issued so far is in any file of any component's
        home, nor in the metadata database (dumped into the home first)."""
        dump_database(self.database_url, self.airflow.home / "metadata.sql")
        assert_no_secret_in_files(self.airflow.home, self.issued.secrets(PASSWORD, CLIENT_SECRET))


def celery_env(database_url: str, broker_url: str) -> dict[str, str]:
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "8",
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",  # a busy worker does not hoard queued tasks
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "256",
        "AIRFLOW__TRIGGERER__CAPACITY": str(TRIGGERER_CAPACITY),
        # A task whose worker died is noticed in seconds, not the default five minutes, and retried.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    }


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("distributed")
    dags = root / "dags"
    dags.mkdir()
    for path in DAG_FILES.glob("*.py"):
        shutil.copy(path, dags)
    settings = EmulatorSettings(password=PASSWORD, oauth_client_secret=CLIENT_SECRET)
    with (
        postgres_server() as database_url,
        redis_server() as broker_url,
        EmulatorServer(settings) as creatio,
        recording_issued(creatio) as issued,
    ):
        env = {
            connection_env_name("creatio_default"): emulator_connection_json(creatio),
            **celery_env(database_url, broker_url),
        }
        airflow = AirflowDeployment(root / "airflow", dags, env=env)
        try:
            airflow.start(COMPONENTS)
            yield Cluster(airflow, creatio, database_url, issued)
        finally:
            airflow.stop()
