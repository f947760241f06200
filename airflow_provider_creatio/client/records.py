"""Single records in more than one call: a create that is safe to repeat, and an upsert.

Both take a *client*: anything with ``execute(call) -> value`` (:class:`~.http.CallExecutor`: the sync
:class:`~airflow_provider_creatio.client.transport.CreatioClient`, or a test double). The requests come from
:mod:`odata`; nothing here sends bytes itself, and nothing imports Airflow.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.client.errors import CreatioConflictError, CreatioNotFoundError
from airflow_provider_creatio.client.http import CallExecutor


@dataclass(frozen=True)
class CreateOutcome:
    """A created record. ``existed`` is True when a record with that Id was already there: a retry whose first
    answer was lost, or a rerun of the same create; the record returned is then the stored one."""

    record: dict[str, Any]
    existed: bool = False

    @property
    def record_id(self) -> str:
        return str(self.record["Id"])


def create(
    client: CallExecutor,
    entity: str,
    data: Mapping[str, Any],
    record_id: str | uuid.UUID | None = None,
) -> CreateOutcome:
    """Create a record with a client-chosen Id (``record_id``, else ``data["Id"]``, else a new uuid4).

    The POST carries the Id, so the transport may repeat it after a lost answer. When the repeat, or a rerun, finds
    the Id taken (409, or a duplicate-key 500), the record is read back instead of failing: a create keyed by Id
    is idempotent, and never leaves two records."""
    call = odata.create_record(entity, data, record_id)
    new_id = call.request.json_body["Id"]
    try:
        return CreateOutcome(client.execute(call))
    except CreatioConflictError:
        return CreateOutcome(client.execute(odata.get_record(entity, new_id)), existed=True)


class UpsertAction(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"


def upsert(
    client: CallExecutor, entity: str, record_id: str | uuid.UUID, data: Mapping[str, Any]
) -> UpsertAction:
    """Update the record, or create it with that Id when it does not exist (seed 003's update semantics).

    Creatio answers a PATCH of a missing record with 404, so the create is done here. If another writer creates
    the same Id between the two calls, the create conflicts and the record is patched after all."""
    update = odata.update_record(entity, record_id, data)
    try:
        client.execute(update)
    except CreatioNotFoundError:
        try:
            client.execute(odata.create_record(entity, data, record_id))
        except CreatioConflictError:
            client.execute(update)
            return UpsertAction.UPDATED
        return UpsertAction.CREATED
    return UpsertAction.UPDATED
