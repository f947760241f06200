"""The bad-input catalogue: every kind of bad argument, bad connection and bad answer, with the exception it must
raise and the words its message must carry.

``CASES`` is the one table. Each case says how to trigger it, the expected exception type, a fragment of the
expected message, and whether a request may be sent. A case that can be checked before sending (``sends=False``)
must leave the emulator's request log empty: no call, not even a login. docs/reliability-bad-input.md is this
table rendered as markdown (``python tests/reliability/test_bad_input.py`` prints it; a test keeps the two equal).

Cases that need a misbehaving server use the emulator's settings (wrong password, expired sessions) or the
tampering proxy from conftest.py (cut, mistyped or emptied bodies), which forwards everything else unchanged.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from airflow_provider_creatio.client import process
from airflow_provider_creatio.client.errors import (
    CreatioAuthError,
    CreatioBadRequestError,
    CreatioConfigError,
    CreatioNotFoundError,
    CreatioProcessError,
    CreatioResponseError,
    CreatioTokenError,
    CreatioTransportError,
    CreatioValidationError,
)
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioQueryEntitiesOperator
from airflow_provider_creatio.operators.process import CreatioExecElementOperator, CreatioRunProcessOperator
from airflow_provider_creatio.testing.emulator import EmulatorServer

DOCS_TABLE = Path(__file__).resolve().parents[2] / "docs" / "reliability-bad-input.md"
FIGURES_PAGE = DOCS_TABLE.with_name("reliability-faults.md")
GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
INJECTION = "x' or 1 eq 1 or Name eq 'y"
RAW_FILTER = "Name eq 'x' or Name ne 'x'"
URL_PASSWORD = "Pw-in-the-host-7d1c"
LONG_TEXT = 3000  # characters: more than an Execute URL may carry
# The chosen cap of a RunProcess body: ASP.NET's default request limit, 4,096 KB (creatio-notes/request-size-limits.md)
MAX_BODY = 4 * 1024 * 1024


@dataclass
class Bench:
    """What a case works with: the emulator, the tampering proxy in front of it, and hooks on ``creatio_default``."""

    emulator: EmulatorServer
    proxy: Any  # conftest.TamperingProxy
    set_connection: Any  # conftest.ConnectionSetter
    hooks: ExitStack

    def hook(self) -> CreatioHook:
        """A hook on ``creatio_default``; closed (logged out) after the case's checks."""
        return self.hooks.enter_context(CreatioHook())

    def connect(self, host: str, **extra: Any) -> CreatioHook:
        """Point ``creatio_default`` at ``host`` (``{emulator}`` and ``{proxy}`` are filled in), then hook it."""
        self.set_connection(host.format(emulator=self.emulator.url, proxy=self.proxy.url), **extra)
        return self.hook()

    def via_proxy(self) -> CreatioHook:
        return self.connect("{proxy}")

    def query(self, filter: str | dict[str, Any]) -> Any:
        """The query operator, as a DAG runs it (a JSON text filter is what a rendered template gives)."""
        operator = CreatioQueryEntitiesOperator(task_id="query", entity="Contact", filter=filter, top=5)
        return operator.execute(context={})  # type: ignore[arg-type]

    def run_process(self, **arguments: Any) -> Any:
        """The run-process operator, as a DAG runs it."""
        operator = CreatioRunProcessOperator(task_id="process", **arguments)
        return operator.execute(context={"ti": _TaskInstance()})  # type: ignore[arg-type]

    def exec_element(self, element_uid: str) -> Any:
        operator = CreatioExecElementOperator(task_id="element", element_uid=element_uid)
        return operator.execute(context={})  # type: ignore[arg-type]

    def odata_queries(self) -> list[dict[str, list[str]]]:
        """The decoded query strings of every OData GET the emulator received, in order."""
        return [
            parse_qs(r.query) for r in self.emulator.requests if r.method == "GET" and "/odata/" in r.path
        ]


