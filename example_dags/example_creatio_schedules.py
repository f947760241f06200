"""Creatio process schedules declared in process_schedules.yaml, one DAG per entry.

Edit the YAML file, not this one: each entry names a process, its input values and result parameters, and when
to run it (a Quartz expression, start and end dates, run once, run immediately, retry count). A mistake in the
file shows as an import error of this DAG file that names the entry and the field. The rules are in
``airflow_provider_creatio.schedules``: ``.validation`` for the keys, ``.dags`` for when each entry runs.
"""

from __future__ import annotations

from pathlib import Path

from airflow_provider_creatio.schedules import dags_from_file

globals().update(dags_from_file(Path(__file__).with_name("process_schedules.yaml")))
