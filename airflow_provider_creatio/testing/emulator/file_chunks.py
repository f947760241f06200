"""Where one UploadFile chunk goes: its ``Content-Range``, and the rules that assemble a file from chunks
(docs/creatio-notes/file-upload-chunks.md).

* Chunks arrive in order: one that starts past the bytes received so far (a gap) is refused.
* A chunk may overlap what was received (a retry whose answer was lost): the overlap must hold the same bytes, and
  only what lies past it is added. A retried chunk is therefore accepted, and changes nothing.
* Every chunk states the same total (``Content-Range``'s ``/<total>``); none may end past it.
* A chunk that starts at byte 0 starts the upload (again): a rerun of the same file, or a new version of it. The
  stored bytes stay as they are until the new version's last byte arrives. A first chunk that matches the upload
  under way (same total, same bytes) is a retry, not a restart.
* With no upload under way, a chunk that starts later can only be a retry of one the stored file already holds:
  it is accepted when it matches those bytes, and refused otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from airflow_provider_creatio.testing.emulator.files_store import Blob, FileStore, StreamKey

_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+)", re.IGNORECASE)


class ChunkError(Exception):
    """A chunk refused; the message is UploadFile's ``errorInfo.message``."""


@dataclass(frozen=True)
class ContentRange:
    start: int
    end: int  # inclusive
    total: int

    @classmethod
    def parse(cls, header: str | None, body_length: int) -> ContentRange:
        """``bytes <start>-<end>/<total>`` (zero-based, inclusive), checked against itself and the body's length."""
        match = _RANGE.fullmatch((header or "").strip())
        if match is None:
            shown = "no Content-Range header" if header is None else f"Content-Range '{header}'"
            raise ChunkError(
                f"The request has {shown}: every chunk needs 'Content-Range: bytes <start>-<end>/<total>' "
                "(zero-based, inclusive)."
            )
        start, end, total = (int(group) for group in match.groups())
        if end < start:
            raise ChunkError(f"Content-Range '{header}' ends before it starts.")
        if end >= total:
            raise ChunkError(
                f"Content-Range '{header}' ends past the file's total length of {total} bytes "
                f"(the last byte is {total - 1})."
            )
        if end - start + 1 != body_length:
            raise ChunkError(
                f"Content-Range '{header}' announces {end - start + 1} bytes, but the request body holds "
                f"{body_length}."
            )
        return cls(start, end, total)

    def __str__(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.total}"


def place_chunk(
    files: FileStore, key: StreamKey, chunk: ContentRange, data: bytes, mime_type: str
) -> Blob | None:
    """Put ``data`` where ``chunk`` says; the complete file when this chunk brought its last byte (the caller
    stores it), else None. ChunkError when a rule above refuses it; nothing changes then."""
    upload = files.upload(key)
    if chunk.start == 0 and not (
        upload and upload.total == chunk.total and _agrees(upload.blob, chunk, data)
    ):
        upload = files.start_upload(key, chunk.total, mime_type)
    if upload is None:
        _check_retry_of_stored(files.get(key), key, chunk, data)
        return None
    if chunk.total != upload.total:
        raise ChunkError(
            f"{chunk} gives the file a total length of {chunk.total} bytes, but its earlier chunks gave "
            f"{upload.total}: the total must not change between chunks."
        )
    received = upload.blob.size
    if chunk.start > received:
        raise ChunkError(_gap(key, chunk, received))
    if not _agrees(upload.blob, chunk, data):
        raise ChunkError(_disagrees(key, chunk))
    upload.blob.append(data[received - chunk.start :] if received > chunk.start else data)
    if upload.blob.size < upload.total:
        return None
    files.end_upload(key)
    return upload.blob


def _agrees(blob: Blob, chunk: ContentRange, data: bytes) -> bool:
    """Whether the part of the chunk that ``blob`` already holds has the same bytes."""
    overlap = max(0, min(chunk.end + 1, blob.size) - chunk.start)
    return overlap == 0 or blob.read(chunk.start, overlap) == data[:overlap]


def _check_retry_of_stored(stored: Blob | None, key: StreamKey, chunk: ContentRange, data: bytes) -> None:
    """A later chunk with no upload under way: accepted only as a repeat of bytes the stored file holds."""
    if stored is None:
        raise ChunkError(_gap(key, chunk, 0))
    if chunk.total != stored.size:
        raise ChunkError(
            f"{chunk} gives the file a total length of {chunk.total} bytes, but its stored bytes number "
            f"{stored.size} and no upload of it is under way: a new upload starts at byte 0."
        )
    if not _agrees(stored, chunk, data):
        raise ChunkError(_disagrees(key, chunk))


def _gap(key: StreamKey, chunk: ContentRange, received: int) -> str:
    return (
        f"{chunk} starts at byte {chunk.start}, but {received} bytes of file {key.record_id} were received so far: "
        f"chunks must arrive in order, without a gap (the next one starts at byte {received})."
    )


def _disagrees(key: StreamKey, chunk: ContentRange) -> str:
    return (
        f"{chunk} overlaps bytes of file {key.record_id} received before, with different content: a repeated "
        "chunk must repeat the same bytes."
    )
