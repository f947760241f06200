"""The database's own words when a write breaks a key: what a real Creatio site passes on as a 500.

Creatio checks neither a duplicate Id nor a lookup that points nowhere before writing: the database refuses, and
the OData answer is a 500 whose message is the database error (``Terrasoft.Common.DbOperationException``).
.NET Framework sites usually run on SQL Server, .NET Core sites on PostgreSQL, so the emulator speaks the one that
fits its layout (see docs/creatio-notes/foreign-keys-and-duplicate-ids.md). Constraint names look like Creatio's
generated ones (``FK`` or ``PK`` and a hash).
"""

from __future__ import annotations

import base64
import hashlib

from airflow_provider_creatio.testing.emulator.replies import Reply, odata_error
from airflow_provider_creatio.testing.emulator.store import (
    DuplicateIdError,
    MissingReferenceError,
    StillReferencedError,
)

DB_EXCEPTION = "Terrasoft.Common.DbOperationException"
_DATABASE = "Creatio"


def _constraint(prefix: str, *parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode(), usedforsecurity=False).digest()
    return prefix + base64.b64encode(digest).decode().rstrip("=").replace("+", "x").replace("/", "y")[:26]


def duplicate_id(error: DuplicateIdError, postgres: bool) -> Reply:
    name = _constraint("PK", error.entity)
    if postgres:
        message = f'23505: duplicate key value violates unique constraint "{name}"'
    else:
        message = (
            f"Violation of PRIMARY KEY constraint '{name}'. Cannot insert duplicate key in object "
            f"'dbo.{error.entity}'. The duplicate key value is ({error.record_id}).\r\n"
            "The statement has been terminated."
        )
    return _db_error(message)


def missing_reference(error: MissingReferenceError, postgres: bool) -> Reply:
    name = _constraint("FK", error.entity, error.column)
    if postgres:
        message = f'23503: insert or update on table "{error.entity}" violates foreign key constraint "{name}"'
    else:
        statement = "UPDATE" if error.update else "INSERT"
        message = (
            f'The {statement} statement conflicted with the FOREIGN KEY constraint "{name}". The conflict '
            f'occurred in database "{_DATABASE}", table "dbo.{error.target}", column \'Id\'.\r\n'
            "The statement has been terminated."
        )
    return _db_error(message)


def still_referenced(error: StillReferencedError, postgres: bool) -> Reply:
    name = _constraint("FK", error.referrer, error.column)
    if postgres:
        message = (
            f'23503: update or delete on table "{error.entity}" violates foreign key constraint "{name}" '
            f'on table "{error.referrer}"'
        )
    else:
        message = (
            f'The DELETE statement conflicted with the REFERENCE constraint "{name}". The conflict occurred in '
            f'database "{_DATABASE}", table "dbo.{error.referrer}", column \'{error.column}\'.\r\n'
            "The statement has been terminated."
        )
    return _db_error(message)


def _db_error(message: str) -> Reply:
    return odata_error(500, f"{DB_EXCEPTION}: {message}")
