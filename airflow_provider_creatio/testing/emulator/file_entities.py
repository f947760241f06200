"""The objects that hold a record's files: ``ContactFile``, ``AccountFile``, ``CaseFile``, ``ActivityFile`` (each
with a lookup to its parent) and the polymorphic ``SysFile`` (``RecordSchemaName`` + ``RecordId``), with the
``FileType`` lookup they share.

Columns as CREATIO_API.md ("Files, limits, concurrency, deletes") lists them. ``Size`` and ``TotalSize`` are the
server's (Creatio manages them, academy "Entity file API"): set from the stored bytes, refused in an OData write
(docs/creatio-notes/file-records.md). ``Data`` is the stream column: in ``$metadata`` as ``Edm.Stream``, never in a
JSON read; its bytes live in ``files_store.FileStore``.
"""

from __future__ import annotations

from airflow_provider_creatio.testing.emulator.store import Column, EntityStore, Row

# Creatio's FileType ids (CrtBaseConsts FileConsts; CREATIO_API.md).
FILE_TYPE_IDS: dict[str, str] = {
    "File": "529bc2f8-0ee0-df11-971b-001d60e938c6",
    "Link": "539bc2f8-0ee0-df11-971b-001d60e938c6",
    "EntityLink": "549bc2f8-0ee0-df11-971b-001d60e938c6",
}
# Each typed file object and the object its files belong to (the lookup column is named after it).
FILE_PARENTS: dict[str, str] = {
    "ContactFile": "Contact",
    "AccountFile": "Account",
    "CaseFile": "Case",
    "ActivityFile": "Activity",
}
SYS_FILE = "SysFile"
FILE_ENTITIES: tuple[str, ...] = (*FILE_PARENTS, SYS_FILE)
DATA = "Data"  # the stream column of every file object
MANAGED = ("Size", "TotalSize")
# SysFile names its parent by these two columns instead of a lookup; UploadFile's parentColumnName is RecordId.
RECORD_SCHEMA, RECORD_ID = "RecordSchemaName", "RecordId"

_TEXT, _INT, _GUID = Column("text"), Column("int"), Column("guid")


def file_columns(parent: str | None) -> dict[str, Column]:
    """A file object's columns: its parent's lookup (None: SysFile's two polymorphic columns) and the file's."""
    owner = {parent: Column("lookup", parent)} if parent else {RECORD_SCHEMA: _TEXT, RECORD_ID: _GUID}
    return {
        "Name": _TEXT,
        **owner,
        "Type": Column("lookup", "FileType"),
        "Size": _INT,
        "TotalSize": _INT,
        "Url": _TEXT,
        "Version": _INT,
    }


def define_file_entities(store: EntityStore) -> None:
    store.define_entity("FileType", {"Name": _TEXT, "Description": _TEXT})
    defaults = {"TypeId": FILE_TYPE_IDS["File"], "Version": 1}
    for entity, parent in (*FILE_PARENTS.items(), (SYS_FILE, None)):
        store.define_entity(entity, file_columns(parent), defaults=defaults, media=(DATA,), managed=MANAGED)


def insert_file_types(store: EntityStore) -> None:
    for name, type_id in FILE_TYPE_IDS.items():
        store.insert("FileType", {"Id": type_id, "Name": name})


def parent_column(entity: str) -> str | None:
    """The column UploadFile's ``parentColumnName`` must name for ``entity``: ``Contact`` for ContactFile (the
    lookup, without ``Id``), ``RecordId`` for SysFile; None for an object that is not a file object."""
    if entity == SYS_FILE:
        return RECORD_ID
    return FILE_PARENTS.get(entity)


def parent_of(entity: str, record: Row) -> tuple[str, str]:
    """The (object, id) a file record belongs to: its lookup's, or SysFile's RecordSchemaName and RecordId."""
    if entity == SYS_FILE:
        return str(record[RECORD_SCHEMA]), str(record[RECORD_ID])
    parent = FILE_PARENTS[entity]
    return parent, str(record[f"{parent}Id"])


def note_stored_bytes(store: EntityStore, entity: str, record_id: str, size: int, *, replaced: bool) -> None:
    """Set a file record's ``Size``/``TotalSize`` from its bytes (0: none), and count a replacement of bytes it
    had in ``Version``. Records of objects that are not file objects (Contact's photo) have no such columns."""
    if entity not in FILE_ENTITIES:
        return
    with store.lock:
        record = store.get(entity, record_id)
        if record is None:
            return
        changes: dict[str, object] = {"Size": size, "TotalSize": size}
        if replaced:
            changes["Version"] = int(record["Version"]) + 1
        store.update(entity, record_id, changes)
