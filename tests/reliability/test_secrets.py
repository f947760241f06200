"""Secrets never leak: not into a log line, an exception text, a repr, a rendered template or an XCom value; TLS
is verified unless the connection opts out explicitly; and credentials never go to another host.

The secrets are distinctive values (a password, an OAuth client secret, a wrong password, a wrong client secret)
plus everything the emulator issued during the test: every cookie value of every session (``.ASPXAUTH``,
``BPMSESSIONID``, ``BPMLOADER``, ``BPMCSRF``) and every bearer token. They are recorded on the emulator's side, by
wrapping its session registry, so the check does not depend on what the client says it saw.

The task-log proof (``test_a_real_dag_run_leaks_no_secret``) runs a DAG the way a deployment does: ``airflow
dags test --use-executor`` with the LocalExecutor, whose worker supervises each task in its own process and writes
the task's log file under ``$AIRFLOW_HOME/logs`` through Airflow's own masking, against a real execution API
server (an api-server started by ``testing.deployment.AirflowDeployment``). ``dag.test()`` without an executor does not mask its in-process
output, so it would prove nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from issued_secrets import leaks, recording_issued

from airflow_provider_creatio.client import AsyncCreatioClient, CreatioClient, process
from airflow_provider_creatio.client.auth import SecretSink, make_auth
from airflow_provider_creatio.client.batch import BatchOperation, batch_call
from airflow_provider_creatio.client.config import AuthType, CreatioConfig, RetryPolicy
from airflow_provider_creatio.client.errors import (
    CreatioAuthError,
    CreatioError,
    CreatioNotFoundError,
    CreatioServerError,
    CreatioTransportError,
)
from airflow_provider_creatio.client.http import ApiResponse, Call
from airflow_provider_creatio.client.odata import get_record, query_records
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.connection import (
    connection_env_name,
    connection_json,
    oauth_connection_json,
)
from airflow_provider_creatio.testing.deployment import AirflowDeployment
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings

PASSWORD = "Pw-5e9c1f7a-never-log-me"
CLIENT_SECRET = "Cs-8b3d2e6f-never-log-me"
WRONG_PASSWORD = "WrongPw-41c7d9e2-never-log-me"
WRONG_CLIENT_SECRET = "WrongCs-0a6f3b8d-never-log-me"
CLIENT_ID = "airflow-client"
FAST = RetryPolicy(attempts=3, backoff_initial=0.001, backoff_max=0.005)
MISSING = "0badc0de-0000-4000-8000-000000000001"
DAG_FILES = Path(__file__).parent / "dag_files"
DAG_ID = "reliability_secrets"
DAG_RUN_LIMIT = 150.0  # seconds; a run takes about 15
SHUTDOWN_GRACE = 10.0  # seconds the executor gets to shut down after the last task finished


# ---------------------------------------------------------------------------------------------------------------
# What the emulator issued


def exception_text(exc: BaseException) -> str:
    """Everything a log shows of an exception: its text, its repr, and the whole traceback with its chain."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


# ---------------------------------------------------------------------------------------------------------------
# The sync and async clients behind one blocking interface


class Runner:
    """Drives the sync client, or the async one on a private event loop, through the same steps."""

    def __init__(self, kind: str, config: CreatioConfig) -> None:
        self.kind = kind
        self.registered: list[
            str
        ] = []  # what the client passed to on_secret (Airflow's mask_secret in the hook)
        self._loop: asyncio.AbstractEventLoop | None = None
        if kind == "sync":
            self._client: Any = CreatioClient(config, on_secret=self.registered.append)
        else:
            self._loop = asyncio.new_event_loop()
            self._client = AsyncCreatioClient(config, on_secret=self.registered.append)

    def execute(self, call: Call[Any]) -> Any:
        if self._loop is None:
            return self._client.execute(call)
        return self._loop.run_until_complete(self._client.execute(call))

    def close(self) -> None:
        if self._loop is None:
            self._client.close()
            return
        self._loop.run_until_complete(self._client.close())
        self._loop.close()


@contextmanager
def running(kind: str, config: CreatioConfig) -> Iterator[Runner]:
    runner = Runner(kind, config)
    try:
        yield runner
    finally:
        runner.close()


