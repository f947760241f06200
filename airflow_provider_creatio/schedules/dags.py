"""A schedule file's DAGs: one per entry, each with one task, ``run_process`` (``CreatioRunProcessOperator``).

How each entry is scheduled (every DAG has ``catchup=False``; "deployment" means the moment the DAG is first
active: parsed and unpaused):

* ``runOnce: Y``: ``schedule="@once"``. With ``runImmediately: N`` the single run happens at ``startDate``
  (required), or at deployment if that moment has already passed. With ``runImmediately: Y`` the DAG has no
  ``start_date`` and runs once at deployment; a ``startDate`` would contradict that and is refused. (Airflow 3.0
  never runs ``@once`` without a ``start_date``; there the schedule file's modification time is the start.)
* ``runOnce: N``: a ``CronTriggerTimetable`` built explicitly (a bare cron string would depend on the
  ``[scheduler] create_cron_data_intervals`` option) in the entry's ``timezone``. Runs happen at the Quartz
  times from ``startDate`` (and the year field's first year) on, never at or after ``endDate``.

  - ``runImmediately: Y``: at deployment, the most recent Quartz time that is not before ``startDate`` runs at
    once instead of waiting for the next one (if there is none yet, the first run is the first Quartz time from
    ``startDate`` on). Without a ``startDate`` that is simply the most recent Quartz time.
    This is Airflow's own behaviour for ``catchup=False`` (with ``start_date``) and for
    ``run_immediately=True`` (without).
  - ``runImmediately: N``: the first run is the first Quartz time after deployment, and not before
    ``startDate``. Airflow cannot say this with a fixed ``start_date``: once that date has passed, a
    ``catchup=False`` DAG runs the latest missed time at once. So the DAG carries ``start_date`` only while it
    lies in the future (it is needed then: no run may come earlier) and none once it has passed (it can no longer
    hold anything back), and ``run_immediately=timedelta(0)``: ``False`` would still run a time that passed less
    than max(5 minutes, 10% of the interval) ago, despite Airflow's docstring.
* ``endDate`` becomes ``end_date = endDate - 1 microsecond`` (Airflow's ``end_date`` is inclusive); the year
  field narrows ``start_date``/``end_date`` to its first and last year.
* ``retryCount`` becomes the task's ``retries`` (Airflow's default ``retry_delay``).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.schedules.entry import ProcessSchedule
from airflow_provider_creatio.schedules.loading import load_schedule_file

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import DAG


def build_dag(schedule: ProcessSchedule, file_modified: dt.datetime) -> DAG:
    """The DAG that runs ``schedule``'s process on its schedule; one task, ``run_process``.

    ``file_modified``: when the schedule file was last written, the start of a run-once-at-deployment DAG on an
    Airflow that never runs ``@once`` without a ``start_date`` (3.0): it has passed, so the run comes at once, and it
    stays the same at every parse (a parse-time start would make a new DAG version at every parse)."""
    # Imported here so that loading and validating a schedule file needs neither Airflow nor the operator.
    from airflow_provider_creatio._compat import DAG, CronTriggerTimetable, once_runs_without_start_date
    from airflow_provider_creatio.operators.process import CreatioRunProcessOperator

    if schedule.quartz is None:
        timetable: Any = "@once"
    else:
        timetable = CronTriggerTimetable(
            schedule.quartz.cron,
            timezone=schedule.timezone,
            # timedelta(0), not False: see the module docstring.
            run_immediately=True if schedule.run_immediately else dt.timedelta(0),
        )
    start_date = schedule.dag_start_date(dt.datetime.now(dt.timezone.utc))
    if start_date is None and schedule.run_once and not once_runs_without_start_date():
        start_date = file_modified
    dag = DAG(
        dag_id=schedule.dag_id,
        schedule=timetable,
        start_date=start_date,
        end_date=schedule.latest_run,
        catchup=False,
        tags=list(schedule.tags),
        description=schedule.description,
        doc_md=f"Generated from {schedule.source} by `airflow_provider_creatio.schedules`.",
    )
    CreatioRunProcessOperator(
        task_id="run_process",
        dag=dag,
        process_name=schedule.process_name,
        parameters=dict(schedule.parameters),
        result_parameters=list(schedule.result_parameters),
        retries=schedule.retries,
        creatio_conn_id=schedule.creatio_conn_id or CreatioRunProcessOperator.default_conn_id,
    )
    return dag


def dags_from_file(path: str | os.PathLike[str]) -> dict[str, DAG]:
    """``{dag_id: DAG}`` for every entry of a schedule file, ready for ``globals().update(...)`` in a DAG file."""
    modified = dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.timezone.utc)
    return {schedule.dag_id: build_dag(schedule, modified) for schedule in load_schedule_file(path)}
