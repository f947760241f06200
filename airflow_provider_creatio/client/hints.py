"""A second look after a refusal, to tell the user what they most likely got wrong. Written as a flow (no I/O),
so that the sync and async clients explain alike.

* Creatio could not find a column path (``Column by path Emial not found in schema Contact.``, a 400): the site's
  schema is read (once, only now) and the error gets the column check's suggestion (``Did you mean 'Email'?``).
* Creatio's routing found nothing at an OData or ServiceModel path (a 404): one probe of the other URL layout
  (:mod:`.layout`); if it answers, the error names that layout and the connection's ``net_core`` field.

The look never replaces the error: if it fails, the error is raised as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

from airflow_provider_creatio.client import columns, layout, schema
from airflow_provider_creatio.client.errors import CreatioError
from airflow_provider_creatio.client.http import ApiRequest, Call

T = TypeVar("T")
# A flow of the session (session_flow.Flow), which this module does not import: session_flow imports this one.
Flow = Generator[Any, Any, T]
Execute = Callable[[Call[Any]], Flow[Any]]


def explain(error: CreatioError, request: ApiRequest, net_core: bool, execute: Execute) -> Flow[None]:
    """Add a hint to ``error`` (the answer to ``request``) where a second look tells more; ``execute`` sends a call
    on the session without explaining its own failure."""
    if columns.refused_column_path(error.server_message):
        site_schema = yield from _quietly(execute, schema.metadata_call())
        hint = columns.server_refusal_hint(site_schema, error.server_message) if site_schema else None
    elif layout.unrouted(error, request):
        answered = yield from _quietly(execute, layout.other_layout_probe(request, net_core))
        hint = layout.layout_hint(net_core) if answered else None
    else:
        return
    if hint:
        error.add_hint(hint)


def _quietly(execute: Execute, call: Call[T]) -> Flow[T | None]:
    try:
        result: T = yield from execute(call)
    except CreatioError:
        return None
    return result