def forms_config(url: str, password: str = PASSWORD) -> CreatioConfig:
    return CreatioConfig(base_url=url, username="Supervisor", password=password, retry=FAST)


def oauth_config(url: str, identity: str | None, secret: str = CLIENT_SECRET) -> CreatioConfig:
    """``identity`` None: derived from a ``*.creatio.com`` url."""
    return CreatioConfig(
        base_url=url,
        auth_type=AuthType.OAUTH,
        client_id=CLIENT_ID,
        client_secret=secret,
        identity_server_url=identity,
        retry=FAST,
    )


def read_contacts() -> Call[Any]:
    return query_records("Contact", select=["Id", "Name"], top=2)


@pytest.fixture
def secret_creatio(fresh_creatio: EmulatorServer) -> EmulatorServer:
    fresh_creatio.settings.password = PASSWORD
    fresh_creatio.settings.oauth_client_secret = CLIENT_SECRET
    return fresh_creatio


KINDS = ["sync", "async"]


# ---------------------------------------------------------------------------------------------------------------
# Log records, exception texts and reprs, in process (no masker involved: nothing may need masking)


def _forms_story(runner: Runner, creatio: EmulatorServer, failures: list[BaseException]) -> None:
    """Log in, re-login after expiry, and fail in every way a session can fail."""

    def attempt(call: Call[Any]) -> None:
        try:
            runner.execute(call)
        except CreatioError as exc:
            failures.append(exc)

    attempt(read_contacts())
    creatio.expire_sessions()
    attempt(read_contacts())  # a new session: new cookie values, a new BPMCSRF
    creatio.script(r"odata/Account", [500])
    attempt(query_records("Account", top=1))
    creatio.script(r"odata/Case", [503, 503, 503])
    attempt(query_records("Case", top=1))  # retried with warnings, then given up
    creatio.script(r"odata/Contact", [302, 302])
    attempt(read_contacts())  # rejected again right after a new login
    attempt(get_record("Contact", MISSING))
    attempt(process.execute_process("UsrNoSuchProcess"))
    attempt(
        process.execute_process("UsrFullNameProcess", {"UserName": "Ann", "UserSurname": "Lee"}, "FullName")
    )


