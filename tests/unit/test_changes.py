"""A poll's batch of changes (client/changes.py): what its event carries, whatever the number of changes."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_creatio.client.changes import ChangeBatch, Mark
from airflow_provider_creatio.client.errors import CreatioValidationError

IDS = [f"{number:08x}-0000-4000-8000-000000000000" for number in range(5)]


def _record(number: int) -> dict[str, Any]:
    return {"Id": IDS[number], "ModifiedOn": f"2026-01-01T00:00:0{number}Z"}


def test_a_batch_names_its_first_ids_counts_all_and_ends_on_the_last_change() -> None:
    after = Mark("2025-12-31T00:00:00Z", IDS[0])
    batch = ChangeBatch(after=after, ids_limit=2)
    batch.add([_record(1), _record(2)])
    batch.add([_record(3)])

    assert batch.payload() == {
        "count": 3,
        "ids": IDS[1:3],
        "truncated": True,
        "after": {"ModifiedOn": "2025-12-31T00:00:00Z", "Id": IDS[0]},
        "mark": {"ModifiedOn": "2026-01-01T00:00:03Z", "Id": IDS[3]},
    }


def test_an_empty_batch_keeps_no_mark() -> None:
    batch = ChangeBatch()
    batch.add([])
    assert batch.payload() == {"count": 0, "ids": [], "truncated": False, "after": None, "mark": None}


def test_a_mark_round_trips_and_a_bad_one_is_refused() -> None:
    mark = Mark("2026-01-01T00:00:00Z", IDS[0])
    assert Mark.from_dict(mark.to_dict()) == mark
    assert Mark.from_dict(None) is None
    with pytest.raises(CreatioValidationError, match="high-water mark"):
        Mark.from_dict({"Id": IDS[0]})
