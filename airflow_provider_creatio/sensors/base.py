"""What the Creatio sensors share beyond the hook (which operators share too, see :mod:`operators.base`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_creatio._compat import AirflowFailException, AirflowSkipException, AirflowTaskTimeout

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context, PokeReturnValue


class FirstLookMixin:
    """Deferrable sensors look once before deferring; that look fails or skips as a poke of the base class would.
    A look that finds the wait over ends the task without deferring; otherwise :meth:`defer_to_trigger` defers."""

    soft_fail: bool
    deferrable: bool

    if TYPE_CHECKING:

        def close_hook(self) -> None: ...

    def poke(self, context: Context) -> PokeReturnValue:
        raise NotImplementedError

    def defer_to_trigger(self, context: Context) -> None:
        """Defer to the sensor's trigger (raises TaskDeferred)."""
        raise NotImplementedError

    def first_look(self, context: Context) -> PokeReturnValue:
        try:
            return self.poke(context)
        except AirflowFailException as err:
            if self.soft_fail or getattr(self, "never_fail", False):
                raise AirflowSkipException(str(err)) from err
            raise

    def timed_out(self, message: str) -> AirflowTaskTimeout:
        """The error of a deferred wait whose ``execution_timeout`` passed (the trigger enforces it: Airflow does
        not while a task is deferred). A sensor only watches: nothing is cancelled."""
        return AirflowTaskTimeout(message)

    def execute(self, context: Context) -> Any:
        try:
            if not self.deferrable:
                return super().execute(context)  # type: ignore[misc]
            first = self.first_look(context)
            if first.is_done:
                return first.xcom_value
            self.defer_to_trigger(context)
            return None  # not reached: defer() raises TaskDeferred
        finally:
            self.close_hook()
