"""The processes every emulator serves out of the box (``register_demo_processes``), for tests and example DAGs.

Parameters are ``name: type``; inputs that are left out take the default shown. Collections travel as JSON text.

``UsrFullNameProcess`` (the scheduler API)
    in ``UserName: text``, ``UserSurname: text`` -> out ``FullName: text`` (the two joined by a space).
``CustomProcess`` (Creatio's ProcessEngineService documentation)
    in ``processParam: int`` (at most that many records; all when left out) -> out ``CustomProcessResult:
    collection``, the ProcessEngineService documentation's object list ``[{"Id", "Name", "Phone"}, ...]`` (four contacts).
``UsrOrderTotalsProcess`` (two outputs)
    in ``Quantity: int = 0``, ``UnitPrice: float = 0`` -> out ``Total: float``, ``IsLargeOrder: bool`` (Total >= 1000).
``UsrLongProcess``
    in ``DurationSeconds: float = 1`` -> sleeps that long (cancellable) -> out ``SleptSeconds: float``.
``UsrFailingProcess``
    in ``ErrorText: text = "Attempted to divide by zero."`` -> fails; ``SysProcessLog.ErrorDescription`` is ErrorText.
``UsrPartialResultErrorProcess``
    no input -> sets ``PartialResult: text`` ("computed before the error"), then fails with ErrorDescription
    ``Element "ScriptTask1" failed after setting PartialResult.``: RunProcess answers success true with
    processStatus 3, and Execute still returns the output.
``UsrApprovalProcess``
    in ``RequestName: text`` -> waits on element ``ApproveRequest`` ("Approve the request") until
    ``ExecProcElByUId`` runs it -> out ``Decision: text`` ("Approved: <RequestName>").
``UsrCreateContactProcess``
    in ``ContactName: text``, ``Phone: text = ""`` -> creates a Contact -> out ``ContactId: guid``.
``UsrCaseFollowUpProcess``
    in ``CaseId: guid`` -> if the Case's status is resolved, creates an Activity "Follow up on case <Number>"
    linked to the case, its contact and account -> out ``FollowUpCreated: bool``, ``ActivityId: guid`` (null when
    none was created). Fails with ErrorDescription ``Case <id> not found.`` for an unknown case.
``UsrCaseEscalationProcess``
    in ``CaseId: guid`` -> creates an Activity "Escalate case <Number>" linked to the case, unless the case has
    one already (running it twice for a case escalates once) -> out ``Escalated: bool`` (whether this run created
    it), ``ActivityId: guid``. Fails with ErrorDescription ``Case <id> not found.`` for an unknown case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_creatio.testing.emulator.process_definitions import (
    ProcessContext,
    ProcessFailure,
    WaitingElement,
)
from airflow_provider_creatio.testing.emulator.process_engine import ProcessEngine
from airflow_provider_creatio.testing.emulator.process_parameters import Parameter
from airflow_provider_creatio.testing.emulator.values import now_iso

FULL_NAME = "UsrFullNameProcess"
CUSTOM = "CustomProcess"
ORDER_TOTALS = "UsrOrderTotalsProcess"
LONG = "UsrLongProcess"
FAILING = "UsrFailingProcess"
PARTIAL_RESULT_ERROR = "UsrPartialResultErrorProcess"
APPROVAL = "UsrApprovalProcess"
CREATE_CONTACT = "UsrCreateContactProcess"
CASE_FOLLOW_UP = "UsrCaseFollowUpProcess"
CASE_ESCALATION = "UsrCaseEscalationProcess"
DEMO_PROCESSES: tuple[str, ...] = (
    FULL_NAME,
    CUSTOM,
    ORDER_TOTALS,
    LONG,
    FAILING,
    PARTIAL_RESULT_ERROR,
    APPROVAL,
    CREATE_CONTACT,
    CASE_FOLLOW_UP,
    CASE_ESCALATION,
)

LARGE_ORDER_TOTAL = 1000.0
DEFAULT_ERROR_TEXT = "Attempted to divide by zero."
PARTIAL_RESULT_ERROR_TEXT = 'Element "ScriptTask1" failed after setting PartialResult.'
APPROVAL_ELEMENT = WaitingElement("ApproveRequest", "Approve the request")

# The ProcessEngineService documentation's answer, without its trailing comma.
DOCUMENTED_CONTACTS: tuple[dict[str, str], ...] = (
    {"Id": "c38d46fd-e405-491a-a508-01bb9760eecc", "Name": "Valerie E. Murphy", "Phone": "3090"},
    {"Id": "516bc5b4-a79a-4e1d-9894-0566617012d1", "Name": "Sharyn Mccraney", "Phone": "+1 33867 411 85 76"},
    {"Id": "41b67c9e-7c14-487c-a217-057fd3735ba1", "Name": "Shela Andry", "Phone": "+1 33985 177 50 37"},
    {"Id": "f79fe861-88af-4e23-9bb7-0625a6cee703", "Name": "Kate Roberts", "Phone": "+1 212 775 9012"},
)


def full_name(ctx: ProcessContext) -> Mapping[str, Any]:
    parts = (ctx.inputs["UserName"], ctx.inputs["UserSurname"])
    return {"FullName": " ".join(part for part in parts if part)}


def documented_contacts(ctx: ProcessContext) -> Mapping[str, Any]:
    limit = ctx.inputs["processParam"]
    contacts = [dict(contact) for contact in DOCUMENTED_CONTACTS]
    return {"CustomProcessResult": contacts if limit is None else contacts[: max(limit, 0)]}


def order_totals(ctx: ProcessContext) -> Mapping[str, Any]:
    total = ctx.inputs["Quantity"] * ctx.inputs["UnitPrice"]
    return {"Total": total, "IsLargeOrder": total >= LARGE_ORDER_TOTAL}


def long_sleep(ctx: ProcessContext) -> Mapping[str, Any]:
    seconds = ctx.inputs["DurationSeconds"]
    ctx.sleep(seconds)
    return {"SleptSeconds": seconds}


def fail_with_error_text(ctx: ProcessContext) -> None:
    raise ProcessFailure(ctx.inputs["ErrorText"] or DEFAULT_ERROR_TEXT)


def approval_decision(ctx: ProcessContext) -> Mapping[str, Any]:
    return {"Decision": f"Approved: {ctx.inputs['RequestName'] or ''}"}


def create_contact(ctx: ProcessContext) -> Mapping[str, Any]:
    name = ctx.inputs["ContactName"]
    if not name:
        raise ProcessFailure("ContactName is required.")
    row = ctx.store.insert("Contact", {"Name": name, "Phone": ctx.inputs["Phone"] or ""})
    return {"ContactId": row["Id"]}


def case_follow_up(ctx: ProcessContext) -> Mapping[str, Any]:
    case_id = ctx.inputs["CaseId"]
    case = ctx.store.get("Case", case_id) if case_id else None
    if case is None:
        raise ProcessFailure(f"Case {case_id} not found.")
    status = ctx.store.get("CaseStatus", case["StatusId"])
    if status is None or not status.get("IsResolved"):
        return {"FollowUpCreated": False, "ActivityId": None}
    activity = ctx.store.insert(
        "Activity",
        {
            "Title": f"Follow up on case {case['Number']}",
            "StartDate": now_iso(),
            "CaseId": case["Id"],
            "ContactId": case["ContactId"],
            "AccountId": case["AccountId"],
        },
    )
    return {"FollowUpCreated": True, "ActivityId": activity["Id"]}


def case_escalation(ctx: ProcessContext) -> Mapping[str, Any]:
    case_id = ctx.inputs["CaseId"]
    case = ctx.store.get("Case", case_id) if case_id else None
    if case is None:
        raise ProcessFailure(f"Case {case_id} not found.")
    title = f"Escalate case {case['Number']}"
    for activity in ctx.store.rows("Activity"):
        if activity["CaseId"] == case["Id"] and activity["Title"] == title:
            return {"Escalated": False, "ActivityId": activity["Id"]}
    activity = ctx.store.insert(
        "Activity",
        {"Title": title, "StartDate": now_iso(), "CaseId": case["Id"], "ContactId": case["ContactId"]},
    )
    return {"Escalated": True, "ActivityId": activity["Id"]}


def register_demo_processes(engine: ProcessEngine) -> None:
    """Register (or re-register) every demo process listed in this module's docstring."""
    engine.define(
        FULL_NAME,
        full_name,
        inputs=[Parameter("UserName"), Parameter("UserSurname")],
        outputs=[Parameter("FullName")],
        caption="Full name from name and surname",
    )
    engine.define(
        CUSTOM,
        documented_contacts,
        inputs=[Parameter("processParam", "int")],
        outputs=[Parameter("CustomProcessResult", "collection")],
        caption="Contacts with phones (Creatio's ProcessEngineService documentation)",
    )
    engine.define(
        ORDER_TOTALS,
        order_totals,
        inputs=[Parameter("Quantity", "int", 0), Parameter("UnitPrice", "float", 0.0)],
        outputs=[Parameter("Total", "float"), Parameter("IsLargeOrder", "bool")],
        caption="Order totals",
    )
    engine.define(
        LONG,
        long_sleep,
        inputs=[Parameter("DurationSeconds", "float", 1.0)],
        outputs=[Parameter("SleptSeconds", "float")],
        caption="Long-running process",
    )
    engine.define(
        FAILING,
        fail_with_error_text,
        inputs=[Parameter("ErrorText", "text", DEFAULT_ERROR_TEXT)],
        caption="Process that fails",
    )
    engine.define(
        PARTIAL_RESULT_ERROR,
        lambda ctx: {"PartialResult": "computed before the error"},
        outputs=[Parameter("PartialResult")],
        error_description=PARTIAL_RESULT_ERROR_TEXT,
        caption="Process that sets an output, then fails",
    )
    engine.define(
        APPROVAL,
        approval_decision,
        inputs=[Parameter("RequestName")],
        outputs=[Parameter("Decision")],
        waiting_elements=[APPROVAL_ELEMENT],
        caption="Approval with a user task",
    )
    engine.define(
        CREATE_CONTACT,
        create_contact,
        inputs=[Parameter("ContactName"), Parameter("Phone", "text", "")],
        outputs=[Parameter("ContactId", "guid")],
        caption="Create a contact",
    )
    engine.define(
        CASE_FOLLOW_UP,
        case_follow_up,
        inputs=[Parameter("CaseId", "guid")],
        outputs=[Parameter("FollowUpCreated", "bool"), Parameter("ActivityId", "guid")],
        caption="Follow-up activity for a resolved case",
    )
    engine.define(
        CASE_ESCALATION,
        case_escalation,
        inputs=[Parameter("CaseId", "guid")],
        outputs=[Parameter("Escalated", "bool"), Parameter("ActivityId", "guid")],
        caption="Escalation activity for a case",
    )
