"""High-water marks, kept as JSON objects in Airflow Variables: where an incremental extract's next window and a
record-change watch's next look start. A Variable reaches every worker and triggerer (Airflow's API serves it) and
outlives a run, which Airflow 3.3's task state store does not (it is scoped to one run).

The calls are synchronous: a trigger makes them in a worker thread (``asyncio.to_thread``), off the event loop
that every trigger shares.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_creatio._compat import AirflowException, Variable


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
