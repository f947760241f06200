"""Business-process calls of CreatioHook. Kept in its own module; CreatioHook mixes it in."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from airflow_provider_creatio.client.http import Call

T = TypeVar("T")


class ProcessCallsMixin:
    """Start processes, follow their log, execute elements, cancel."""

    if TYPE_CHECKING:

        def call(self, call: Call[T]) -> T: ...
