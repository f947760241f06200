"""The OData 4 endpoints under ``/0/odata`` and ``/odata`` (the gate refuses the roots a layout does not serve).

A stream property (``ContactFile(<id>)/Data``) is served by ``odata_streams.py``, its body never read whole here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_creatio.testing.emulator.batch import handle_batch
from airflow_provider_creatio.testing.emulator.log import COST, RequestCost
from airflow_provider_creatio.testing.emulator.odata import ODataRequest, handle
from airflow_provider_creatio.testing.emulator.odata_streams import serve_stream, stream_target
from airflow_provider_creatio.testing.emulator.replies import method_not_allowed
from airflow_provider_creatio.testing.emulator.state import ODATA_ROOTS, EmulatorState

METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT"]


def routes(state: EmulatorState) -> list[Route]:
    result = []
    for root in ODATA_ROOTS:
        endpoint = _endpoint(state, root)
        result += [
            Route(root, endpoint, methods=METHODS),
            Route(f"{root}/{{rest:path}}", endpoint, methods=METHODS),
        ]
    return result


def _endpoint(state: EmulatorState, root: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        cost = request.scope.get(COST, RequestCost())  # the gate logs it and charges the server's work
        stream = stream_target(state.store, request.path_params.get("rest", ""))
        if stream is not None:
            return await serve_stream(state, request, stream, cost)
        odata_request = ODataRequest(
            method=request.method,
            path=request.path_params.get("rest", ""),
            params=dict(request.query_params),
            headers=request.headers,
            body=await request.body(),
            root_url=f"{request.url.scheme}://{request.url.netloc}{state.settings.base_path}{root}",
        )
        if odata_request.path != "$batch":
            reply = handle(state.store, state.settings, odata_request)
            cost.add(reply)
            return reply.to_response()
        if request.method != "POST":
            return method_not_allowed(request.method).to_response()
        return handle_batch(state.store, state.settings, odata_request, state.odata_roots, cost).to_response()

    return endpoint
