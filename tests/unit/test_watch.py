"""Pure logic shared by the record sensor and its trigger: paths, equality, conditions, verdicts."""

from __future__ import annotations

import pytest

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.watch import (
    RecordCondition,
    WatchSnapshot,
    WatchSpec,
    WatchState,
    evaluate,
    has_path,
    value_at,
    values_equal,
)

RESOLVED = "ae7f411e-f46b-1410-009b-0050ba5d6c38"
CLOSED = "3e7f420c-f46b-1410-fc9a-0050ba5d6c38"
CANCELED = "6e5f4218-f46b-1410-fe9a-0050ba5d6c38"
CASE_ID = "0a7f5a5e-5d0b-4b0e-9c8b-2f1e0c6b1a01"


def case(status: str, **extra: object) -> dict[str, object]:
    return {"Id": CASE_ID, "Subject": "Printer", "StatusId": status, **extra}


def test_value_at_reads_columns_expanded_lookups_and_flat_lookup_ids() -> None:
    record = case(RESOLVED, Status={"Id": RESOLVED, "Name": "Resolved"}, Account=None)
    assert value_at(record, "Subject") == "Printer"
    assert value_at(record, "Status/Name") == "Resolved"
    assert value_at({"StatusId": RESOLVED}, "Status/Id") == RESOLVED
    assert not has_path(record, "Account/Name")  # a null lookup has nothing under it
    assert not has_path(record, "Stauts/Id")


def test_values_equal_is_case_insensitive_for_guids_only() -> None:
    assert values_equal(RESOLVED.upper(), "{" + RESOLVED + "}")
    assert not values_equal("Resolved", "resolved")
    assert values_equal(2, 2.0)
    assert not values_equal(True, 1)
    assert not values_equal(0, False)
    assert values_equal(None, None)


def test_condition_needs_every_path_and_accepts_any_listed_value() -> None:
    condition = RecordCondition.build({"Status/Id": [RESOLVED, CLOSED], "Subject": "Printer"})
    assert condition.is_success(case(CLOSED))
    assert not condition.is_success(case(CANCELED))
    assert not condition.is_success(case(RESOLVED, Subject="Other"))


def test_condition_lists_what_to_select_and_expand() -> None:
    condition = RecordCondition.build({"Status/Id": RESOLVED, "Priority/Name": "High"}, {"Subject": "x"})
    assert condition.expands() == ["Priority"]
    assert condition.columns() == ["StatusId", "Subject"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"Status/Id": []}, "empty"),
        ({"Account/Owner/Name": "x"}, "more than one lookup"),
        ({"Name'": "x"}, "column path"),
        (["Status/Id"], "must map"),
    ],
)
def test_bad_conditions_are_refused(values: object, message: str) -> None:
    with pytest.raises(CreatioValidationError, match=message):
        RecordCondition.build(values)  # type: ignore[arg-type]


def spec() -> WatchSpec:
    return WatchSpec.build("Case", record_id=CASE_ID)


def test_evaluate_success_failure_and_waiting() -> None:
    condition = RecordCondition.build({"Status/Id": RESOLVED}, {"Status/Id": CANCELED})
    done = evaluate(spec(), condition, WatchSnapshot([case(RESOLVED)]))
    assert done.state is WatchState.SUCCESS and done.record == case(RESOLVED)
    failed = evaluate(spec(), condition, WatchSnapshot([case(CANCELED)]))
    assert failed.state is WatchState.FAILURE and "failure state" in failed.message
    waiting = evaluate(spec(), condition, WatchSnapshot([case(CLOSED)]))
    assert waiting.state is WatchState.WAITING and waiting.record is None


def test_evaluate_fails_fast_when_the_record_is_gone_or_lacks_a_condition_column() -> None:
    condition = RecordCondition.build({"Status/Id": RESOLVED})
    gone = evaluate(spec(), condition, WatchSnapshot([], missing=True, server_message="Not found"))
    assert (
        gone.state is WatchState.FAILURE and "does not exist" in gone.message and "Not found" in gone.message
    )
    typo = evaluate(spec(), RecordCondition.build({"Stauts/Id": RESOLVED}), WatchSnapshot([case(RESOLVED)]))
    assert typo.state is WatchState.FAILURE and "Stauts/Id" in typo.message


def test_evaluate_applies_the_predicate_after_the_field_conditions() -> None:
    condition = RecordCondition.build({"Status/Id": RESOLVED})
    snapshot = WatchSnapshot([case(RESOLVED, Subject="Printer")])
    assert (
        evaluate(spec(), condition, snapshot, lambda r: r["Subject"] == "Printer").state is WatchState.SUCCESS
    )
    assert (
        evaluate(spec(), condition, snapshot, lambda r: r["Subject"] == "Scanner").state is WatchState.WAITING
    )


def test_query_mode_returns_the_first_matching_record_and_waits_on_an_empty_result() -> None:
    query = WatchSpec.build("Activity", filter={"Case/Id": CASE_ID}, top=5)
    condition = RecordCondition.build({"Status/Id": RESOLVED})
    first, second = case(CLOSED, Id="1"), case(RESOLVED, Id="2")
    assert evaluate(query, condition, WatchSnapshot([first, second])).record == second
    assert evaluate(query, RecordCondition(), WatchSnapshot([])).state is WatchState.WAITING
    assert evaluate(query, RecordCondition(), WatchSnapshot([first])).state is WatchState.SUCCESS


def test_watch_spec_adds_condition_columns_and_survives_a_json_round_trip() -> None:
    condition = RecordCondition.build({"Status/Id": RESOLVED, "Priority/Name": "High"})
    built = WatchSpec.build("Case", record_id=CASE_ID.upper(), select="Subject", condition=condition)
    assert built.record_id == CASE_ID
    assert built.select == ["Subject", "Id", "StatusId"]
    assert built.expand == ["Priority"]
    assert WatchSpec.from_dict(built.to_dict()) == built


def test_watch_spec_quotes_dict_filters_and_needs_exactly_one_target() -> None:
    built = WatchSpec.build("Contact", filter={"Name": "x' or 1 eq 1 or Name eq 'y"})
    assert built.filter == "Name eq 'x'' or 1 eq 1 or Name eq ''y'"
    with pytest.raises(CreatioValidationError, match="not both"):
        WatchSpec.build("Contact", record_id=CASE_ID, filter="Name eq 'x'")
    with pytest.raises(CreatioValidationError, match="not both"):
        WatchSpec.build("Contact")
