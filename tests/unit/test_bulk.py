"""Pure pieces of bulk: the report and its failure listing."""

from __future__ import annotations

from airflow_provider_creatio.client.bulk import BulkReport, BulkTally, RecordOutcome
from airflow_provider_creatio.client.bulk_operation import BulkOperation


def test_bulk_report_summary_and_failure_listing() -> None:
    report = BulkReport(BulkOperation.UPSERT, "Contact", batch_calls=2)
    report.outcomes = [
        RecordOutcome(0, "a", True, "created", 201),
        RecordOutcome(1, "b", True, "updated", 204),
        RecordOutcome(2, "c", False, "failed", 400, "Column by path Foo not found in schema Contact."),
        RecordOutcome(3, None, False, "skipped", None, "not executed"),
    ]
    tally = report.tally()
    assert tally.summary() == {
        "operation": "upsert",
        "entity": "Contact",
        "count": 4,
        "succeeded": 2,
        "failed": 2,
        "actions": {"created": 1, "failed": 1, "skipped": 1, "updated": 1},
        "batch_calls": 2,
    }
    assert report.outcomes[0].to_dict() == {"index": 0, "Id": "a", "ok": True, "action": "created"}
    assert report.outcomes[2].to_dict()["error"].startswith("Column by path Foo")
    assert tally.written == 2
    assert tally.describe_failures().splitlines() == [
        "record #2 (Id c): failed, HTTP 400: Column by path Foo not found in schema Contact.",
        "record #3 (Id -): skipped: not executed",
    ]


def test_a_tally_names_the_first_ten_failures_with_their_file_and_counts_the_rest() -> None:
    tally = BulkTally(BulkOperation.CREATE, "Contact")
    for index in range(12):
        tally.add(RecordOutcome(index, None, False, "failed", 400, "bad"), "s3://in/a.csv")

    lines = tally.describe_failures().splitlines()

    assert lines[0] == "s3://in/a.csv record #0 (Id -): failed, HTTP 400: bad"
    assert len(lines) == 11 and lines[-1] == "... and 2 more"
    assert (tally.count, tally.failed, tally.written) == (12, 12, 0)
