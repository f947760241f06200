"""High-water marks, kept as JSON objects in Airflow Variables: where an incremental extract's next window and a
record-change watch's next look start; and the window of ``ModifiedOn`` an incremental extract (of records or of
files) reads in a run. A Variable reaches every worker and triggerer (Airflow's API serves it) and
outlives a run, which Airflow 3.3's task state store does not (it is scoped to one run).

The calls are synchronous: a trigger makes them in a worker thread (``asyncio.to_thread``), off the event loop
that every trigger shares.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio._compat import AirflowException, Variable

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context

Window = tuple[
    str | None, str
]  # [start, end) of ModifiedOn as OData date-time literals; no start: from the first


def read_mark(key: str) -> dict[str, Any] | None:
    """The object kept under ``key``; None when the Variable does not exist."""
    text = Variable.get(key, default=None)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise AirflowException(
            f"the Variable {key} must hold a JSON object (a high-water mark), got {text[:80]!r}"
        )
    return value


def write_mark(key: str, value: dict[str, Any], description: str) -> None:
    Variable.set(key, json.dumps(value), description=description)


def run_window(context: Context, key: str, clock_margin: dt.timedelta) -> Window:
    """[start, end) of ModifiedOn for an incremental extract: the run's data interval; without one, from the mark
    kept under ``key`` (from the beginning when there is none yet: the first run is the initial load) to the run's
    ``run_after`` less ``clock_margin``. A rerun of the run that set the mark reads that run's window again."""
    from airflow_provider_creatio.client.keyset import filter_date_time, parse_date_time

    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None and start < end:
        return filter_date_time(start), filter_date_time(end)
    state = _window_state(key)
    if state is not None and state.get("run_id") == context["run_id"] and state.get("window"):
        first, last = state["window"]
        return first, str(last)
    run_after = context["dag_run"].run_after
    mark = None if state is None else filter_date_time(parse_date_time(state["high_water_mark"]))
    return mark, filter_date_time(run_after - clock_margin)


def keep_window(key: str, window: Window, run_id: str, description: str) -> None:
    """Move the mark under ``key`` to the window's end, forward only: a rerun of an old window must not send the
    next run back. The window is kept with the run that set it, so that a rerun of that run reads the same
    window."""
    from airflow_provider_creatio.client.keyset import parse_date_time

    state = _window_state(key)
    if state is not None and parse_date_time(window[1]) < parse_date_time(state["high_water_mark"]):
        return
    write_mark(key, {"high_water_mark": window[1], "run_id": run_id, "window": list(window)}, description)


def _window_state(key: str) -> dict[str, Any] | None:
    state = read_mark(key)
    if state is None:
        return None
    if not isinstance(state.get("high_water_mark"), str):
        raise AirflowException(f'the Variable {key} must hold {{"high_water_mark": "<ISO 8601 time>"}}')
    return state
