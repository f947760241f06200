"""The deployment tier: one real Airflow for the whole session (api-server, scheduler, dag-processor and triggerer
as separate processes, LocalExecutor, SQLite) against an emulator of its own, with the example DAGs and this
folder's DAG files. Tests trigger runs through the REST API without a logical date, as the UI and CLI do."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from issued_secrets import Issued, assert_no_secret_in_files, recording_issued

from airflow_provider_creatio.testing.connection import connection_env_name, emulator_connection_json
from airflow_provider_creatio.testing.deployment import AirflowDeployment
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.example_site import prepare_example_site

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DAG_FILES = HERE / "dag_files"
# Distinct values, so that finding one in a log file can only be a leak.
PASSWORD = "Deploy-Pw-3f9a61c2-never-log-me"
CLIENT_SECRET = "Deploy-Cs-7e20b4d8-never-log-me"
# The DAG files of asset-scheduled DAGs: in the ``scheduling`` deployment only.
SCHEDULED_DAG_FILES = ("deployment_record_change.py", "deployment_record_deletes.py", "deployment_assets.py")


@dataclass
class Deployment:
    airflow: AirflowDeployment
    creatio: EmulatorServer
    issued: Issued  # every cookie value and token the emulator issued during the session
    second_site: EmulatorServer  # another Creatio, the connection creatio_second_site's

    def secrets(self) -> set[str]:
        return self.issued.secrets(PASSWORD, CLIENT_SECRET)

    def assert_no_secret_leaked(self) -> None:
        """No password, client secret, cookie value (session, BPMCSRF) or token issued so far is in any file of
        the Airflow home: task and trigger logs, the components' output, the metadata database (XCom, rendered
        fields)."""
        assert_no_secret_in_files(self.airflow.home, self.secrets())


# What the tier's fixtures started (emulators, deployments): stopped after the tier's last test rather than at the
# end of the session, where their idle processes (eight with both deployments) would share the machine's cores
# with every test run after this folder. (A session fixture would keep them: pytest ends a package-scoped one
# only at a package, a folder with an __init__.py, which this folder is not.)
_TIER = contextlib.ExitStack()


# In parallel runs the tier is one unit of work for one pytest-xdist worker (tests/conftest.py's scheduler), so
# that two Airflow deployments never start at once on a 2-core machine and the tier's session fixtures start once.
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tier's tests first and together, also in a random order (pytest-randomly shuffles before this hook):
    together, since its deployments are stopped after its last test; first, so that a single process starts
    them before anything else, as the parallel run does."""
    items.sort(key=lambda item: HERE not in item.path.parents)  # a stable sort: the order within stays


# trylast: after pytest's own teardown of the test's fixtures, which may still use a deployment.
@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if nextitem is None or HERE not in nextitem.path.parents:
        _TIER.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _TIER.close()  # also when the session stops early (-x, Ctrl-C) inside the tier


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    root = tmp_path_factory.mktemp("deployment")
    dags = root / "dags"
    shutil.copytree(REPO / "example_dags", dags)
    for path in DAG_FILES.glob("*.py"):
        if path.name not in SCHEDULED_DAG_FILES:
            shutil.copy(path, dags)
    settings = EmulatorSettings(password=PASSWORD, oauth_client_secret=CLIENT_SECRET)
    creatio = _TIER.enter_context(EmulatorServer(settings))
    issued = _TIER.enter_context(recording_issued(creatio))
    second_site = _TIER.enter_context(EmulatorServer())
    prepare_example_site(creatio.url, settings)
    env = {
        connection_env_name("creatio_default"): emulator_connection_json(creatio),
        connection_env_name("creatio_oauth"): emulator_connection_json(creatio, "oauth"),
        connection_env_name("creatio_second_site"): emulator_connection_json(second_site),
        # Where example_creatio_contact_load writes its files: a folder every component reaches.
        "AIRFLOW_VAR_CREATIO_TRANSFER_FOLDER": str(root / "transfers"),
    }
    airflow = _TIER.enter_context(AirflowDeployment(root / "airflow", dags, env=env))
    return Deployment(airflow, creatio, issued, second_site)


@dataclass
class Site:
    airflow: AirflowDeployment
    creatio: EmulatorServer


@pytest.fixture(scope="session")
def scheduling(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A second deployment, with an emulator of its own, whose scheduler creates runs: the session's deployment
    turns that off (``[scheduler] use_job_schedule``, so that no scheduled run competes with the triggered ones),
    which also stops the scheduler from turning asset events into runs. Only the asset-scheduled DAG files."""
    root = tmp_path_factory.mktemp("scheduling")
    dags = root / "dags"
    dags.mkdir()
    for name in SCHEDULED_DAG_FILES:
        shutil.copy(DAG_FILES / name, dags)
    creatio = _TIER.enter_context(EmulatorServer())
    env = {
        connection_env_name("creatio_default"): emulator_connection_json(creatio),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",
        # Where deployment_record_deletes.py's watcher keeps its snapshots of Ids.
        "CREATIO_DEPLOYMENT_SNAPSHOTS": str(root / "snapshots"),
    }
    airflow = _TIER.enter_context(AirflowDeployment(root / "airflow", dags, env=env))
    return Site(airflow, creatio)
