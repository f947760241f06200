"""The clients' session handling against the emulator: one login, re-login on expiry, retries, OAuth, secrets.

Every test runs twice, with the sync client (requests) and the async one (httpx), through the same driver: both
must behave identically. Waits are recorded by an injected sleep, so nothing here waits for real.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_provider_creatio.client import (
    AsyncCreatioClient,
    AuthType,
    CreatioAuthError,
    CreatioClient,
    CreatioConfig,
    CreatioOutcomeUnknownError,
    CreatioRateLimitError,
    CreatioServerError,
    CreatioTokenError,
    CreatioTransportError,
    RetryPolicy,
)
from airflow_provider_creatio.client.http import ApiRequest, Call, Idempotency, Service
from airflow_provider_creatio.client.responses import decode_json
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.emulator.settings import EXPIRY_FORMS, ExpiryForm

FAST = RetryPolicy(attempts=3, backoff_initial=0.001, backoff_max=0.01)
LOGIN = "AuthService.svc/Login"
CONTACTS = r"odata/Contact"


def read_contacts() -> Call[Any]:
    request = ApiRequest("GET", Service.ODATA, "Contact", (("$top", "1"),), operation="read contacts")
    return Call(request, decode_json)


def create_contact(name: str = "Ann") -> Call[Any]:
    """A create without a client-chosen Id: UNSAFE."""
    request = ApiRequest(
        "POST",
        Service.ODATA,
        "Contact",
        json_body={"Name": name},
        idempotency=Idempotency.UNSAFE,
        operation="create Contact",
    )
    return Call(request, decode_json)


class Driver:
    """Runs the sync or the async client with one blocking interface (the async one on a private event loop)."""

    def __init__(self, kind: str, config: CreatioConfig, clock: Callable[[], float] | None = None) -> None:
        self.kind = kind
        self.secrets: list[str] = []
        self.waits: list[float] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        if kind == "sync":
            self.client: Any = CreatioClient(
                config,
                on_secret=self.secrets.append,
                sleep=self.waits.append,
                rng=random.Random(1),
                clock=clock,
            )
        else:
            self._loop = asyncio.new_event_loop()

            async def sleep(seconds: float) -> None:
                self.waits.append(seconds)

            self.client = AsyncCreatioClient(
                config, on_secret=self.secrets.append, sleep=sleep, rng=random.Random(1), clock=clock
            )

    def _run(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self._loop is not None
            return self._loop.run_until_complete(value)
        return value

    def execute(self, call: Call[Any]) -> Any:
        return self._run(self.client.execute(call))

    def execute_concurrently(self, calls: list[Call[Any]]) -> list[Any]:
        if self._loop is None:
            with ThreadPoolExecutor(max_workers=8) as pool:
                return list(pool.map(self.client.execute, calls))

        async def gather() -> list[Any]:
            return list(await asyncio.gather(*(self.client.execute(call) for call in calls)))

        return list(self._run(gather()))

    def login(self) -> None:
        self._run(self.client.login())

    def logout(self) -> None:
        self._run(self.client.logout())

    def close(self) -> None:
        self._run(self.client.close())

    def dispose(self) -> None:
        self.close()
        if self._loop is not None:
            self._loop.close()

    @property
    def login_count(self) -> int:
        return int(self.client.login_count)

    @property
    def request_count(self) -> int:
        return int(self.client.request_count)


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def running_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as emulator:
        yield emulator


@pytest.fixture
def server(running_server: EmulatorServer) -> EmulatorServer:
    """The module's emulator, with default settings, fresh data and an empty log (stopping one takes 0.2 s)."""
    running_server.settings = EmulatorSettings()
    running_server.reset()
    return running_server


def forms_config(server: EmulatorServer, **overrides: Any) -> CreatioConfig:
    settings = server.settings
    values: dict[str, Any] = {
        "base_url": server.url,
        "username": settings.username,
        "password": settings.password,
        "net_core": settings.net_core,
        "retry": FAST,
    }
    values.update(overrides)
    return CreatioConfig(**values)


@pytest.fixture
def make_driver(kind: str) -> Iterator[Callable[..., Driver]]:
    drivers: list[Driver] = []

    def make(config: CreatioConfig, clock: Callable[[], float] | None = None) -> Driver:
        driver = Driver(kind, config, clock)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.dispose()


