"""LocalBlobStore: content-addressed, streamed, size-limited, read-only blobs."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterator

import pytest

from core.settings import Settings
from storage.blobs import CHUNK, BlobInfo, LocalBlobStore, TooLarge, open_store, put_file, read_all


def chunks_of(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def stored_files(store: LocalBlobStore) -> list[str]:
    return sorted(p.name for p in store.root.glob("??/??/*"))


def tmp_files(store: LocalBlobStore) -> list[str]:
    return sorted(p.name for p in (store.root / "tmp").iterdir())


@pytest.fixture
def store(tmp_path) -> LocalBlobStore:  # type: ignore[no-untyped-def]
    return LocalBlobStore(tmp_path / "blobs")


def test_put_and_open_round_trip_streaming(store):
    data = os.urandom(3 * CHUNK + 12345)
    info = store.put(chunks_of(data))
    key = hashlib.sha256(data).hexdigest()
    assert info == BlobInfo(key=key, size=len(data))
    assert store.exists(key)
    parts = list(store.open(key))
    assert len(parts) == 4  # read back in CHUNK-sized pieces, never all at once
    assert all(len(p) <= CHUNK for p in parts)
    assert b"".join(parts) == data
    assert read_all(store, key) == data


def test_put_consumes_a_generator_lazily_once(store):
    seen = []

    def gen() -> Iterator[bytes]:
        for i in range(5):
            seen.append(i)
            yield bytes([i]) * 10

    info = store.put(gen())
    assert seen == [0, 1, 2, 3, 4]
    assert info.size == 50


def test_blob_path_is_sharded_by_key(store):
    info = store.put([b"hello"])
    path = store.root / info.key[:2] / info.key[2:4] / info.key
    assert path.read_bytes() == b"hello"


def test_same_content_same_key_stored_once(store):
    a = store.put([b"tender ", b"documents"])
    b = store.put(chunks_of(b"tender documents", 3))
    assert a == b
    assert stored_files(store) == [a.key]
    assert tmp_files(store) == []
    c = store.put([b"other documents"])
    assert c.key != a.key
    assert stored_files(store) == sorted([a.key, c.key])


def test_empty_blob(store):
    info = store.put([])
    assert info == BlobInfo(hashlib.sha256(b"").hexdigest(), 0)
    assert read_all(store, info.key) == b""


def test_too_large_leaves_nothing_behind(store):
    with pytest.raises(TooLarge) as e:
        store.put(chunks_of(b"x" * 1000, 100), max_size=999)
    assert e.value.limit == 999
    assert tmp_files(store) == []
    assert stored_files(store) == []


def test_exactly_max_size_is_accepted(store):
    info = store.put(chunks_of(b"x" * 1000, 100), max_size=1000)
    assert info.size == 1000


def test_failing_source_leaves_nothing_behind(store):
    def broken() -> Iterator[bytes]:
        yield b"partial upload"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put(broken())
    assert tmp_files(store) == []
    assert stored_files(store) == []


@pytest.mark.parametrize("key", [
    "", "abc", "../../etc/passwd", "0" * 63, "0" * 65, "A" * 64, "g" * 64,
    "../" + "0" * 61, "0" * 62 + "/x", hashlib.sha256(b"x").hexdigest().upper(),
])
def test_invalid_keys_refused(store, key):
    with pytest.raises(ValueError):
        store.exists(key)
    with pytest.raises(ValueError):
        list(store.open(key))


def test_missing_blob(store):
    key = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        list(store.open(key))


def test_stored_files_are_read_only(store):
    info = store.put([b"sealed"])
    path = store.root / info.key[:2] / info.key[2:4] / info.key
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0
    assert mode & stat.S_IRUSR
    if os.geteuid() != 0:  # root ignores permission bits
        with pytest.raises(PermissionError):
            path.open("wb")
    # storing the same content again does not rewrite or loosen the file
    store.put([b"sealed"])
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() == b"sealed"


def test_put_file_reads_a_file_object(store):
    data = os.urandom(CHUNK + 1)
    info = put_file(store, io.BytesIO(data), max_size=CHUNK + 1)
    assert read_all(store, info.key) == data
    with pytest.raises(TooLarge):
        put_file(store, io.BytesIO(data), max_size=CHUNK)
    assert tmp_files(store) == []


def _settings(tmp_path, **changes) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(data_dir=tmp_path, database_url="sqlite://", blob_dir=tmp_path / "blobs", **changes)


def test_check_and_open_store(tmp_path):
    settings = _settings(tmp_path)
    store = open_store(settings)
    assert isinstance(store, LocalBlobStore)
    assert store.root == settings.blob_dir
    assert store.check() == "ok"
    assert tmp_files(store) == []


def test_open_store_refuses_unknown_kind(tmp_path):
    with pytest.raises(ValueError):
        open_store(_settings(tmp_path, blob_store="ftp"))
