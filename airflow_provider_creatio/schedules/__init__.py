"""Declarative process schedules: a YAML or JSON file lists Creatio processes to run, and each entry becomes a DAG.

The scheduler API shows what users of process schedulers write: ``name``, ``values``, ``quartzDef``, ``startDate``,
``endDate``, ``runOnce``, ``runImmediately`` and ``retryCount``. Here Airflow does the scheduling. A DAG file
(``example_dags/example_creatio_schedules.py``) does::

    globals().update(dags_from_file(Path(__file__).with_name("process_schedules.yaml")))

:mod:`.loading` reads the file; :mod:`.validation` checks each entry (the keys and what they accept) and
makes a :class:`ProcessSchedule` of it (:mod:`.entry`); :mod:`.dags` builds the DAGs (when each entry runs);
:mod:`.quartz` converts Quartz expressions to cron. Only :mod:`.dags` needs Airflow, to build a DAG.
"""

from __future__ import annotations

from airflow_provider_creatio.schedules.dags import build_dag, dags_from_file
from airflow_provider_creatio.schedules.entry import ProcessSchedule
from airflow_provider_creatio.schedules.errors import ScheduleFileError
from airflow_provider_creatio.schedules.loading import load_schedule_file

__all__ = ["ProcessSchedule", "ScheduleFileError", "build_dag", "dags_from_file", "load_schedule_file"]
