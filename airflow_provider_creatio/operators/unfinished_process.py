"""The process a task follows is kept in Airflow 3.3's task state store (through ``ResumableJobMixin``) until the
task sees it end, so that the next try follows that run instead of starting another (docs/guides/processes.md,
"Retries"). On an Airflow without the store a retry cannot know what an earlier try started."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_creatio._compat import AirflowFailException

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context

# The task state store key; the same as before the operator used ResumableJobMixin, so that a retry across the
# upgrade still finds the run an earlier try started.
UNFINISHED_PROCESS = "creatio_unfinished_process"
NO_STATE_STORE = (
    "try {try_number} of a task that follows process {name}: an earlier try may have started it, and this Airflow "
    "has no task state store (Airflow 3.3+) to tell which instance, so the task fails rather than start it twice. "
    "Look for the run in SysProcessLog; clear the task to start a new run"
)


def refuse_blind_retry(context: Context, name: str) -> None:
    """Fail a retry that cannot know whether an earlier try started the process (no task state store)."""
    try_number = context["ti"].try_number
    if context.get("task_state_store") is None and try_number > 1:
        raise AirflowFailException(NO_STATE_STORE.format(try_number=try_number, name=name))


def forget_unfinished(context: Context) -> None:
    """The run has been seen to end: a later try (a cleared task) starts a new one."""
    store = context.get("task_state_store")
    if store is not None:
        store.delete(UNFINISHED_PROCESS)
