"""ProcessEngineService.svc and the process log of the emulator, over real HTTP (requests), as a client would see them.

Every test logs in with AuthService.svc Login and sends BPMCSRF, as CREATIO_API.md says a client must.
"""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.emulator.demo_processes import (
    DOCUMENTED_CONTACTS,
    PARTIAL_RESULT_ERROR_TEXT,
)
from airflow_provider_creatio.testing.emulator.process_definitions import ProcessFailure, WaitingElement
from airflow_provider_creatio.testing.emulator.process_engine import ProcessEngine
from airflow_provider_creatio.testing.emulator.process_parameters import Parameter
from airflow_provider_creatio.testing.emulator.process_routes import engine_for
from airflow_provider_creatio.testing.emulator.seed import CASE_STATUS_IDS, SEED_CASE_ID

NAMESPACE = "http://schemas.microsoft.com/2003/10/Serialization/"
RUNNING = "ed2ae277-b6e2-df11-971b-001d60e938c6"
COMPLETED = "815c9586-b6e2-df11-971b-001d60e938c6"
ERROR = "f942c08d-b6e2-df11-971b-001d60e938c6"
CANCELED = "1be78f3e-234d-4d6a-869a-dc07253fd2f3"
DOCUMENTED_STATUSES = {
    RUNNING: "Running",
    COMPLETED: "Completed",
    ERROR: "Error",
    CANCELED: "Canceled",
    "67700d9c-28ac-46ef-9037-b81a53b7b330": "Inactive",
    "006f6d7a-6d9a-4e8c-bf5f-2ddac8b3df9a": "Cancelling",
}
UNKNOWN_GUID = "0b4b2c6e-1111-4222-8333-944445555666"


