"""The processes every emulator serves out of the box (``register_demo_processes``), for tests and example DAGs.

Their parameters come from the definitions registered below and what they do from ``ABOUT``; the table in
docs/guides/emulator.md is generated from both (``scripts/generate_docs.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class About:
    """What a demo process does, how long it runs and how it fails, in a user's words (the parameters, outputs,
    waiting elements and a configured error description are read from its definition)."""

    does: str
    runs: str = "at once"
    fails: str = "never"


ABOUT: Mapping[str, About] = {
    FULL_NAME: About("joins UserName and UserSurname with a space (the scheduler API's example)"),
    CUSTOM: About(
        "answers the object list of Creatio's ProcessEngineService documentation (four contacts with Id, Name "
        "and Phone), at most processParam of them"
    ),
    ORDER_TOTALS: About("Total = Quantity x UnitPrice; IsLargeOrder when Total >= 1000"),
    LONG: About("sleeps DurationSeconds, then answers them", runs="DurationSeconds (cancellable)"),
    FAILING: About("nothing but fail", fails="always, with ErrorText as its ErrorDescription"),
    PARTIAL_RESULT_ERROR: About(
        "sets PartialResult, then fails: RunProcess answers success true with processStatus 3, and Execute "
        "still returns the output"
    ),
    APPROVAL: About(
        "waits until ExecProcElByUId runs its element, then answers Decision `Approved: <RequestName>`",
        runs="until its element is run",
    ),
    CREATE_CONTACT: About(
        "creates a Contact with ContactName and Phone",
        fails="without ContactName: `ContactName is required.`",
    ),
    CASE_FOLLOW_UP: About(
        "if the Case's status is resolved, creates an Activity `Follow up on case <Number>` linked to the case, "
        "its contact and account (ActivityId null when none was created)",
        fails="for an unknown case: `Case <id> not found.`",
    ),
    CASE_ESCALATION: About(
        "creates an Activity `Escalate case <Number>` linked to the case, unless it has one already (running it "
        "twice escalates once); Escalated says whether this run created it",
        fails="for an unknown case: `Case <id> not found.`",
    ),
}


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
    """Register (or re-register) every demo process (``DEMO_PROCESSES``)."""
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