class _TaskInstance:
    """What the operators use of the task instance in the context: xcom_push (the process id)."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@dataclass(frozen=True)
class Case:
    id: str
    input: str  # what the caller did, for the docs table
    trigger: Callable[[Bench], object]
    raises: type[Exception] | None  # None: the call must succeed, and ``check`` says what it must have done
    message: str  # a fragment of str(exception); for a success, what the outcome is (docs only)
    sends: bool  # may a request reach the server?
    setup: Callable[[Bench], None] | None = None
    check: Callable[[Bench, Any], None] | None = None
    absent: tuple[str, ...] = ()  # fragments the message must not contain (secrets, for one)


def _no_match_and_quoted(bench: Bench, page: Any) -> None:
    assert page.records == []
    assert bench.odata_queries()[-1]["$filter"] == ["Name eq 'x'' or 1 eq 1 or Name eq ''y'"]


def _rendered_json_filter_stays_literal(bench: Bench, records: Any) -> None:
    assert records == []
    assert bench.odata_queries()[-1]["$filter"] == ["Name eq 'x'' or Name ne ''x'"]


def _raw_filter_sent_verbatim(bench: Bench, records: Any) -> None:
    # The caller's own expression matches every contact: a raw filter is theirs to widen.
    assert len(records) == min(5, bench.emulator.store.count("Contact")) > 0
    assert bench.odata_queries()[-1]["$filter"] == [RAW_FILTER]


def _switched_to_run_process(bench: Bench, outputs: Any) -> None:
    assert outputs == {"FullName": "x" * LONG_TEXT + " Lee"}
    assert bench.emulator.count("POST", "ProcessEngineService.svc/RunProcess") == 1
    assert bench.emulator.count(path_contains="/Execute") == 0


def _one_login_and_nothing_else(bench: Bench, _: Any) -> None:
    assert [(r.method, r.path) for r in bench.emulator.requests] == [
        ("POST", "/ServiceModel/AuthService.svc/Login")
    ]


def _one_token_request_and_nothing_else(bench: Bench, _: Any) -> None:
    assert [(r.service, r.method, r.path) for r in bench.emulator.requests] == [
        ("identity", "POST", "/connect/token")
    ]


def _oauth(bench: Bench, client_secret: str = "airflow-secret", **extra: Any) -> CreatioHook:
    """A hook on an OAuth connection to the emulator (its identity server unless ``extra`` says otherwise)."""
    identity = {"identity_server_url": bench.emulator.identity_url, **extra}
    return bench.connect(
        "{emulator}", auth_type="oauth", client_id="airflow-client", client_secret=client_secret, **identity
    )


def _relogged_once_and_never_followed(bench: Bench, _: Any) -> None:
    requests = bench.emulator.requests
    assert bench.emulator.login_count == 2  # the first login and one re-login: no loop
    assert not any("/Login/" in r.path for r in requests)  # the login page was never fetched


def _expire_every_session(form: str) -> Callable[[Bench], None]:
    def setup(bench: Bench) -> None:
        bench.emulator.settings.expiry_form = form  # type: ignore[assignment]
        bench.emulator.settings.session_lifetime = 0  # every session is gone by its first call

    return setup


def _wrong_password(bench: Bench) -> None:
    bench.emulator.settings.password = "a-different-password"


def _spoil(**how: Any) -> Callable[[Bench], None]:
    def setup(bench: Bench) -> None:
        bench.proxy.spoil(r"/odata/Contact", method="GET", **how)

    return setup


def _spoil_login(**how: Any) -> Callable[[Bench], None]:
    def setup(bench: Bench) -> None:
        bench.proxy.spoil(r"AuthService\.svc/Login$", **how)

    return setup


CASES: tuple[Case, ...] = (
    # --- malformed GUIDs: refused before anything is sent ------------------------------------------------------
    Case(
        "guid-missing-digit",
        "get_record('Contact', '3f2504e0-4f89-11d3-9a0c-0305e82c330')",
        lambda b: b.hook().get_record("Contact", GUID[:-1]),
        CreatioValidationError,
        "record_id must be a GUID like 3f2504e0-4f89-11d3-9a0c-0305e82c3301, got '3f2504e0",
        sends=False,
    ),
    Case(
        "guid-without-dashes",
        "delete_record('Contact', '3f2504e04f8911d39a0c0305e82c3301')",
        lambda b: b.hook().delete_record("Contact", GUID.replace("-", "")),
        CreatioValidationError,
        "record_id must be a GUID",
        sends=False,
    ),
    Case(
        "guid-urn-prefix",
        "update_record('Contact', 'urn:uuid:3f2504e0-...', {...})",
        lambda b: b.hook().update_record("Contact", f"urn:uuid:{GUID}", {"Name": "x"}),
        CreatioValidationError,
        "record_id must be a GUID",
        sends=False,
    ),
    Case(
        "guid-one-brace",
        "get_record('Contact', '{3f2504e0-...-0305e82c3301')",
        lambda b: b.hook().get_record("Contact", "{" + GUID),
        CreatioValidationError,
        "record_id must be a GUID",
        sends=False,
    ),
    Case(
        "guid-not-hex",
        "get_record('Contact', '3f2504e0-4f89-11d3-9a0c-0305e82c33zz')",
        lambda b: b.hook().get_record("Contact", GUID[:-2] + "zz"),
        CreatioValidationError,
        "got '3f2504e0-4f89-11d3-9a0c-0305e82c33zz'",
        sends=False,
    ),
    Case(
        "guid-with-odata-tail",
        "get_record('Contact', '<guid>)/Account(<guid>')",
        lambda b: b.hook().get_record("Contact", f"{GUID})/Account({GUID}"),
        CreatioValidationError,
        "record_id must be a GUID",
        sends=False,
    ),
    Case(
        "guid-empty",
        "delete_record('Contact', '')",
        lambda b: b.hook().delete_record("Contact", ""),
        CreatioValidationError,
        "record_id must be a GUID like 3f2504e0-4f89-11d3-9a0c-0305e82c3301, got ''",
        sends=False,
    ),
    Case(
        "guid-none",
        "get_record('Contact', None)",
        lambda b: b.hook().get_record("Contact", None),  # type: ignore[arg-type]
        CreatioValidationError,
        "got None",
        sends=False,
    ),
    Case(
        "guid-in-record-body",
        "create_record('Contact', {'Id': 'not-a-guid', 'Name': 'x'})",
        lambda b: b.hook().create_record("Contact", {"Id": "not-a-guid", "Name": "x"}),
        CreatioValidationError,
        "data['Id'] must be a GUID",
        sends=False,
    ),
    Case(
        "guid-process-id",
        "cancel_process('12345')",
        lambda b: b.hook().cancel_process("12345"),
        CreatioValidationError,
        "process_id must be a GUID",
        sends=False,
    ),
    # --- entity, column and process names -----------------------------------------------------------------------
    Case(
        "entity-slash",
        "query_page('Contact/../Account')",
        lambda b: b.hook().query_page("Contact/../Account"),
        CreatioValidationError,
        "entity must be a Creatio object name",
        sends=False,
    ),
    Case(
        "entity-question-mark",
        "query_page('Contact?$top=1')",
        lambda b: b.hook().query_page("Contact?$top=1"),
        CreatioValidationError,
        "got 'Contact?$top=1'",
        sends=False,
    ),
    Case(
        "entity-parenthesis",
        "get_record('Contact(<guid>)', <guid>)",
        lambda b: b.hook().get_record(f"Contact({GUID})", GUID),
        CreatioValidationError,
        "entity must be a Creatio object name",
        sends=False,
    ),
    Case(
        "entity-space",
        "create_record('Contact Person', {...})",
        lambda b: b.hook().create_record("Contact Person", {"Name": "x"}),
        CreatioValidationError,
        "(no spaces, '/', '?', '(' or quotes), got 'Contact Person'",
        sends=False,
    ),
    Case(
        "entity-empty",
        "count_records('')",
        lambda b: b.hook().count_records(""),
        CreatioValidationError,
        "entity must be a Creatio object name",
        sends=False,
    ),
    Case(
        "entity-percent-encoded",
        "query_page('Contact%2FAccount')",
        lambda b: b.hook().query_page("Contact%2FAccount"),
        CreatioValidationError,
        "got 'Contact%2FAccount'",
        sends=False,
    ),
    Case(
        "column-with-space",
        "create_record('Contact', {'Full Name': 'x'})",
        lambda b: b.hook().create_record("Contact", {"Full Name": "x"}),
        CreatioValidationError,
        "data key must be a Creatio column name",
        sends=False,
    ),
    Case(
        "select-smuggles-an-option",
        "query_page('Contact', select='Id,Name&$top=100000')",
        lambda b: b.hook().query_page("Contact", select="Id,Name&$top=100000"),
        CreatioValidationError,
        "select must be a column path",
        sends=False,
    ),
    Case(
        "orderby-extra-words",
        "query_page('Contact', orderby='Name desc; drop')",
        lambda b: b.hook().query_page("Contact", orderby="Name desc; drop"),
        CreatioValidationError,
        "must be a column path optionally followed by asc or desc",
        sends=False,
    ),
    # --- filters: dict values are literals, a raw string is the caller's own expression -------------------------
    Case(
        "filter-injection-in-a-value",
        f"query_page('Contact', filter={{'Name': {INJECTION!r}}})",
        lambda b: b.hook().query_page("Contact", filter={"Name": INJECTION}),
        None,
        "no exception: the value stays one quoted literal, nothing matches",
        sends=True,
        check=_no_match_and_quoted,
    ),
    Case(
        "filter-injection-in-rendered-json",
        "query operator, filter='{\"Name\": \"x\\' or Name ne \\'x\"}' (a rendered template)",
        lambda b: b.query('{"Name": "x\' or Name ne \'x"}'),
        None,
        "no exception: JSON text of a mapping is read as a mapping, the value stays a literal",
        sends=True,
        check=_rendered_json_filter_stays_literal,
    ),
    Case(
        "filter-raw-string-is-verbatim",
        f"query operator, filter={RAW_FILTER!r} (a raw OData string)",
        lambda b: b.query(RAW_FILTER),
        None,
        "no exception: a raw string is sent exactly as written (the caller chose a raw filter)",
        sends=True,
        check=_raw_filter_sent_verbatim,
    ),
    Case(
        "filter-injection-in-a-key",
        "query_page('Contact', filter={\"Name eq 'a' or Id\": 'x'})",
        lambda b: b.hook().query_page("Contact", filter={"Name eq 'a' or Id": "x"}),
        CreatioValidationError,
        "filter key must be a column path",
        sends=False,
    ),
    Case(
        "filter-value-without-literal",
        "query_page('Contact', filter={'Name': b'bytes'})",
        lambda b: b.hook().query_page("Contact", filter={"Name": b"bytes"}),
        CreatioValidationError,
        "has type bytes, which has no OData literal",
        sends=False,
    ),
    Case(
        "filter-empty-list",
        "query_page('Contact', filter={'Name': []})",
        lambda b: b.hook().query_page("Contact", filter={"Name": []}),
        CreatioValidationError,
        "is an empty list, which no record can match",
        sends=False,
    ),
    Case(
        "filter-operator-typo",
        "query_page('Contact', filter={'Name__gte': 'x'})",
        lambda b: b.hook().query_page("Contact", filter={"Name__gte": "x"}),
        CreatioBadRequestError,
        "Creatio says: Column by path Name__gte not found in schema Contact.",
        sends=True,
    ),
    # --- names Creatio does not know: its own message is carried ----------------------------------------------
    Case(
        "unknown-entity",
        "get_record('UsrNoSuchEntity', <guid>)",
        lambda b: b.hook().get_record("UsrNoSuchEntity", GUID),
        CreatioNotFoundError,
        "No type was found that matches the controller named 'UsrNoSuchEntity'.",
        sends=True,
    ),
    Case(
        "unknown-column-in-select",
        "query_page('Contact', select=['Id', 'NoSuchColumn'])",
        lambda b: b.hook().query_page("Contact", select=["Id", "NoSuchColumn"]),
        CreatioBadRequestError,
        "[HTTP 400 GET /0/odata/Contact] Creatio says: Column by path NoSuchColumn not found in schema Contact.",
        sends=True,
    ),
    Case(
        "unknown-column-in-a-write",
        "create_record('Contact', {'NoSuchColumn': 1})",
        lambda b: b.hook().create_record("Contact", {"NoSuchColumn": 1}),
        CreatioBadRequestError,
        "Column by path NoSuchColumn not found in schema Contact.",
        sends=True,
    ),
    Case(
        "unknown-process-execute",
        "run process operator, process_name='UsrNoSuchProcess' (fire and forget: GET Execute)",
        lambda b: b.run_process(process_name="UsrNoSuchProcess"),
        CreatioNotFoundError,
        'execute process UsrNoSuchProcess: not found [HTTP 500 GET /0/ServiceModel/ProcessEngineService.svc/UsrNoSuchProcess/Execute] Creatio says: Item with name "UsrNoSuchProcess" not found.',
        sends=True,
    ),
    Case(
        "unknown-process-runprocess",
        "run process operator, process_name='UsrNoSuchProcess', method='run' (POST RunProcess)",
        lambda b: b.run_process(process_name="UsrNoSuchProcess", method="run"),
        CreatioProcessError,
        'process UsrNoSuchProcess could not be started Error description: Item with name "UsrNoSuchProcess" not found.',
        sends=True,
    ),
    Case(
        "unknown-result-parameter",
        "run process operator, result_parameters=['FullName', 'NoSuchOutput']",
        lambda b: b.run_process(
            process_name="UsrFullNameProcess",
            parameters={"UserName": "Ann"},
            result_parameters=["FullName", "NoSuchOutput"],
        ),
        CreatioProcessError,
        'could not be started Error description: Process "UsrFullNameProcess" has no parameter "NoSuchOutput".',
        sends=True,
    ),
    Case(
        "element-uid-not-a-guid",
        "exec element operator, element_uid='ApproveRequest'",
        lambda b: b.exec_element("ApproveRequest"),
        CreatioValidationError,
        "element_uid must be a GUID",
        sends=False,
    ),
    # --- process parameters ---------------------------------------------------------------------------------------
    Case(
        "parameter-not-serializable",
        "run process operator, parameters={'Payload': object()}",
        lambda b: b.run_process(process_name="UsrFullNameProcess", parameters={"Payload": object()}),
        CreatioValidationError,
        "process parameter 'Payload' has a value of type object, which cannot be passed to a process",
        sends=False,
    ),
    Case(
        "parameter-set",
        "run process operator, parameters={'UserName': {'a', 'b'}}, method='execute'",
        lambda b: b.run_process(
            process_name="UsrFullNameProcess", parameters={"UserName": {"a", "b"}}, method="execute"
        ),
        CreatioValidationError,
        "has a value of type set",
        sends=False,
    ),
    Case(
        "parameter-nan",
        "run process operator, parameters={'UnitPrice': nan}, method='run'",
        lambda b: b.run_process(
            process_name="UsrOrderTotalsProcess", parameters={"UnitPrice": math.nan}, method="run"
        ),
        CreatioValidationError,
        "process parameter 'UnitPrice' must be a finite number",
        sends=False,
    ),
    Case(
        "parameter-nested-object",
        "run process operator, parameters={'Items': [{'When': object()}]}",
        lambda b: b.run_process(process_name="CustomProcess", parameters={"Items": [{"When": object()}]}),
        CreatioValidationError,
        "process parameter 'Items'[0]['When'] has a value of type object",
        sends=False,
    ),
    Case(
        "parameter-name-with-space",
        "run process operator, parameters={'User Name': 'x'}",
        lambda b: b.run_process(process_name="UsrFullNameProcess", parameters={"User Name": "x"}),
        CreatioValidationError,
        "process parameter name must be a Creatio code",
        sends=False,
    ),
    Case(
        "process-name-with-slash",
        "run process operator, process_name='Usr/../AuthService'",
        lambda b: b.run_process(process_name="Usr/../AuthService"),
        CreatioValidationError,
        "process name must be a Creatio code",
        sends=False,
    ),
    Case(
        "parameters-longer-than-a-url",
        f"run process operator, parameters={{'UserName': 'x' * {LONG_TEXT}, ...}}, result_parameters='FullName'",
        lambda b: b.run_process(
            process_name="UsrFullNameProcess",
            parameters={"UserName": "x" * LONG_TEXT, "UserSurname": "Lee"},
            result_parameters="FullName",
        ),
        None,
        f"no exception: sent as POST RunProcess (a GET Execute URL would pass {process.URL_LIMIT} characters)",
        sends=True,
        check=_switched_to_run_process,
    ),
    Case(
        "execute-forced-beyond-url-limit",
        f"run process operator, method='execute', parameters={{'UserName': 'x' * {LONG_TEXT}}}",
        lambda b: b.run_process(
            process_name="UsrFullNameProcess", parameters={"UserName": "x" * LONG_TEXT}, method="execute"
        ),
        CreatioValidationError,
        "too long for a URL",
        sends=False,
    ),
    Case(
        "parameters-over-the-size-cap",
        "run process operator, parameters={'UserName': 'x' * (4 MiB + 1)}",
        lambda b: b.run_process(
            process_name="UsrFullNameProcess", parameters={"UserName": "x" * (MAX_BODY + 1)}
        ),
        CreatioValidationError,
        "at most 4 MiB",
        sends=False,
    ),
    # --- login and session --------------------------------------------------------------------------------------
    Case(
        "wrong-password",
        "a connection whose password Creatio refuses (Code 1)",
        lambda b: b.hook().query_page("Contact", top=1),
        CreatioAuthError,
        "log in to Creatio: login failed (Code 1) [HTTP 200 POST /ServiceModel/AuthService.svc/Login] Creatio says: Either user name or password specified incorrectly.",
        sends=True,
        setup=_wrong_password,
        check=_one_login_and_nothing_else,
    ),
    Case(
        "login-page-html-200",
        "every call answered with the HTML login page and HTTP 200, also after a new login",
        lambda b: b.hook().query_page("Contact", top=1),
        CreatioAuthError,
        "HTML login page",
        sends=True,
        setup=_expire_every_session("html"),
        check=_relogged_once_and_never_followed,
    ),
    Case(
        "redirect-to-login-page",
        "every call answered 302 to the login page, also after a new login",
        lambda b: b.hook().query_page("Contact", top=1),
        CreatioAuthError,
        "the session was rejected again right after a new login [HTTP 302 GET /0/odata/Contact]",
        sends=True,
        setup=_expire_every_session("302"),
        check=_relogged_once_and_never_followed,
    ),
    Case(
        "session-401-after-relogin",
        "every call answered 401, also after a new login",
        lambda b: b.hook().query_page("Contact", top=1),
        CreatioAuthError,
        "the session was rejected again right after a new login [HTTP 401 GET /0/odata/Contact] Creatio says: Authentication failed.",
        sends=True,
        setup=_expire_every_session("401"),
        check=_relogged_once_and_never_followed,
    ),
    # --- answers that cannot be read ----------------------------------------------------------------------------
    Case(
        "truncated-json",
        "an OData answer whose JSON body is cut after 40 bytes (a complete HTTP message)",
        lambda b: b.via_proxy().query_page("Contact", top=1),
        CreatioResponseError,
        "query Contact: Creatio answered invalid or truncated JSON",
        sends=True,
        setup=_spoil(keep_bytes=40),
    ),
    Case(
        "body-cut-mid-transfer",
        "an OData answer that stops after 40 of the bytes its Content-Length promised",
        lambda b: b.via_proxy().query_page("Contact", top=1),
        CreatioTransportError,
        "could not get an answer from Creatio after 5 attempts: connection dropped before the answer arrived",
        sends=True,
        setup=_spoil(keep_bytes=40, drop_mid_body=True),
    ),
    Case(
        "wrong-content-type",
        "an OData answer declared as application/xml",
        lambda b: b.via_proxy().query_page("Contact", top=1),
        CreatioResponseError,
        "query Contact: Creatio answered 'application/xml' where JSON was expected",
        sends=True,
        setup=_spoil(content_type="application/xml; charset=utf-8", body=b"<feed/>"),
    ),
    Case(
        "empty-body",
        "an OData read answered 200 with an empty body",
        lambda b: b.via_proxy().query_page("Contact", top=1),
        CreatioResponseError,
        "query Contact: Creatio answered an empty body where JSON was expected",
        sends=True,
        setup=_spoil(body=b""),
    ),
    Case(
        "login-answer-not-json",
        "the login answered 200 with an XML body",
        lambda b: b.via_proxy().query_page("Contact", top=1),
        CreatioResponseError,
        "log in to Creatio: Creatio answered 'text/xml' where JSON was expected",
        sends=True,
        setup=_spoil_login(content_type="text/xml", body=b"<LoginResult/>"),
    ),
    # --- the connection -----------------------------------------------------------------------------------------
    Case(
        "host-empty",
        "connection host ''",
        lambda b: b.connect("").query_page("Contact"),
        CreatioConfigError,
        "the Creatio URL (connection host) is empty",
        sends=False,
    ),
    Case(
        "host-without-scheme",
        "connection host 'mysite.creatio.com'",
        lambda b: b.connect("mysite.creatio.com").query_page("Contact"),
        CreatioConfigError,
        "the Creatio URL 'mysite.creatio.com' must start with https:// or http:// and name a host",
        sends=False,
    ),
    Case(
        "host-other-scheme",
        "connection host 'ftp://mysite.creatio.com'",
        lambda b: b.connect("ftp://mysite.creatio.com").query_page("Contact"),
        CreatioConfigError,
        "must start with https:// or http://",
        sends=False,
    ),
    Case(
        "host-scheme-only",
        "connection host 'https://'",
        lambda b: b.connect("https://").query_page("Contact"),
        CreatioConfigError,
        "must start with https:// or http:// and name a host",
        sends=False,
    ),
    Case(
        "host-with-credentials",
        f"connection host 'http://Supervisor:{URL_PASSWORD}@<emulator host>'",
        lambda b: b.connect(b.emulator.url.replace("://", f"://Supervisor:{URL_PASSWORD}@")).query_page(
            "Contact"
        ),
        CreatioConfigError,
        "must not contain a user name or password",
        sends=False,
        absent=(URL_PASSWORD,),
    ),
    Case(
        "host-without-scheme-with-credentials",
        f"connection host 'Supervisor:{URL_PASSWORD}@mysite.creatio.com'",
        lambda b: b.connect(f"Supervisor:{URL_PASSWORD}@mysite.creatio.com").query_page("Contact"),
        CreatioConfigError,
        "must start with https:// or http://",
        sends=False,
        absent=(URL_PASSWORD,),
    ),
    Case(
        "verify-false-without-opt-in",
        "connection extra {'verify': false}",
        lambda b: b.connect("{emulator}", verify=False).query_page("Contact"),
        CreatioConfigError,
        "TLS verification is switched off but insecure mode was not allowed explicitly",
        sends=False,
    ),
    Case(
        "verify-not-a-boolean",
        "connection extra {'verify': 'maybe'}",
        lambda b: b.connect("{emulator}", verify="maybe").query_page("Contact"),
        CreatioConfigError,
        "connection extra 'verify' must be true or false, got 'maybe'",
        sends=False,
    ),
    Case(
        "auth-type-unknown",
        "connection extra {'auth_type': 'kerberos'}",
        lambda b: b.connect("{emulator}", auth_type="kerberos").query_page("Contact"),
        CreatioConfigError,
        "connection extra 'auth_type' must be forms or oauth, got 'kerberos'",
        sends=False,
    ),
    Case(
        "oauth-without-client-secret",
        "connection extra {'auth_type': 'oauth', 'client_id': 'airflow-client'}",
        lambda b: b.connect("{emulator}", auth_type="oauth", client_id="airflow-client").query_page(
            "Contact"
        ),
        CreatioConfigError,
        "OAuth authentication needs a client id and a client secret",
        sends=False,
    ),
    Case(
        "oauth-without-identity-server",
        "OAuth on a host outside creatio.com, no identity_server_url",
        lambda b: b.connect(
            "{emulator}", auth_type="oauth", client_id="airflow-client", client_secret="airflow-secret"
        ).query_page("Contact"),
        CreatioConfigError,
        "OAuth needs the identity server URL in the connection for sites outside creatio.com",
        sends=False,
    ),
    Case(
        "oauth-identity-server-over-http",
        "identity_server_url 'http://id.example.com' (not loopback)",
        lambda b: _oauth(b, identity_server_url="http://id.example.com").query_page("Contact"),
        CreatioConfigError,
        "the identity server URL 'http://id.example.com' uses http://, which would send the client secret and "
        "tokens in clear text",
        sends=False,
    ),
    Case(
        "oauth-identity-server-with-credentials",
        f"identity_server_url 'https://airflow-client:{URL_PASSWORD}@id.example.com'",
        lambda b: _oauth(
            b, identity_server_url=f"https://airflow-client:{URL_PASSWORD}@id.example.com"
        ).query_page("Contact"),
        CreatioConfigError,
        "the identity server URL 'id.example.com' must not contain a user name or password",
        sends=False,
        absent=(URL_PASSWORD,),
    ),
    Case(
        "oauth-wrong-client-secret",
        "an OAuth connection whose client secret the identity server refuses",
        lambda b: _oauth(b, client_secret="not-the-secret").query_page("Contact", top=1),
        CreatioTokenError,
        "get an OAuth token: the identity server refused the token request [HTTP 400 POST /connect/token] "
        "Identity server says: invalid_client - Client authentication failed: unknown client id or wrong "
        "client secret.",
        sends=True,
        check=_one_token_request_and_nothing_else,
        absent=("not-the-secret",),
    ),
    Case(
        "timeout-not-a-number",
        "connection extra {'timeout': 'soon'}",
        lambda b: b.connect("{emulator}", timeout="soon").query_page("Contact"),
        CreatioConfigError,
        "connection extra 'timeout' must be a number, got 'soon'",
        sends=False,
    ),
    Case(
        "retry-attempts-zero",
        "connection extra {'retry_attempts': 0}",
        lambda b: b.connect("{emulator}", retry_attempts=0).query_page("Contact"),
        CreatioConfigError,
        "retry attempts must be at least 1, got 0",
        sends=False,
    ),
    # --- record files ------------------------------------------------------------------------------------------
    Case(
        "file-parent-id-not-guid",
        "upload_file('Contact', 'nobody', 'a.pdf')",
        lambda b: b.hook().upload_file("Contact", "nobody", _a_file("a.pdf", 10)),
        CreatioValidationError,
        "record_id must be a GUID",
        sends=False,
    ),
    Case(
        "file-chunk-size-too-small",
        "upload_file(..., chunk_size=1000)",
        lambda b: b.hook().upload_file("Contact", SEEDED_CONTACT, _a_file("a.pdf", 10), chunk_size=1000),
        CreatioValidationError,
        "chunk_size must be an integer between 65,536 and 4,194,304, got 1000",
        sends=False,
    ),
    Case(
        "file-empty",
        "upload_file(..., an empty file)",
        lambda b: b.hook().upload_file("Contact", SEEDED_CONTACT, _a_file("empty.txt", 0)),
        CreatioValidationError,
        "is empty; Creatio's UploadFile takes at least one byte",
        sends=False,
    ),
    Case(
        "file-over-max-file-size",
        "upload_file(...) of 2,048 bytes on a site whose MaxFileSize is 1,024 bytes",
        lambda b: b.hook().upload_file("Contact", SEEDED_CONTACT, _a_file("big.pdf", 2048)),
        CreatioValidationError,
        "more than the site's MaxFileSize of 1,024 bytes",
        sends=True,
        setup=lambda b: b.emulator.settings.patch({"max_file_size": 1024}),
        check=lambda b, _: _no_upload(b),
    ),
    Case(
        "file-extension-denied",
        "upload_file(..., 'setup.exe')",
        lambda b: b.hook().upload_file("Contact", SEEDED_CONTACT, _a_file("setup.exe", 10)),
        CreatioValidationError,
        "the site refuses the extension 'exe' (system setting FileExtensionsDenyList)",
        sends=True,
        check=lambda b, _: _no_upload(b),
    ),
    Case(
        "file-parent-missing",
        "upload_file('Contact', <an Id no contact has>, 'a.pdf')",
        lambda b: b.hook().upload_file(
            "Contact", "5b2a8f1c-0000-4000-8000-000000000001", _a_file("a.pdf", 10)
        ),
        CreatioNotFoundError,
        "the record Contact(5b2a8f1c-0000-4000-8000-000000000001) to attach the file to does not exist",
        sends=True,
        check=lambda b, _: _no_upload(b),
    ),
    Case(
        "file-refused-by-the-site-itself",
        "upload_file(...) of 2,048 bytes, MaxFileSize 1,024, the settings unreadable",
        lambda b: b.hook().upload_file("Contact", SEEDED_CONTACT, _a_file("big.pdf", 2048)),
        CreatioResponseError,
        "Creatio refused the file's bytes [HTTP 200 POST /0/rest/FileApiService/UploadFile] Creatio says: The file",
        sends=True,
        setup=lambda b: b.emulator.settings.patch(
            {"max_file_size": 1024, "faults": {"rates": {"500": 1.0}, "path_regex": "QuerySysSettings"}}
        ),
    ),
)


SEEDED_CONTACT = "12d21632-8b20-45d9-942f-20fcbbf2957c"  # seed 003's "API Test"


def _a_file(name: str, size: int) -> str:
    """A local file of ``size`` bytes named ``name``, in a folder of its own under the temporary directory."""
    folder = Path(tempfile.mkdtemp(prefix="creatio-bad-input-"))
    (folder / name).write_bytes(b"x" * size)
    return str(folder / name)


def _no_upload(bench: Bench) -> None:
    assert not [r for r in bench.emulator.requests if r.path.endswith("FileApiService/UploadFile")]


@pytest.fixture
def bench(fresh_creatio: EmulatorServer, tampering_proxy: Any, set_connection: Any) -> Iterator[Bench]:
    with ExitStack() as hooks:
        yield Bench(fresh_creatio, tampering_proxy, set_connection, hooks)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, bench: Bench) -> None:
    if case.setup is not None:
        case.setup(bench)
    outcome: Any = None
    if case.raises is None:
        outcome = case.trigger(bench)
    else:
        with pytest.raises(case.raises) as raised:
            case.trigger(bench)
        text = str(raised.value)
        assert case.message in text
        for fragment in case.absent:
            assert fragment not in text and fragment not in repr(raised.value)
    if not case.sends:
        assert bench.emulator.requests == [], "checked before sending, so nothing may reach Creatio"
        assert bench.proxy.forwarded == 0
    if case.check is not None:
        case.check(bench, outcome)


def test_the_catalogue_has_every_required_kind_of_case() -> None:
    ids = {case.id for case in CASES}
    assert len(CASES) >= 30 and len(ids) == len(CASES)
    required = {
        "guid-missing-digit",
        "entity-slash",
        "entity-question-mark",
        "entity-parenthesis",
        "entity-space",
        "entity-empty",
        "filter-injection-in-a-value",
        "filter-raw-string-is-verbatim",
        "unknown-entity",
        "unknown-column-in-select",
        "unknown-process-execute",
        "parameter-not-serializable",
        "wrong-password",
        "login-page-html-200",
        "truncated-json",
        "wrong-content-type",
        "host-empty",
        "host-without-scheme",
        "verify-false-without-opt-in",
    }
    assert required <= ids


def render_table() -> str:
    """The catalogue as the markdown table of docs/reliability-bad-input.md."""
    lines = [
        "| # | case | input | expected exception | message contains | request sent? |",
        "|---|---|---|---|---|---|",
    ]
    for number, case in enumerate(CASES, start=1):
        raised = f"`{case.raises.__name__}`" if case.raises is not None else "none"
        sent = "yes" if case.sends else "**no** (not even a login)"
        message = case.message + (" (and the secret never appears)" if case.absent else "")
        cells = [str(number), case.id, _cell(case.input), raised, _cell(message), sent]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    # "[0]['When']" would read as a link reference: escape the bracket.
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("[", "\\[")


def test_the_docs_list_exactly_this_catalogue() -> None:
    assert render_table() in DOCS_TABLE.read_text(encoding="utf-8"), (
        f"{DOCS_TABLE.name} is out of date: regenerate the catalogue table with "
        "`.venv/bin/python tests/reliability/test_bad_input.py`"
    )


def test_the_measured_figures_count_this_catalogue() -> None:
    figures = FIGURES_PAGE.read_text(encoding="utf-8")
    assert f"| {len(CASES)}-case bad-input catalogue |" in figures, (
        f"{FIGURES_PAGE.name}: the measured figures must name the catalogue's {len(CASES)} cases"
    )


if __name__ == "__main__":
    print(render_table(), end="")