class ProcessApi:
    """A logged-in requests session against one emulator, with the few calls these tests make."""

    def __init__(self, server: EmulatorServer, service_root: str = "/0/ServiceModel") -> None:
        self.server = server
        self.http = requests.Session()
        answer = self.http.post(
            f"{server.url}/ServiceModel/AuthService.svc/Login",
            json={"UserName": server.settings.username, "UserPassword": server.settings.password},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["Code"] == 0
        self.http.headers.update({"BPMCSRF": self.http.cookies["BPMCSRF"], "ForceUseSession": "true"})
        self.svc = f"{server.url}{service_root}/ProcessEngineService.svc"
        self.odata = f"{server.url}/0/odata"

    @property
    def engine(self) -> ProcessEngine:
        return engine_for(self.server.state)

    def execute(self, process: str, **params: str) -> requests.Response:
        return self.http.get(f"{self.svc}/{process}/Execute", params=params, timeout=10)

    def run(
        self, process: str, values: dict[str, Any] | None = None, results: list[str] | None = None
    ) -> Any:
        body: dict[str, Any] = {
            "schemaName": process,
            "parameterValues": [{"name": k, "value": v} for k, v in (values or {}).items()],
        }
        if results is not None:
            body["resultParameterNames"] = results
        answer = self.http.post(f"{self.svc}/RunProcess", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def exec_element(self, uid: str) -> requests.Response:
        return self.http.get(f"{self.svc}/ExecProcElByUId/{uid}", timeout=10)

    def cancel(self, process_id: str) -> requests.Response:
        return self.http.post(f"{self.svc}/CancelExecution", json={"processId": process_id}, timeout=10)

    def get(self, path: str) -> Any:
        answer = self.http.get(f"{self.odata}/{path}", timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def process_log(self, process_id: str) -> dict[str, Any]:
        return dict(self.get(f"SysProcessLog({process_id})"))

    def element_log(self, process_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"SysProcessElementLog?$filter=SysProcess/Id eq {process_id}")["value"])

    def element(self, process_id: str, name: str) -> dict[str, Any]:
        return next(row for row in self.element_log(process_id) if row["Name"] == name)


def decode_execute(answer: requests.Response) -> Any:
    """Unwrap the XML <string>, then parse its JSON text (seed 000's two steps)."""
    root = ET.fromstring(answer.text)
    assert root.tag == f"{{{NAMESPACE}}}string"
    return json.loads(root.text or "")


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


@pytest.fixture
def pes(shared_emulator: EmulatorServer) -> Iterator[ProcessApi]:
    """ProcessEngineService on the shared emulator, with default settings and fresh data."""
    shared_emulator.settings = EmulatorSettings()
    shared_emulator.reset()
    yield ProcessApi(shared_emulator)
    shared_emulator.reset()  # cancels whatever a test left running


# -- Execute ------------------------------------------------------------------------------------------------------


def test_execute_answers_json_text_inside_the_serialization_string(pes: ProcessApi) -> None:
    answer = pes.execute(
        "UsrFullNameProcess", ResultParameterName="FullName", UserName="John", UserSurname="Smith"
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] in ("application/xml", "text/xml")
    assert answer.text == f'<string xmlns="{NAMESPACE}">"John Smith"</string>'
    assert decode_execute(answer) == "John Smith"


def test_execute_object_list_is_json_inside_a_json_string_like_seed_000(pes: ProcessApi) -> None:
    answer = pes.execute("CustomProcess", ResultParameterName="CustomProcessResult", processParam="15")

    text = decode_execute(answer)
    assert isinstance(text, str)
    assert json.loads(text) == list(DOCUMENTED_CONTACTS)


def test_execute_passes_query_values_as_typed_inputs(pes: ProcessApi) -> None:
    answer = pes.execute("CustomProcess", ResultParameterName="CustomProcessResult", processParam="2")

    assert [row["Name"] for row in json.loads(decode_execute(answer))] == [
        "Valerie E. Murphy",
        "Sharyn Mccraney",
    ]


def test_execute_escapes_xml_special_characters(pes: ProcessApi) -> None:
    answer = pes.execute(
        "UsrFullNameProcess", ResultParameterName="FullName", UserName="<Tom", UserSurname="& Jerry>"
    )

    assert "&lt;Tom &amp; Jerry&gt;" in answer.text
    assert decode_execute(answer) == "<Tom & Jerry>"


def test_execute_takes_a_collection_parameter_as_json_text(pes: ProcessApi) -> None:
    pes.engine.define(
        "UsrCountItemsProcess",
        lambda ctx: {"Count": len(ctx.inputs["Items"])},
        inputs=[Parameter("Items", "collection")],
        outputs=[Parameter("Count", "int")],
    )
    items = json.dumps([{"Id": "1", "Name": "a"}, {"Id": "2", "Name": "b"}])

    answer = pes.execute("UsrCountItemsProcess", ResultParameterName="Count", Items=items)

    assert decode_execute(answer) == 2


def test_execute_with_an_unknown_result_parameter_runs_the_process_and_answers_null(pes: ProcessApi) -> None:
    answer = pes.execute("UsrFullNameProcess", ResultParameterName="NoSuchParameter", UserName="A")

    assert answer.status_code == 200
    assert answer.text == f'<string xmlns="{NAMESPACE}">null</string>'
    assert decode_execute(answer) is None
    assert pes.engine.start_count("UsrFullNameProcess") == 1


def test_execute_without_result_parameter_starts_and_returns_at_once(pes: ProcessApi) -> None:
    answer = pes.execute("UsrLongProcess", DurationSeconds="60")

    assert answer.status_code == 200
    assert answer.content == b""
    rows = pes.get("SysProcessLog?$filter=Name eq 'UsrLongProcess'")["value"]
    assert len(rows) == 1
    assert rows[0]["StatusId"] == RUNNING and rows[0]["CompleteDate"] is None


def test_execute_with_result_parameter_waits_for_the_end(pes: ProcessApi) -> None:
    answer = pes.execute("UsrLongProcess", ResultParameterName="SleptSeconds", DurationSeconds="0.05")

    assert decode_execute(answer) == 0.05
    (row,) = pes.get("SysProcessLog?$filter=Name eq 'UsrLongProcess'")["value"]
    assert row["StatusId"] == COMPLETED and row["CompleteDate"] is not None


def test_execute_returns_the_output_of_a_process_that_then_failed(pes: ProcessApi) -> None:
    answer = pes.execute("UsrPartialResultErrorProcess", ResultParameterName="PartialResult")

    assert answer.status_code == 200
    assert decode_execute(answer) == "computed before the error"
    (row,) = pes.get("SysProcessLog?$filter=Name eq 'UsrPartialResultErrorProcess'")["value"]
    assert row["StatusId"] == ERROR
    assert row["ErrorDescription"] == PARTIAL_RESULT_ERROR_TEXT


def test_execute_of_an_unknown_process_is_item_not_found(pes: ProcessApi) -> None:
    answer = pes.execute("UsrNoSuchProcess", ResultParameterName="X")

    assert answer.status_code == 500
    assert answer.json() == {
        "Message": 'Item with name "UsrNoSuchProcess" not found.',
        "ExceptionType": "Terrasoft.Common.ItemNotFoundException",
        "StackTrace": None,
    }


def test_execute_with_an_unconvertible_value_starts_nothing(pes: ProcessApi) -> None:
    answer = pes.execute("UsrOrderTotalsProcess", ResultParameterName="Total", Quantity="many")

    assert answer.status_code == 500
    assert answer.json()["ExceptionType"] == "System.FormatException"
    assert "Quantity" in answer.json()["Message"]
    assert pes.engine.start_count("UsrOrderTotalsProcess") == 0


# -- RunProcess ---------------------------------------------------------------------------------------------------


def test_run_process_with_result_names_runs_synchronously(pes: ProcessApi) -> None:
    answer = pes.run(
        "UsrOrderTotalsProcess", {"Quantity": "3", "UnitPrice": "500.5"}, ["Total", "IsLargeOrder"]
    )

    assert answer == {
        "processId": answer["processId"],
        "processStatus": 2,
        "resultParameterValues": {"Total": 1501.5, "IsLargeOrder": True},
        "executionData": None,
        "success": True,
        "errorInfo": None,
    }
    log = pes.process_log(answer["processId"])
    assert log["Name"] == "UsrOrderTotalsProcess"
    assert log["StatusId"] == COMPLETED
    assert log["CompleteDate"] is not None and log["ErrorDescription"] == ""


def test_run_process_accepts_json_typed_values_too(pes: ProcessApi) -> None:
    answer = pes.run("UsrOrderTotalsProcess", {"Quantity": 2, "UnitPrice": 10}, ["Total"])

    assert answer["resultParameterValues"] == {"Total": 20.0}


def test_run_process_returns_collections_as_json_text(pes: ProcessApi) -> None:
    answer = pes.run("CustomProcess", {"processParam": "1"}, ["CustomProcessResult"])

    assert json.loads(answer["resultParameterValues"]["CustomProcessResult"]) == [DOCUMENTED_CONTACTS[0]]


def test_run_process_without_result_names_returns_running_at_once(pes: ProcessApi) -> None:
    answer = pes.run("UsrLongProcess", {"DurationSeconds": "60"})

    assert answer["success"] is True and answer["processStatus"] == 1
    assert answer["resultParameterValues"] == {}
    log = pes.process_log(answer["processId"])
    assert log["StatusId"] == RUNNING and log["CompleteDate"] is None


def test_run_process_without_result_names_answers_done_for_an_instant_process(pes: ProcessApi) -> None:
    answer = pes.run("UsrFullNameProcess", {"UserName": "Ann"})

    assert answer["processStatus"] == 2
    assert pes.process_log(answer["processId"])["StatusId"] == COMPLETED


def test_failed_process_answers_success_with_status_error_and_a_generic_message(pes: ProcessApi) -> None:
    answer = pes.run("UsrFailingProcess", {"ErrorText": "Disk quota exceeded on node 7."}, [])

    assert answer["success"] is True
    assert answer["processStatus"] == 3
    assert answer["errorInfo"]["message"] == 'Process "UsrFailingProcess" finished with an error.'
    assert "quota" not in json.dumps(answer)
    log = pes.process_log(answer["processId"])
    assert log["StatusId"] == ERROR
    assert log["ErrorDescription"] == "Disk quota exceeded on node 7."
    assert pes.element(answer["processId"], "ScriptTask1")["StatusId"] == ERROR


def test_failed_process_still_returns_the_outputs_it_set(pes: ProcessApi) -> None:
    answer = pes.run("UsrPartialResultErrorProcess", results=["PartialResult"])

    assert (answer["success"], answer["processStatus"]) == (True, 3)
    assert answer["resultParameterValues"] == {"PartialResult": "computed before the error"}


def test_a_body_that_raises_any_exception_fails_the_process_with_its_text(pes: ProcessApi) -> None:
    def broken(_ctx: Any) -> None:
        raise KeyError("Owner")

    pes.engine.define("UsrBrokenProcess", broken)

    answer = pes.run("UsrBrokenProcess", results=[])

    assert answer["processStatus"] == 3
    assert pes.process_log(answer["processId"])["ErrorDescription"] == "KeyError: 'Owner'"


def test_run_process_of_an_unknown_process_fails_the_launch(pes: ProcessApi) -> None:
    answer = pes.run("UsrNoSuchProcess", results=["X"])

    assert answer["success"] is False
    assert answer["processStatus"] == 0
    assert answer["processId"] is None
    assert answer["errorInfo"]["errorCode"] == "ItemNotFoundException"


def test_run_process_with_an_unknown_result_name_starts_nothing(pes: ProcessApi) -> None:
    answer = pes.run("UsrFullNameProcess", {"UserName": "A"}, ["FullName", "Nope"])

    assert (answer["success"], answer["processStatus"], answer["processId"]) == (False, 0, None)
    assert answer["errorInfo"]["errorCode"] == "ArgumentException"
    assert pes.engine.start_count("UsrFullNameProcess") == 0
    assert pes.get("SysProcessLog?$filter=Name eq 'UsrFullNameProcess'")["value"] == []


def test_run_process_can_name_the_process_by_schema_uid(pes: ProcessApi) -> None:
    definition = pes.engine.definition("UsrFullNameProcess")
    assert definition is not None
    body = {
        "schemaUId": definition.schema_id,
        "parameterValues": [{"name": "UserName", "value": "Ann"}],
        "resultParameterNames": ["FullName"],
    }

    answer = pes.http.post(f"{pes.svc}/RunProcess", json=body, timeout=10).json()

    assert answer["resultParameterValues"] == {"FullName": "Ann"}
    assert pes.process_log(answer["processId"])["SysSchemaId"] == definition.schema_id


def test_run_process_rejects_a_body_that_is_not_json(pes: ProcessApi) -> None:
    not_json = pes.http.post(
        f"{pes.svc}/RunProcess", data="{", headers={"Content-Type": "application/json"}, timeout=10
    )
    form = pes.http.post(f"{pes.svc}/RunProcess", data={"schemaName": "X"}, timeout=10)

    assert not_json.status_code == 400
    assert form.status_code == 415


def test_every_start_is_counted_and_logged_once(pes: ProcessApi) -> None:
    first = pes.run("UsrFullNameProcess", {"UserName": "A"}, ["FullName"])
    second = pes.run("UsrFullNameProcess", {"UserName": "B"}, ["FullName"])

    assert pes.engine.start_count("UsrFullNameProcess") == 2
    assert first["processId"] != second["processId"]
    rows = pes.get("SysProcessLog?$filter=Name eq 'UsrFullNameProcess'&$select=Id")["value"]
    assert sorted(row["Id"] for row in rows) == sorted([first["processId"], second["processId"]])


# -- the process log over OData -----------------------------------------------------------------------------------


def test_sys_process_status_holds_the_six_documented_statuses(pes: ProcessApi) -> None:
    rows = pes.get("SysProcessStatus?$select=Id,Name")["value"]

    assert {row["Id"]: row["Name"] for row in rows} == DOCUMENTED_STATUSES


def test_process_log_filters_by_status_and_expands_it(pes: ProcessApi) -> None:
    done = pes.run("UsrFullNameProcess", {"UserName": "A"}, ["FullName"])["processId"]
    running = pes.run("UsrLongProcess", {"DurationSeconds": "60"})["processId"]

    rows = pes.get(f"SysProcessLog?$filter=Status/Id eq {RUNNING}&$select=Id&$expand=Status")["value"]

    assert [row["Id"] for row in rows] == [running]
    assert rows[0]["Status"]["Name"] == "Running"
    assert pes.process_log(done)["StatusId"] == COMPLETED


# -- waiting elements and ExecProcElByUId -------------------------------------------------------------------------


def test_a_waiting_element_pauses_the_process_until_exec_proc_el_by_uid(pes: ProcessApi) -> None:
    started = pes.run("UsrApprovalProcess", {"RequestName": "Laptop"})
    process_id = started["processId"]
    assert started["processStatus"] == 1
    waiting = pes.element(process_id, "ApproveRequest")
    assert waiting["StatusId"] == RUNNING and waiting["CompleteDate"] is None
    assert waiting["Caption"] == "Approve the request"

    answer = pes.exec_element(waiting["Id"])

    assert answer.status_code == 200 and answer.content == b""
    assert pes.element(process_id, "ApproveRequest")["StatusId"] == COMPLETED
    assert pes.process_log(process_id)["StatusId"] == COMPLETED
    instance = pes.engine.instance(process_id)
    assert instance is not None and instance.outputs == {"Decision": "Approved: Laptop"}


def test_an_executed_element_is_not_executed_again(pes: ProcessApi) -> None:
    pes.engine.define(
        "UsrTwoApprovalsProcess", waiting_elements=[WaitingElement("First"), WaitingElement("Second")]
    )
    process_id = pes.run("UsrTwoApprovalsProcess")["processId"]
    first = pes.element(process_id, "First")["Id"]
    pes.exec_element(first)
    after_first = pes.element_log(process_id)

    again = pes.exec_element(first)

    assert again.status_code == 200 and again.content == b""
    assert pes.element_log(process_id) == after_first
    assert pes.element(process_id, "Second")["StatusId"] == RUNNING
    assert pes.process_log(process_id)["StatusId"] == RUNNING
    instance = pes.engine.instance(process_id)
    assert instance is not None and instance.executed_elements == [first]


def test_exec_proc_el_by_uid_of_an_unknown_element_answers_empty_200(pes: ProcessApi) -> None:
    for uid in (UNKNOWN_GUID, "not-a-guid"):
        answer = pes.exec_element(uid)
        assert answer.status_code == 200 and answer.content == b""


def test_a_synchronous_run_answers_running_when_the_process_waits_on_an_element(pes: ProcessApi) -> None:
    answer = pes.run("UsrApprovalProcess", {"RequestName": "Desk"}, ["Decision"])

    assert answer["processStatus"] == 1
    assert answer["resultParameterValues"] == {"Decision": None}


def test_after_exec_proc_el_by_uid_the_process_runs_on_to_its_next_pause(pes: ProcessApi) -> None:
    pes.engine.define("UsrApproveThenWorkProcess", duration=60, waiting_elements=[WaitingElement("Approve")])
    process_id = pes.run("UsrApproveThenWorkProcess")["processId"]

    pes.exec_element(pes.element(process_id, "Approve")["Id"])

    assert pes.element(process_id, "Approve")["StatusId"] == COMPLETED
    assert pes.element(process_id, "ScriptTask1")["StatusId"] == RUNNING
    assert pes.process_log(process_id)["StatusId"] == RUNNING


# -- cancellation -------------------------------------------------------------------------------------------------


def test_cancel_execution_cancels_a_running_process(pes: ProcessApi) -> None:
    process_id = pes.run("UsrLongProcess", {"DurationSeconds": "60"})["processId"]

    answer = pes.cancel(process_id)

    assert answer.status_code == 200 and answer.content == b""
    log = pes.process_log(process_id)
    assert log["StatusId"] == CANCELED and log["CompleteDate"] is not None
    assert pes.element(process_id, "ScriptTask1")["StatusId"] == CANCELED


def test_a_cancelled_process_does_not_run_its_waiting_element(pes: ProcessApi) -> None:
    process_id = pes.run("UsrApprovalProcess", {"RequestName": "Car"})["processId"]
    uid = pes.element(process_id, "ApproveRequest")["Id"]

    pes.cancel(process_id)
    pes.exec_element(uid)

    assert pes.element(process_id, "ApproveRequest")["StatusId"] == CANCELED
    assert pes.process_log(process_id)["StatusId"] == CANCELED
    instance = pes.engine.instance(process_id)
    assert instance is not None and instance.executed_elements == [] and instance.outputs == {}


def test_cancelling_a_finished_process_changes_nothing(pes: ProcessApi) -> None:
    process_id = pes.run("UsrFullNameProcess", {"UserName": "A"}, ["FullName"])["processId"]
    before = pes.process_log(process_id)

    answer = pes.cancel(process_id)

    assert answer.status_code == 200
    assert pes.process_log(process_id) == before


def test_cancel_execution_of_an_unknown_process_answers_200(pes: ProcessApi) -> None:
    assert pes.cancel(UNKNOWN_GUID).status_code == 200
    assert pes.http.post(f"{pes.svc}/CancelExecution", json={}, timeout=10).status_code == 200


def test_cancelling_ends_a_synchronous_run_with_status_cancelled(pes: ProcessApi) -> None:
    answers: list[Any] = []
    caller = threading.Thread(
        target=lambda: answers.append(pes.run("UsrLongProcess", {"DurationSeconds": "60"}, ["SleptSeconds"]))
    )
    caller.start()
    eventually(lambda: len(pes.engine.instances("UsrLongProcess")) == 1)
    (instance,) = pes.engine.instances("UsrLongProcess")

    pes.cancel(instance.id)
    caller.join(10)

    assert answers[0]["processStatus"] == 4
    assert answers[0]["resultParameterValues"] == {"SleptSeconds": None}


def test_reset_cancels_running_processes_and_forgets_start_counts(pes: ProcessApi) -> None:
    process_id = pes.run("UsrLongProcess", {"DurationSeconds": "60"})["processId"]
    instance = pes.engine.instance(process_id)
    assert instance is not None

    pes.server.reset()

    assert instance.wait(5)
    assert pes.engine.start_count("UsrLongProcess") == 0
    fresh = ProcessApi(pes.server)
    assert fresh.get("SysProcessLog")["value"] == []
    assert len(fresh.get("SysProcessStatus")["value"]) == 6


# -- demo processes that use the store ----------------------------------------------------------------------------


def test_create_contact_process_writes_a_contact(pes: ProcessApi) -> None:
    answer = pes.run(
        "UsrCreateContactProcess", {"ContactName": "Grace Hopper", "Phone": "+1 555"}, ["ContactId"]
    )

    contact = pes.get(f"Contact({answer['resultParameterValues']['ContactId']})")
    assert (contact["Name"], contact["Phone"]) == ("Grace Hopper", "+1 555")


def test_case_follow_up_creates_an_activity_for_a_resolved_case(pes: ProcessApi) -> None:
    pes.server.store.update("Case", SEED_CASE_ID, {"StatusId": CASE_STATUS_IDS["Resolved"]})

    answer = pes.run("UsrCaseFollowUpProcess", {"CaseId": SEED_CASE_ID}, ["FollowUpCreated", "ActivityId"])

    values = answer["resultParameterValues"]
    assert values["FollowUpCreated"] is True
    activity = pes.get(f"Activity({values['ActivityId']})")
    assert activity["CaseId"] == SEED_CASE_ID
    assert activity["Title"] == "Follow up on case SR00000040"


def test_case_follow_up_leaves_an_open_case_alone(pes: ProcessApi) -> None:
    answer = pes.run("UsrCaseFollowUpProcess", {"CaseId": SEED_CASE_ID}, ["FollowUpCreated", "ActivityId"])

    assert answer["resultParameterValues"] == {"FollowUpCreated": False, "ActivityId": None}
    assert pes.get(f"Activity?$filter=Case/Id eq {SEED_CASE_ID}")["value"] == []


def test_case_follow_up_of_an_unknown_case_fails(pes: ProcessApi) -> None:
    answer = pes.run("UsrCaseFollowUpProcess", {"CaseId": UNKNOWN_GUID}, [])

    assert answer["processStatus"] == 3
    assert pes.process_log(answer["processId"])["ErrorDescription"] == f"Case {UNKNOWN_GUID} not found."


def test_a_process_failure_raised_by_a_body_is_the_error_description(pes: ProcessApi) -> None:
    def refuse(_ctx: Any) -> None:
        raise ProcessFailure("Approval limit exceeded.")

    pes.engine.define("UsrRefusingProcess", refuse)

    answer = pes.run("UsrRefusingProcess", results=[])

    assert pes.process_log(answer["processId"])["ErrorDescription"] == "Approval limit exceeded."


# -- layouts and auth ---------------------------------------------------------------------------------------------


def test_net_core_layout_serves_the_service_at_the_site_root_too() -> None:
    with EmulatorServer(EmulatorSettings(net_core=True)) as server:
        for root in ("/0/ServiceModel", "/ServiceModel"):
            answer = ProcessApi(server, root).execute(
                "UsrFullNameProcess", ResultParameterName="FullName", UserName="Z"
            )
            assert decode_execute(answer) == "Z"


def test_net_framework_layout_has_no_service_at_the_site_root(pes: ProcessApi) -> None:
    answer = ProcessApi(pes.server, "/ServiceModel").execute(
        "UsrFullNameProcess", ResultParameterName="FullName"
    )

    assert answer.status_code == 404


def test_the_service_needs_a_session_and_bpmcsrf(pes: ProcessApi) -> None:
    url = f"{pes.svc}/UsrFullNameProcess/Execute?ResultParameterName=FullName"
    anonymous = requests.get(url, timeout=10)
    without_csrf = requests.get(url, cookies=pes.http.cookies, timeout=10)

    assert anonymous.status_code == 401
    assert without_csrf.status_code == 403
    assert pes.engine.start_count("UsrFullNameProcess") == 0
