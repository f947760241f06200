"""What every Creatio operator and sensor shares: the connection id and one hook (one session) per task run."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.hooks.creatio import CreatioHook

if TYPE_CHECKING:
    from datetime import timedelta

    from airflow_provider_creatio._compat import Context


class CreatioHookMixin:
    """Gives an operator or sensor a lazily built :class:`CreatioHook`.

    The hook, and so the Creatio session, lives as long as the task instance object: a poking sensor logs in
    once for its whole wait. ``close_hook()`` logs out; operators call it when their work is done.
    """

    creatio_conn_id: str
    hook_params: dict[str, Any] | None = None

    @cached_property
    def hook(self) -> CreatioHook:
        return CreatioHook(self.creatio_conn_id, **(self.hook_params or {}))

    def close_hook(self) -> None:
        if "hook" in self.__dict__:
            self.__dict__.pop("hook").close()


def execution_deadline(execution_timeout: timedelta | None, context: Context) -> float | None:
    """The UNIX time at which the task's ``execution_timeout`` runs out, counted from the start of this try, for a
    trigger to enforce: Airflow does not enforce it while a task is deferred. None without a timeout."""
    if execution_timeout is None:
        return None
    return float(context["ti"].start_date.timestamp() + execution_timeout.total_seconds())
