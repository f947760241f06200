"""A stand-in Creatio server for tests and demos, written from Creatio's documentation (not from the client).

``EmulatorSettings`` and ``EmulatorServer`` are the public API. Importing this package is cheap: the server (and
with it starlette and uvicorn) is imported on first use of ``EmulatorServer``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings

if TYPE_CHECKING:
    from airflow_provider_creatio.testing.emulator.server import EmulatorServer

__all__ = ["EmulatorServer", "EmulatorSettings"]


def __getattr__(name: str) -> Any:
    if name == "EmulatorServer":
        from airflow_provider_creatio.testing.emulator.server import EmulatorServer

        return EmulatorServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
