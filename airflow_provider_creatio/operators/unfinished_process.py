"""The process a task started and has not yet seen end, kept in Airflow 3.3's task state store so that the next
try of the task follows that run instead of starting another (docs/guides/processes.md, "Retries")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_creatio._compat import AirflowFailException

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context

UNFINISHED_PROCESS = "creatio_unfinished_process"  # the task state store key
NO_STATE_STORE = (
    "try {try_number} of a task that follows process {name}: an earlier try may have started it, and this Airflow "
    "has no task state store (Airflow 3.3+) to tell which instance, so the task fails rather than start it twice. "
    "Look for the run in SysProcessLog; clear the task to start a new run"
)


def unfinished_process(context: Context, name: str) -> str | None:
    """The id of the run an earlier try started and did not see end, if any. On an Airflow without the store a
    retry cannot know, so it fails rather than risk a second run."""
    store = context.get("task_state_store")
    if store is None:
        try_number = context["ti"].try_number
        if try_number > 1:
            raise AirflowFailException(NO_STATE_STORE.format(try_number=try_number, name=name))
        return None
    process_id = store.get(UNFINISHED_PROCESS)
    return str(process_id) if process_id else None


def note_unfinished(context: Context, process_id: str) -> None:
    """Keep the id of a started process until the task sees it end (nothing on an Airflow without the store)."""
    store = context.get("task_state_store")
    if store is not None:
        store.set(UNFINISHED_PROCESS, process_id)


def forget_unfinished(context: Context) -> None:
    store = context.get("task_state_store")
    if store is not None:
        store.delete(UNFINISHED_PROCESS)
