"""Run a DAG from a DAGs folder with ``dag.test()`` and collect what a test wants to check.

``dag.test()`` does not raise when a task fails, and a DAG defined inline in a test module is not serialized, so
this helper loads the DAG from its file through a DagBag and reports the run's state, every task's state and every
``return_value`` XCom. It needs an initialised Airflow metadata database (``airflow db migrate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal


@dataclass
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str] = field(default_factory=dict)
    # task_id (with "[map_index]" when mapped) -> its return_value XCom
    xcoms: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.state == "success"


def load_dag(dags_folder: str | Path, dag_id: str) -> Any:
    from airflow_provider_creatio._compat import DagBag

    bag = DagBag(dag_folder=str(dags_folder))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors in {dags_folder}: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise LookupError(f"no DAG {dag_id!r} in {dags_folder}")
    return dag


def run_dag(
    dags_folder: str | Path,
    dag_id: str,
    *,
    logical_date: datetime | Literal["now"] | None = "now",
    run_after: datetime | None = None,
    run_conf: dict[str, Any] | None = None,
) -> DagRunResult:
    """Run one DAG with ``dag.test()``.

    ``logical_date``: ``"now"`` (dag.test's default: the current time), a datetime, or None for a run without a
    logical date, as Airflow 3 creates when a run is triggered from the REST API or the CLI without one (no data
    interval, no ``ds``). ``run_after``: when the run was due (default: now).
    """
    dag = load_dag(dags_folder, dag_id)
    kwargs: dict[str, Any] = {"run_conf": run_conf, "run_after": run_after}
    if logical_date != "now":
        kwargs["logical_date"] = logical_date
    dag_run = dag.test(**kwargs)
    return collect(dag_id, dag_run.run_id)


def collect(dag_id: str, run_id: str) -> DagRunResult:
    """Read the state, task states and return-value XComs of one DAG run from the metadata database."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).one()
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        ).all()
        rows = session.scalars(XComModel.get_many(run_id=run_id, dag_ids=dag_id, key="return_value")).all()
        result = DagRunResult(dag_id=dag_id, run_id=run_id, state=str(run.state))
        for ti in tis:
            result.task_states[_task_key(ti.task_id, ti.map_index)] = str(ti.state)
        for row in rows:
            result.xcoms[_task_key(row.task_id, row.map_index)] = XComModel.deserialize_value(row)
    return result


def _task_key(task_id: str, map_index: int) -> str:
    return task_id if map_index < 0 else f"{task_id}[{map_index}]"
