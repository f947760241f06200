"""Pure pieces of bulk: the report and its failure listing."""

from __future__ import annotations

from airflow_provider_creatio.client.bulk import BulkReport, RecordOutcome
from airflow_provider_creatio.client.bulk_operation import BulkOperation


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
