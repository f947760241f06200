"""Pure pieces of paging: the stable order and the end-of-results rule."""

from __future__ import annotations

import pytest

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.paging import _PageEnd, stable_orderby


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
