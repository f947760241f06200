"""Old spellings that still work, each with a warning naming the new one (CHANGELOG.md lists them)."""

from __future__ import annotations

import warnings
from typing import TypeVar

from airflow_provider_creatio._compat import AirflowProviderDeprecationWarning

T = TypeVar("T")


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    warnings.warn(f"{old} is deprecated: use {new}", AirflowProviderDeprecationWarning, stacklevel=stacklevel)


def renamed(old: str, new: str, old_value: T | None, value: T) -> T:
    """``value``, or ``old_value`` when the caller still passed the argument under its old name ``old``."""
    if old_value is None:
        return value
    warn_renamed(old, new, stacklevel=4)
    return old_value
