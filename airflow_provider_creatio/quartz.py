"""Deprecated: the Quartz conversion moved to :mod:`airflow_provider_creatio.schedules.quartz`.

This module keeps the old import path working; it re-exports the same objects and warns once, when imported.
"""

from __future__ import annotations

import warnings

from airflow_provider_creatio.schedules.quartz import CronEquivalent, QuartzConversionError, quartz_to_cron

__all__ = ["CronEquivalent", "QuartzConversionError", "quartz_to_cron"]

warnings.warn(
    "airflow_provider_creatio.quartz is deprecated: import airflow_provider_creatio.schedules.quartz",
    DeprecationWarning,
    stacklevel=2,
)
