"""The only module that knows where Airflow keeps things.

Everything else in the provider imports Airflow names from here. The authoring interface comes from the Task
SDK (``airflow.sdk``), which Airflow 3.0 already has; its exceptions, ``BaseHook`` and ``mask_secret`` joined
the Task SDK after 3.0, and on 3.0 still come from the core package.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow.sdk import (
    DAG,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    Connection,
    Context,
    PokeReturnValue,
    Variable,
)

try:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
    from airflow.sdk.log import mask_secret
except ImportError:  # pragma: no cover - Airflow 3.0 (Task SDK 1.0)
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        TaskDeferred,
    )
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import CronTriggerTimetable, ObjectStoragePath
    from airflow.triggers.base import BaseTrigger, TriggerEvent

# Names that DAG parsing never needs, imported on first use (PEP 562): the trigger base pulls in about 4 ms of
# modules and the cron timetable croniter (about 3 ms), and operator modules are imported at every DAG parse.
_LAZY = {  # the modules to try, in order
    "BaseTrigger": ("airflow.triggers.base",),
    "TriggerEvent": ("airflow.triggers.base",),
    # The Task SDK of Airflow 3.0 has no timetables; there it is core's.
    "CronTriggerTimetable": ("airflow.sdk", "airflow.timetables.trigger"),
    # Object storage (universal_pathlib, fsspec) is for the transfer operators' tasks, never a DAG parse.
    "ObjectStoragePath": ("airflow.sdk", "airflow.io.path"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    for module in _LAZY[name]:
        try:
            value = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):  # pragma: no cover - Airflow 3.0's location
            continue
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # pragma: no cover


def default_deferrable() -> bool:
    """``[operators] default_deferrable``, read when an operator is built (not at import time)."""
    from airflow.configuration import conf

    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


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
    "ObjectStoragePath",
    "PokeReturnValue",
    "TaskDeferred",
    "TriggerEvent",
    "Variable",
    "aget_connection",
    "default_deferrable",
    "mask_secret",
]
