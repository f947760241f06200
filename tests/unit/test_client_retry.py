"""Retry rules: what may be repeated for SAFE and UNSAFE requests, how long to wait, what is raised at the end."""

from __future__ import annotations

import datetime as dt
import random
import socket

import httpx
import pytest
import requests
import urllib3.exceptions

from airflow_provider_creatio.client.aio import failure_kind as httpx_failure_kind
from airflow_provider_creatio.client.config import RetryPolicy
from airflow_provider_creatio.client.errors import CreatioOutcomeUnknownError, CreatioTransportError
from airflow_provider_creatio.client.http import Idempotency
from airflow_provider_creatio.client.retry import (
    FailureKind,
    TransportFailure,
    backoff_seconds,
    describe_cause,
    failure_error,
    may_retry_failure,
    may_retry_status,
    retry_after_seconds,
    wait_seconds,
)
from airflow_provider_creatio.client.transport import failure_kind as requests_failure_kind
from airflow_provider_creatio.client.wire import Outgoing

SAFE, UNSAFE = Idempotency.SAFE, Idempotency.UNSAFE
POLICY = RetryPolicy(attempts=5, backoff_initial=0.5, backoff_max=8.0)
URL = "https://site.example/0/ServiceModel/ProcessEngineService.svc/P/Execute?Secret=hush"


@pytest.mark.parametrize(
    ("kind", "safe", "unsafe"),
    [
        (FailureKind.REFUSED, True, True),
        (FailureKind.CONNECT_TIMEOUT, True, True),
        (FailureKind.READ_TIMEOUT, True, False),
        (FailureKind.DROPPED, True, False),
        (FailureKind.TLS, False, False),
        (FailureKind.OTHER, False, False),
    ],
)
def test_failures_retried_by_idempotency(kind: FailureKind, safe: bool, unsafe: bool) -> None:
    assert may_retry_failure(kind, SAFE) is safe
    assert may_retry_failure(kind, UNSAFE) is unsafe


@pytest.mark.parametrize(
    ("status", "safe", "unsafe"),
    [
        (429, True, True),
        (503, True, True),
        (502, True, False),
        (504, True, False),
        (500, False, False),
        (404, False, False),
        (401, False, False),
        (200, False, False),
    ],
)
def test_statuses_retried_by_idempotency(status: int, safe: bool, unsafe: bool) -> None:
    assert may_retry_status(status, SAFE, POLICY) is safe
    assert may_retry_status(status, UNSAFE, POLICY) is unsafe


def test_the_policy_decides_which_statuses_are_transient() -> None:
    policy = RetryPolicy(retry_statuses=frozenset({503}))
    assert not may_retry_status(429, SAFE, policy)
    assert not may_retry_status(429, UNSAFE, policy)
    assert may_retry_status(503, UNSAFE, policy)


NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 11:59:00 GMT", 0.0),  # a date in the past: go now
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("1.5", None),  # RFC 9110 allows whole seconds only
    ],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def test_backoff_is_full_jitter_doubling_up_to_the_cap() -> None:
    rng = random.Random(7)
    for retry_number, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        waits = [backoff_seconds(POLICY, retry_number, rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # jitter covers the range, not one point
        assert min(waits) < ceiling * 0.2


def test_backoff_is_reproducible_with_a_seeded_random_source() -> None:
    first = [backoff_seconds(POLICY, n, random.Random(42)) for n in range(1, 5)]
    second = [backoff_seconds(POLICY, n, random.Random(42)) for n in range(1, 5)]
    assert first == second


def test_retry_after_replaces_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    assert wait_seconds(POLICY, 1, rng, retry_after=3.0) == 3.0
    assert wait_seconds(POLICY, 1, rng, retry_after=3600.0) == POLICY.backoff_max
    assert wait_seconds(POLICY, 1, rng, retry_after=0.0) == 0.0


def outgoing(idempotency: Idempotency) -> Outgoing:
    return Outgoing("GET", URL, {"BPMCSRF": "csrf-secret"}, None, idempotency, "execute process P")


@pytest.mark.parametrize("kind", [FailureKind.READ_TIMEOUT, FailureKind.DROPPED])
def test_lost_answer_of_an_unsafe_request_is_outcome_unknown(kind: FailureKind) -> None:
    error = failure_error(TransportFailure(kind, "TimeoutError"), outgoing(UNSAFE), attempts=1)
    assert isinstance(error, CreatioOutcomeUnknownError)
    assert "may or may not have been carried out" in str(error)
    assert error.path == "/0/ServiceModel/ProcessEngineService.svc/P/Execute"
    assert "Secret" not in str(error)
    assert "csrf-secret" not in str(error)


@pytest.mark.parametrize("kind", list(FailureKind))
def test_safe_requests_end_in_a_transport_error(kind: FailureKind) -> None:
    error = failure_error(TransportFailure(kind, "x"), outgoing(SAFE), attempts=3)
    assert type(error) is CreatioTransportError
    assert "after 3 attempts" in str(error)
    assert error.operation == "execute process P"


def test_never_received_failures_of_unsafe_requests_are_plain_transport_errors() -> None:
    error = failure_error(TransportFailure(FailureKind.REFUSED, "x"), outgoing(UNSAFE), attempts=5)
    assert type(error) is CreatioTransportError


def test_describe_cause_names_the_os_error_never_the_url() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    new_conn = urllib3.exceptions.NewConnectionError(None, f"Failed to establish a connection to {URL}")  # type: ignore[arg-type]
    new_conn.__cause__ = refused
    max_retry = urllib3.exceptions.MaxRetryError(None, URL, reason=new_conn)  # type: ignore[arg-type]
    wrapped = requests.exceptions.ConnectionError(max_retry)
    assert describe_cause(wrapped) == "ConnectionRefusedError: Connection refused"
    assert describe_cause(requests.exceptions.ReadTimeout(f"Read timed out for {URL}")) == "ReadTimeout"


def _requests_refused() -> requests.exceptions.ConnectionError:
    new_conn = urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, URL, reason=new_conn))  # type: ignore[arg-type]


def _requests_dns() -> requests.exceptions.ConnectionError:
    unreachable = socket.gaierror(-2, "Name or service not known")
    dns = urllib3.exceptions.NameResolutionError("nohost", None, unreachable)  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, URL, reason=dns))  # type: ignore[arg-type]


def _requests_dropped() -> requests.exceptions.ConnectionError:
    aborted = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    return requests.exceptions.ConnectionError(aborted)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (requests.exceptions.ConnectTimeout("x"), FailureKind.CONNECT_TIMEOUT),
        (requests.exceptions.ReadTimeout("x"), FailureKind.READ_TIMEOUT),
        (requests.exceptions.SSLError("x"), FailureKind.TLS),
        (_requests_refused(), FailureKind.REFUSED),
        (_requests_dns(), FailureKind.REFUSED),
        (_requests_dropped(), FailureKind.DROPPED),
        (requests.exceptions.ChunkedEncodingError("x"), FailureKind.DROPPED),
        (requests.exceptions.InvalidURL("x"), FailureKind.OTHER),
    ],
)
def test_requests_failures(exc: requests.RequestException, kind: FailureKind) -> None:
    assert requests_failure_kind(exc) is kind


def _httpx_tls() -> httpx.ConnectError:
    error = httpx.ConnectError("handshake")
    error.__context__ = __import__("ssl").SSLCertVerificationError(1, "certificate verify failed")
    return error


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectTimeout("x"), FailureKind.CONNECT_TIMEOUT),
        (httpx.PoolTimeout("x"), FailureKind.CONNECT_TIMEOUT),
        (httpx.ReadTimeout("x"), FailureKind.READ_TIMEOUT),
        (httpx.WriteTimeout("x"), FailureKind.READ_TIMEOUT),
        (httpx.ConnectError("refused"), FailureKind.REFUSED),
        (_httpx_tls(), FailureKind.TLS),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), FailureKind.DROPPED),
        (httpx.ReadError("reset"), FailureKind.DROPPED),
        (httpx.UnsupportedProtocol("x"), FailureKind.OTHER),
    ],
)
def test_httpx_failures(exc: Exception, kind: FailureKind) -> None:
    assert httpx_failure_kind(exc) is kind
