"""One run of a process: the state machine its thread goes through, and the context its body sees.

An instance runs its declared waiting elements in order, then one script-task element (``ScriptTask1``) that
sleeps for the declared duration, calls the body and, if a failure is configured, fails after the body has set its
outputs (so an output can exist on a failed run, as on a real site). A body may also call ``ctx.sleep`` and
``ctx.wait_for`` itself. Each step is logged in SysProcessLog and SysProcessElementLog as it happens.

*Pause points* decide when an answer can be given without waiting for the end (see
docs/creatio-notes/process-runs-until-it-pauses.md): a call that does not wait for results returns once the instance
sleeps, waits on an element or ends; a call that waits for results returns once it waits on an element or ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow_provider_creatio.testing.emulator.process_definitions import (
    ProcessContext,
    ProcessDefinition,
    ProcessFailure,
    WaitingElement,
)
from airflow_provider_creatio.testing.emulator.process_log import ELEMENT_LOG, PROCESS_LOG, ProcessStatus
from airflow_provider_creatio.testing.emulator.process_parameters import wire_value
from airflow_provider_creatio.testing.emulator.store import (
    EntityStore,
    RecordNotFoundError,
    UnknownEntityError,
)
from airflow_provider_creatio.testing.emulator.values import now_iso

# (name, caption) of the one script-task element every run logs after its waiting elements: the body runs in it.
SCRIPT_ELEMENT = ("ScriptTask1", "Script task")


class _Cancelled(Exception):
    """Unwinds an instance thread after CancelExecution."""


class _Phase(enum.Enum):
    ACTIVE = "active"  # executing code: no answer can be given yet
    SLEEPING = "sleeping"  # inside a simulated duration
    WAITING = "waiting"  # on a waiting element
    FINISHED = "finished"


class InstanceContext(ProcessContext):
    """The :class:`ProcessContext` of one running instance."""

    def __init__(self, instance: ProcessInstance) -> None:
        self._instance = instance

    @property
    def process_id(self) -> str:
        return self._instance.id

    @property
    def inputs(self) -> Mapping[str, Any]:
        return self._instance.inputs

    @property
    def store(self) -> EntityStore:
        return self._instance.store

    def set_output(self, name: str, value: Any) -> None:
        self._instance.set_output(name, value)

    def sleep(self, seconds: float) -> None:
        """Simulated work; returns early (unwinding the body) if the instance is cancelled."""
        self._instance.sleep(seconds)

    def wait_for(self, name: str, caption: str = "") -> str:
        """Log a Running element and pause until ExecProcElByUId runs it; returns its UID."""
        return self._instance.wait_for(WaitingElement(name, caption))


class ProcessInstance:
    """One run of a process. All mutable state is guarded by ``_condition``.

    The condition is built on the store's lock: an instance's state and its log rows change together, and no
    lock order can deadlock with an emulator reset (which calls ``ProcessEngine.reset`` under that lock).
    """

    def __init__(
        self,
        store: EntityStore,
        own_element: Callable[[str, ProcessInstance], None],
        definition: ProcessDefinition,
        inputs: dict[str, Any],
    ) -> None:
        self.store = store
        self._own_element = own_element  # the engine's index of waiting elements, for ExecProcElByUId
        self.definition = definition
        self.inputs = inputs
        self.id = store.new_id()
        self._condition = threading.Condition(store.lock)
        self._status = ProcessStatus.RUNNING
        self._phase = _Phase.ACTIVE
        self._outputs: dict[str, Any] = {}
        self._error_description = ""
        self._open_elements: set[str] = set()
        self._waiting: list[str] = []
        self._executed: list[str] = []
        self._watchers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    # -- what callers read ----------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def status(self) -> ProcessStatus:
        with self._condition:
            return self._status

    @property
    def error_description(self) -> str:
        with self._condition:
            return self._error_description

    @property
    def outputs(self) -> dict[str, Any]:
        with self._condition:
            return dict(self._outputs)

    @property
    def waiting_elements(self) -> list[str]:
        """UIDs of the elements waiting for ExecProcElByUId, oldest first."""
        with self._condition:
            return list(self._waiting)

    @property
    def executed_elements(self) -> list[str]:
        """UIDs that ExecProcElByUId ran, in order (each at most once)."""
        with self._condition:
            return list(self._executed)

    def output_value(self, name: str) -> Any:
        """The wire form of an output; None for an unknown or unset one (as Execute answers)."""
        with self._condition:
            return wire_value(self.definition.output(name), self._outputs.get(name))

    def snapshot(self, output_names: Iterable[str]) -> tuple[ProcessStatus, dict[str, Any]]:
        """The status and the wire form of some outputs, read together."""
        with self._condition:
            return self._status, {name: self.output_value(name) for name in output_names}

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the instance has ended; False on timeout. For tests and Python callers."""
        with self._condition:
            return self._condition.wait_for(lambda: self._phase is _Phase.FINISHED, timeout)

    def wait_until_paused(self, timeout: float | None = None) -> bool:
        """Block until the instance waits on an element or has ended; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: self._phase in (_Phase.WAITING, _Phase.FINISHED), timeout)

    async def settle(self, *, through_sleeps: bool) -> None:
        """Wait (without blocking the event loop) for the next point where an answer can be given.

        ``through_sleeps=False``: until the instance sleeps, waits on an element or ends (a start that does not
        wait for results). ``True``: until it waits on an element or ends (a start that asks for results).
        """
        resting = (
            {_Phase.WAITING, _Phase.FINISHED}
            if through_sleeps
            else {_Phase.SLEEPING, _Phase.WAITING, _Phase.FINISHED}
        )
        watcher = (asyncio.get_running_loop(), asyncio.Event())
        with self._condition:
            self._watchers.add(watcher)
        try:
            while True:
                with self._condition:
                    if self._phase in resting:
                        return
                    watcher[1].clear()
                await watcher[1].wait()
        finally:
            with self._condition:
                self._watchers.discard(watcher)

    # -- what the body and the service do -------------------------------------------------------------------------

    def set_output(self, name: str, value: Any) -> None:
        if self.definition.output(name) is None:
            raise ProcessFailure(f'Parameter "{name}" not found in process "{self.name}".')
        with self._condition:
            self._outputs[name] = value

    def sleep(self, seconds: float) -> None:
        with self._condition:
            self._raise_if_cancelled()
            if seconds <= 0:
                return
            self._set_phase(_Phase.SLEEPING)
            self._condition.wait_for(lambda: self._phase is _Phase.FINISHED, seconds)
            self._raise_if_cancelled()
            self._set_phase(_Phase.ACTIVE)

    def wait_for(self, element: WaitingElement) -> str:
        with self._condition:
            uid = self._open_element(element.name, element.caption)
            self._own_element(uid, self)
            self._waiting.append(uid)
            self._set_phase(_Phase.WAITING)
            self._condition.wait_for(lambda: uid in self._executed or self._phase is _Phase.FINISHED)
            self._raise_if_cancelled()
        return uid

    def execute_element(self, uid: str) -> bool:
        """Run a waiting element: it completes and the instance goes on. False if it is not waiting (any more)."""
        with self._condition:
            if self._phase is _Phase.FINISHED or uid not in self._waiting:
                return False
            self._waiting.remove(uid)
            self._executed.append(uid)
            self._close_element(uid, ProcessStatus.DONE)
            # Active again at once, so that a caller settling right after this sees the run go on.
            self._set_phase(_Phase.ACTIVE)
            return True

    def cancel(self) -> bool:
        """Stop the instance: log row and open elements become Canceled. False if it had already ended."""
        with self._condition:
            if self._phase is _Phase.FINISHED:
                return False
            for uid in list(self._open_elements):
                self._close_element(uid, ProcessStatus.CANCELED)
            self._waiting.clear()
            self._end(ProcessStatus.CANCELED)
            return True

    # -- the instance thread --------------------------------------------------------------------------------------

    def run(self) -> None:
        context = InstanceContext(self)
        script_uid: str | None = None
        try:
            for element in self.definition.waiting_elements:
                self.wait_for(element)
            with self._condition:
                script_uid = self._open_element(*SCRIPT_ELEMENT)
            self.sleep(self.definition.duration)
            self._run_body(context)
            if self.definition.error_description is not None:
                raise ProcessFailure(self.definition.error_description)
        except _Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - any error in a body is a failed process, as on a real site
            self._fail(script_uid, _describe(exc))
            return
        self._complete(script_uid)

    def _run_body(self, context: ProcessContext) -> None:
        if self.definition.body is None:
            return
        returned = self.definition.body(context)
        for name, value in (returned or {}).items():
            self.set_output(name, value)

    def _complete(self, script_uid: str) -> None:
        with self._condition:
            if self._phase is _Phase.FINISHED:
                return
            self._close_element(script_uid, ProcessStatus.DONE)
            self._end(ProcessStatus.DONE)

    def _fail(self, script_uid: str | None, description: str) -> None:
        with self._condition:
            if self._phase is _Phase.FINISHED:
                return
            if script_uid is not None:
                self._close_element(script_uid, ProcessStatus.ERROR)
            self._error_description = description
            self._end(ProcessStatus.ERROR, description)

    # -- helpers (callers hold _condition unless named otherwise) -------------------------------------------------

    def _raise_if_cancelled(self) -> None:
        if self._status is ProcessStatus.CANCELED:
            raise _Cancelled

    def _set_phase(self, phase: _Phase) -> None:
        self._phase = phase
        self._condition.notify_all()
        for loop, event in list(self._watchers):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                self._watchers.discard((loop, event))

    def _end(self, status: ProcessStatus, error_description: str = "") -> None:
        self._status = status
        changes: dict[str, Any] = {"StatusId": status.status_id, "CompleteDate": now_iso()}
        if error_description:
            changes["ErrorDescription"] = error_description
        self._write_log(PROCESS_LOG, self.id, changes)
        self._set_phase(_Phase.FINISHED)

    def _open_element(self, name: str, caption: str) -> str:
        """Log a Running element; raises _Cancelled instead once the instance has been cancelled."""
        self._raise_if_cancelled()
        row = self.store.insert(
            ELEMENT_LOG,
            {
                "SysProcessId": self.id,
                "Name": name,
                "Caption": caption or name,
                "StatusId": ProcessStatus.RUNNING.status_id,
                "StartDate": now_iso(),
                "CompleteDate": None,
            },
        )
        uid: str = row["Id"]
        self._open_elements.add(uid)
        return uid

    def _close_element(self, uid: str, status: ProcessStatus) -> None:
        self._open_elements.discard(uid)
        self._write_log(ELEMENT_LOG, uid, {"StatusId": status.status_id, "CompleteDate": now_iso()})

    def _write_log(self, entity: str, row_id: str, changes: Mapping[str, Any]) -> None:
        # A reset of the emulator (or a DELETE over OData) may have removed the row: the run goes on without it.
        with contextlib.suppress(RecordNotFoundError, UnknownEntityError):
            self.store.update(entity, row_id, changes)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ProcessFailure):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
