"""Single records in more than one call: a create that is safe to repeat, an upsert, and an update that never
creates.

What a bare PATCH of an Id no record has does is the site's: the WSO2 Creatio connector reference documents an update creating the record
with that Id, and OData's protocol answers 404 (``docs/creatio-notes/where-the-sources-are-silent.md``). The calls
here give the same result on both kinds of site, by reading the record's Id before they write.

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
    """Update the record, or create it with that Id when it does not exist (the WSO2 connector reference's update semantics), and
    say which it did.

    The record's Id is read first: a bare PATCH would create a missing record on a site that creates on update
    and fail with 404 on another, and its answer (204) does not tell the two apart. A record that appears
    between the read and the create (another writer) makes the create conflict, and is patched after all; one
    that vanishes between the read and the PATCH is created (a 404 PATCH) or re-created by the PATCH itself."""
    update = odata.update_record(entity, record_id, data)
    if exists(client, entity, record_id):
        try:
            client.execute(update)
        except CreatioNotFoundError:
            pass  # deleted since the read, on a site answering 404: created below
        else:
            return UpsertAction.UPDATED
    try:
        client.execute(odata.create_record(entity, data, record_id))
    except CreatioConflictError:
        client.execute(update)
        return UpsertAction.UPDATED
    return UpsertAction.CREATED


def update_existing(
    client: CallExecutor, entity: str, record_id: str | uuid.UUID, data: Mapping[str, Any]
) -> None:
    """PATCH the record only if it exists: a missing one raises ``CreatioNotFoundError`` with nothing written,
    on a site that would create it on a bare PATCH too. (A record deleted between the read and the PATCH is
    re-created there: two requests cannot close that window.)"""
    update = odata.update_record(entity, record_id, data)  # every argument checked before the read
    client.execute(
        odata.get_record(entity, record_id, select="Id")
    )  # missing: CreatioNotFoundError, as a 404 PATCH
    client.execute(update)


def exists(client: CallExecutor, entity: str, record_id: str | uuid.UUID) -> bool:
    """Whether a record with that Id exists: a GET of its Id alone."""
    try:
        client.execute(odata.get_record(entity, record_id, select="Id"))
    except CreatioNotFoundError:
        return False
    return True
