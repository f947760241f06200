"""The only module that knows where Airflow keeps things.

Airflow 3 moved the authoring interface to the Task SDK (``airflow.sdk``); Airflow 2.x kept it under
``airflow.models`` and friends. Everything else in the provider imports Airflow names from here.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

try:  # Airflow 3.x: the Task SDK
    from airflow.sdk import (
        DAG,
        BaseHook,
        BaseOperator,
        BaseOperatorLink,
        BaseSensorOperator,
        Connection,
        Context,
        PokeReturnValue,
    )
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
    from airflow.sdk.log import mask_secret
except ImportError:  # pragma: no cover - Airflow 2.x
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]
    from airflow.models.baseoperator import BaseOperator  # type: ignore[no-redef]
    from airflow.models.baseoperatorlink import BaseOperatorLink  # type: ignore[no-redef]
    from airflow.models.connection import Connection  # type: ignore[no-redef]
    from airflow.models.dag import DAG  # type: ignore[no-redef]
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue  # type: ignore[no-redef]
    from airflow.utils.context import Context  # type: ignore[no-redef]
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.models.taskinstancekey import TaskInstanceKey  # noqa: F401
    from airflow.sdk import CronTriggerTimetable
    from airflow.triggers.base import BaseTrigger, TriggerEvent

# Names that DAG parsing never needs, imported on first use (PEP 562): the trigger base pulls in about 4 ms of
# modules and the cron timetable croniter (about 3 ms), and operator modules are imported at every DAG parse.
_LAZY = {  # the modules to try, in order (Airflow 3.x, then 2.x)
    "BaseTrigger": ("airflow.triggers.base",),
    "TriggerEvent": ("airflow.triggers.base",),
    "CronTriggerTimetable": ("airflow.sdk", "airflow.timetables.trigger"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    for module in _LAZY[name]:
        try:
            value = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):  # pragma: no cover - the Airflow 2.x location
            continue
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # pragma: no cover


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, read when an operator is built (not at import time)."""
    from airflow.configuration import conf

    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def get_connection(conn_id: str) -> Any:
    """Look a connection up through the hook API (workers, tests)."""
    return BaseHook.get_connection(conn_id)


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
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "Connection",
    "Context",
    "CronTriggerTimetable",
    "PokeReturnValue",
    "TaskDeferred",
    "TriggerEvent",
    "aget_connection",
    "default_deferrable",
    "get_connection",
    "mask_secret",
]
