"""The only module that knows where Airflow keeps things.

Everything else in the provider imports Airflow names from here. The authoring interface comes from the Task
SDK (``airflow.sdk``), which Airflow 3.0 already has. ``BaseHook`` joined the Task SDK in 3.1 and the task
exceptions in 3.2; before that they come from the core package. ``make test-compat`` runs the unit and
``dag.test`` tests on the newest patch of each older minor, so every fallback below is exercised.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow.sdk import (
    DAG,
    Asset,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    Connection,
    Context,
    PokeReturnValue,
    Variable,
)
from airflow.sdk.log import mask_secret

try:
    from airflow.sdk import BaseHook
except ImportError:  # Airflow 3.0
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]

try:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
        TaskDeferred,
    )
except ImportError:  # Airflow 3.0 and 3.1: the task runner catches core's exceptions
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
        TaskDeferred,
    )

try:  # Airflow 3.3+: a job a retry reconnects to, through the task state store
    from airflow.sdk import ResumableJobMixin
except (
    ImportError
):  # before 3.3 (and a common.compat provider too old for its stand-in): no store to resume from

    class ResumableJobMixin:  # type: ignore[no-redef]
        """Submit, poll, return the result, on every try: what the SDK mixin does without a task state store."""

        def __init__(self, *, durable: bool = True, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.durable = durable

        def execute_resumable(self, context: Any) -> Any:
            external_id = self.submit_job(context)  # type: ignore[attr-defined]
            self.poll_until_complete(external_id, context)  # type: ignore[attr-defined]
            return self.get_job_result(external_id, context)  # type: ignore[attr-defined]


# Airflow's own category for a provider's deprecations (a DeprecationWarning), so users filter them as they do
# every provider's.
from airflow.exceptions import AirflowProviderDeprecationWarning

if TYPE_CHECKING:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import CronTriggerTimetable, ObjectStoragePath
    from airflow.sdk.exceptions import AirflowRuntimeError
    from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent
    from airflow.triggers.shared_stream import SharedStreamProducer

# Names that DAG parsing never needs, imported on first use (PEP 562): the trigger base pulls in about 4 ms of
# modules and the cron timetable croniter (about 3 ms), and operator modules are imported at every DAG parse.
_LAZY = {  # the modules to try, in order
    "BaseTrigger": ("airflow.triggers.base",),
    "TriggerEvent": ("airflow.triggers.base",),
    "BaseEventTrigger": ("airflow.triggers.base",),
    # Shared trigger streams with a producer ack channel: Airflow 3.3+ only.
    "SharedStreamProducer": ("airflow.triggers.shared_stream",),
    # What the Task SDK raises when the api-server answers a lookup (an asset, a variable) with an error.
    "AirflowRuntimeError": ("airflow.sdk.exceptions",),
    # The Task SDK has timetables from Airflow 3.2; before that it is core's.
    "CronTriggerTimetable": ("airflow.sdk", "airflow.timetables.trigger"),
    # Object storage (universal_pathlib, fsspec) is for the transfer operators' tasks, never a DAG parse.
    "ObjectStoragePath": ("airflow.sdk", "airflow.io.path"),
    # For the testing helpers; DagBag moved to the DAG processor in Airflow 3.2.
    "DagBag": ("airflow.dag_processing.dagbag", "airflow.models.dagbag"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    for module in _LAZY[name]:
        try:
            value = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):  # pragma: no cover - an older Airflow's location
            continue
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # pragma: no cover


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, read when an operator is built (not at import time)."""
    from airflow.configuration import conf

    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def once_runs_without_start_date() -> bool:
    """Whether ``schedule="@once"`` runs a DAG without ``start_date`` at deployment (Airflow 3.1+); Airflow 3.0's
    ``@once`` never runs such a DAG. Asked of the timetable itself, so it holds for any patch release."""
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.simple import OnceTimetable

    no_start = TimeRestriction(earliest=None, latest=None, catchup=False)
    first = OnceTimetable().next_dagrun_info(last_automated_data_interval=None, restriction=no_start)
    return first is not None


async def aget_connection(conn_id: str) -> Any:
    """Look a connection up from a trigger's event loop without blocking it.

    Before Airflow 3.3.2 the synchronous lookup raises DeadlockImminentError inside a trigger; the async API
    (3.x) avoids that, and a worker thread is the fallback where it does not exist.
    """
    getter = getattr(BaseHook, "aget_connection", None)
    if getter is not None:
        return await getter(conn_id)
    return await asyncio.to_thread(BaseHook.get_connection, conn_id)


__all__ = [
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowProviderDeprecationWarning",
    "AirflowRuntimeError",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "Asset",
    "BaseEventTrigger",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "Connection",
    "Context",
    "CronTriggerTimetable",
    "DagBag",
    "ObjectStoragePath",
    "PokeReturnValue",
    "ResumableJobMixin",
    "SharedStreamProducer",
    "TaskDeferred",
    "TriggerEvent",
    "Variable",
    "aget_connection",
    "default_deferrable",
    "mask_secret",
    "once_runs_without_start_date",
]
