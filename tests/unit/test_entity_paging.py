"""Pure pieces of paging and bulk: the stable order, the end-of-results rule, batch-size checks, reports."""

from __future__ import annotations

import pytest

from airflow_provider_creatio.client.bulk_operation import BulkOperation
from airflow_provider_creatio.client.entities import BulkReport, RecordOutcome, _PageEnd, stable_orderby
from airflow_provider_creatio.client.errors import CreatioValidationError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "Id"),
        ("Name", "Name,Id"),
        (["ModifiedOn desc", "Name"], "ModifiedOn desc,Name,Id"),
        ("Id desc", "Id desc"),
        ("Name, Id", "Name,Id"),
    ],
)
def test_stable_orderby_appends_id_once(given: object, expected: str) -> None:
    assert stable_orderby(given) == expected  # type: ignore[arg-type]


def test_stable_orderby_validates_columns() -> None:
    with pytest.raises(CreatioValidationError):
        stable_orderby("Name; drop")


def test_page_end_with_a_count_stops_exactly_at_the_total() -> None:
    end = _PageEnd(total=25)
    assert not end.reached(fetched=10, got=10, asked=10)
    assert not end.reached(fetched=20, got=10, asked=10)
    assert end.reached(fetched=25, got=5, asked=10)


def test_page_end_with_a_count_reads_on_past_a_server_cap() -> None:
    end = _PageEnd(total=250)
    assert not end.reached(fetched=100, got=100, asked=500)  # capped at 100, total not reached
    assert end.cap == 100
    assert not end.reached(fetched=200, got=100, asked=500)
    assert end.reached(fetched=250, got=50, asked=500)


def test_page_end_without_a_count_learns_the_cap_then_stops_on_a_shorter_page() -> None:
    end = _PageEnd()
    assert not end.reached(fetched=100, got=100, asked=500)  # short: end, or a cap? ask once more
    assert not end.reached(fetched=200, got=100, asked=500)  # as long as the cap: more may follow
    assert end.reached(fetched=230, got=30, asked=500)  # shorter than the cap: the end


def test_page_end_on_an_empty_page() -> None:
    assert _PageEnd().reached(fetched=0, got=0, asked=10)
    assert _PageEnd(total=99).reached(fetched=40, got=0, asked=10)  # rows deleted while paging


def test_bulk_report_summary_and_failure_listing() -> None:
    report = BulkReport(BulkOperation.UPSERT, "Contact", batch_calls=2)
    report.outcomes = [
        RecordOutcome(0, "a", True, "created", 201),
        RecordOutcome(1, "b", True, "updated", 204),
        RecordOutcome(2, "c", False, "failed", 400, "Column by path Foo not found in schema Contact."),
        RecordOutcome(3, None, False, "skipped", None, "not executed"),
    ]
    assert report.summary() == {
        "operation": "upsert",
        "entity": "Contact",
        "total": 4,
        "succeeded": 2,
        "failed": 2,
        "actions": {"created": 1, "failed": 1, "skipped": 1, "updated": 1},
        "batch_calls": 2,
    }
    assert report.outcomes[0].to_dict() == {"index": 0, "Id": "a", "ok": True, "action": "created"}
    assert report.outcomes[2].to_dict()["error"].startswith("Column by path Foo")
    text = report.describe_failures(limit=1)
    assert "record #2 (Id c): failed, HTTP 400: Column by path Foo" in text
    assert text.endswith("... and 1 more")
