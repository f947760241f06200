"""Speaking Creatio, with no Airflow import.

The two clients are loaded on first use (PEP 562): ``CreatioClient`` pulls in requests and ``AsyncCreatioClient``
httpx, each about 70-90 ms to import, and operator modules that import this package are parsed with every DAG
file. Importing the package itself loads only the configuration and the exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.client.config import AuthType, CreatioConfig, RetryPolicy
from airflow_provider_creatio.client.errors import (
    CreatioAuthError,
    CreatioBadRequestError,
    CreatioConfigError,
    CreatioConflictError,
    CreatioError,
    CreatioMemoryLimitError,
    CreatioNotFoundError,
    CreatioOutcomeUnknownError,
    CreatioProcessError,
    CreatioRateLimitError,
    CreatioResponseError,
    CreatioServerError,
    CreatioTokenError,
    CreatioTransportError,
    CreatioUnknownColumnError,
    CreatioUnknownEntityError,
    CreatioValidationError,
)

if TYPE_CHECKING:
    from airflow_provider_creatio.client.aio import AsyncCreatioClient
    from airflow_provider_creatio.client.transport import CreatioClient

_LAZY = {
    "CreatioClient": "airflow_provider_creatio.client.transport",
    "AsyncCreatioClient": "airflow_provider_creatio.client.aio",
}

__all__ = [
    "AsyncCreatioClient",
    "AuthType",
    "CreatioAuthError",
    "CreatioBadRequestError",
    "CreatioClient",
    "CreatioConfig",
    "CreatioConfigError",
    "CreatioConflictError",
    "CreatioError",
    "CreatioMemoryLimitError",
    "CreatioNotFoundError",
    "CreatioOutcomeUnknownError",
    "CreatioProcessError",
    "CreatioRateLimitError",
    "CreatioResponseError",
    "CreatioServerError",
    "CreatioTokenError",
    "CreatioTransportError",
    "CreatioUnknownColumnError",
    "CreatioUnknownEntityError",
    "CreatioValidationError",
    "RetryPolicy",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
