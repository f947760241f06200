"""The bytes of stream columns (a file record's ``Data``): one ``Blob`` per (entity, record id, column), beside the
entity store that holds the records.

A blob stays in memory up to ``MEMORY_LIMIT`` bytes; past it, it moves to a file of its own in a temporary
directory the store creates on first need and removes on ``clear`` (every reset) and ``close`` (the server's
stop), or when it is garbage-collected. Replacing or deleting a blob unlinks its file; a download that opened it
before keeps reading its own copy, as POSIX keeps an unlinked file alive for the handles open on it.

``FileStore`` also keeps the chunked uploads under way (``file_chunks.py`` decides where a chunk goes): a new
version of a file is assembled beside the stored one, which stays readable until the last byte arrives.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

MEMORY_LIMIT = 1024 * 1024  # bytes a blob may hold in memory; a larger one lives on disk
READ_SIZE = 256 * 1024  # the pieces a download is streamed in


class StreamKey(NamedTuple):
    entity: str
    record_id: str  # lower case
    column: str


class Blob:
    """One stream's bytes, written by ``append`` in order: in memory while small, then in a file of its own."""

    def __init__(self, directory: Callable[[], Path], mime_type: str) -> None:
        self.mime_type = mime_type
        self.size = 0
        self.path: Path | None = None  # the file holding the bytes once they outgrew MEMORY_LIMIT
        self._memory = bytearray()
        self._directory = directory
        self._hash = hashlib.sha256()

    def append(self, data: bytes) -> None:
        if self.path is None and self.size + len(data) > MEMORY_LIMIT:
            self._spill()
        if self.path is None:
            self._memory += data
        else:
            with self.path.open("ab") as file:
                file.write(data)
        self.size += len(data)
        self._hash.update(data)

    def read(self, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``start``."""
        if self.path is None:
            return bytes(self._memory[start : start + length])
        with self.path.open("rb") as file:
            file.seek(start)
            return file.read(length)

    def open(self) -> BinaryIO:
        """A handle on the bytes as they are now (the caller closes it); later changes do not reach it."""
        if self.path is None:
            return io.BytesIO(bytes(self._memory))
        return self.path.open("rb")

    def digest(self) -> bytes:
        """SHA-256 of the bytes: tells a re-upload of the same file from a new one without reading either."""
        return self._hash.digest()

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        self._memory = bytearray()

    def _spill(self) -> None:
        with tempfile.NamedTemporaryFile(dir=self._directory(), suffix=".bin", delete=False) as file:
            file.write(self._memory)
        self.path = Path(file.name)
        self._memory = bytearray()


def stream_chunks(handle: BinaryIO) -> Iterator[bytes]:
    """The bytes behind ``handle`` in READ_SIZE pieces, closing it at the end (or when the reader stops)."""
    with handle:
        while piece := handle.read(READ_SIZE):
            yield piece


@dataclass
class Upload:
    """A chunked upload under way: the total its chunks announced, and the bytes received so far, in order."""

    total: int
    blob: Blob


class Change(Enum):
    """What storing a blob did: the first bytes of the stream, new bytes over old ones, or the same bytes again."""

    NEW = "new"
    REPLACED = "replaced"
    SAME = "same"


class FileStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._stored: dict[StreamKey, Blob] = {}
        self._uploads: dict[StreamKey, Upload] = {}
        self._directory: Path | None = None
        self._cleanup: weakref.finalize[Any, Any] | None = None

    @property
    def directory(self) -> Path | None:
        """The directory of the blobs kept on disk; None until the first one is."""
        return self._directory

    def new_blob(self, mime_type: str) -> Blob:
        return Blob(self._disk, mime_type)

    def get(self, key: StreamKey) -> Blob | None:
        with self._lock:
            return self._stored.get(key)

    def open(self, key: StreamKey) -> tuple[Blob, BinaryIO] | None:
        """The stored blob and a handle on its bytes, taken together so that a replacement cannot come between."""
        with self._lock:
            blob = self._stored.get(key)
            return None if blob is None else (blob, blob.open())

    def store(self, key: StreamKey, blob: Blob) -> Change:
        """Make ``blob`` the stream's bytes; identical bytes leave the stored blob (and the record) as they were."""
        with self._lock:
            old = self._stored.get(key)
            if old is not None and old.size == blob.size and old.digest() == blob.digest():
                blob.discard()
                return Change.SAME
            self._stored[key] = blob
            if old is not None:
                old.discard()
            return Change.NEW if old is None else Change.REPLACED

    def delete(self, key: StreamKey) -> bool:
        """Forget the stream's bytes and any upload of it under way; whether there were bytes."""
        with self._lock:
            self.drop_upload(key)
            blob = self._stored.pop(key, None)
            if blob is not None:
                blob.discard()
            return blob is not None

    # -- chunked uploads ----------------------------------------------------------------------------------------

    def upload(self, key: StreamKey) -> Upload | None:
        with self._lock:
            return self._uploads.get(key)

    def start_upload(self, key: StreamKey, total: int, mime_type: str) -> Upload:
        """A new upload of the stream, in place of any under way."""
        with self._lock:
            self.drop_upload(key)
            upload = self._uploads[key] = Upload(total, self.new_blob(mime_type))
            return upload

    def end_upload(self, key: StreamKey) -> None:
        """The upload is complete: its blob is the caller's to ``store``."""
        with self._lock:
            self._uploads.pop(key, None)

    def drop_upload(self, key: StreamKey) -> None:
        """Abandon the upload under way, if any (its bytes go)."""
        with self._lock:
            upload = self._uploads.pop(key, None)
            if upload is not None:
                upload.blob.discard()

    # -- for tests ----------------------------------------------------------------------------------------------

    def read_bytes(self, entity: str, record_id: str, column: str = "Data") -> bytes | None:
        """The stored bytes of a stream (None: none); reads a file on disk whole, so mind its size."""
        opened = self.open(StreamKey(entity, record_id.lower(), column))
        if opened is None:
            return None
        with opened[1] as handle:
            return handle.read()

    def path_of(self, entity: str, record_id: str, column: str = "Data") -> Path | None:
        """The file holding a stream's bytes; None when they are in memory, or there are none."""
        blob = self.get(StreamKey(entity, record_id.lower(), column))
        return None if blob is None else blob.path

    def stats(self) -> dict[str, int]:
        """Streams stored, their bytes, how many of them live on disk, and the uploads under way."""
        with self._lock:
            blobs = list(self._stored.values())
            return {
                "stored": len(blobs),
                "bytes": sum(blob.size for blob in blobs),
                "on_disk": sum(1 for blob in blobs if blob.path is not None),
                "uploads_in_progress": len(self._uploads),
            }

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every stream and upload, and remove the directory (a later blob makes a new one)."""
        with self._lock:
            self._stored.clear()
            self._uploads.clear()
            if self._cleanup is not None:
                self._cleanup()  # removes the directory with every blob's file
            self._directory = self._cleanup = None

    close = clear

    def _disk(self) -> Path:
        with self._lock:
            if self._directory is None:
                self._directory = Path(tempfile.mkdtemp(prefix="creatio-emulator-files-"))
                # Also at garbage collection and interpreter exit: a state nobody closed leaves nothing behind.
                self._cleanup = weakref.finalize(self, shutil.rmtree, self._directory, ignore_errors=True)
            return self._directory
