"""Id reconciliation's pure parts: the external sort and the streaming merge (airflow_provider_creatio.reconciliation)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from pathlib import Path

from airflow_provider_creatio import reconciliation


def guids(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128))).upper() for _ in range(count)]


def test_the_sorter_gives_every_id_once_in_lower_case_order_across_many_runs() -> None:
    values = guids(1_000)
    with reconciliation.id_sorter(run_size=64) as sorter:
        for value in values + values[:10]:
            sorter.add(value)
        assert list(sorter.sorted()) == sorted({value.lower() for value in values})


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


# Measured in a fresh interpreter: tracemalloc counts every thread's allocations, and a thread an earlier test left
# running in this process would add to the peak.
PEAK_PROBE = """
import json, random, sys, tracemalloc, uuid
from airflow_provider_creatio import reconciliation

folder = sys.argv[1]

def peak(count):
    rng = random.Random(count)
    values = [str(uuid.UUID(int=rng.getrandbits(128))).upper() for _ in range(count)]
    location = f"file://{folder}/ids-{count}.txt.gz"
    tracemalloc.start()
    with reconciliation.id_sorter(run_size=1_000) as sorter, reconciliation.snapshot_writer(location) as keep:
        for value in values:
            sorter.add(value)
        assert list(reconciliation.removed(iter(()), sorter.sorted(), keep)) == []
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert list(reconciliation.read_snapshot(location)) == sorted(value.lower() for value in values)
    return top

peak(100)  # imports and caches
print(json.dumps([peak(2_000), peak(20_000)]))
"""


def test_a_snapshot_written_is_read_back_and_memory_stays_flat_whatever_the_count(tmp_path: Path) -> None:
    """Sorting and merging 20,000 Ids holds no more than sorting 2,000 does, at a run size of 1,000: memory is set
    by the run size, not by N (the Ids themselves are made before the measure starts)."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE, str(tmp_path)], capture_output=True, text=True, check=True
    )
    small, large = json.loads(done.stdout.splitlines()[-1])
    assert large < small * 2, (small, large)
