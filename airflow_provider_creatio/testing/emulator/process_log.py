"""How process runs are logged in the store: the entities OData serves, and the statuses they take.

- ``SysProcessStatus``: the six statuses, with Creatio's ids (``ProcessStatus`` maps RunProcess's numbers to them);
- ``SysProcessLog``: one row per instance, ``Id`` = the ``processId`` RunProcess answers;
- ``SysProcessElementLog``: one row per element instance, ``Id`` = the UID that ``ExecProcElByUId`` takes;
- ``SysSchema``: one row per registered process (``Id`` = its stable ``SysSchemaId``, ``Name``, ``Caption``).

``LOG_ENTITIES`` are their columns, which the engine defines in the store.
"""

from __future__ import annotations

import enum

from airflow_provider_creatio.testing.emulator.store import Column

PROCESS_LOG = "SysProcessLog"
ELEMENT_LOG = "SysProcessElementLog"
STATUS_ENTITY = "SysProcessStatus"
SCHEMA_ENTITY = "SysSchema"


class ProcessStatus(enum.IntEnum):
    """RunProcess's ``processStatus`` numbers; ``status_id`` is the matching SysProcessStatus row."""

    INACTIVE = 0
    RUNNING = 1
    DONE = 2
    ERROR = 3
    CANCELED = 4
    CANCELLING = 5

    @property
    def status_id(self) -> str:
        return _STATUS_ROWS[self][0]

    @property
    def log_name(self) -> str:
        return _STATUS_ROWS[self][1]


_STATUS_ROWS: dict[ProcessStatus, tuple[str, str]] = {
    ProcessStatus.RUNNING: ("ed2ae277-b6e2-df11-971b-001d60e938c6", "Running"),
    ProcessStatus.DONE: ("815c9586-b6e2-df11-971b-001d60e938c6", "Completed"),
    ProcessStatus.ERROR: ("f942c08d-b6e2-df11-971b-001d60e938c6", "Error"),
    ProcessStatus.CANCELED: ("1be78f3e-234d-4d6a-869a-dc07253fd2f3", "Canceled"),
    ProcessStatus.INACTIVE: ("67700d9c-28ac-46ef-9037-b81a53b7b330", "Inactive"),
    ProcessStatus.CANCELLING: ("006f6d7a-6d9a-4e8c-bf5f-2ddac8b3df9a", "Cancelling"),
}

LOG_ENTITIES: dict[str, dict[str, Column]] = {
    STATUS_ENTITY: {"Name": Column("text")},
    SCHEMA_ENTITY: {"Name": Column("text"), "Caption": Column("text")},
    PROCESS_LOG: {
        "Name": Column("text"),
        "Caption": Column("text"),
        "Status": Column("lookup", STATUS_ENTITY),
        "StartDate": Column("datetime"),
        "CompleteDate": Column("datetime"),
        "ErrorDescription": Column("text"),
        "SysSchema": Column("lookup", SCHEMA_ENTITY),
    },
    ELEMENT_LOG: {
        "SysProcess": Column("lookup", PROCESS_LOG),
        "Name": Column("text"),
        "Caption": Column("text"),
        "Status": Column("lookup", STATUS_ENTITY),
        "StartDate": Column("datetime"),
        "CompleteDate": Column("datetime"),
    },
}
