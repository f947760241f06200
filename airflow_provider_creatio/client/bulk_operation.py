"""The bulk operations, in a module of their own: operator modules check the argument while a DAG file is parsed,
and importing the bulk flow there (with the ``$batch`` encoding under it) would slow every parse."""

from __future__ import annotations

import enum


class BulkOperation(str, enum.Enum):
    """What a bulk run does to every record. A ``$batch`` request itself only creates, updates or deletes
    (:class:`~airflow_provider_creatio.client.batch.BatchKind`): an upsert becomes one of the first two once an
    existence lookup has told whether the record is there."""

    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"
    DELETE = "delete"
