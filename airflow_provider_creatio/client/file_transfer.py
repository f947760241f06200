"""Moving a record file's bytes over a client: an upload in chunks from any binary stream, and a download streamed
into any binary sink, each checked against what the site says of the file. The calls are :mod:`.files`'."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any

from airflow_provider_creatio.client import files, records
from airflow_provider_creatio.client.errors import (
    CreatioConflictError,
    CreatioNotFoundError,
    CreatioResponseError,
    CreatioValidationError,
)
from airflow_provider_creatio.client.http import CallExecutor


@dataclasses.dataclass(frozen=True)
class FileCopy:
    """A file moved: its record's Id, name and MIME type, its size and the SHA-256 of its bytes, and the record
    it hangs on (``parent``: None for a download read by Id alone)."""

    file_id: str
    name: str
    size: int
    sha256: str
    mime_type: str
    parent: files.FileParent | None = None
    requests: int = 0  # the upload's chunk requests, or 1 for a download

    def to_dict(self) -> dict[str, Any]:
        found = {
            "file_id": self.file_id,
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "mime_type": self.mime_type,
        }
        if self.parent is not None:
            found |= {"parent_entity": self.parent.entity, "parent_id": self.parent.record_id}
        return found


def check_destination(client: CallExecutor, parent: files.FileParent, file_id: str) -> bool:
    """Refuse, before any byte is sent, a file Id that is another record's file and a parent that does not
    exist; whether the file record exists already (an upload done before, whose bytes are sent again)."""
    try:
        existing = client.execute(files.file_record(parent.file_entity, file_id))
    except CreatioNotFoundError:
        existing = None
    if existing is not None:
        if not parent.owns(existing):
            raise CreatioConflictError(
                f"file {file_id} of {parent.file_entity} belongs to another record, not to {parent}; "
                "give this upload another file_id"
            )
        return True
    if not records.exists(client, parent.entity, parent.record_id):
        raise CreatioNotFoundError(f"the record {parent} to attach the file to does not exist")
    return False


def prepare(client: CallExecutor, upload: files.FileUpload, limits: files.UploadLimits) -> None:
    """What comes before an upload's first byte: the site's limits, the destination (:func:`check_destination`),
    and for ``SysFile`` the file record, which UploadFile fills but does not make (docs/creatio-notes/
    file-records.md)."""
    limits.check(upload.name, upload.size)
    exists = check_destination(client, upload.parent, upload.file_id)
    if upload.parent.polymorphic and not exists:
        body = {"Name": upload.name, **upload.parent.columns}
        records.create(client, upload.parent.file_entity, body, upload.file_id)


def send(
    client: CallExecutor,
    wanted: files.FileUpload,
    open_source: Callable[[], AbstractContextManager[IO[bytes]]],
    limits: files.UploadLimits,
    chunk_size: int = files.DEFAULT_CHUNK_SIZE,
) -> FileCopy:
    """A whole upload: :func:`prepare`, then the bytes of what ``open_source`` opens (:func:`upload`)."""
    prepare(client, wanted, limits)
    with open_source() as source:
        return upload(client, wanted, source, chunk_size)


def upload(
    client: CallExecutor,
    upload: files.FileUpload,
    source: IO[bytes],
    chunk_size: int = files.DEFAULT_CHUNK_SIZE,
) -> FileCopy:
    """Send ``upload.size`` bytes of ``source``, one chunk per request (each retried alone on a transient
    fault): memory holds one chunk. :func:`prepare` comes first."""
    name, size = upload.name, upload.size
    digest = hashlib.sha256()
    ranges = files.chunk_ranges(size, chunk_size)
    # One buffer for every chunk, read into and sent from: memory holds one chunk, whoever keeps a reference to a
    # request that was sent (a chunk is sent, retried and answered before the buffer is filled again).
    buffer = memoryview(bytearray(chunk_size))
    for start, end in ranges:
        chunk = buffer[: end - start]
        got = _read_into(source, chunk)
        if got != end - start:
            raise CreatioValidationError(
                f"file {name!r} ended at byte {start + got:,}, before the {size:,} bytes it had when the "
                "upload began (was it changed meanwhile?); the file in Creatio is incomplete, upload it again"
            )
        digest.update(chunk)
        client.execute(upload.chunk(start, chunk))
    if source.read(1):
        raise CreatioValidationError(
            f"file {name!r} grew past the {size:,} bytes it had when the upload began; upload it again"
        )
    return FileCopy(
        upload.file_id, name, size, digest.hexdigest(), upload.mime_type, upload.parent, requests=len(ranges)
    )


def download(
    client: CallExecutor,
    file_entity: str,
    file_id: str,
    open_target: Callable[[], AbstractContextManager[IO[bytes]]],
    *,
    expected_size: int | None = None,
) -> FileCopy:
    """The file ``file_id`` of ``file_entity`` streamed into what ``open_target`` opens (again for a retried
    try). A body whose length differs from ``Content-Length`` or ``expected_size`` (the record's ``Size``) is
    an error raised before the target is closed, so that an atomic target keeps nothing."""
    counted = _Counted(open_target, expected_size, f"download {file_entity}({file_id})")
    answer = client.execute(files.download(file_entity, file_id, counted.open))
    if answer.length is not None and answer.length != counted.size:
        raise CreatioResponseError(
            f"the download of {file_entity}({file_id}) gave {counted.size:,} bytes, not the {answer.length:,} "
            "of its Content-Length"
        )
    return FileCopy(
        file_id,
        answer.name or file_id,
        counted.size,
        counted.sha256,
        answer.mime_type or "application/octet-stream",
        requests=1,
    )


def _read_into(source: IO[bytes], target: memoryview) -> int:
    """Fill ``target`` from ``source``; the bytes read (fewer only at the end of the stream)."""
    filled = 0
    while filled < len(target):
        count = source.readinto(target[filled:])  # type: ignore[attr-defined]
        if not count:
            break
        filled += count
    return filled


class _Counted:
    """A sink that counts and hashes what goes through it, and refuses to be closed short of ``expected``."""

    def __init__(
        self,
        open_target: Callable[[], AbstractContextManager[IO[bytes]]],
        expected: int | None,
        operation: str,
    ) -> None:
        self._open_target = open_target
        self._expected = expected
        self._operation = operation
        self.size = 0
        self.sha256 = ""

    @contextmanager
    def open(self) -> Iterator[_Tee]:
        self.size, digest = 0, hashlib.sha256()
        with self._open_target() as target:
            yield _Tee(target, digest, self)
            if self._expected is not None and self.size != self._expected:
                raise CreatioResponseError(
                    f"the file has {self.size:,} bytes, not the {self._expected:,} its record says",
                    operation=self._operation,
                )
        self.sha256 = digest.hexdigest()


class _Tee:
    """What the transport writes to: the target, the digest and the count."""

    def __init__(self, target: IO[bytes], digest: hashlib._Hash, counted: _Counted) -> None:
        self._target, self._digest, self._counted = target, digest, counted

    def write(self, block: bytes) -> int:
        self._digest.update(block)
        self._counted.size += len(block)
        return self._target.write(block)
