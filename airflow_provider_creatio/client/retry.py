"""When a request may be sent again, and how long to wait first. Shared by the sync and async transports.

The rules follow the request's :class:`Idempotency`:

* SAFE requests are repeated after any transient failure: connection refused, DNS failure, connect or read
  timeout, a dropped connection, or a status of the policy's ``retry_statuses`` (429, 502, 503, 504).
* UNSAFE requests (starting a process, a create without a client-chosen Id) are repeated only when the server
  provably never acted on them: the connection was never made (refused, DNS, connect timeout), or Creatio answered
  429 or 503, which it sends before doing any work. After a read timeout or a dropped connection the outcome is
  unknown and :class:`CreatioOutcomeUnknownError` is raised at once.

Waits are exponential with full jitter (uniform between 0 and ``backoff_initial * 2**(n-1)``, capped at
``backoff_max``); a ``Retry-After`` header (seconds or an HTTP date) replaces the jitter, capped the same way.
The transports drive tenacity (``Retrying`` / ``AsyncRetrying``) with :func:`tenacity_options`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import enum
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import tenacity

from airflow_provider_creatio.client.config import RetryPolicy
from airflow_provider_creatio.client.errors import CreatioOutcomeUnknownError, CreatioTransportError
from airflow_provider_creatio.client.http import ApiResponse, Idempotency
from airflow_provider_creatio.client.wire import Outgoing

# Statuses Creatio (or IIS / the cloud gateway in front of it) sends before doing any work.
UNSAFE_RETRY_STATUSES = frozenset({429, 503})


class FailureKind(enum.Enum):
    """Why one try got no HTTP answer. The value is the wording used in logs and errors."""

    REFUSED = "connection refused or host not found"
    CONNECT_TIMEOUT = "connect timeout"
    READ_TIMEOUT = "read timeout"
    DROPPED = "connection dropped before the answer arrived"
    TLS = "TLS handshake or certificate verification failed"
    OTHER = "the request could not be sent"


_NEVER_RECEIVED = frozenset({FailureKind.REFUSED, FailureKind.CONNECT_TIMEOUT})
_MAYBE_RECEIVED = frozenset({FailureKind.READ_TIMEOUT, FailureKind.DROPPED})


class TransportFailure(Exception):
    """One try got no answer. Raised by a transport's single send; it carries no URL, header or body, only the
    kind and a short cause such as ``ConnectionRefusedError: [Errno 111] Connection refused``."""

    def __init__(self, kind: FailureKind, cause: str) -> None:
        self.kind = kind
        self.cause = cause
        super().__init__(f"{kind.value} ({cause})" if cause else kind.value)


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception behind it: causes, contexts, wrapped arguments and urllib3's ``reason``."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending.extend(item for item in nested if isinstance(item, BaseException))


def describe_cause(exc: BaseException) -> str:
    """A safe one-line cause: the first OS-level error behind ``exc``, else its type. The messages of requests',
    urllib3's and httpx's own exceptions quote the URL (with its query string), so they are never rendered."""
    for current in exception_chain(exc):
        if isinstance(current, OSError) and current.strerror:
            return f"{type(current).__name__}: {current.strerror}"
    return type(exc).__name__


def may_retry_failure(kind: FailureKind, idempotency: Idempotency) -> bool:
    if kind in _NEVER_RECEIVED:
        return True
    return kind in _MAYBE_RECEIVED and idempotency is Idempotency.SAFE


def may_retry_status(status: int, idempotency: Idempotency, policy: RetryPolicy) -> bool:
    if status not in policy.retry_statuses:
        return False
    return idempotency is Idempotency.SAFE or status in UNSAFE_RETRY_STATUSES


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for: delta seconds or an HTTP date; None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def backoff_seconds(policy: RetryPolicy, retry_number: int, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(backoff_max, backoff_initial * 2**(retry_number - 1))]."""
    ceiling = min(policy.backoff_max, policy.backoff_initial * 2.0 ** max(0, retry_number - 1))
    return rng.uniform(0.0, ceiling)


def wait_seconds(
    policy: RetryPolicy, retry_number: int, rng: random.Random, retry_after: float | None = None
) -> float:
    """The wait before retry ``retry_number`` (1 = before the second try)."""
    if retry_after is not None:
        return min(retry_after, policy.backoff_max)
    return backoff_seconds(policy, retry_number, rng)


def failure_error(failure: TransportFailure, outgoing: Outgoing, attempts: int) -> CreatioTransportError:
    """The error for a try that got no answer and is not (or no longer) retried."""
    outcome_unknown = failure.kind in _MAYBE_RECEIVED and outgoing.idempotency is Idempotency.UNSAFE
    if outcome_unknown:
        message = (
            f"{failure}; the request may or may not have been carried out, so it was not repeated. "
            "Check Creatio before running it again"
        )
    else:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        message = f"could not get an answer from Creatio{tries}: {failure}"
    error_class = CreatioOutcomeUnknownError if outcome_unknown else CreatioTransportError
    return error_class(
        message, method=outgoing.method, path=outgoing.path, operation=outgoing.operation or None
    )


def _answer(state: tenacity.RetryCallState) -> ApiResponse | None:
    outcome = state.outcome
    if outcome is None or outcome.failed:
        return None
    result = outcome.result()
    return result if isinstance(result, ApiResponse) else None


def _reason(state: tenacity.RetryCallState) -> str:
    answer = _answer(state)
    if answer is not None:
        return f"HTTP {answer.status}"
    outcome = state.outcome
    failure = outcome.exception() if outcome is not None else None
    return str(failure) if isinstance(failure, TransportFailure) else "failure"


def _give_up(state: tenacity.RetryCallState) -> Any:
    """After the last try: hand back its answer (the caller classifies it) or raise its failure."""
    assert state.outcome is not None  # tenacity only gives up after a try
    return state.outcome.result()


def tenacity_options(
    policy: RetryPolicy, outgoing: Outgoing, rng: random.Random, log: logging.Logger
) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` (the caller adds ``sleep``). The wrapped
    function returns an :class:`ApiResponse` or raises :class:`TransportFailure`; after the last try the last
    answer is returned and the last failure re-raised."""

    def should_retry(state: tenacity.RetryCallState) -> bool:
        answer = _answer(state)
        if answer is not None:
            return may_retry_status(answer.status, outgoing.idempotency, policy)
        failure = state.outcome.exception() if state.outcome is not None else None
        return isinstance(failure, TransportFailure) and may_retry_failure(failure.kind, outgoing.idempotency)

    def wait(state: tenacity.RetryCallState) -> float:
        answer = _answer(state)
        retry_after = retry_after_seconds(answer.headers.get("retry-after")) if answer is not None else None
        return wait_seconds(policy, state.attempt_number, rng, retry_after)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        pause = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "Creatio %s %s: %s; try %d of %d in %.2f s",
            outgoing.method,
            outgoing.path,
            _reason(state),
            state.attempt_number + 1,
            policy.attempts,
            pause,
        )

    retry: Callable[[tenacity.RetryCallState], bool] = should_retry
    return {
        "stop": tenacity.stop_after_attempt(policy.attempts),
        "retry": retry,
        "wait": wait,
        "before_sleep": before_sleep,
        "retry_error_callback": _give_up,
    }
