"""The bulk operations, in a module of their own: operator modules check the argument while a DAG file is parsed,
and importing the bulk flow there (with the ``$batch`` encoding under it) would slow every parse."""

from __future__ import annotations

import enum

# The XCom key under which a bulk write or a load that fails pushes its summary, for inspection.
FAILURE_REPORT_KEY = "bulk_report"


class BulkOperation(str, enum.Enum):
    """What a bulk run does to every record. A ``$batch`` request itself only creates, updates or deletes
    (:class:`~airflow_provider_creatio.client.batch.BatchKind`): an upsert becomes one of the first two once an
    existence lookup has told whether the record is there."""

    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"
    DELETE = "delete"


def check_operation(operation: str) -> str:
    """A bulk operation argument as a DAG file gives it: one of the operations, or a template rendered later."""
    known = [member.value for member in BulkOperation]
    if "{{" not in operation and operation not in known:
        raise ValueError(f"operation must be one of {', '.join(known)}, got {operation!r}")
    return operation
