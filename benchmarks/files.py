"""13. Record files: one large file up and down through the hook (requests, client memory, the bytes that come
back), and many small files from a real S3-compatible server (moto) to as many records and back through the two
file transfers, run twice (no second attachment)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airflow_provider_creatio.client import CreatioClient, CreatioConfig, odata
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.transfers.creatio_files_to_object_storage import (
    CreatioFilesToObjectStorageOperator,
)
from airflow_provider_creatio.transfers.object_storage_to_creatio_files import (
    ObjectStorageToCreatioFilesOperator,
)
from benchmarks.harness import CONN_ID, PASSWORD, USER, Bench, Emulator, Result, Row, Target, run_task, timed
from benchmarks.streaming import peak_mb

CHUNK = 1024 * 1024
S3_CONN_ID = "creatio_bench_s3"


def owner(emulator: Emulator, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    emulator.insert(
        "Contact", [{"Id": record_id, "Name": f"Files {n:05d}"} for n, record_id in enumerate(ids)]
    )
    return ids


def large_file(emulator: Emulator, size: int, folder: Path) -> dict[str, Any]:
    """One file of ``size`` bytes up and down through the hook: requests of each kind, the peak of the client's
    Python allocations in each direction, and whether the bytes came back the same."""
    emulator.reset(max_file_size=size + CHUNK)
    [contact] = owner(emulator, 1)
    source = folder / "large.bin"
    with source.open("wb") as out:
        for _ in range(size // CHUNK):
            out.write(os.urandom(CHUNK))
    warm = folder / "warm-up.bin"
    warm.write_bytes(os.urandom(1024))
    with CreatioHook(CONN_ID) as hook:
        hook.upload_file("Contact", contact, str(warm))  # the modules an upload imports, the limits it reads
        before = emulator.stats()
        sent: dict[str, Any] = {}
        up_mb = peak_mb(lambda: sent.update(copy=hook.upload_file("Contact", contact, str(source))))
        copy = sent["copy"]
        back = folder / "back.bin"
        down_seconds, down = timed(lambda: hook.download_file("ContactFile", copy.file_id, str(back)))
        per_path = _requests_since(emulator, before["per_path"], "FileService/Download")
        down_mb = peak_mb(lambda: hook.download_file("ContactFile", copy.file_id, str(back)))
    return {
        "size": size,
        "uploads": sum(n for path, n in per_path.items() if "UploadFile" in path),
        "downloads": sum(n for path, n in per_path.items() if "FileService/Download" in path),
        "record_writes": sum(n for path, n in per_path.items() if path.endswith("/ContactFile")),
        "upload_peak_mb": up_mb,
        "download_peak_mb": down_mb,
        "same_bytes": _sha256(source) == _sha256(back) == copy.sha256 == down.sha256,
        "download_mb_per_s": size / 2**20 / down_seconds if down_seconds else 0.0,
    }


def many_files(emulator: Emulator, count: int, size: int, bucket: str) -> dict[str, Any]:
    """``count`` files of ``size`` bytes, one per record, from S3 into Creatio (twice) and back into S3."""
    emulator.reset()
    contacts = owner(emulator, count)
    s3 = _s3_client()
    digests = {}
    for record_id in contacts:
        body = os.urandom(size)
        digests[record_id] = hashlib.sha256(body).hexdigest()
        s3.put_object(Bucket=bucket.rsplit("@", 1)[-1], Key=f"in/{record_id}/scan.bin", Body=body)
    load = ObjectStorageToCreatioFilesOperator(
        task_id="load", creatio_conn_id=CONN_ID, entity="Contact", source=f"{bucket}/in/", concurrency=8
    )
    load_seconds, loaded = timed(lambda: run_task(load))
    rerun = run_task(load)
    extract = CreatioFilesToObjectStorageOperator(
        task_id="extract", creatio_conn_id=CONN_ID, entity="Contact", path=f"{bucket}/out/", concurrency=8
    )
    extract_seconds, extracted = timed(lambda: run_task(extract))
    from airflow_provider_creatio.formats import storage_path

    manifest = [json.loads(line) for line in storage_path(extracted["manifest_uri"]).read_text().splitlines()]
    came_back = {entry["parent_id"]: entry["sha256"] for entry in manifest}
    return {
        "files": count,
        "size": size,
        "loaded": loaded["succeeded"],
        "rerun_loaded": rerun["succeeded"],
        "file_records": _count(emulator, "ContactFile"),
        "same_bytes": came_back == digests,
        "load_files_per_s": count / load_seconds,
        "extract_files_per_s": count / extract_seconds,
    }


def run(bench: Bench) -> Result:
    emulator, scale = bench.emulator, bench.scale
    with tempfile.TemporaryDirectory(prefix="creatio-bench-files-") as folder:
        large = large_file(emulator, scale.file_mb * 2**20, Path(folder))
    with _s3_bucket() as bucket:
        many = many_files(emulator, scale.small_files, 100 * 1024, bucket)
    emulator.reset()
    chunks = -(-large["size"] // CHUNK)
    three_chunks_mb = 3 * CHUNK / 2**20
    rows: list[Row] = [
        (f"{scale.file_mb} MB file: upload requests", f"{large['uploads']:,}", f"{chunks:,} chunks", ""),
        ("file record writes (UploadFile makes the record)", f"{large['record_writes']}", "at most 1", ""),
        ("download requests", f"{large['downloads']}", "1", ""),
        ("client peak memory, upload", f"{large['upload_peak_mb']:.1f} MB", f"{three_chunks_mb:g} MB", ""),
        (
            "client peak memory, download",
            f"{large['download_peak_mb']:.1f} MB",
            f"{three_chunks_mb:g} MB",
            "",
        ),
        ("download MB per second", f"{large['download_mb_per_s']:,.0f}", "", ""),
        (f"{many['files']:,} files of 100 KB: loaded per second", f"{many['load_files_per_s']:,.0f}", "", ""),
        ("extracted per second", f"{many['extract_files_per_s']:,.0f}", "", ""),
        ("file records after two loads", f"{many['file_records']:,}", f"{many['files']:,}", ""),
    ]
    return Result(
        key="files",
        title="13. Record files",
        measures=f"CreatioHook.upload_file and download_file of one {scale.file_mb} MB file in chunks of 1 MiB "
        f"(the emulator's MaxFileSize raised for it); then {many['files']:,} files of 100 KB on a real "
        "S3-compatible server (moto), one per contact, loaded with ObjectStorageToCreatioFilesOperator twice and "
        "copied back with CreatioFilesToObjectStorageOperator, concurrency 8; the emulator in its own process",
        rows=rows,
        figures={"large": large, "many": many},
        columns=("", "measured", "bound", ""),
        targets=[
            Target(
                f"upload requests = ceil(size / chunk): {large['uploads']} of {chunks}",
                large["uploads"] == chunks,
                behaviour=True,
            ),
            Target(
                f"one download request, at most one record write: {large['downloads']}, {large['record_writes']}",
                large["downloads"] == 1 and large["record_writes"] <= 1,
                behaviour=True,
            ),
            Target(
                f"the large file came back the same: {large['same_bytes']}",
                large["same_bytes"],
                behaviour=True,
            ),
            Target(
                f"client peak below 3 chunks ({three_chunks_mb:g} MB) each way: "
                f"{large['upload_peak_mb']:.1f} MB up, {large['download_peak_mb']:.1f} MB down",
                max(large["upload_peak_mb"], large["download_peak_mb"]) < three_chunks_mb,
            ),
            Target(
                f"every small file back the same, one attachment each after a rerun: {many['same_bytes']}, "
                f"{many['file_records']:,} records",
                many["same_bytes"] and many["file_records"] == many["files"] == many["rerun_loaded"],
                behaviour=True,
            ),
        ],
    )


def _requests_since(emulator: Emulator, before: dict[str, int], last: str) -> dict[str, int]:
    """Requests per path since ``before``, once the request whose path holds ``last`` is in the log: the emulator
    logs a request after its answer is sent, so a client can read the stats before the last one is counted."""
    for _ in range(100):
        after = emulator.stats()["per_path"]
        counted = {path: n - before.get(path, 0) for path, n in after.items() if n > before.get(path, 0)}
        if any(last in path for path in counted):
            return counted
        time.sleep(0.02)
    raise RuntimeError(f"the emulator never logged a request to {last}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _count(emulator: Emulator, entity: str) -> int:
    config = CreatioConfig(base_url=emulator.url, username=USER, password=PASSWORD)
    with CreatioClient(config) as client:
        return int(client.execute(odata.count_records(entity)))


_S3: dict[str, str] = {}


def _s3_client() -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=_S3["url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@contextmanager
def _s3_bucket() -> Iterator[str]:
    """A bucket on a moto server of this process, reached through the connection ``creatio_bench_s3``: its root
    URI."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    _S3["url"] = f"http://{host}:{port}"
    os.environ[f"AIRFLOW_CONN_{S3_CONN_ID.upper()}"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": _S3["url"], "region_name": "us-east-1"},
        }
    )
    name = f"bench-{uuid.uuid4().hex[:8]}"
    _s3_client().create_bucket(Bucket=name)
    try:
        yield f"s3://{S3_CONN_ID}@{name}"
    finally:
        server.stop()