@pytest.fixture
def driver(server: EmulatorServer, make_driver: Callable[..., Driver]) -> Driver:
    return make_driver(forms_config(server))


# --------------------------------------------------------------------------------------------------------------------
# One login


def test_one_login_for_500_calls(server: EmulatorServer, driver: Driver) -> None:
    for _ in range(500):
        assert "value" in driver.execute(read_contacts())
    assert driver.login_count == 1
    assert server.login_count == 1
    assert driver.request_count == 501
    assert server.count(path_contains="odata/Contact") == 500


def test_concurrent_callers_share_one_login(server: EmulatorServer, driver: Driver) -> None:
    results = driver.execute_concurrently([read_contacts() for _ in range(40)])
    assert len(results) == 40
    assert driver.login_count == 1
    assert server.login_count == 1


def test_concurrent_callers_of_an_expired_session_share_one_relogin(
    server: EmulatorServer, driver: Driver
) -> None:
    driver.execute(read_contacts())
    server.expire_sessions()
    results = driver.execute_concurrently([read_contacts() for _ in range(40)])
    assert len(results) == 40
    assert driver.login_count == 2
    assert server.login_count == 2


def test_explicit_login_is_reused_and_logout_forgets_the_session(
    server: EmulatorServer, driver: Driver
) -> None:
    driver.login()
    driver.execute(read_contacts())
    assert server.login_count == 1
    driver.logout()
    driver.execute(read_contacts())
    assert server.login_count == 2
    assert server.count(path_contains="odata/Contact") == 2  # the new login came first, no 401 round trip


def test_close_logs_out_once(server: EmulatorServer, driver: Driver) -> None:
    driver.execute(read_contacts())
    driver.close()
    assert server.count(method="POST", path_contains="AuthService.svc/Logout") == 1
    driver.close()  # nothing left to log out of
    assert server.count(method="POST", path_contains="AuthService.svc/Logout") == 1


@pytest.mark.parametrize("net_core", [False, True])
def test_both_url_layouts(server: EmulatorServer, make_driver: Callable[..., Driver], net_core: bool) -> None:
    server.settings.net_core = net_core
    driver = make_driver(forms_config(server, net_core=net_core))
    assert "value" in driver.execute(read_contacts())
    odata_prefix = "/odata/Contact" if net_core else "/0/odata/Contact"
    assert server.count(path_contains=odata_prefix) == 1
    assert server.count(path_contains="/0/ServiceModel/AuthService.svc/Login") == 0
    assert server.count(path_contains="/ServiceModel/AuthService.svc/Login") == 1


# --------------------------------------------------------------------------------------------------------------------
# Expiry and login failures


@pytest.mark.parametrize("form", EXPIRY_FORMS)
def test_expired_session_logs_in_once_more_and_replays(
    server: EmulatorServer, driver: Driver, form: ExpiryForm
) -> None:
    server.settings.expiry_form = form
    driver.execute(read_contacts())
    server.expire_sessions()
    assert "value" in driver.execute(read_contacts())
    assert driver.login_count == 2
    assert server.login_count == 2
    assert server.count(path_contains="odata/Contact") == 3


def test_expiry_twice_in_a_row_is_an_auth_error(server: EmulatorServer, driver: Driver) -> None:
    driver.execute(read_contacts())
    server.script(CONTACTS, [401, 401])
    with pytest.raises(CreatioAuthError) as caught:
        driver.execute(read_contacts())
    assert "rejected again" in str(caught.value)
    assert caught.value.status == 401
    assert driver.login_count == 2
    assert server.login_count == 2


