"""The emulator's ASGI application: routes behind the gate (faults, layout, auth, request log).

The seam with the process engine (``process_routes.py``, written separately):

* ``process_routes.routes(state) -> list[starlette.routing.BaseRoute]`` is called once per app. Its paths are
  relative to a ServiceModel root (``/ProcessEngineService.svc/...``) and are mounted under ``/0/ServiceModel``
  and ``/ServiceModel``. The gate has already checked the layout and the caller's session (or bearer token) before
  such a route runs, so the routes do no auth of their own.
* ``state`` is the ``EmulatorState``: ``state.settings`` (live), ``state.store`` (``EntityStore``),
  ``state.log``, ``state.check_auth(request)``, and ``state.register_schema(install)`` to define entities
  (SysProcessLog, ...) that come back after every ``reset()``. Records written to the store are readable over
  OData at once.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from airflow_provider_creatio.testing.emulator import (
    admin,
    auth_routes,
    files_routes,
    identity_routes,
    odata_routes,
    process_routes,
    sys_settings_routes,
)
from airflow_provider_creatio.testing.emulator.gate import ADMIN_PREFIX, Gate
from airflow_provider_creatio.testing.emulator.replies import aspnet_error, method_not_allowed, routing_error
from airflow_provider_creatio.testing.emulator.state import (
    DATA_SERVICE_ROOTS,
    REST_ROOTS,
    SERVICE_ROOTS,
    EmulatorState,
)


def build_app(state: EmulatorState) -> ASGIApp:
    """The Creatio site: AuthService, OData 4, ProcessEngineService, the file services, the login pages and the
    admin endpoints, in the virtual directory ``settings.base_path`` names."""
    service_routes: list[BaseRoute] = list(process_routes.routes(state))
    rest_routes: list[BaseRoute] = list(files_routes.routes(state))
    data_routes: list[BaseRoute] = list(sys_settings_routes.routes(state))
    routes: list[BaseRoute] = [
        *admin.routes(state),
        *auth_routes.routes(state),
        *odata_routes.routes(state),
        *(Mount(root, routes=service_routes) for root in SERVICE_ROOTS),
        *(Mount(root, routes=rest_routes) for root in REST_ROOTS),
        *(Mount(root, routes=data_routes) for root in DATA_SERVICE_ROOTS),
    ]
    site = Starlette(
        routes=routes,
        middleware=[Middleware(Gate, state=state)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    return VirtualDirectory(site, state)


def build_identity_app(state: EmulatorState) -> Starlette:
    """The identity server: ``/connect/token`` only, on a port of its own."""
    return Starlette(
        routes=list(identity_routes.routes(state)),
        middleware=[Middleware(Gate, state=state, service="identity")],
        exception_handlers={Exception: _server_error},
    )


class VirtualDirectory:
    """A site installed under a virtual directory (IIS's ``/7.15.1.1295_SalesEnterprise``) answers only below it:
    the directory is taken off the path before the site sees it; any other path is a 404. Read on every request,
    so changing ``settings.base_path`` moves the site at once. The admin endpoints answer at the root too."""

    def __init__(self, site: ASGIApp, state: EmulatorState) -> None:
        self.site = site
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        base = self.state.settings.base_path
        path: str = scope.get("path", "")
        if not base or scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.site(scope, receive, send)
            return
        if path != base and not path.startswith(f"{base}/"):
            reply = routing_error(f"http://{_host(scope)}{path}", path.strip("/").split("/")[0])
            await reply.to_response()(scope, receive, send)
            return
        inner = path[len(base) :] or "/"
        raw: bytes = scope.get("raw_path") or path.encode()
        inner_raw = raw[len(base.encode()) :] if raw.startswith(base.encode()) else inner.encode()
        await self.site({**scope, "path": inner, "raw_path": inner_raw or b"/"}, receive, send)


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return str(value.decode("latin-1"))
    return "localhost"


class PortRouter:
    """One uvicorn server, two listening sockets: requests that arrived on ``identity_port`` go to the identity
    server, every other one to the Creatio site."""

    def __init__(self, site: ASGIApp, identity: ASGIApp, identity_port: int) -> None:
        self.site = site
        self.identity = identity
        self.identity_port = identity_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        on_identity_port = server is not None and server[1] == self.identity_port
        await (self.identity if on_identity_port else self.site)(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return routing_error(str(request.url), request.url.path.strip("/").split("/")[-1]).to_response()
    if status == 405:
        return method_not_allowed(request.method).to_response()
    return aspnet_error(status, str(exc), "System.Web.HttpException").to_response()


async def _server_error(_request: Request, exc: Exception) -> Response:
    return aspnet_error(500, "An error has occurred.", type(exc).__name__).to_response()
