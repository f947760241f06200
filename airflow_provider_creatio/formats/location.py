"""Where a record file is: any location as an :class:`~airflow.sdk.ObjectStoragePath`, and a write that leaves
either the whole file or nothing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from airflow_provider_creatio._compat import ObjectStoragePath
from airflow_provider_creatio.client.errors import CreatioFileError

_LOCAL_PROTOCOLS = ("file", "local", "")


def storage_path(location: ObjectStoragePath | str, conn_id: str | None = None) -> ObjectStoragePath:
    """``location`` as an ObjectStoragePath: a URI (``s3://bucket/key``, ``file:///tmp/x``) or a local path.
    ``conn_id`` names the Airflow connection that reaches the store (also writable as ``s3://conn@bucket/key``)."""
    if isinstance(location, ObjectStoragePath):
        return location if conn_id is None else ObjectStoragePath(str(location), conn_id=conn_id)
    text = str(location).strip()
    if not text:
        raise CreatioFileError("the file location is empty")
    if "://" not in text:
        text = f"file://{os.path.abspath(text)}"
    return ObjectStoragePath(text, conn_id=conn_id)


def _is_local(path: ObjectStoragePath) -> bool:
    return (path.protocol or "") in _LOCAL_PROTOCOLS


@contextmanager
def opened_for_write(path: ObjectStoragePath) -> Iterator[IO[bytes]]:
    """A binary handle on ``path``. A local file is written beside its name and renamed when complete; an object
    store shows an object only once its upload completes. A failed write leaves nothing behind."""
    if _is_local(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        target = path.parent / f".{path.name}.{uuid.uuid4().hex}.part"
    else:
        target = path
    try:
        with target.open("wb") as handle:
            yield handle
        if target is not path:
            target.rename(path)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
