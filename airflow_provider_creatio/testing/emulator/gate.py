"""The gate every request passes (pure ASGI middleware), in this order:

1. the fault check: scripted faults (``state.faults.next_fault``) and seeded random ones (``state.chaos``, from the
   ``faults`` setting): the one seam where injected faults answer instead of Creatio, or damage its answer;
2. public paths (login, logout, login pages) go straight to their routes;
3. paths the current layout does not serve get the routing 404 (``/odata`` on a .NET Framework site);
4. everything else needs a session cookie with a matching BPMCSRF header, or a bearer token; past
   ``api_call_hard_cap`` the caller's calls are refused;
5. what passes is served by the server model (``server_model.py``): its session's turn (blocking mode), a worker,
   and the request's work before the answer starts.

The identity server has a gate of its own (``service="identity"``): faults apply, and its one route is public.
Each answer is logged (service, method, path, status, credential kind, whether cookies or a BPMCSRF header came
with it, the client's product name, the caller and the API calls it counts). The admin endpoints bypass the gate
entirely.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_creatio.testing.emulator.auth import Verdict
from airflow_provider_creatio.testing.emulator.faults import Draw, Fault
from airflow_provider_creatio.testing.emulator.log import (
    COST,
    LoggedRequest,
    RequestCost,
    seconds_to_next_utc_day,
)
from airflow_provider_creatio.testing.emulator.replies import (
    Reply,
    api_call_cap_reached,
    auth_failed,
    bearer_rejected,
    csrf_rejected,
    generic_error,
    login_page,
    login_redirect,
    routing_error,
)
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.state import Caller, EmulatorState

ADMIN_PREFIX = "/__emulator__"
LOGIN_PATH = "/ServiceModel/AuthService.svc/Login"
LOGOUT_PATH = "/ServiceModel/AuthService.svc/Logout"
PUBLIC_PATHS = frozenset(
    {
        LOGIN_PATH,
        LOGOUT_PATH,
        f"/0{LOGIN_PATH}",
        f"/0{LOGOUT_PATH}",
        "/Login/NuiLogin.aspx",
        "/Login/Login.html",
    }
)


def session_gone(settings: EmulatorSettings, return_path: str) -> Reply:
    """How a request without a live session is answered, per ``settings.expiry_form``."""
    if settings.expiry_form == "302":
        return login_redirect(settings.net_core, return_path, base_path=settings.base_path)
    if settings.expiry_form == "html":
        return login_page()
    return auth_failed()


def fault_reply(fault: Fault, settings: EmulatorSettings, path: str) -> Reply:
    if 300 <= fault.status < 400:
        reply = login_redirect(settings.net_core, path, fault.status, settings.base_path)
    elif fault.status == 401:
        reply = auth_failed()
    elif fault.status == 403:
        reply = csrf_rejected()
    else:
        reply = generic_error(fault.status)
    if fault.retry_after is None:
        return reply
    return replace(reply, headers={**reply.headers, "Retry-After": f"{fault.retry_after:g}"})


class Gate:
    def __init__(self, app: ASGIApp, state: EmulatorState, service: str = "creatio") -> None:
        self.app = app
        self.state = state
        self.service = service  # "creatio" (the site) or "identity" (the identity server)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        request = HTTPConnection(scope)
        status = 500
        cost = scope[COST] = RequestCost()

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.state.chaos.sync(self.state.settings.faults)
        draw = self.state.chaos.draw(scope["method"], scope["path"])
        if draw.latency:
            await asyncio.sleep(draw.latency)
        if draw.expire_sessions:
            self.state.expire_credentials()
        reply, credential = self.screen(request, draw)
        caller = self.state.caller(request) if reply is None and credential != "none" else None
        if caller is not None:
            reply = self.over_cap(caller)
        served = False
        try:
            if reply is not None:
                await reply.to_response()(scope, receive, send_noting_status)
            elif draw.kind == "drop_before":
                status = 0
                await drop_connection(send)
            else:
                served = True
                answer = damaging(draw, request, self.state, send_noting_status)
                await self.serve(scope, receive, answer, caller, cost)
        finally:
            self.state.log.record(
                LoggedRequest(
                    method=scope["method"],
                    path=scope["path"],
                    query=request.url.query,
                    status=status,
                    timestamp=time.time(),
                    auth=credential,
                    service=self.service,
                    sent_cookies=bool(request.cookies),
                    sent_csrf="bpmcsrf" in request.headers,
                    agent=request.headers.get("user-agent", "").split("/")[0].strip(),
                    rows_read=cost.rows_read,
                    user=caller.user if caller else "",
                    api_calls=self.api_calls(scope["path"], cost) if served and caller else 0,
                )
            )

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, caller: Caller | None, cost: RequestCost
    ) -> None:
        """The site's requests are served by the server model; the identity server is a site of its own."""
        if self.service == "identity":
            await self.app(scope, receive, send)
            return
        async with self.state.server.serving(
            self.state.settings, caller.session if caller else None
        ) as started:
            await self.app(scope, receive, self.working(cost, started, send))

    def working(self, cost: RequestCost, started: float, send: Send) -> Send:
        """A ``send`` that does the request's work (holding its worker) before the answer starts: by then the
        endpoint has filled in what the request read and wrote."""

        async def send_after_work(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self.state.server.work(self.state.settings, cost, started)
            await send(message)

        return send_after_work

    def over_cap(self, caller: Caller) -> Reply | None:
        """The refusal of a call past ``api_call_hard_cap`` (the calls counted this UTC day), or None."""
        cap = self.state.settings.api_call_hard_cap
        if cap is None or self.state.log.api_calls_today(caller.user) < cap:
            return None
        return api_call_cap_reached(cap, caller.user, seconds_to_next_utc_day())

    def api_calls(self, path: str, cost: RequestCost) -> int:
        """What a served call counts against the quota: its OData operations (each of a $batch), or one call
        to any other service (ProcessEngineService...), as Creatio counts custom web services."""
        odata = any(path == root or path.startswith(f"{root}/") for root in self.state.odata_roots())
        return cost.operations if odata else 1

    def screen(self, request: HTTPConnection, draw: Draw) -> tuple[Reply | None, str]:
        """An answer that replaces normal handling (or None), and the credential kind for the log."""
        path: str = request.scope["path"]
        settings = self.state.settings
        fault = self.state.faults.next_fault(request.scope["method"], path)
        if fault is None and draw.status is not None:
            fault = Fault(draw.status, self.state.chaos.retry_after if draw.status == 429 else None)
        if fault is not None:
            return fault_reply(fault, settings, path), "none"
        if self.service == "identity" or path in PUBLIC_PATHS:
            return None, "none"
        if not self.served(path):
            return routing_error(str(request.url), path.strip("/").split("/")[0]), "none"
        verdict = self.state.check_auth(request)
        if verdict is Verdict.COOKIE or verdict is Verdict.BEARER:
            return None, verdict.value
        if verdict is Verdict.BAD_CSRF:
            return csrf_rejected(), "none"
        if verdict is Verdict.BAD_TOKEN:
            return bearer_rejected(), "none"
        query = request.url.query
        return session_gone(settings, f"{path}?{query}" if query else path), "none"

    def served(self, path: str) -> bool:
        roots = (
            *self.state.service_roots(),
            *self.state.rest_roots(),
            *self.state.data_service_roots(),
            *self.state.odata_roots(),
        )
        return any(path == root or path.startswith(f"{root}/") for root in roots)


class DroppedByEmulator(Exception):
    """Raised after a response was started, so that uvicorn closes the connection without finishing it."""


async def drop_connection(send: Send) -> None:
    """Close the connection mid-answer: headers promise a body that never comes (the client sees a dropped
    connection, exactly as when a load balancer or a recycled worker cuts it)."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
    raise DroppedByEmulator("connection dropped by an injected fault")


def damaging(draw: Draw, request: HTTPConnection, state: EmulatorState, send: Send) -> Send:
    """A ``send`` that applies the answer-side faults: drop after handling, truncate, non-JSON, BPMCSRF rotation."""
    if draw.kind not in ("drop_after", "truncate", "non_json") and not draw.rotate_csrf:
        return send
    new_csrf = state.auth.rotate_csrf(request.cookies) if draw.rotate_csrf else None
    start: Message | None = None
    body = b""

    async def buffered(message: Message) -> None:
        nonlocal start, body
        if message["type"] == "http.response.start":
            start = message
            return
        body += message.get("body", b"")
        if message.get("more_body"):
            return
        if draw.kind == "drop_after":
            await drop_connection(send)
        assert start is not None
        if draw.kind == "truncate":
            body = body[: len(body) // 2]
        elif draw.kind == "non_json":
            body = b"<!DOCTYPE html><html><body><h1>Runtime Error</h1></body></html>"
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        if new_csrf:
            cookie_path = state.settings.base_path or "/"
            headers.append((b"set-cookie", f"BPMCSRF={new_csrf}; path={cookie_path}".encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return buffered
