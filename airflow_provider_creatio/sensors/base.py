"""What the Creatio sensors share beyond the hook (which operators share too, see :mod:`operators.base`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_creatio._compat import AirflowFailException, AirflowSkipException

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context, PokeReturnValue


class FirstLookMixin:
    """Deferrable sensors look once before deferring; that look fails or skips as a poke of the base class would."""

    soft_fail: bool

    def poke(self, context: Context) -> PokeReturnValue:
        raise NotImplementedError

    def first_look(self, context: Context) -> PokeReturnValue:
        try:
            return self.poke(context)
        except AirflowFailException as err:
            if self.soft_fail or getattr(self, "never_fail", False):
                raise AirflowSkipException(str(err)) from err
            raise
