"""What every Creatio operator and sensor shares: the connection id and one hook (one session) per task run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.hooks.creatio import CreatioHook

if TYPE_CHECKING:
    from datetime import timedelta

    from airflow_provider_creatio._compat import Context

# The resumed method's keyword argument that carries the calls spent before the task deferred (the hook that made
# them is gone by then). The reporting wrapper adds it when the task defers and takes it off before the method runs.
SPENT_BEFORE_DEFERRING = "creatio_api_calls_before"
_ENTRY_POINTS = ("execute", "execute_complete")


class CreatioHookMixin:
    """Gives an operator or sensor a lazily built :class:`CreatioHook`, and reports the API calls it spent.

    The hook, and so the Creatio session, lives as long as the task instance object: a poking sensor logs in
    once for its whole wait. ``close_hook()`` logs out; operators call it when their work is done.

    ``execute`` and ``execute_complete`` of every subclass end with one log line of the calls the task spent, as
    Creatio counts them against the user's daily quota (:attr:`api_calls_spent`), and add them to an XCom that
    is a dict (key ``api_calls``) unless that dict is a record (:attr:`api_calls_in_xcom`). A deferred task's
    report counts all its parts: the calls before it deferred (carried in the resumed method's keyword
    arguments), its trigger's looks (in the event) and the resumed method's own.
    """

    creatio_conn_id: str
    hook_params: dict[str, Any] | None = None
    # Whether a dict XCom gets the calls spent; False where the XCom is a Creatio record, which stays the record.
    api_calls_in_xcom = True
    _closed_api_calls = 0  # the calls of the hooks this task closed
    _reporting = False  # an entry point is running: the ones it calls (super().execute) do not report again

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _ENTRY_POINTS:
            method = getattr(cls, name, None)
            if method is not None and not getattr(method, "_reports_api_calls", False):
                setattr(cls, name, _reporting_api_calls(method))

    @cached_property
    def hook(self) -> CreatioHook:
        return CreatioHook(self.creatio_conn_id, **(self.hook_params or {}))

    def close_hook(self) -> None:
        if "hook" in self.__dict__:
            hook = self.__dict__.pop("hook")
            hook.close()
            self._closed_api_calls += hook.api_calls

    @property
    def api_calls_spent(self) -> int:
        """The calls this task's hooks made, as Creatio counts them (each operation of a ``$batch`` apart)."""
        hook = self.__dict__.get("hook")
        return self._closed_api_calls + (hook.api_calls if hook is not None else 0)

    def refuse_over_api_calls(self, max_api_calls: int | None, needed: int) -> None:
        """Fail before writing when the calls spent so far and the ``needed`` ones would pass ``max_api_calls``."""
        if max_api_calls is None:
            return
        spent = self.api_calls_spent
        if spent + needed > max_api_calls:
            from airflow_provider_creatio.client.errors import CreatioValidationError

            raise CreatioValidationError(
                f"this load needs {spent + needed:,} API calls ({needed:,} to write, {spent:,} spent before), "
                f"more than max_api_calls={max_api_calls:,}; nothing was written"
            )


def _reporting_api_calls(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` followed by the report of the calls spent: logged, and in a dict XCom. A task that defers
    hands what it spent so far to the method it resumes in; a failed one logs what it spent."""
    from airflow_provider_creatio._compat import TaskDeferred

    @functools.wraps(method)
    def report(self: CreatioHookMixin, *args: Any, **kwargs: Any) -> Any:
        from airflow_provider_creatio.client.api_calls import KEY as API_CALLS  # not at DAG parse

        earlier = kwargs.pop(SPENT_BEFORE_DEFERRING, 0)
        if self._reporting:
            return method(self, *args, **kwargs)
        self._reporting = True
        event = kwargs.get("event")
        earlier += event.get(API_CALLS, 0) if isinstance(event, dict) else 0  # the trigger's looks
        before = self.api_calls_spent  # an operator object executed again reports each run's own calls
        deferred = False
        try:
            result = method(self, *args, **kwargs)
        except TaskDeferred as deferral:
            deferred = True
            deferral.kwargs = {
                **(deferral.kwargs or {}),
                SPENT_BEFORE_DEFERRING: earlier + self.api_calls_spent - before,
            }
            raise
        finally:
            self._reporting = False
            spent = earlier + self.api_calls_spent - before
            if not deferred:
                self.log.info("Creatio API calls spent: %d", spent)  # type: ignore[attr-defined]
        if isinstance(result, dict) and self.api_calls_in_xcom:
            result = {**result, API_CALLS: spent}
        return result

    report._reports_api_calls = True  # type: ignore[attr-defined]
    return report


def execution_deadline(execution_timeout: timedelta | None, context: Context) -> float | None:
    """The UNIX time at which the task's ``execution_timeout`` runs out, counted from the start of this try, for a
    trigger to enforce: Airflow does not enforce it while a task is deferred. None without a timeout."""
    if execution_timeout is None:
        return None
    return float(context["ti"].start_date.timestamp() + execution_timeout.total_seconds())
