"""What is particular to the S3 store (the contract both stores keep is in test_blobs.py): the bucket layout,
the bucket made when missing, server-side assembly of full-sized parts, and choosing it from the settings."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from core.settings import Settings
from storage import open_store
from storage.base import PartInfo, read_all
from storage.s3 import MIN_PART, S3BlobStore
from tests.factories.storage import s3_client


def names(store: S3BlobStore, prefix: str = "") -> list[str]:
    return sorted(
        o.object_name for o in store.client.list_objects(store.bucket, prefix=prefix, recursive=True)
    )


def spy(monkeypatch, store: S3BlobStore, method: str) -> list[str]:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    real = getattr(store.client, method)

    def wrapper(bucket, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(name)
        return real(bucket, name, *args, **kwargs)

    monkeypatch.setattr(store.client, method, wrapper)
    return calls


def test_bucket_is_created_when_missing_and_shared_by_processes(s3_endpoint):
    bucket = f"new-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_endpoint)
    assert not client.bucket_exists(bucket)
    first = S3BlobStore(client, bucket)
    assert client.bucket_exists(bucket)
    info = first.put([b"tender documents"])
    second = S3BlobStore(s3_client(s3_endpoint), bucket)  # another web process on the same bucket
    assert read_all(second, info.key) == b"tender documents"
    assert names(second) == [f"blobs/{info.key}"]
    assert second.check() == "ok"


def test_check_reports_a_missing_bucket(s3_store):
    s3_store.client.remove_bucket(s3_store.bucket)
    with pytest.raises(RuntimeError, match="missing"):
        s3_store.check()


def test_full_sized_parts_are_assembled_inside_the_service(s3_endpoint, monkeypatch):
    store = S3BlobStore(s3_client(s3_endpoint), f"parts-{uuid.uuid4().hex[:12]}", part_limit=MIN_PART)
    data = os.urandom(2 * MIN_PART + 777)
    pieces = [data[:MIN_PART], data[MIN_PART : 2 * MIN_PART], data[2 * MIN_PART :]]
    upload = store.begin_upload(max_size=len(data))
    for n, piece in enumerate(pieces, 1):
        store.write_part(upload, n, [piece[i : i + 65536] for i in range(0, len(piece), 65536)])
    puts = spy(monkeypatch, store, "put_object")
    composes = spy(monkeypatch, store, "compose_object")
    info = store.complete_upload(upload)
    assert info.key == hashlib.sha256(data).hexdigest() and info.size == len(data)
    assert composes == [f"blobs/{info.key}"]  # one server-side compose of the three parts
    assert puts == [f"staging/{upload}/done"]  # no blob bytes went back up through this process
    assert read_all(store, info.key) == data
    assert names(store, "staging/") == [f"staging/{upload}/done"]


def test_small_parts_are_streamed_once_more(s3_store, monkeypatch):
    upload = s3_store.begin_upload()
    for n in (1, 2, 3):
        s3_store.write_part(upload, n, [bytes([n]) * 1000])
    composes = spy(monkeypatch, s3_store, "compose_object")
    info = s3_store.complete_upload(upload)
    assert composes == []  # under 5 MiB a part cannot be a compose source; the blob is written directly
    assert read_all(s3_store, info.key) == b"\x01" * 1000 + b"\x02" * 1000 + b"\x03" * 1000


def test_every_attempt_at_a_part_is_a_new_object(s3_store, monkeypatch):
    upload = s3_store.begin_upload()
    s3_store.write_part(upload, 1, [b"first try"])
    first = names(s3_store, f"staging/{upload}/part-")
    s3_store.write_part(upload, 1, [b"second try"])
    second = names(s3_store, f"staging/{upload}/part-")
    # part objects are never overwritten: what complete() hashed is what it assembles
    assert len(first) == len(second) == 1 and first != second
    assert s3_store.parts(upload) == [PartInfo(1, 10)]
    assert read_all(s3_store, s3_store.complete_upload(upload).key) == b"second try"


def test_sweep_removes_temporary_objects_of_crashed_puts(s3_store):
    from datetime import timedelta

    from core import clock

    s3_store._put_bytes("tmp/crashed", b"half a blob")
    assert s3_store.sweep_uploads(timedelta(hours=1)) == 0
    assert names(s3_store, "tmp/") == ["tmp/crashed"]
    assert s3_store.sweep_uploads(timedelta(hours=1), now=clock.now() + timedelta(hours=2)) == 0
    assert names(s3_store, "tmp/") == []


def test_open_store_chooses_s3_from_settings(tmp_path, s3_endpoint):
    base = dict(data_dir=tmp_path, database_url="sqlite://", blob_dir=tmp_path / "blobs")
    bucket = f"settings-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        **base,
        blob_store="s3",
        s3_endpoint=s3_endpoint,
        s3_access_key="testing",  # type: ignore[arg-type]
        s3_secret_key="testing",
        s3_bucket=bucket,
        upload_part_bytes=6 * 1024 * 1024,
    )
    store = open_store(settings)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.part_limit) == (bucket, 6 * 1024 * 1024)
    assert store.check() == "ok"
    with pytest.raises(ValueError, match="S3_ENDPOINT"):
        open_store(Settings(**base, blob_store="s3"))  # type: ignore[arg-type]


def test_settings_from_the_environment(tmp_path, monkeypatch):
    from core.settings import load_settings

    monkeypatch.setenv("ETENDER_DATA", str(tmp_path))
    for name in (
        "ETENDER_MAX_BID_BYTES",
        "ETENDER_UPLOAD_PART_BYTES",
        "ETENDER_UPLOAD_EXPIRY_SECONDS",
        "ETENDER_TASK_THREADS",
        "S3_REGION",
        "CELERY_BROKER_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    defaults = load_settings()
    assert defaults.max_bid_bytes == 2 * 1024**3
    assert defaults.upload_part_bytes == 8 * 1024**2 >= MIN_PART
    assert (defaults.upload_expiry_seconds, defaults.task_threads, defaults.broker_url) == (86400, 2, "")
    monkeypatch.setenv("ETENDER_MAX_BID_BYTES", "1048576")
    monkeypatch.setenv("ETENDER_UPLOAD_PART_BYTES", "6291456")
    monkeypatch.setenv("ETENDER_UPLOAD_EXPIRY_SECONDS", "600")
    monkeypatch.setenv("ETENDER_TASK_THREADS", "4")
    monkeypatch.setenv("S3_REGION", "cn-north-1")
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    s = load_settings()
    assert (s.max_bid_bytes, s.upload_part_bytes, s.upload_expiry_seconds, s.task_threads, s.s3_region) == (
        1048576,
        6291456,
        600,
        4,
        "cn-north-1",
    )
    assert s.broker_url == "amqp://guest:guest@127.0.0.1:5672//"


def test_a_store_made_while_s3_is_down_starts_and_recovers(s3_endpoint):
    bucket = f"late-{uuid.uuid4().hex[:12]}"
    import urllib3
    from minio import Minio

    # nothing listens on the discard port; no retries so that the test does not wait out urllib3's back-off
    unreachable = Minio(
        "127.0.0.1:9",
        access_key="testing",
        secret_key="testing",
        secure=False,
        region="us-east-1",
        http_client=urllib3.PoolManager(retries=False, timeout=2),
    )
    down = S3BlobStore(unreachable, bucket)
    with pytest.raises(Exception):  # noqa: B017 - whatever the connection error, /healthz reports it
        down.check()
    down.client = s3_client(s3_endpoint)  # the service is back
    info = down.put([b"first write creates the bucket"])
    assert read_all(down, info.key) == b"first write creates the bucket"
    assert down.check() == "ok"


# ---------------------------------------------------------------- outages (issue 17)


def _dead_endpoint() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"  # closed at once: nothing listens there


def test_a_dead_service_is_unavailable_within_seconds_not_a_server_error():
    import time

    from storage.base import StoreUnavailable

    settings = Settings(
        data_dir=Path("/nonexistent"),
        database_url="sqlite://",
        blob_dir=Path("/nonexistent"),
        blob_store="s3",
        s3_endpoint=_dead_endpoint(),
        s3_access_key="testing",
        s3_secret_key="testing",
    )
    store = open_store(settings)  # a web process starts while S3 is down
    for attempt in (
        lambda: store.put([b"a tender document"]),
        lambda: list(store.open("0" * 64)),
        lambda: store.begin_upload(),
        lambda: store.check(),
    ):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            attempt()
        assert time.monotonic() - started < 5
        assert caught.value.status == 503 and caught.value.problems[0].code == "blob_store_unavailable"


def test_a_bucket_deleted_under_a_running_store_is_made_again(s3_store):
    first = s3_store.put([b"before"])
    for name in names(s3_store):
        s3_store.client.remove_object(s3_store.bucket, name)
    s3_store.client.remove_bucket(s3_store.bucket)
    info = s3_store.put([b"after the bucket was deleted"])
    assert read_all(s3_store, info.key) == b"after the bucket was deleted"
    assert s3_store.check() == "ok" and not s3_store.exists(first.key)
    upload = s3_store.begin_upload()  # and the staged uploads too
    s3_store.client.remove_object(s3_store.bucket, f"staging/{upload}/meta")
    for name in names(s3_store):
        s3_store.client.remove_object(s3_store.bucket, name)
    s3_store.client.remove_bucket(s3_store.bucket)
    assert s3_store.begin_upload() != upload
