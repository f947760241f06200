"""CreatioEntitySensor: wait until a Creatio record (or the first records of a query) meets a condition.

Conditions (all given ones must hold):

* ``success_values``: column path -> value, or a list of accepted values. Paths may go through one lookup:
  ``{"Status/Id": [resolved_id, closed_id]}`` (read from the flat ``StatusId`` column) or
  ``{"Status/Name": "Resolved"}`` (the lookup is expanded for you). GUIDs compare in any letter case.
* ``predicate``: a callable that takes the record and returns True when the wait is over (poke and
  reschedule modes only: a callable cannot travel to the triggerer). ``condition``, its old name, still works
  with a deprecation warning.

``failure_values`` (same form) fails the task at once when the record reaches a failure state, e.g.
``{"Status/Id": canceled_id}``. A watched record that does not exist, or disappears, also fails at once. A
query that matches nothing keeps waiting (the record may not exist yet); in query mode the first ``top``
records (in ``orderby`` order) are examined, and the first one that meets the condition is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_creatio._compat import (
    AirflowException,
    AirflowFailException,
    BaseSensorOperator,
    PokeReturnValue,
    default_deferrable,
)
from airflow_provider_creatio.deprecated import renamed
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.base import CreatioHookMixin, execution_deadline
from airflow_provider_creatio.sensors.base import FirstLookMixin
from airflow_provider_creatio.templated import as_filter

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context
    from airflow_provider_creatio.client.odata import Columns
    from airflow_provider_creatio.client.watch import RecordCondition, WatchSpec

RecordPredicate = Callable[[dict[str, Any]], bool]


def check_arguments(
    record_id: str | None,
    filter: object,
    success_values: Mapping[str, Any] | None,
    predicate: RecordPredicate | None,
    deferrable: bool,
) -> None:
    """Refuse a sensor that could never finish, or whose predicate cannot travel to the triggerer."""
    if (record_id is None) == (filter is None):
        raise ValueError("CreatioEntitySensor watches one record (record_id) or a query (filter): give one")
    if record_id is not None and not success_values and predicate is None:
        raise ValueError(
            "CreatioEntitySensor on a record needs success_values or a predicate; "
            "to read a record once, use CreatioGetEntityOperator"
        )
    if predicate is not None and not callable(predicate):
        raise ValueError(f"predicate must be a callable taking the record, got {type(predicate).__name__}")
    if predicate is not None and deferrable:
        raise ValueError(
            "a predicate cannot be used with deferrable=True: the trigger runs in the triggerer, "
            "and a Python callable cannot be serialized to it. Express the condition with success_values "
            "(and failure_values), or set deferrable=False"
        )


class CreatioEntitySensor(CreatioHookMixin, FirstLookMixin, BaseSensorOperator):  # type: ignore[misc]
    """Wait until one record (by Id) or a query meets a condition (see the module's docstring); returns the record.

    :param entity: the Creatio object name. Templated.
    :param record_id: the record to watch. Templated. Give either this or ``filter``.
    :param filter: a query (raw OData string, or a mapping as in the query operator). Templated.
    :param success_values: see above. Templated.
    :param failure_values: see above. Templated.
    :param predicate: see above.
    :param select: columns to read (the condition's columns are added). Templated.
    :param expand: lookups to expand (the condition's lookups are added). Templated.
    :param orderby: query mode: order in which records are examined. Templated.
    :param top: query mode: how many records are examined per look (default 1).
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``). Checks once first,
        and finishes without deferring when the condition already holds.
    :param creatio_conn_id: the Airflow connection of type ``creatio``. Templated.
    :param hook_params: CreatioHook overrides (``retry_attempts``, ``timeout``...).

    ``poke_interval`` (an argument of every sensor) is the time between looks, in seconds; the trigger uses it too.

    XCom: the record that met the condition (through ``PokeReturnValue``).
    """

    api_calls_in_xcom = False  # the XCom is the record
    template_fields: Sequence[str] = (
        "entity",
        "record_id",
        "filter",
        "success_values",
        "failure_values",
        "select",
        "expand",
        "orderby",
        "creatio_conn_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "filter": "json",
        "success_values": "json",
        "failure_values": "json",
    }
    ui_color = "#d8ecfb"

    def __init__(
        self,
        *,
        entity: str,
        record_id: str | None = None,
        filter: str | Mapping[str, Any] | None = None,
        success_values: Mapping[str, Any] | None = None,
        failure_values: Mapping[str, Any] | None = None,
        predicate: RecordPredicate | None = None,
        select: Columns = None,
        expand: Columns = None,
        orderby: Columns = None,
        top: int = 1,
        deferrable: bool | None = None,
        creatio_conn_id: str = CreatioHook.default_conn_name,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        predicate = renamed(
            "CreatioEntitySensor(condition=...)", "predicate", kwargs.pop("condition", None), predicate
        )
        super().__init__(**kwargs)
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        check_arguments(record_id, filter, success_values, predicate, self.deferrable)
        self.entity = entity
        self.record_id = record_id
        self.filter = filter
        self.success_values = success_values
        self.failure_values = failure_values
        self.predicate = predicate
        self.select = select
        self.expand = expand
        self.orderby = orderby
        self.top = top
        self.creatio_conn_id = creatio_conn_id
        self.hook_params = hook_params

    def _watch(self) -> tuple[WatchSpec, RecordCondition]:
        """The rendered arguments, validated (each look reuses them)."""
        from airflow_provider_creatio.client import watch

        condition = watch.RecordCondition.build(self.success_values, self.failure_values)
        spec = watch.WatchSpec.build(
            self.entity,
            record_id=self.record_id or None,
            filter=None if self.record_id else as_filter(self.filter),
            select=self.select,
            expand=self.expand,
            orderby=self.orderby,
            top=self.top,
            condition=condition,
        )
        return spec, condition

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_creatio.client import watch

        outcome = self.hook.watch(*self._watch(), self.predicate)
        if outcome.state is watch.WatchState.FAILURE:
            raise AirflowFailException(outcome.message)
        self.log.info("%s", outcome.message)
        return PokeReturnValue(is_done=outcome.state is watch.WatchState.SUCCESS, xcom_value=outcome.record)

    def defer_to_trigger(self, context: Context) -> None:
        from airflow_provider_creatio.triggers.entity import CreatioEntityTrigger

        trigger = CreatioEntityTrigger.after_first_look(
            self.creatio_conn_id,
            *self._watch(),
            poll_interval=self.poke_interval,
            hook_params=self.hook_params,
            task_deadline=execution_deadline(self.execution_timeout, context),
        )
        self.defer(trigger=trigger, method_name="execute_complete", timeout=timedelta(seconds=self.timeout))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        status, message = event.get("status"), str(event.get("message") or "")
        if status == "success":
            self.log.info("%s", message)
            return event.get("record")
        if status == "failure":
            raise AirflowFailException(message)
        if status == "execution_timeout":
            raise self.timed_out(message)
        raise AirflowException(f"the Creatio record trigger failed: {message}")
