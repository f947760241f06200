"""Deprecated: the record files moved to :mod:`airflow_provider_creatio.formats` (a layer below the operators and
transfers that use them). This module hands on the same names."""

from __future__ import annotations

from airflow_provider_creatio.deprecated import warn_renamed
from airflow_provider_creatio.formats import *  # noqa: F403

warn_renamed("airflow_provider_creatio.transfers.formats", "airflow_provider_creatio.formats")
