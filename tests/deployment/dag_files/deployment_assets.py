"""Data-aware scheduling in the deployment tier: a DAG that writes Contact records, one that only reads them, and
a DAG scheduled on the Contact asset, which Airflow runs after the writer (and not after the reader)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import DAG, Asset, task

from airflow_provider_creatio.operators.entity import (
    CreatioCreateEntityOperator,
    CreatioQueryEntitiesOperator,
)

# The asset as a user writes it: creatio://<the connection's host>/<Entity>
SITE = urlsplit(json.loads(os.environ["AIRFLOW_CONN_CREATIO_DEFAULT"])["host"]).netloc
CONTACT = Asset(f"creatio://{SITE}/Contact")

with DAG("deployment_assets_writer", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    CreatioCreateEntityOperator(
        task_id="create", entity="Contact", data={"Name": "{{ dag_run.conf['name'] }}"}
    )

with DAG("deployment_assets_reader", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    CreatioQueryEntitiesOperator(task_id="query", entity="Contact", select=["Id"], top=1)

with DAG("deployment_assets_consumer", schedule=[CONTACT], start_date=datetime(2024, 1, 1), catchup=False):

    @task
    def triggered_by(**context: Any) -> list[dict[str, Any]]:
        """The asset events that started this run: which DAG run wrote Contact records."""
        return [
            {"dag_id": event.source_dag_id, "run_id": event.source_run_id, "uri": event.asset.uri}
            for event in context["triggering_asset_events"][CONTACT]
        ]

    triggered_by()
