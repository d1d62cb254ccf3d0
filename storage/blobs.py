"""Content-addressed blob storage. Objects are named by the SHA-256 of their bytes and never rewritten."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from core.settings import Settings

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BlobInfo:
    key: str  # hex SHA-256 of the content
    size: int


class TooLarge(Exception):
    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"blob larger than {limit} bytes")


class BlobStore(Protocol):
    def put(self, chunks: Iterable[bytes], max_size: int | None = None) -> BlobInfo: ...

    def open(self, key: str) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def check(self) -> str: ...


class LocalBlobStore:
    """Blobs as files under a directory, sharded by the first two bytes of the key."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("not a blob key")
        return self.root / key[:2] / key[2:4] / key

    def put(self, chunks: Iterable[bytes], max_size: int | None = None) -> BlobInfo:
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise TooLarge(max_size)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = digest.hexdigest()
            final = self._path(key)
            if final.exists():
                os.unlink(tmp)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, final)
                final.chmod(0o444)
            return BlobInfo(key=key, size=size)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def open(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def check(self) -> str:
        # one probe file per check: concurrent health checks must not trip over each other
        fd, probe = tempfile.mkstemp(dir=self.root / "tmp", prefix=".health-")
        os.write(fd, b"ok")
        os.close(fd)
        os.unlink(probe)
        return "ok"


def read_all(store: BlobStore, key: str) -> bytes:
    return b"".join(store.open(key))


def put_file(store: BlobStore, f: BinaryIO, max_size: int | None = None) -> BlobInfo:
    return store.put(iter(lambda: f.read(CHUNK), b""), max_size=max_size)


def open_store(settings: Settings) -> BlobStore:
    if settings.blob_store == "file":
        return LocalBlobStore(settings.blob_dir)
    raise ValueError(f"unknown blob store {settings.blob_store!r} (ETENDER_BLOB_STORE: file)")
