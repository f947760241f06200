"""The session flow without any transport: the steps it asks for, driven by hand (no I/O, no lock)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_creatio.client.config import CreatioConfig
from airflow_provider_creatio.client.errors import CreatioAuthError, CreatioTransportError
from airflow_provider_creatio.client.http import ApiRequest, ApiResponse, Call, Service
from airflow_provider_creatio.client.responses import decode_json
from airflow_provider_creatio.client.session_flow import (
    DropCookies,
    Flow,
    Locked,
    Send,
    SessionFlows,
    Step,
    Walk,
)

CONFIG = CreatioConfig("https://site.example/0", username="Supervisor", password="pa55-word")
CALL = Call(ApiRequest("GET", Service.ODATA, "Contact", operation="read contacts"), decode_json)


def answer(status: int, body: object = None, path: str = "/0/odata/Contact") -> ApiResponse:
    content = json.dumps(body).encode() if body is not None else b""
    return ApiResponse(status, {"content-type": "application/json"}, content, "GET", path)


LOGGED_IN = answer(200, {"Code": 0}, "/ServiceModel/AuthService.svc/Login")
EXPIRED = answer(401)


def drive(flow: Flow[Any], answers: Callable[[Send], ApiResponse], taken: list[str]) -> Any:
    """A transport in miniature: takes every step (recording it), hands back replies and exceptions."""
    walk = Walk(flow)
    while walk.step is not None:
        try:
            reply = take(walk.step, answers, taken)
        except BaseException as exc:
            walk.fail(exc)
        else:
            walk.reply(reply)
    return walk.result


def take(step: Step, answers: Callable[[Send], ApiResponse], taken: list[str]) -> object:
    if isinstance(step, Send):
        taken.append(("login " if step.login else "send ") + step.outgoing.path)
        return answers(step), 1
    if isinstance(step, Locked):
        taken.append("lock")
        try:
            return drive(step.flow, answers, taken)
        finally:
            taken.append("unlock")
    assert isinstance(step, DropCookies)
    taken.append("drop cookies")
    return None


def test_a_first_call_logs_in_under_the_lock_then_sends_outside_it() -> None:
    flows, taken = SessionFlows(CONFIG), []
    result = drive(flows.execute(CALL), lambda s: LOGGED_IN if s.login else answer(200, {"value": []}), taken)
    assert result == {"value": []}
    assert taken == [
        "lock",
        "login /ServiceModel/AuthService.svc/Login",
        "unlock",
        "send /0/odata/Contact",
    ]
    assert flows.login_count == 1


def test_a_rejected_session_is_renewed_once_and_the_call_replayed() -> None:
    flows, taken = SessionFlows(CONFIG), []
    calls = iter([EXPIRED, answer(200, {"value": [1]})])
    result = drive(flows.execute(CALL), lambda s: LOGGED_IN if s.login else next(calls), taken)
    assert result == {"value": [1]}
    assert taken.count("login /ServiceModel/AuthService.svc/Login") == 2
    assert taken[-1] == "send /0/odata/Contact" and taken.count("send /0/odata/Contact") == 2
    assert flows.login_count == 2


def test_a_caller_that_saw_an_already_renewed_session_does_not_log_in_again() -> None:
    flows = SessionFlows(CONFIG)
    drive(flows.login(), lambda s: LOGGED_IN, [])
    stale = flows.execute(CALL)
    walk = Walk(stale)  # took the session of generation 1 ...
    assert isinstance(walk.step, Locked)
    walk.reply(drive(walk.step.flow, lambda s: LOGGED_IN, []))
    drive(flows.login(), lambda s: LOGGED_IN, [])  # ... which another caller replaced meanwhile
    walk.reply((EXPIRED, 1))  # the stale call is rejected
    assert isinstance(walk.step, Locked)
    taken: list[str] = []
    walk.reply(drive(walk.step.flow, lambda s: LOGGED_IN, taken))
    assert taken == []  # no third login: the rejected generation is gone already
    assert flows.login_count == 2


def test_a_second_rejection_right_after_a_new_login_is_an_auth_error() -> None:
    with pytest.raises(CreatioAuthError, match="rejected again"):
        drive(SessionFlows(CONFIG).execute(CALL), lambda s: LOGGED_IN if s.login else EXPIRED, [])


def test_a_failed_logout_still_forgets_the_session_and_drops_the_cookies_under_the_lock() -> None:
    flows, taken = SessionFlows(CONFIG), []
    drive(flows.login(), lambda s: LOGGED_IN, [])

    def unreachable(send: Send) -> ApiResponse:
        raise CreatioTransportError("could not get an answer from Creatio")

    with pytest.raises(CreatioTransportError):
        drive(flows.logout(), unreachable, taken)
    assert taken == ["lock", "send /ServiceModel/AuthService.svc/Logout", "drop cookies", "unlock"]
    assert not flows.auth.is_current(0.0)


def test_logging_out_without_a_session_sends_nothing_and_drops_the_cookies() -> None:
    taken: list[str] = []
    drive(SessionFlows(CONFIG).logout(), lambda s: pytest.fail("nothing to send"), taken)
    assert taken == ["lock", "drop cookies", "unlock"]