@pytest.mark.parametrize("kind", KINDS)
def test_no_secret_in_debug_logs_exception_texts_or_reprs(
    kind: str, secret_creatio: EmulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: the client's, urllib3's, httpx's and httpcore's traces
    failures: list[BaseException] = []
    with recording_issued(secret_creatio) as issued:
        with running(kind, forms_config(secret_creatio.url)) as forms:
            _forms_story(forms, secret_creatio, failures)
        with running(kind, forms_config(secret_creatio.url, WRONG_PASSWORD)) as wrong:
            with pytest.raises(CreatioAuthError) as refused:
                wrong.execute(read_contacts())
            failures.append(refused.value)
        with running(kind, oauth_config(secret_creatio.url, secret_creatio.identity_url)) as oauth:
            oauth.execute(read_contacts())
            secret_creatio.expire_sessions()  # revokes the token: a new one is fetched
            oauth.execute(read_contacts())
            secret_creatio.script(r"odata/Contact", [401, 401])
            with pytest.raises(CreatioAuthError) as rejected:
                oauth.execute(read_contacts())
            failures.append(rejected.value)
        with running(
            kind, oauth_config(secret_creatio.url, secret_creatio.identity_url, WRONG_CLIENT_SECRET)
        ) as wrong_oauth:
            with pytest.raises(CreatioAuthError) as invalid_client:
                wrong_oauth.execute(read_contacts())
            failures.append(invalid_client.value)

    secrets = issued.secrets(PASSWORD, CLIENT_SECRET, WRONG_PASSWORD, WRONG_CLIENT_SECRET)
    assert issued.sessions >= 3 and issued.tokens >= 2, "the story must have produced sessions and tokens"
    assert {type(exc) for exc in failures} >= {CreatioServerError, CreatioAuthError, CreatioNotFoundError}
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    assert any("try 2 of 3" in record.getMessage() for record in caplog.records)  # the retry warnings ran
    assert leaks(logged, secrets) == []
    for exc in failures:
        assert leaks(exception_text(exc), secrets) == [], f"{type(exc).__name__} shows a secret"


@pytest.mark.parametrize("kind", KINDS)
def test_the_client_reports_every_secret_it_learns_for_masking(
    kind: str, secret_creatio: EmulatorServer
) -> None:
    """What the hook passes to Airflow's mask_secret: the password or client secret, every cookie value of every
    session (the UserName cookie excepted: it is the login name), and every bearer token."""
    with recording_issued(secret_creatio) as issued:
        with running(kind, forms_config(secret_creatio.url)) as forms:
            forms.execute(read_contacts())
            secret_creatio.expire_sessions()
            forms.execute(read_contacts())
            registered = set(forms.registered)
        with running(kind, oauth_config(secret_creatio.url, secret_creatio.identity_url)) as oauth:
            oauth.execute(read_contacts())
            secret_creatio.expire_sessions()
            oauth.execute(read_contacts())
            registered |= set(oauth.registered)
    assert issued.sessions == 2 and issued.tokens == 2
    assert issued.secrets(PASSWORD, CLIENT_SECRET) <= registered


def test_the_hook_masks_every_secret_in_airflows_masker(
    secret_creatio: EmulatorServer, set_connection: Any
) -> None:
    """Calls Airflow's masker directly: after a hook session with a re-login, and an OAuth one, every issued
    value is redacted."""
    from airflow.sdk._shared.secrets_masker import redact

    set_connection(secret_creatio.url, password=PASSWORD)
    set_connection(
        secret_creatio.url,
        conn_id="creatio_oauth",
        auth_type="oauth",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        identity_server_url=secret_creatio.identity_url,
    )
    with recording_issued(secret_creatio) as issued:
        with CreatioHook() as hook:
            hook.query_page("Contact", top=1)
            secret_creatio.expire_sessions()
            hook.query_page("Contact", top=1)
        with CreatioHook("creatio_oauth") as oauth_hook:
            oauth_hook.query_page("Contact", top=1)
    secrets = issued.secrets(PASSWORD, CLIENT_SECRET)
    assert issued.sessions == 2 and issued.tokens == 1
    for secret in secrets:
        assert redact(f"value={secret};") == "value=***;"


def test_reprs_of_configuration_and_requests_hide_credentials() -> None:
    forms = forms_config("https://mysite.creatio.com")
    oauth = oauth_config("https://mysite.creatio.com", None)
    for config in (forms, oauth):
        assert leaks(repr(config), {PASSWORD, CLIENT_SECRET}) == []
        login = make_auth(config, SecretSink(None)).login_request()
        assert login.content is not None and login.content != b""  # the secret is in the body...
        assert leaks(repr(login), {PASSWORD, CLIENT_SECRET}) == []  # ...and not in its repr


def test_an_answers_repr_shows_no_cookie_or_token() -> None:
    """Every answer becomes an ApiResponse, the login's (Set-Cookie) and the token endpoint's (access_token)
    included; its repr must not show them, as Outgoing's does not."""
    cookie, token = "aspxauth-value-3c9d0e", "bearer-token-value-7e1f2a"
    login_answer = ApiResponse(200, {"set-cookie": f".ASPXAUTH={cookie}; path=/; HttpOnly"}, b'{"Code":0}')
    token_answer = ApiResponse(
        200, {"content-type": "application/json"}, f'{{"access_token":"{token}"}}'.encode()
    )
    assert leaks(repr(login_answer) + repr(token_answer), {cookie, token}) == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("spoiled", "how"),
    [
        ("not-json-content-type", {"content_type": "text/html"}),
        ("cut-short", {"keep_bytes": 60}),
    ],
)
def test_an_unreadable_token_answer_does_not_quote_the_token(
    kind: str, spoiled: str, how: dict[str, Any], secret_creatio: EmulatorServer, identity_proxy: Any
) -> None:
    """The identity server's answer carries the access token in its body; an error about that body must not
    quote it (the token was never accepted, so nothing would mask it)."""
    identity_proxy.spoil(r"/connect/token$", **how)
    with (
        recording_issued(secret_creatio) as issued,
        running(kind, oauth_config(secret_creatio.url, identity_proxy.url)) as oauth,
        pytest.raises(CreatioError) as failed,
    ):
        oauth.execute(read_contacts())
    assert issued.tokens == 1
    assert leaks(exception_text(failed.value), issued.secrets(CLIENT_SECRET)) == []


