"""ProcessEngineService.svc builders and the Execute/RunProcess decoders of client/process.py."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest

from airflow_provider_creatio.client import process as p
from airflow_provider_creatio.client import process_flow
from airflow_provider_creatio.client.errors import (
    CreatioProcessError,
    CreatioResponseError,
    CreatioValidationError,
)
from airflow_provider_creatio.client.http import ApiResponse, Idempotency, Service, encode_query

PID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
UID = "e6574af1-3e92-4099-958e-e798f52ee016"
NS_HTTP = "http://schemas.microsoft.com/2003/10/Serialization/"
NS_HTTPS = "https://schemas.microsoft.com/2003/10/Serialization/"


def answer(body: object, content_type: str = "application/json", status: int = 200) -> ApiResponse:
    content = (
        body
        if isinstance(body, bytes)
        else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    )
    headers = {"content-type": content_type} if content_type else {}
    return ApiResponse(
        status, headers, content, method="GET", path="/0/ServiceModel/ProcessEngineService.svc/X"
    )


def wrapped(text: str, namespace: str = NS_HTTP) -> ApiResponse:
    return answer(f'<string xmlns="{namespace}">{text}</string>', "application/xml; charset=utf-8")


# --- parameters -------------------------------------------------------------------------------------------------

SEED_001_OBJECT_LIST = [
    {"Id": uuid.UUID("94cc536a-71a7-4bfb-87ca-13f53b23c28e"), "Name": "Name1"},
    {"Id": uuid.UUID("e694d36e-1727-4276-9fbf-b9aa193e4f44"), "Name": "Name2"},
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("text", "text", id="str"),
        pytest.param("", "", id="empty-str-kept"),
        pytest.param(15, "15", id="int"),
        pytest.param(True, "true", id="true"),
        pytest.param(False, "false", id="false"),
        pytest.param(2.5, "2.5", id="float"),
        pytest.param(1e-05, "0.00001", id="float-no-exponent"),
        pytest.param(decimal.Decimal("10.50"), "10.50", id="decimal"),
        pytest.param(
            dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc), "2024-03-04T05:06:07Z", id="datetime"
        ),
        pytest.param(dt.datetime(2024, 3, 4, 5, 6, 7), "2024-03-04T05:06:07Z", id="naive-datetime-utc"),
        pytest.param(dt.date(2024, 3, 4), "2024-03-04", id="date"),
        pytest.param(dt.time(5, 6), "05:06:00", id="time"),
        pytest.param(uuid.UUID(PID), PID, id="uuid"),
        pytest.param([1, 2, 3, 4], "[1,2,3,4]", id="seed-001-value-list"),
        pytest.param(
            SEED_001_OBJECT_LIST,
            '[{"Id":"94cc536a-71a7-4bfb-87ca-13f53b23c28e","Name":"Name1"},'
            '{"Id":"e694d36e-1727-4276-9fbf-b9aa193e4f44","Name":"Name2"}]',
            id="seed-001-object-list",
        ),
        pytest.param({"a": "é"}, '{"a":"é"}', id="dict-unicode-kept"),
        pytest.param((1, "x"), '[1,"x"]', id="tuple"),
    ],
)
def test_serialize_parameter_values(value: object, expected: str) -> None:
    assert p.serialize_parameters({"Param": value}) == {"Param": expected}


def test_none_parameters_are_left_out_in_order() -> None:
    assert p.serialize_parameters({"B": 1, "Skip": None, "A": "x"}) == {"B": "1", "A": "x"}
    assert list(p.serialize_parameters({"B": 1, "A": 2})) == ["B", "A"]
    assert p.serialize_parameters(None) == {}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"Tags": {"a", "b"}}, "process parameter 'Tags' has a value of type set", id="set"),
        pytest.param({"Blob": b"x"}, "process parameter 'Blob' has a value of type bytes", id="bytes"),
        pytest.param({"Obj": object()}, "process parameter 'Obj' has a value of type object", id="object"),
        pytest.param(
            {"Deep": [{"x": object()}]}, r"process parameter 'Deep'\[0\]\['x'\]", id="nested-object"
        ),
        pytest.param({"N": float("nan")}, "finite", id="nan"),
        pytest.param({"Bad Name": 1}, "process parameter name", id="bad-code"),
        pytest.param({"a&b": 1}, "process parameter name", id="ampersand-code"),
        pytest.param([("A", 1)], "mapping", id="not-a-mapping"),
    ],
)
def test_serialize_parameters_refuses(params: Any, message: str) -> None:
    with pytest.raises(CreatioValidationError, match=message):
        p.serialize_parameters(params)


# --- Execute ----------------------------------------------------------------------------------------------------


def test_execute_process_request() -> None:
    call = p.execute_process("CustomProcess", {"processParam": 15, "Items": [1, 2]}, "CustomProcessResult")
    request = call.request
    assert (request.method, request.service) == ("GET", Service.SERVICE_MODEL)
    assert request.path == "ProcessEngineService.svc/CustomProcess/Execute"
    assert request.params == (
        ("ResultParameterName", "CustomProcessResult"),
        ("processParam", "15"),
        ("Items", "[1,2]"),
    )
    assert request.idempotency is Idempotency.UNSAFE
    assert request.json_body is None
    assert "15" not in request.operation  # parameter values never reach error texts


def test_execute_without_result_parameter_is_fire_and_forget() -> None:
    call = p.execute_process("CustomProcess", {"processParam": 15})
    assert call.request.params == (("processParam", "15"),)
    assert call.parse(answer(b"", "")) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("Custom Process", {}, None), "process name", id="bad-name"),
        pytest.param(("CustomProcess/../x", {}, None), "process name", id="path-in-name"),
        pytest.param(("CustomProcess", {}, "Result?x"), "result parameter name", id="bad-result-name"),
        pytest.param(
            ("CustomProcess", {"resultparametername": "x"}, None), "ResultParameterName", id="collision"
        ),
    ],
)
def test_execute_process_refuses(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(CreatioValidationError, match=message):
        p.execute_process(*args)


# The response sample of seed 000, verbatim (its trailing comma before ']' included).
SEED_000_BODY = (
    '<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/"> "[ {\\"Id\\":\\"c38d46fd'
    '-e405-491a-a508-01bb9760eecc\\",\\"Name\\":\\"Valerie E. Murphy\\",\\"Phone\\":\\"3090\\"}, {\\"Id\\"'
    ':\\"516bc5b4-a79a-4e1d-9894-0566617012d1\\",\\"Name\\":\\"Sharyn Mccraney\\",\\"Phone\\":\\"+1 3386'
    '7 411 85 76\\"}, {\\"Id\\":\\"41b67c9e-7c14-487c-a217-057fd3735ba1\\",\\"Name\\":\\"Shela Andry\\",'
    '\\"Phone\\":\\"+1 33985 177 50 37\\"}, {\\"Id\\":\\"f79fe861-88af-4e23-9bb7-0625a6cee703\\",\\"Name'
    '\\":\\"Kate Roberts\\",\\"Phone\\":\\"+1 212 775 9012\\"}, ]" </string>'
)


def test_seed_000_sample_decodes_to_a_list_of_dicts() -> None:
    value = p.decode_execute_result(answer(SEED_000_BODY, "application/xml"))
    assert isinstance(value, list) and len(value) == 4
    assert value[0] == {
        "Id": "c38d46fd-e405-491a-a508-01bb9760eecc",
        "Name": "Valerie E. Murphy",
        "Phone": "3090",
    }
    assert value[3]["Name"] == "Kate Roberts"


LIST_TEXT = '"[{\\"Id\\":\\"1\\",\\"Name\\":\\"A &amp; B\\"}]"'


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(wrapped(LIST_TEXT, NS_HTTP), [{"Id": "1", "Name": "A & B"}], id="http-namespace"),
        pytest.param(wrapped(LIST_TEXT, NS_HTTPS), [{"Id": "1", "Name": "A & B"}], id="https-namespace"),
        pytest.param(wrapped('"[1, 2, ]"'), [1, 2], id="trailing-comma-tolerated"),
        pytest.param(wrapped('"{\\"a\\": \\"x, ]\\",}"'), {"a": "x, ]"}, id="comma-inside-string-kept"),
        pytest.param(wrapped("null"), None, id="json-null"),
        pytest.param(wrapped('"null"'), "null", id="string-null-stays-text"),
        pytest.param(wrapped('"Hello"'), "Hello", id="json-string"),
        pytest.param(wrapped("Hello &amp; bye"), "Hello & bye", id="plain-text"),
        pytest.param(wrapped("NaN"), "NaN", id="nan-is-text"),
        pytest.param(wrapped("15"), 15, id="number"),
        pytest.param(wrapped('"15"'), "15", id="number-as-string-kept"),
        pytest.param(wrapped('"0015"'), "0015", id="leading-zeros-kept"),
        pytest.param(wrapped("true"), True, id="bool"),
        pytest.param(wrapped('"[not json"'), "[not json", id="json-looking-but-not"),
        pytest.param(wrapped("&amp;lt;b&amp;gt;"), "&lt;b&gt;", id="single-pass-unescape"),
        pytest.param(wrapped("&#65;&#x42;&quot;&apos;&lt;&gt;"), "AB\"'<>", id="character-references"),
        pytest.param(wrapped(""), None, id="empty-element"),
        pytest.param(wrapped("  \n "), None, id="blank-element"),
        pytest.param(answer(f'<string xmlns="{NS_HTTP}"/>', "application/xml"), None, id="self-closing"),
        pytest.param(
            answer(
                f'<string xmlns="{NS_HTTP}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>',
                "text/xml",
            ),
            None,
            id="nil",
        ),
        pytest.param(
            answer(
                f'<?xml version="1.0" encoding="utf-8"?>\n<string xmlns="{NS_HTTPS}">"ok"</string>\n',
                "text/xml",
            ),
            "ok",
            id="xml-declaration",
        ),
        pytest.param(answer(b"", "application/xml"), None, id="empty-body"),
        pytest.param(answer('"[1,2]"', "application/json"), [1, 2], id="json-body"),
        pytest.param(answer('"[1,2]"', ""), [1, 2], id="json-body-no-type"),
        pytest.param(answer("<string>x</string>", "application/xml"), "x", id="no-namespace"),
    ],
)
def test_decode_execute_result(response: ApiResponse, expected: object) -> None:
    assert p.decode_execute_result(response) == expected


@pytest.mark.parametrize(
    ("response", "message"),
    [
        pytest.param(answer("<html><body>Login</body></html>", "text/html"), "HTML", id="login-page"),
        pytest.param(answer("<int>1</int>", "application/xml"), "<string>", id="other-element"),
        pytest.param(answer(f'<string xmlns="{NS_HTTP}">"x"', "application/xml"), "<string>", id="truncated"),
        pytest.param(wrapped("&#xFFFFFFFF;"), "character reference", id="bad-char-ref"),
        pytest.param(answer(b"\xff\xfe<", "application/xml"), "UTF-8", id="not-utf8"),
    ],
)
def test_decode_execute_result_refuses(response: ApiResponse, message: str) -> None:
    with pytest.raises(CreatioResponseError, match=message) as err:
        p.execute_process("CustomProcess", {}, "Out").parse(response)
    assert err.value.operation == "execute process CustomProcess"


@pytest.mark.parametrize(
    ("params", "limit", "fits"),
    [
        pytest.param({"A": "x"}, 2000, True, id="small"),
        pytest.param({"A": "x" * 3000}, 2000, False, id="too-long"),
        pytest.param({"A": " " * 600}, 2000, True, id="600-spaces-1800-chars"),
        pytest.param({"A": " " * 700}, 2000, False, id="700-spaces-2100-chars"),
        pytest.param({"A": "x" * 50}, 40, False, id="custom-limit"),
    ],
)
def test_fits_in_url(params: dict[str, Any], limit: int, fits: bool) -> None:
    assert p.fits_in_url("Proc", params, limit) is fits


def test_fits_in_url_measures_the_real_request() -> None:
    params = {"A": "a b&c", "L": [1, 2]}
    request = p.execute_process("Proc", params, "Out").request
    exact = len(request.path) + 1 + len(encode_query(request.params))
    assert p.fits_in_url("Proc", params, exact, result_parameter="Out")
    assert not p.fits_in_url("Proc", params, exact - 1, result_parameter="Out")


# --- RunProcess -------------------------------------------------------------------------------------------------


def test_run_process_request() -> None:
    call = p.run_process("UsrProc", {"Count": 3, "Flag": True, "Skip": None}, ["Out1", "Out2", "Out1"])
    request = call.request
    assert (request.method, request.service) == ("POST", Service.SERVICE_MODEL)
    assert request.path == "ProcessEngineService.svc/RunProcess"
    assert request.idempotency is Idempotency.UNSAFE
    assert request.json_body == {
        "schemaName": "UsrProc",
        "parameterValues": [{"name": "Count", "value": "3"}, {"name": "Flag", "value": "true"}],
        "resultParameterNames": ["Out1", "Out2"],
    }


def test_run_process_single_result_name_as_string() -> None:
    assert p.run_process("UsrProc", None, "Out").request.json_body["resultParameterNames"] == ["Out"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("Usr Proc", {}, ()), id="bad-name"),
        pytest.param(("UsrProc", {}, ["Out?"]), id="bad-result-name"),
        pytest.param(("UsrProc", {"P": object()}, ()), id="bad-value"),
    ],
)
def test_run_process_refuses(args: tuple[Any, ...]) -> None:
    with pytest.raises(CreatioValidationError):
        p.run_process(*args)


def run_answer(**fields: Any) -> dict[str, Any]:
    document = {
        "processId": PID,
        "processStatus": 2,
        "resultParameterValues": {},
        "executionData": None,
        "success": True,
        "errorInfo": None,
    }
    document.update(fields)
    return document


def parse_run(document: dict[str, Any]) -> p.ProcessRun:
    return p.run_process("UsrProc", {}, ["Out"]).parse(answer(document))


def test_run_process_done() -> None:
    run = parse_run(run_answer(resultParameterValues={"Out": '[{"Id": "1"}]', "Text": "plain", "Num": 5}))
    assert run.process_id == PID
    assert run.status is p.ProcessState.COMPLETED and run.status_code == 2
    assert run.results == {"Out": [{"Id": "1"}], "Text": "plain", "Num": 5}
    assert run.is_final
    assert process_flow.check_verdict(run) is run
    assert json.loads(json.dumps(run.to_dict()))["status"] == "Completed"  # the log's word for 2, "Done"


@pytest.mark.parametrize(
    ("document", "verdict", "status"),
    [
        pytest.param(
            run_answer(
                processStatus=3,
                errorInfo={"errorCode": "", "message": 'Process "UsrProc" finished with an error.'},
            ),
            "finished with an error",
            "Error",
            id="success-true-but-error",
        ),
        pytest.param(run_answer(processStatus=4), "was cancelled", "Canceled", id="cancelled"),
        pytest.param(
            run_answer(
                processId=None,
                processStatus=0,
                success=False,
                errorInfo={"errorCode": "ItemNotFoundException", "message": "Item not found"},
            ),
            "could not be started",
            "Inactive",
            id="unknown-process",
        ),
        pytest.param(
            run_answer(
                processId=None,
                processStatus=0,
                success=False,
                errorInfo={"errorCode": "ArgumentException", "message": "bad name"},
            ),
            "could not be started",
            "Inactive",
            id="unknown-result-name",
        ),
        pytest.param(
            run_answer(processStatus=2, success=False), "was refused", "Completed", id="success-false-with-id"
        ),
    ],
)
def test_check_verdict(document: dict[str, Any], verdict: str, status: str) -> None:
    run = parse_run(document)
    with pytest.raises(CreatioProcessError) as err:
        process_flow.check_verdict(run)
    assert verdict in str(err.value)
    assert "UsrProc" in str(err.value)
    assert err.value.process_status == status
    assert err.value.process_id == run.process_id


@pytest.mark.parametrize(
    ("status", "final"),
    [
        pytest.param(1, False, id="running"),
        pytest.param(5, False, id="cancelling"),
        pytest.param(0, False, id="inactive"),
    ],
)
def test_non_final_statuses_do_not_raise(status: int, final: bool) -> None:
    run = parse_run(run_answer(processStatus=status))
    assert process_flow.check_verdict(run) is run
    assert run.is_final is final


@pytest.mark.parametrize(
    ("fields", "expected_id", "success"),
    [
        pytest.param({"processId": PID.upper()}, PID, True, id="id-normalised"),
        pytest.param({"processId": "00000000-0000-0000-0000-000000000000"}, None, True, id="empty-guid"),
        pytest.param({"processId": ""}, None, True, id="empty-string"),
        pytest.param({"processStatus": "2"}, PID, True, id="status-as-string"),
        pytest.param({"success": None}, PID, True, id="success-null-lets-status-decide"),
    ],
)
def test_run_process_lenient_fields(fields: dict[str, Any], expected_id: str | None, success: bool) -> None:
    document = run_answer(**fields)
    run = parse_run(document)
    assert (run.process_id, run.success) == (expected_id, success)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"processId": PID}, id="no-status"),
        pytest.param(run_answer(processStatus=9), id="unknown-status"),
        pytest.param(run_answer(processStatus=True), id="bool-status"),
        pytest.param([1], id="not-an-object"),
    ],
)
def test_run_process_unreadable(document: Any) -> None:
    with pytest.raises(CreatioResponseError):
        parse_run(document)


# --- elements and cancellation ----------------------------------------------------------------------------------


def test_exec_process_element() -> None:
    call = p.exec_process_element(UID.upper())
    assert (call.request.method, call.request.path) == (
        "GET",
        f"ProcessEngineService.svc/ExecProcElByUId/{UID}",
    )
    assert call.request.idempotency is Idempotency.SAFE
    assert call.parse(answer(b"", "")) is None


def test_cancel_process() -> None:
    call = p.cancel_process(uuid.UUID(PID))
    assert (call.request.method, call.request.path) == ("POST", "ProcessEngineService.svc/CancelExecution")
    assert call.request.json_body == {"processId": PID}
    assert call.request.idempotency is Idempotency.SAFE
    assert call.parse(answer(b"", "")) is None
    assert call.parse(answer({"anything": 1})) is None


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: p.exec_process_element("x/../y"), id="element"),
        pytest.param(lambda: p.cancel_process(""), id="cancel"),
    ],
)
def test_ids_are_validated(build: Any) -> None:
    with pytest.raises(CreatioValidationError):
        build()


@pytest.mark.parametrize(
    ("old", "new"), [("Done", p.ProcessState.COMPLETED), ("Cancelled", p.ProcessState.CANCELED)]
)
def test_the_old_state_words_still_name_their_state_with_a_warning(old: str, new: p.ProcessState) -> None:
    with pytest.warns(
        DeprecationWarning, match=f"the process state '{old}' is deprecated: use '{new.value}'"
    ):
        assert p.ProcessState(old) is new
    with pytest.raises(ValueError):
        p.ProcessState("Finished")
