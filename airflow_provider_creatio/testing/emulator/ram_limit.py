"""Creatio's RAM limit of a read (``MaxMemoryUsageToGetDataViaEntityCollection``, academy "RAM consumption limit"):
a collection GET whose data would take more memory than the limit answers 500 instead of its rows.

The emulator has no .NET heap to measure, so it charges a read a deterministic estimate: the size of the rows it
would answer, as compact UTF-8 JSON (exactly as it writes them, ``$select`` and ``$expand`` applied), in MB of
2**20 bytes. Tests can size a limit with :func:`read_memory_mb` on rows they read (docs/guides/emulator.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_creatio.testing.emulator.replies import Reply, ram_limit_reached

MB = 2**20


def read_memory_mb(rows: Sequence[Mapping[str, Any]]) -> float:
    """The memory the emulator charges a read that answers ``rows``."""
    return len(json.dumps(list(rows), ensure_ascii=False, separators=(",", ":")).encode()) / MB


def over_limit(limit_mb: float | None, rows: Sequence[Mapping[str, Any]]) -> Reply | None:
    """The 500 a read of ``rows`` gets under ``limit_mb`` (None: no limit), or None when it fits."""
    if limit_mb is None or read_memory_mb(rows) <= limit_mb:
        return None
    return ram_limit_reached(limit_mb)