# ---------------------------------------------------------------------------------------------------------------
# TLS


def test_tls_verification_is_on_unless_the_connection_opts_out(set_connection: Any) -> None:
    assert (
        CreatioConfig(base_url="https://mysite.creatio.com", username="u", password=PASSWORD).verify is True
    )
    set_connection("https://mysite.creatio.com", password=PASSWORD)
    assert CreatioHook().config.verify is True
    set_connection("https://mysite.creatio.com", password=PASSWORD, verify=False, allow_insecure=True)
    assert CreatioHook().config.verify is False


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, and that key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "creatio-emulator-test")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "creatio.pem", directory / "creatio.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@dataclass
class HttpsCreatio:
    url: str
    certificate: Path
    state: Any  # the emulator's EmulatorState: its log shows what reached the HTTP layer


@pytest.fixture
def https_creatio(tmp_path: Path) -> Iterator[HttpsCreatio]:
    """The emulator's application served over HTTPS with a self-signed certificate."""
    import uvicorn

    from airflow_provider_creatio.testing.emulator.app import build_app
    from airflow_provider_creatio.testing.emulator.state import EmulatorState

    cert_file, key_file = _self_signed_certificate(tmp_path)
    state = EmulatorState(EmulatorSettings(password=PASSWORD))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        build_app(state),
        ssl_certfile=str(cert_file),
        ssl_keyfile=str(key_file),
        log_config=None,
        log_level="critical",  # failed handshakes are the point of the test: keep them out of the output
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the HTTPS emulator did not start"
        time.sleep(0.01)
    yield HttpsCreatio(f"https://127.0.0.1:{sock.getsockname()[1]}", cert_file, state)
    server.should_exit = True
    thread.join(5)
    sock.close()


@pytest.mark.parametrize("kind", KINDS)
def test_an_unverifiable_certificate_stops_the_login_before_any_credential_is_sent(
    kind: str, https_creatio: HttpsCreatio
) -> None:
    with (
        running(kind, forms_config(https_creatio.url)) as client,
        pytest.raises(CreatioTransportError) as refused,
    ):
        client.execute(read_contacts())
    assert "TLS handshake or certificate verification failed" in str(refused.value)
    assert https_creatio.state.log.snapshot() == []  # no HTTP request was ever made: the password never left
    # The same server is fine once its certificate is trusted: the failure above was the verification.
    trusted = CreatioConfig(
        base_url=https_creatio.url,
        username="Supervisor",
        password=PASSWORD,
        verify=str(https_creatio.certificate),
        retry=FAST,
    )
    with running(kind, trusted) as client:
        assert len(client.execute(read_contacts()).records) == 2
    assert https_creatio.state.log.login_count == 1


# ---------------------------------------------------------------------------------------------------------------
# Credentials never go to another host


def _redirected_calls() -> dict[str, tuple[str, Callable[[], Call[Any]]]]:
    """Which request is redirected (its path pattern) and the call that makes the client send it."""
    return {
        "login": (r"AuthService\.svc/Login$", read_contacts),
        "odata-read": (r"/odata/Contact$", read_contacts),
        "batch": (
            r"/odata/\$batch$",
            lambda: batch_call([BatchOperation.update("Contact", MISSING, {"Name": "x"})]),
        ),
        "run-process": (
            r"RunProcess$",
            lambda: process.run_process("UsrFullNameProcess", {"UserName": "Ann"}),
        ),
        "token": (r"/connect/token$", read_contacts),
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [302, 307, 308])
@pytest.mark.parametrize("target", ["login", "odata-read", "batch", "run-process", "token"])
def test_a_redirect_to_another_host_is_never_followed(
    kind: str,
    status: int,
    target: str,
    secret_creatio: EmulatorServer,
    tampering_proxy: Any,
    identity_proxy: Any,
    trap: Any,
) -> None:
    pattern, make_call = _redirected_calls()[target]
    if target == "token":
        identity_proxy.redirect(pattern, f"{trap.url}/stolen", status=status)
        config = oauth_config(secret_creatio.url, identity_proxy.url)
    else:
        tampering_proxy.redirect(pattern, f"{trap.url}/stolen", status=status)
        config = forms_config(tampering_proxy.url)
    with running(kind, config) as client, pytest.raises(CreatioAuthError):
        client.execute(make_call())
    assert trap.received == []  # the redirect was not followed: no credential, cookie or token went there


