"""Id reconciliation's pure parts: the external sort and the streaming merge (airflow_provider_creatio.reconciliation)."""

from __future__ import annotations

import random
import tracemalloc
import uuid
from pathlib import Path

from airflow_provider_creatio import reconciliation


def guids(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128))).upper() for _ in range(count)]


def test_the_external_sort_gives_every_id_once_in_lower_case_order_across_many_runs() -> None:
    values = guids(1_000)
    with reconciliation.sorted_ids(values + values[:10], run_size=64) as ordered:
        assert list(ordered) == sorted({value.lower() for value in values})


def test_removed_yields_what_the_new_list_lacks_and_hands_on_every_new_id() -> None:
    previous = ["a1", "b2", "c3", "d4", "f6"]
    current = ["b2", "c3", "e5", "f6", "g7"]
    kept: list[str] = []
    assert list(reconciliation.removed(previous, current, kept.append)) == ["a1", "d4"]
    assert kept == current


def test_removed_with_nothing_before_or_nothing_now() -> None:
    kept: list[str] = []
    assert list(reconciliation.removed([], ["a", "b"], kept.append)) == []
    assert kept == ["a", "b"]
    assert list(reconciliation.removed(["a", "b"], [], kept.append)) == ["a", "b"]


def test_a_snapshot_written_is_read_back_and_memory_stays_flat_whatever_the_count(tmp_path: Path) -> None:
    """Sorting and merging 20,000 Ids holds no more than sorting 2,000 does, at a run size of 1,000: memory is set
    by the run size, not by N."""

    def peak(count: int) -> int:
        values = guids(count, seed=count)
        location = f"file://{tmp_path}/ids-{count}.txt.gz"
        tracemalloc.start()
        with (
            reconciliation.sorted_ids(iter(values), run_size=1_000) as ordered,
            reconciliation.snapshot_writer(location) as keep,
        ):
            assert list(reconciliation.removed(iter(()), ordered, keep)) == []
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert list(reconciliation.read_snapshot(location)) == sorted(value.lower() for value in values)
        return top

    small, large = peak(2_000), peak(20_000)
    assert large < small * 2
