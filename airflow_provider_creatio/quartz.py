"""Deprecated: the Quartz conversion moved to :mod:`airflow_provider_creatio.schedules.quartz`.

This module keeps the old import path working; it re-exports the same objects and warns once, when imported.
"""

from __future__ import annotations

from airflow_provider_creatio.deprecated import warn_renamed
from airflow_provider_creatio.schedules.quartz import CronEquivalent, QuartzConversionError, quartz_to_cron

__all__ = ["CronEquivalent", "QuartzConversionError", "quartz_to_cron"]

warn_renamed("airflow_provider_creatio.quartz", "airflow_provider_creatio.schedules.quartz")