# ---------------------------------------------------------------------------------------------------------------
# A real DAG run: task log files, the worker's output, rendered template fields and XCom


def _connection(url: str, password: str = PASSWORD, **extra: Any) -> str:
    return connection_json(url, "Supervisor", password, backoff_initial=0.001, backoff_max=0.005, **extra)


def _oauth_connection(creatio: EmulatorServer, secret: str) -> str:
    return oauth_connection_json(
        creatio.url, creatio.identity_url, CLIENT_ID, secret, backoff_initial=0.001, backoff_max=0.005
    )


def dags_test(deployment: AirflowDeployment, dag_id: str, env: dict[str, str], tasks: int) -> str:
    """``airflow dags test <dag_id> --use-executor``: its output once every one of the ``tasks`` workloads has
    finished. The command runs in its own process group: LocalExecutor.end() can wait forever for a worker that
    missed its stop message (an Airflow race, seen under load), so once every task is done and its log file
    closed, a command still running after a grace period is stopped, workers included."""
    out_path = deployment.home / f"dags-test-{dag_id}.out"
    with out_path.open("w") as out:
        command = subprocess.Popen(
            [sys.executable, "-m", "airflow", "dags", "test", dag_id, "--use-executor"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_workloads(command, out_path, tasks)
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait()
    return out_path.read_text(encoding="utf-8", errors="replace")


def _wait_for_workloads(command: subprocess.Popen[bytes], out_path: Path, tasks: int) -> None:
    deadline = time.monotonic() + DAG_RUN_LIMIT
    all_done_at: float | None = None
    while command.poll() is None:
        output = out_path.read_text(encoding="utf-8", errors="replace")
        if all_done_at is None and output.count("Workload finished") >= tasks:
            all_done_at = time.monotonic()
        if all_done_at is not None and time.monotonic() - all_done_at > SHUTDOWN_GRACE:
            return
        assert time.monotonic() < deadline, f"the DAG run did not finish:\n{output[-3000:]}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowDeployment]:
    """A small Airflow of its own (the deployment tier's harness) with only the api-server, whose execution API
    the LocalExecutor's task processes report to; ``airflow dags test --use-executor`` is the scheduler."""
    airflow = AirflowDeployment(tmp_path_factory.mktemp("airflow-deployment"), DAG_FILES)
    try:
        airflow.start(["api-server"])
        yield airflow
    finally:
        airflow.stop()


@dataclass
class DagRunRecord:
    output: str  # everything `airflow dags test` printed: the worker echoes task logs there, unmasked
    task_states: dict[str, str]
    log_files: dict[str, str]  # path under $AIRFLOW_HOME/logs -> content
    rendered_fields: list[str]
    xcoms: list[str]
    database_text: str  # every text value of every table of the metadata database


def _run_secrets_dag(deployment: AirflowDeployment, creatio: EmulatorServer) -> DagRunRecord:
    env = {
        **deployment.env,
        # Tasks log at DEBUG, so urllib3's and the client's debug lines are in the task logs too.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",
        connection_env_name("creatio_secrets"): _connection(creatio.url),
        connection_env_name("creatio_secrets_wrong"): _connection(creatio.url, WRONG_PASSWORD),
        connection_env_name("creatio_secrets_oauth"): _oauth_connection(creatio, CLIENT_SECRET),
        connection_env_name("creatio_secrets_oauth_wrong"): _oauth_connection(creatio, WRONG_CLIENT_SECRET),
    }
    output = dags_test(deployment, DAG_ID, env, tasks=len(EXPECTED_STATES))
    logs = deployment.home / "logs"
    log_files = {
        str(path.relative_to(logs)): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(logs.rglob("*"))
        if path.is_file()
    }
    with sqlite3.connect(deployment.home / "airflow.db") as db:
        states = dict(db.execute("select task_id, state from task_instance where dag_id = ?", (DAG_ID,)))
        rendered = [row[0] for row in db.execute("select rendered_fields from rendered_task_instance_fields")]
        xcoms = [f"{key}={value}" for key, value in db.execute("select key, value from xcom")]
        database_text = _every_text_value(db)
    return DagRunRecord(output, states, log_files, rendered, xcoms, database_text)


def _every_text_value(db: sqlite3.Connection) -> str:
    tables = [row[0] for row in db.execute("select name from sqlite_master where type = 'table'")]
    chunks: list[str] = []
    for table in tables:
        for row in db.execute(f'select * from "{table}"'):
            chunks.extend(
                value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value) for value in row
            )
    return "\n".join(chunks)


EXPECTED_STATES = {
    "create_contact": "success",
    "get_contact": "success",
    "query_contacts": "success",
    "bulk_update_with_a_missing_record": "success",
    "run_process": "success",
    "follow_process": "success",
    "relogin_and_canary": "success",
    "oauth_relogin_and_canary": "success",
    "delete_contact": "success",
    "wrong_password": "failed",
    "wrong_client_secret": "failed",
    "server_error": "failed",
    "session_rejected_again": "failed",
}
CANARY = "SECRET-CANARY"  # the marker of the lines where the DAG logs secrets on purpose


def test_a_real_dag_run_leaks_no_secret(deployment: AirflowDeployment) -> None:
    # A site answering 404 to a PATCH of a missing record: the bulk task's per-record error is checked below.
    settings = EmulatorSettings(password=PASSWORD, oauth_client_secret=CLIENT_SECRET, patch_missing="404")
    with EmulatorServer(settings) as creatio, recording_issued(creatio) as issued:
        creatio.script(r"odata/Account", [500])  # only the server_error task reads Accounts
        creatio.script(r"odata/Case", [302, 302])  # only the session_rejected_again task reads Cases
        run = _run_secrets_dag(deployment, creatio)
    secrets = issued.secrets(PASSWORD, CLIENT_SECRET, WRONG_PASSWORD, WRONG_CLIENT_SECRET)

    assert run.task_states == EXPECTED_STATES
    assert issued.sessions >= 8 and issued.tokens >= 2  # every task logged in; two re-logins, two tokens
    task_logs = {path: text for path, text in run.log_files.items() if path.startswith(f"dag_id={DAG_ID}/")}
    assert set(EXPECTED_STATES) <= {path.split("task_id=")[1].split("/")[0] for path in task_logs}

    # The task log files: no secret anywhere, also not in the failed tasks' exceptions.
    for path, text in run.log_files.items():
        assert leaks(text, secrets) == [], f"{path} shows a secret"
    # The canary tasks logged every cookie value and the bearer token on purpose: Airflow masked them, which proves
    # the provider registered each runtime secret with the supervisor's masker (and that this check can fail).
    canaries = [line for text in task_logs.values() for line in text.splitlines() if CANARY in line]
    assert len(canaries) >= 5 and all("***" in line for line in canaries)
    # Nothing else needed masking: the provider never produced a secret in the first place.
    masked = [line for text in task_logs.values() for line in text.splitlines() if "***" in line]
    assert masked == canaries
    # The error texts of the failed tasks are there, with Creatio's words.
    failed_logs = "\n".join(text for path, text in task_logs.items() if "task_id=wrong_password" in path)
    assert "Either user name or password specified incorrectly." in failed_logs

    # The LocalExecutor worker also echoes task logs to its own output WITHOUT Airflow's masking: apart from
    # the deliberate canary lines, no secret may appear there either.
    unmasked = [line for line in run.output.splitlines() if CANARY not in line]
    assert leaks("\n".join(unmasked), secrets) == []

    # Rendered template fields, XCom values, and everything else in the metadata database.
    assert len(run.rendered_fields) >= len(EXPECTED_STATES) - 4
    assert any('"status": 404, "error": ' in xcom for xcom in run.xcoms)  # the bulk task's per-record error
    assert leaks("\n".join(run.rendered_fields), secrets) == []
    assert leaks("\n".join(run.xcoms), secrets) == []
    assert leaks(run.database_text, secrets) == []