def test_wrong_password_is_an_auth_error_after_one_login_request(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    driver = make_driver(forms_config(server, password="not-the-password"))
    with pytest.raises(CreatioAuthError) as caught:
        driver.execute(read_contacts())
    assert caught.value.server_message  # Creatio's own words
    assert caught.value.server_message in str(caught.value)
    assert "not-the-password" not in str(caught.value)
    assert server.count(path_contains=LOGIN) == 1
    assert server.count(path_contains="odata") == 0


def test_a_bpmcsrf_rotated_by_any_answer_is_picked_up(server: EmulatorServer, driver: Driver) -> None:
    driver.execute(read_contacts())
    # A call whose answer sets a whole new session (new .ASPXAUTH and BPMCSRF cookies) without the client knowing
    # it is a login: a client that kept the BPMCSRF of its own login would now be refused with 403.
    settings = server.settings
    body = {"UserName": settings.username, "UserPassword": settings.password}
    relogin = ApiRequest("POST", Service.ROOT, "ServiceModel/AuthService.svc/Login", json_body=body)
    assert driver.execute(Call(relogin, decode_json))["Code"] == 0
    assert "value" in driver.execute(read_contacts())
    assert driver.login_count == 1
    assert server.count(path_contains="odata/Contact") == 2  # no 403, no replay


# --------------------------------------------------------------------------------------------------------------------
# Retries


def test_503_then_200_is_retried(server: EmulatorServer, driver: Driver) -> None:
    driver.execute(read_contacts())
    server.script(CONTACTS, [503])
    assert "value" in driver.execute(read_contacts())
    assert server.count(path_contains="odata/Contact") == 3
    assert len(driver.waits) == 1
    assert 0 <= driver.waits[0] <= FAST.backoff_initial


def test_endless_503_gives_up_after_the_configured_attempts(server: EmulatorServer, driver: Driver) -> None:
    driver.execute(read_contacts())
    server.script(CONTACTS, [503] * 10)
    with pytest.raises(CreatioServerError) as caught:
        driver.execute(read_contacts())
    assert caught.value.status == 503
    assert "after 3 attempts" in str(caught.value)
    assert server.count(path_contains="odata/Contact") == 1 + FAST.attempts
    assert len(driver.waits) == FAST.attempts - 1


def test_429_retry_after_is_honoured(server: EmulatorServer, make_driver: Callable[..., Driver]) -> None:
    driver = make_driver(
        forms_config(server, retry=RetryPolicy(attempts=3, backoff_initial=0.001, backoff_max=5))
    )
    driver.execute(read_contacts())
    server.script(CONTACTS, [429], retry_after=2)
    driver.execute(read_contacts())
    assert driver.waits == [2.0]


def test_429_retry_after_is_capped_and_exhaustion_is_a_rate_limit_error(
    server: EmulatorServer, driver: Driver
) -> None:
    driver.execute(read_contacts())
    server.script(CONTACTS, [429] * 5, retry_after=3600)
    with pytest.raises(CreatioRateLimitError) as caught:
        driver.execute(read_contacts())
    assert caught.value.status == 429
    assert driver.waits == [FAST.backoff_max] * (FAST.attempts - 1)


def test_unsafe_call_is_retried_after_503(server: EmulatorServer, driver: Driver) -> None:
    driver.execute(read_contacts())
    server.script(CONTACTS, [503], method="POST")
    driver.execute(create_contact())
    assert server.count(method="POST", path_contains="odata/Contact") == 2


def test_unsafe_call_is_not_retried_after_a_gateway_timeout(server: EmulatorServer, driver: Driver) -> None:
    driver.execute(read_contacts())
    server.script(CONTACTS, [504], method="POST")
    with pytest.raises(CreatioOutcomeUnknownError) as caught:
        driver.execute(create_contact())
    assert caught.value.status == 504
    assert server.count(method="POST", path_contains="odata/Contact") == 1
    assert driver.waits == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_is_retried_then_a_transport_error(make_driver: Callable[..., Driver]) -> None:
    config = CreatioConfig(f"http://127.0.0.1:{_closed_port()}", username="u", password="p", retry=FAST)
    driver = make_driver(config)
    with pytest.raises(CreatioTransportError) as caught:
        driver.execute(read_contacts())
    assert not isinstance(caught.value, CreatioOutcomeUnknownError)
    assert "after 3 attempts" in str(caught.value)
    assert driver.request_count == FAST.attempts
    assert len(driver.waits) == FAST.attempts - 1


def test_unsafe_call_is_retried_when_the_connection_is_refused(make_driver: Callable[..., Driver]) -> None:
    with EmulatorServer() as server:
        driver = make_driver(forms_config(server))
        driver.execute(read_contacts())
    # The server is gone: its port now refuses connections, so the create provably never arrived.
    with pytest.raises(CreatioTransportError) as caught:
        driver.execute(create_contact())
    assert not isinstance(caught.value, CreatioOutcomeUnknownError)
    assert len(driver.waits) == FAST.attempts - 1


# --------------------------------------------------------------------------------------------------------------------
# Lost answers (a relay between client and emulator drops or swallows one answer)


class Relay:
    """A TCP relay in front of the emulator. Armed, it forwards the next request to the emulator (which carries it
    out) and then either drops the client's connection or never answers it."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._fault: str | None = None
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, fault: str) -> None:
        with self._lock:
            self._fault = fault

    def _take_fault(self) -> str | None:
        with self._lock:
            fault, self._fault = self._fault, None
            return fault

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        fault: str | None = None
        try:
            while data := source.recv(65536):
                if answers and fault is None:
                    fault = self._take_fault() or "pass"
                if fault == "drop":
                    target.close()
                    return
                if fault != "hang":
                    target.sendall(data)
                fault = fault if fault == "hang" else None
        except OSError:
            pass

    def close(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def relay(server: EmulatorServer) -> Iterator[Relay]:
    relay = Relay(server.port)
    yield relay
    relay.close()


def relayed_config(server: EmulatorServer, relay: Relay) -> CreatioConfig:
    return forms_config(server, base_url=f"http://127.0.0.1:{relay.port}", read_timeout=0.3)


@pytest.mark.parametrize("fault", ["drop", "hang"])
def test_unsafe_call_with_a_lost_answer_is_not_retried(
    server: EmulatorServer, relay: Relay, make_driver: Callable[..., Driver], fault: str
) -> None:
    driver = make_driver(relayed_config(server, relay))
    driver.execute(read_contacts())
    relay.arm(fault)
    with pytest.raises(CreatioOutcomeUnknownError) as caught:
        driver.execute(create_contact())
    assert "may or may not have been carried out" in str(caught.value)
    assert server.count(method="POST", path_contains="odata/Contact") == 1  # it did arrive, exactly once
    assert driver.waits == []


@pytest.mark.parametrize("fault", ["drop", "hang"])
def test_safe_call_with_a_lost_answer_is_retried(
    server: EmulatorServer, relay: Relay, make_driver: Callable[..., Driver], fault: str
) -> None:
    driver = make_driver(relayed_config(server, relay))
    driver.execute(read_contacts())
    relay.arm(fault)
    assert "value" in driver.execute(read_contacts())
    assert server.count(path_contains="odata/Contact") == 3
    assert len(driver.waits) == 1


# --------------------------------------------------------------------------------------------------------------------
# OAuth


def oauth_config(server: EmulatorServer, **overrides: Any) -> CreatioConfig:
    settings = server.settings
    values: dict[str, Any] = {
        "base_url": server.url,
        "auth_type": AuthType.OAUTH,
        "client_id": settings.oauth_client_id,
        "client_secret": settings.oauth_client_secret,
        "identity_server_url": server.identity_url,
        "net_core": settings.net_core,
        "retry": FAST,
    }
    values.update(overrides)
    return CreatioConfig(**values)


def creatio_calls(server: EmulatorServer) -> list[Any]:
    return [entry for entry in server.requests if entry.service == "creatio"]


def test_oauth_sends_a_bearer_token_and_neither_cookies_nor_bpmcsrf(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    driver = make_driver(oauth_config(server))
    for _ in range(5):
        assert "value" in driver.execute(read_contacts())
    driver.close()
    assert server.token_request_count == 1
    assert server.count(path_contains="AuthService.svc") == 0  # no login, and no logout either
    calls = creatio_calls(server)
    assert len(calls) == 5
    assert {(entry.auth, entry.sent_cookies, entry.sent_csrf) for entry in calls} == {
        ("bearer", False, False)
    }


def test_a_forced_token_expiry_costs_exactly_one_token_request(
    server: EmulatorServer, make_driver: Callable[..., Driver], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    driver = make_driver(oauth_config(server))
    assert "value" in driver.execute(read_contacts())
    server.expire_tokens()
    assert "value" in driver.execute(read_contacts())
    assert server.token_request_count == 2
    assert driver.login_count == 2
    # The rejected call was replayed once: one 401, then the answer.
    assert [entry.status for entry in creatio_calls(server)] == [200, 401, 200]
    assert len(driver.secrets) == 3  # the client secret and two tokens
    for secret in driver.secrets:
        assert secret not in caplog.text


def test_concurrent_calls_after_an_expiry_share_one_new_token(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    driver = make_driver(oauth_config(server))
    driver.execute(read_contacts())
    server.expire_tokens()
    results = driver.execute_concurrently([read_contacts() for _ in range(30)])
    assert len(results) == 30
    assert server.token_request_count == 2


def test_oauth_token_is_renewed_before_it_expires(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    now = [1000.0]
    driver = make_driver(oauth_config(server), clock=lambda: now[0])
    driver.execute(read_contacts())
    now[0] += 3500.0  # still inside the token's life: the cached token is used
    driver.execute(read_contacts())
    assert server.token_request_count == 1
    now[0] += 99.0  # 1 s before the end: within the renewal margin
    driver.execute(read_contacts())
    assert server.token_request_count == 2
    assert [entry.status for entry in creatio_calls(server)] == [200, 200, 200]  # renewed ahead, no 401


def test_a_short_token_lifetime_from_the_identity_server_is_honoured(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    server.register_oauth_client("short-lived", "short-secret", token_lifetime=60)
    now = [0.0]
    config = oauth_config(server, client_id="short-lived", client_secret="short-secret")
    driver = make_driver(config, clock=lambda: now[0])
    driver.execute(read_contacts())
    now[0] += 53.0  # renewed a tenth of its life (6 s) before its end
    driver.execute(read_contacts())
    assert server.token_request_count == 1
    now[0] += 2.0
    driver.execute(read_contacts())
    assert server.token_request_count == 2


def test_a_refused_token_request_is_a_token_error_with_the_servers_words(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    driver = make_driver(oauth_config(server, client_secret="wrong-secret-42"))
    with pytest.raises(CreatioTokenError) as caught:
        driver.execute(read_contacts())
    assert caught.value.error == "invalid_client"
    assert caught.value.error_description == (
        "Client authentication failed: unknown client id or wrong client secret."
    )
    assert caught.value.status == 400
    assert "wrong-secret-42" not in str(caught.value)
    assert server.token_request_count == 1  # a refusal is final: never retried
    assert not creatio_calls(server)


def test_a_token_request_is_retried_when_the_identity_server_fails(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    server.script(r"^/connect/token$", [503, 502])
    driver = make_driver(oauth_config(server))
    assert "value" in driver.execute(read_contacts())
    assert server.token_request_count == 3
    assert len(driver.waits) == 2


def test_a_403_to_a_bearer_call_is_refused_access_not_a_new_token(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    driver = make_driver(oauth_config(server))
    driver.execute(read_contacts())
    server.script(CONTACTS, [403])
    with pytest.raises(CreatioAuthError) as caught:
        driver.execute(read_contacts())
    assert "access was refused" in str(caught.value)
    assert server.token_request_count == 1


def test_a_token_the_site_keeps_rejecting_fails_after_one_new_token(
    server: EmulatorServer, make_driver: Callable[..., Driver]
) -> None:
    driver = make_driver(oauth_config(server))
    server.script(CONTACTS, [401, 401])
    with pytest.raises(CreatioAuthError) as caught:
        driver.execute(read_contacts())
    assert "rejected again right after a new login" in str(caught.value)
    assert server.token_request_count == 2


# --------------------------------------------------------------------------------------------------------------------
# Secrets


def test_no_secret_in_logs_or_errors(
    server: EmulatorServer, make_driver: Callable[..., Driver], caplog: pytest.LogCaptureFixture
) -> None:
    server.settings.password = "Pa55-w0rd-not-a-word"
    driver = make_driver(forms_config(server))
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    driver.execute(read_contacts())
    server.script(CONTACTS, [503])
    driver.execute(read_contacts())
    server.expire_sessions()
    driver.execute(read_contacts())
    server.script(CONTACTS, [401, 401])
    with pytest.raises(CreatioAuthError) as caught:
        driver.execute(read_contacts())
    errors.append(str(caught.value))
    server.script(CONTACTS, [503] * 5)
    with pytest.raises(CreatioServerError) as failed:
        driver.execute(read_contacts())
    errors.append(str(failed.value))
    secrets = [server.settings.password, *driver.secrets]
    assert server.settings.password in driver.secrets
    assert len(driver.secrets) >= 4  # password, and at least .ASPXAUTH, BPMCSRF and BPMLOADER of each login
    logged = caplog.text + " ".join(record.getMessage() for record in caplog.records)
    for secret in secrets:
        assert secret not in logged
        assert all(secret not in text for text in errors)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("airflow_provider_creatio")]
    assert ours
    assert not any("$top" in message for message in ours)  # no query strings in the client's own lines
