"""Six writers of one entity whose tasks end at the same moment, so that their success reports (with their asset
events) reach the api-server together: the case in which Airflow 3.3.2 fails all but one task when it creates an
asset, or links one to an alias, on its first event (docs/guides/lineage.md). The provider does neither.

* ``deployment_first_event_undeclared`` writes City records: no DAG mentions the City asset, so no event is
  recorded and no asset is created.
* ``deployment_first_event_declared`` writes CommunicationType records: ``deployment_communication_types`` is
  scheduled on that asset, so Airflow knows it, and each writer records an event on it.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import DAG, Asset, task

from airflow_provider_creatio.operators.entity import CreatioCreateEntityOperator

WRITERS = 6
SITE = urlsplit(json.loads(os.environ["AIRFLOW_CONN_CREATIO_DEFAULT"])["host"]).netloc


class WriterEndingOnTheBeat(CreatioCreateEntityOperator):
    """Creates its record, then waits for the next whole 10 s of the clock: every writer of the run ends then."""

    def execute(self, context: Any) -> Any:
        created = super().execute(context)
        time.sleep(10 - time.time() % 10)
        return created


def writers(entity: str) -> None:
    for number in range(WRITERS):
        WriterEndingOnTheBeat(
            task_id=f"create_{number}", entity=entity, data={"Name": f"First event {entity} {number}"}
        )


with DAG("deployment_first_event_undeclared", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    writers("City")

with DAG("deployment_first_event_declared", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    writers("CommunicationType")

with DAG(
    "deployment_communication_types",
    schedule=[Asset(f"creatio://{SITE}/CommunicationType")],
    start_date=datetime(2024, 1, 1),
    catchup=False,
):

    @task
    def noticed() -> None:
        """Never runs here (the session's deployment makes no asset-triggered run): its schedule is what makes
        Airflow know the asset."""

    noticed()
