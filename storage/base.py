"""Content-addressed blob storage. Objects are named by the SHA-256 of their bytes and never rewritten.

Two stores implement `BlobStore`: `LocalBlobStore` (files, the embedded default) and `storage.s3.S3BlobStore`
(any S3 service through the `minio` client). Both stream in both directions: nothing here holds a whole blob
in memory, only one chunk (or, for S3, one part of at most `part_limit` bytes).

Large files (sealed bids, up to 2 GiB) arrive as a *staged upload* so that a dropped connection costs one
part, not the file:

    upload_id = store.begin_upload(max_size=settings.max_bid_bytes)
    store.write_part(upload_id, 1, chunks)      # any order; a retried part replaces the same part
    store.parts(upload_id)                      # -> [PartInfo(number, size), ...]: what a client resumes from
    info = store.complete_upload(upload_id)     # -> BlobInfo(key=sha256 hex, size); safe to call again
    store.abort_upload(upload_id)               # or let sweep_uploads() remove it when abandoned

Part numbers run from 1 to MAX_PARTS; every part holds at most `store.part_limit` bytes; complete() needs
parts 1..N with no gap. Errors: TooLarge (a part over the part limit, or the upload over its max_size),
UploadNotFound (unknown, aborted, swept or already completed upload id), PartsMissing (gaps at completion),
ValueError (a part number out of range or a malformed blob key), PartBeyondSize (a ValueError: a part
number past the last part of an upload of its max_size).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO, Protocol

from core.errors import N_, Problem, Unavailable

CHUNK = 1024 * 1024
MAX_PARTS = 10_000  # S3's own limit on the parts of one object; 10,000 x 8 MiB = 78 GiB, far above any bid
DEFAULT_PART_LIMIT = 8 * 1024 * 1024
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BlobInfo:
    key: str  # hex SHA-256 of the content
    size: int


@dataclass(frozen=True)
class PartInfo:
    number: int
    size: int


class TooLarge(Exception):
    def __init__(self, limit: int, part: bool = False):
        self.limit = limit
        self.part = part  # True: one part exceeded the store's part limit; False: the whole blob its max_size
        super().__init__(f"{'part' if part else 'blob'} larger than {limit} bytes")


class StoreUnavailable(Unavailable):
    """The blob store did not answer within its timeouts (storage.s3). Nothing half-written counts: a blob is
    content-addressed and a bid exists only with its receipt, so the person sends again."""

    def __init__(self) -> None:
        super().__init__(
            Problem(
                "blob_store_unavailable",
                N_(
                    "The document store is not answering just now. Try again in a minute; nothing you sent "
                    "before is lost, and a bid that has its receipt stands."
                ),
            )
        )


class UploadNotFound(LookupError):
    def __init__(self, upload_id: str):
        self.upload_id = upload_id
        super().__init__(f"no open upload {upload_id!r} (unknown, aborted, expired or already completed)")


class PartsMissing(ValueError):
    def __init__(self, missing: list[int]):
        self.missing = missing
        super().__init__(f"upload is missing parts {missing[:20]}")


class PartBeyondSize(ValueError):
    """A part number past the last part an upload of its announced size can have: stored, it could never be
    completed (the parts between would make it larger than announced)."""

    def __init__(self, number: int, count: int):
        self.number, self.count = number, count
        super().__init__(f"part {number} is beyond the {count} parts of this upload")


class BlobStore(Protocol):
    part_limit: int

    def put(self, chunks: Iterable[bytes], max_size: int | None = None) -> BlobInfo: ...

    def open(self, key: str) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def check(self) -> str: ...

    def begin_upload(self, max_size: int | None = None) -> str: ...

    def write_part(self, upload_id: str, number: int, chunks: Iterable[bytes]) -> PartInfo: ...

    def parts(self, upload_id: str) -> list[PartInfo]: ...

    def complete_upload(self, upload_id: str) -> BlobInfo: ...

    def abort_upload(self, upload_id: str) -> None: ...

    def sweep_uploads(self, max_age: timedelta, now: datetime | None = None) -> int: ...


# Helpers shared by both stores.


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("not a blob key")
    return key


def check_upload_id(upload_id: str) -> str:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        raise UploadNotFound(str(upload_id)[:40])
    return upload_id


def check_part_number(number: int) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
        raise ValueError(f"part number must be an integer from 1 to {MAX_PARTS}")
    return number


def part_count(max_size: int, part_limit: int) -> int:
    """How many parts an upload of `max_size` bytes has at most (at least one: an empty upload has part 1)."""
    return max(1, -(-max_size // part_limit))


def check_part_within(number: int, max_size: int | None, part_limit: int) -> None:
    if max_size is not None and number > part_count(max_size, part_limit):
        raise PartBeyondSize(number, part_count(max_size, part_limit))


def new_upload_id() -> str:
    return secrets.token_hex(16)


def part_budget(part_limit: int, max_size: int | None, others: int) -> tuple[int, bool]:
    """How many bytes the next part may hold, and whether the part limit (True) or the upload's remaining
    allowance (False) is what binds."""
    if max_size is None or max_size - others >= part_limit:
        return part_limit, True
    return max(0, max_size - others), False


def missing_parts(numbers: Iterable[int]) -> list[int]:
    present = sorted(set(numbers))
    if not present:
        return [1]
    return sorted(set(range(1, present[-1] + 1)) - set(present))


def limited(chunks: Iterable[bytes], limit: int | None, error: TooLarge) -> Iterator[bytes]:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if limit is not None and size > limit:
            raise error
        if chunk:
            yield chunk


def meta_json(max_size: int | None, part_limit: int, now: datetime) -> bytes:
    return json.dumps({"created": now.isoformat(), "max_size": max_size, "part_limit": part_limit}).encode()


def read_all(store: BlobStore, key: str) -> bytes:
    return b"".join(store.open(key))


def put_file(store: BlobStore, f: BinaryIO, max_size: int | None = None) -> BlobInfo:
    return store.put(iter(lambda: f.read(CHUNK), b""), max_size=max_size)
