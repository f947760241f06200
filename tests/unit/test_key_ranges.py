"""The ranges a parallel extract reads: slices of a date column that meet exactly, the last open above, and the
range of the records without a value only when there are some."""

from __future__ import annotations

import pytest

from airflow_provider_creatio.client.key_ranges import KeyRange, key_ranges


def test_equal_slices_from_the_first_value_the_last_open_above() -> None:
    ranges = key_ranges(
        "CreatedOn", ("2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"), 4, nulls=False, null_column=None
    )
    assert ranges == [
        KeyRange(
            "CreatedOn ge 2026-01-01T00:00:00Z and CreatedOn lt 2026-01-02T00:00:00.000000Z", "CreatedOn"
        ),
        KeyRange(
            "CreatedOn ge 2026-01-02T00:00:00.000000Z and CreatedOn lt 2026-01-03T00:00:00.000000Z",
            "CreatedOn",
        ),
        KeyRange(
            "CreatedOn ge 2026-01-03T00:00:00.000000Z and CreatedOn lt 2026-01-04T00:00:00.000000Z",
            "CreatedOn",
        ),
        KeyRange("CreatedOn ge 2026-01-04T00:00:00.000000Z", "CreatedOn"),
    ]


def test_a_span_too_short_to_cut_is_one_range_and_nulls_add_theirs() -> None:
    same = ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert key_ranges("CreatedOn", same, 8, nulls=True, null_column=None) == [
        KeyRange("CreatedOn ge 2026-01-01T00:00:00Z", "CreatedOn"),
        KeyRange("CreatedOn eq null", None),
    ]
    # microseconds are the finest cut: bounds never repeat
    tiny = ("2026-01-01T00:00:00.000001Z", "2026-01-01T00:00:00.000003Z")
    assert len(key_ranges("ModifiedOn", tiny, 8, nulls=False, null_column=None)) <= 3


@pytest.mark.parametrize("parts", [0, 33, "4", 1.5])
def test_parallelism_is_checked(parts: object) -> None:
    with pytest.raises(ValueError, match="parallelism must be an integer between 1 and 32"):
        key_ranges(
            "CreatedOn",
            ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
            parts,
            nulls=False,
            null_column=None,
        )  # type: ignore[arg-type]
