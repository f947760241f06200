"""A business process's state, in one vocabulary: Creatio's process-log words, whichever way the state was read.

A module of its own, with nothing to import, so that the operators name states at DAG-parse time for free;
:mod:`.process` (the ProcessEngineService calls) hands the same names on.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Mapping


class ProcessState(str, enum.Enum):
    """A process's state, in Creatio's own words (the ``SysProcessStatus`` names), wherever it was read: a
    RunProcess answer's ``processStatus`` number (:data:`RUN_PROCESS_STATES`) or the process log's ``StatusId``.
    UNKNOWN for anything else."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    ERROR = "Error"
    CANCELED = "Canceled"
    INACTIVE = "Inactive"
    CANCELLING = "Cancelling"
    UNKNOWN = "Unknown"

    @classmethod
    def _missing_(cls, value: object) -> ProcessState | None:
        """RunProcess's documented words before 0.1.0 still name their state, with a warning."""
        new = _OLD_WORDS.get(str(value))
        if new is None:
            return None
        warnings.warn(
            f"the process state {value!r} is deprecated: use {new!r}", DeprecationWarning, stacklevel=2
        )
        return cls(new)


_OLD_WORDS = {"Done": "Completed", "Cancelled": "Canceled"}


FINAL_STATES = frozenset({ProcessState.COMPLETED, ProcessState.ERROR, ProcessState.CANCELED})
# RunProcess's processStatus numbers. Its documentation calls 2 "Done" and 4 "Cancelled"; the log, and so every
# XCom, event and message of the provider, "Completed" and "Canceled".
RUN_PROCESS_STATES: Mapping[int, ProcessState] = {
    0: ProcessState.INACTIVE,
    1: ProcessState.RUNNING,
    2: ProcessState.COMPLETED,
    3: ProcessState.ERROR,
    4: ProcessState.CANCELED,
    5: ProcessState.CANCELLING,
}
