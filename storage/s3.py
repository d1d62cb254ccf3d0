"""The S3 blob store (MinIO or any S3 service) through the `minio` client.

Layout in the bucket:

    blobs/<sha256 hex>                      the blobs, content-addressed, written once
    tmp/<random>                            a large put() in flight (a crash leaves it for the sweep)
    staging/<upload id>/meta                staged upload: created time and size limit (JSON)
    staging/<upload id>/part-00001.<random> one object per attempt at a part
    staging/<upload id>/done                result of a completed upload (JSON), so a retried complete answers

Why staging is built from plain objects and not from an S3 multipart upload: several stateless web processes
serve one upload, so the staging state must live in the bucket and nowhere else; a native multipart upload
would need S3's own upload id kept somewhere, refuses parts under 5 MiB, and cannot be hashed before it is
assembled. Plain objects need none of that. Each attempt at a part gets a fresh object name and part objects
are never overwritten, so the bytes hashed at completion are exactly the bytes assembled: if a retried part
arrives meanwhile, the older object either still exists (and is what gets assembled) or was deleted (and the
copy fails, the client completes again). With parts of 5 MiB or more (the default part is 8 MiB) completion
reads the parts once to hash them and then assembles the blob inside the S3 service (UploadPartCopy: no bytes
through this process); smaller parts are streamed through once more.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, BinaryIO, ParamSpec, TypeVar, cast

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ComposeSource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from core import clock
from core.settings import Settings
from storage.base import (
    CHUNK,
    DEFAULT_PART_LIMIT,
    BlobInfo,
    PartInfo,
    PartsMissing,
    StoreUnavailable,
    TooLarge,
    UploadNotFound,
    check_key,
    check_part_number,
    check_part_within,
    check_upload_id,
    limited,
    meta_json,
    missing_parts,
    new_upload_id,
    part_budget,
)

log = logging.getLogger(__name__)

MIN_PART = (
    5 * 1024 * 1024
)  # S3's smallest part (all but the last) in a multipart upload or a server-side compose
_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchUpload"}


class _Reader(io.RawIOBase):
    """A file-like view of a stream of chunks for minio, hashing and counting what it hands over. read(n)
    returns n bytes whenever the stream has them, because minio concatenates what read() returns."""

    def __init__(self, chunks: Iterable[bytes], head: bytes = b""):
        self._chunks = iter(chunks)
        self._pending = head
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        buf = bytearray(self._pending)
        self._pending = b""
        while n < 0 or len(buf) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            buf += chunk
        if n >= 0 and len(buf) > n:
            self._pending = bytes(buf[n:])
            del buf[n:]
        out = bytes(buf)
        self.digest.update(out)
        self.size += len(out)
        return out


def _is_missing(e: S3Error) -> bool:
    return e.code in _MISSING


# Bounded waits (issue 17): without them minio's client retried a dead service for 6 to 12 s before a bidder
# got a bare 500. A connection is given 1.5 s and one more try; a read may pause 20 s (a part of 8 MiB under a
# loaded service); 5xx answers are retried once, quickly.
CONNECT_TIMEOUT = 1.5
READ_TIMEOUT = 20.0
RETRY = urllib3.Retry(
    total=2, connect=1, read=0, status=1, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)
)
P = ParamSpec("P")
R = TypeVar("R")


def http_client() -> urllib3.PoolManager:
    """minio's own pool settings, with the timeouts and retries above."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        maxsize=16,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=RETRY,
    )


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """A store operation whose S3 service does not answer raises StoreUnavailable (a 503 for the person);
    one that finds its bucket gone makes it again and tries once more (a bucket deleted under a running
    process used to stay missing until a restart)."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        store = cast("S3BlobStore", args[0])
        try:
            try:
                return method(*args, **kwargs)
            except S3Error as e:
                if e.code != "NoSuchBucket":
                    raise
                log.warning("S3 bucket %r disappeared; making it again", store.bucket)
                store._bucket_ready = False
                store._ensure_bucket()
                return method(*args, **kwargs)
        except urllib3.exceptions.HTTPError as e:  # not the client's own dropped connection
            raise StoreUnavailable() from e

    return call


def _guarded_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    except urllib3.exceptions.HTTPError as e:
        raise StoreUnavailable() from e


class S3BlobStore:
    def __init__(self, client: Minio, bucket: str, part_limit: int = DEFAULT_PART_LIMIT):
        self.client = client
        self.bucket = bucket
        self.part_limit = part_limit
        self._bucket_ready = False
        try:
            self._ensure_bucket()
        except Exception:  # noqa: BLE001 - a web process starts even while S3 is down; /healthz says so
            log.warning(
                "S3 bucket %r not reachable at start; will try again on first write", bucket, exc_info=True
            )

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        if not self.client.bucket_exists(self.bucket):
            try:
                self.client.make_bucket(self.bucket)
            except S3Error as e:  # another process created it first
                if e.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._bucket_ready = True

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        if not settings.s3_endpoint:
            raise ValueError(
                "ETENDER_BLOB_STORE=s3 needs S3_ENDPOINT (host:port), S3_ACCESS_KEY and S3_SECRET_KEY"
            )
        client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region=settings.s3_region,
            http_client=http_client(),
        )
        return cls(client, settings.s3_bucket, part_limit=settings.upload_part_bytes)

    # Plain objects.

    def _get(self, name: str) -> Iterator[bytes]:
        try:
            response = self.client.get_object(self.bucket, name)
        except S3Error as e:
            if _is_missing(e):
                raise FileNotFoundError(name) from None
            raise
        try:
            yield from response.stream(CHUNK)
        finally:
            response.close()
            response.release_conn()

    def _put_bytes(self, name: str, data: bytes) -> None:
        self._ensure_bucket()
        self.client.put_object(self.bucket, name, io.BytesIO(data), len(data))

    def _exists(self, name: str) -> bool:
        try:
            self.client.stat_object(self.bucket, name)
        except S3Error as e:
            if _is_missing(e):
                return False
            raise
        return True

    def _remove(self, names: Iterable[str]) -> None:
        objects = [DeleteObject(n) for n in names]
        if not objects:
            return
        errors = list(self.client.remove_objects(self.bucket, objects))
        if bad := [e for e in errors if e.code not in _MISSING]:
            raise RuntimeError(f"could not delete {len(bad)} objects: {bad[0].code} {bad[0].name}")

    def _compose(self, name: str, sources: list[str]) -> None:
        # server-side: the S3 service copies the bytes, nothing passes through this process
        self.client.compose_object(self.bucket, name, [ComposeSource(self.bucket, s) for s in sources])

    # The BlobStore interface.

    @_guarded
    def put(self, chunks: Iterable[bytes], max_size: int | None = None) -> BlobInfo:
        self._ensure_bucket()
        threshold = max(MIN_PART, self.part_limit)
        source = iter(limited(chunks, max_size, TooLarge(max_size or 0)))
        head = bytearray()
        for chunk in source:
            head += chunk
            if len(head) > threshold:
                break
        else:
            # the whole blob fitted in one part: its address is known, write it there directly
            data = bytes(head)
            key = hashlib.sha256(data).hexdigest()
            if not self._exists(f"blobs/{key}"):
                self._put_bytes(f"blobs/{key}", data)
            return BlobInfo(key, len(data))
        # Larger: stream it to a temporary object while hashing, then copy it to its address in the service.
        tmp = f"tmp/{secrets.token_hex(16)}"
        reader = _Reader(source, bytes(head))
        del head
        try:
            # one part in flight at a time keeps this process's memory at one part, whatever the file size
            self.client.put_object(
                self.bucket,
                tmp,
                cast(BinaryIO, reader),  # minio only calls read(); _Reader is a RawIOBase
                -1,
                part_size=threshold,
                num_parallel_uploads=1,  # type: ignore[arg-type]
            )
            key = reader.digest.hexdigest()
            if not self._exists(f"blobs/{key}"):
                self._compose(f"blobs/{key}", [tmp])
        finally:
            self._remove([tmp])
        return BlobInfo(key, reader.size)

    def open(self, key: str) -> Iterator[bytes]:
        return _guarded_stream(self._get(f"blobs/{check_key(key)}"))

    @_guarded
    def exists(self, key: str) -> bool:
        return self._exists(f"blobs/{check_key(key)}")

    @_guarded
    def check(self) -> str:
        if not self.client.bucket_exists(self.bucket):
            raise RuntimeError(f"bucket {self.bucket!r} is missing")
        return "ok"

    # Staged uploads.

    def _listing(self, upload_id: str) -> dict[str, Any]:
        """What is staged for an upload, from one LIST: meta and done present, and the newest attempt at
        each part (newest by time, then by name, so that every process picks the same one)."""
        prefix = f"staging/{check_upload_id(upload_id)}/"
        out: dict[str, Any] = {"meta": False, "done": False, "parts": {}, "all": []}
        for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
            name = obj.object_name or ""
            out["all"].append(name)
            rest = name[len(prefix) :]
            if rest in ("meta", "done"):
                out[rest] = True
            elif rest.startswith("part-") and len(rest) > 11 and rest[5:10].isdigit():
                n = int(rest[5:10])
                best = out["parts"].get(n)
                rank = (obj.last_modified, name)
                if best is None or rank > best[0]:
                    out["parts"][n] = (rank, name, obj.size or 0)
        return out

    def _max_size(self, upload_id: str) -> int | None:
        try:
            meta = json.loads(b"".join(self._get(f"staging/{upload_id}/meta")))
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None
        max_size = meta.get("max_size")
        return max_size if isinstance(max_size, int) else None

    @_guarded
    def begin_upload(self, max_size: int | None = None) -> str:
        upload_id = new_upload_id()
        self._put_bytes(f"staging/{upload_id}/meta", meta_json(max_size, self.part_limit, clock.now()))
        return upload_id

    @_guarded
    def write_part(self, upload_id: str, number: int, chunks: Iterable[bytes]) -> PartInfo:
        check_part_number(number)
        listing = self._listing(upload_id)
        if not listing["meta"] or listing["done"]:
            raise UploadNotFound(upload_id)
        max_size = self._max_size(upload_id)
        check_part_within(number, max_size, self.part_limit)
        others = sum(size for n, (_, _, size) in listing["parts"].items() if n != number)
        budget, is_part = part_budget(self.part_limit, max_size, others)
        error = TooLarge(self.part_limit, part=True) if is_part else TooLarge(int(max_size or 0))
        # A part is at most part_limit bytes: gather it, then send it in one PUT (minio would buffer it
        # anyway). A connection dropped halfway raises here and leaves nothing behind.
        buf = bytearray()
        for chunk in limited(chunks, budget, error):
            buf += chunk
        data = bytes(buf)
        del buf
        prefix = f"staging/{upload_id}/part-{number:05d}."
        older = [name for name in listing["all"] if name.startswith(prefix)]
        self._put_bytes(prefix + secrets.token_hex(8), data)
        if older:
            self._remove(older)
        return PartInfo(number, len(data))

    @_guarded
    def parts(self, upload_id: str) -> list[PartInfo]:
        listing = self._listing(upload_id)
        if not listing["meta"] or listing["done"]:
            raise UploadNotFound(upload_id)
        return [PartInfo(n, size) for n, (_, _, size) in sorted(listing["parts"].items())]

    @_guarded
    def complete_upload(self, upload_id: str) -> BlobInfo:
        listing = self._listing(upload_id)
        if listing["done"]:
            done = json.loads(b"".join(self._get(f"staging/{upload_id}/done")))
            return BlobInfo(done["key"], done["size"])
        if not listing["meta"]:
            raise UploadNotFound(upload_id)
        parts = listing["parts"]
        if missing := missing_parts(parts):
            raise PartsMissing(missing)
        max_size = self._max_size(upload_id)
        names = [parts[n][1] for n in sorted(parts)]
        if max_size is not None and sum(parts[n][2] for n in parts) > max_size:
            raise TooLarge(max_size)

        def read_parts() -> Iterator[bytes]:
            for name in names:
                yield from self._get(name)

        if all(parts[n][2] >= MIN_PART for n in sorted(parts)[:-1]):
            digest = hashlib.sha256()
            size = 0
            for chunk in limited(read_parts(), max_size, TooLarge(max_size or 0)):
                digest.update(chunk)
                size += len(chunk)
            info = BlobInfo(digest.hexdigest(), size)
            if not self._exists(f"blobs/{info.key}"):
                try:
                    self._compose(f"blobs/{info.key}", names)
                except S3Error as e:
                    if _is_missing(e):  # a retried part replaced one of these meanwhile: hash again
                        return self.complete_upload(upload_id)
                    raise
        else:
            try:
                info = self.put(read_parts(), max_size=max_size)
            except FileNotFoundError:
                return self.complete_upload(upload_id)
        self._put_bytes(
            f"staging/{upload_id}/done", json.dumps({"key": info.key, "size": info.size}).encode()
        )
        self._remove([name for name in listing["all"] if not name.endswith("/done")])
        return info

    @_guarded
    def abort_upload(self, upload_id: str) -> None:
        self._remove(self._listing(upload_id)["all"])

    @_guarded
    def sweep_uploads(self, max_age: timedelta, now: datetime | None = None) -> int:
        """Remove staged uploads untouched for longer than max_age, and temporary objects a crashed put()
        left behind; returns how many uploads were removed."""
        cutoff = (now or clock.now()) - max_age
        uploads: dict[str, list[Any]] = {}
        for obj in self.client.list_objects(self.bucket, prefix="staging/", recursive=True):
            upload_id = (obj.object_name or "").split("/")[1]
            uploads.setdefault(upload_id, []).append(obj)
        stale = [
            o.object_name
            for objs in uploads.values()
            if max(o.last_modified for o in objs) < cutoff
            for o in objs
        ]
        removed = len({name.split("/")[1] for name in stale})
        stale += [
            o.object_name
            for o in self.client.list_objects(self.bucket, prefix="tmp/")
            if o.last_modified < cutoff
        ]
        for i in range(0, len(stale), 1000):  # S3 deletes at most 1,000 objects per request
            self._remove(stale[i : i + 1000])
        return removed
