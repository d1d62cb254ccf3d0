"""LocalBlobStore: content-addressed, streamed, size-limited, read-only blobs."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterator

import pytest

from core.settings import Settings
from storage import open_store
from storage.base import CHUNK, BlobInfo, TooLarge, put_file, read_all
from storage.local import LocalBlobStore


def chunks_of(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def stored_files(store: LocalBlobStore) -> list[str]:
    return sorted(p.name for p in store.root.glob("??/*") if p.is_file())


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
    path = store.root / info.key[:2] / info.key
    assert path.read_bytes() == b"hello"


def test_blobs_in_the_earlier_two_level_layout_are_still_read_and_not_stored_again(store):
    """Stores written before 2026-11-26 keep blobs under key[:2]/key[2:4]/key: they read as before."""
    content = b"a sealed bid stored by an earlier version"
    key = hashlib.sha256(content).hexdigest()
    legacy = store.root / key[:2] / key[2:4] / key
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(content)
    assert store.exists(key) and b"".join(store.open(key)) == content
    assert store.put([content]) == BlobInfo(key, len(content))
    assert not (store.root / key[:2] / key).exists()  # not stored twice


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


@pytest.mark.parametrize(
    "key",
    [
        "",
        "abc",
        "../../etc/passwd",
        "0" * 63,
        "0" * 65,
        "A" * 64,
        "g" * 64,
        "../" + "0" * 61,
        "0" * 62 + "/x",
        hashlib.sha256(b"x").hexdigest().upper(),
    ],
)
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
    path = store.root / info.key[:2] / info.key
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


# The contract both stores keep (tests/storage/conftest.py `any_store`: the file store and the S3 store
# through the real minio client against moto's S3 server).

from datetime import timedelta  # noqa: E402

from core import clock  # noqa: E402
from storage.base import MAX_PARTS, PartInfo, PartsMissing, UploadNotFound  # noqa: E402
from tests.factories.storage import PART_LIMIT  # noqa: E402


def object_names(store) -> list[str]:  # type: ignore[no-untyped-def]
    """Every object or file the store holds, blobs and staging alike, as store-relative names."""
    if isinstance(store, LocalBlobStore):
        return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())
    return sorted(o.object_name for o in store.client.list_objects(store.bucket, recursive=True))


def blob_names(store) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.rsplit("/", 1)[-1] for n in object_names(store) if not n.startswith(("tmp/", "staging/"))]


def leftovers(store) -> list[str]:  # type: ignore[no-untyped-def]
    return [n for n in object_names(store) if n.startswith("tmp/")]


def staging(store) -> list[str]:  # type: ignore[no-untyped-def]
    return [n for n in object_names(store) if n.startswith("staging/")]


def test_contract_put_and_open_stream(any_store):
    data = os.urandom(6 * CHUNK + 4321)  # above 5 MiB: the S3 store streams it as a multipart upload
    consumed = []

    def source() -> Iterator[bytes]:
        for piece in chunks_of(data, 100_000):
            consumed.append(len(piece))
            yield piece

    info = any_store.put(source())
    assert info == BlobInfo(hashlib.sha256(data).hexdigest(), len(data))
    assert sum(consumed) == len(data)
    assert any_store.exists(info.key)
    pieces = list(any_store.open(info.key))
    assert len(pieces) > 1 and all(len(p) <= CHUNK for p in pieces)
    assert b"".join(pieces) == data
    assert blob_names(any_store) == [info.key]
    assert leftovers(any_store) == []


def test_contract_small_and_empty_blobs(any_store):
    for data in (b"", b"x", b"sealed bid"):
        info = any_store.put(chunks_of(data, 3))
        assert info == BlobInfo(hashlib.sha256(data).hexdigest(), len(data))
        assert read_all(any_store, info.key) == data


def test_contract_put_is_idempotent_and_never_rewrites(any_store, monkeypatch):
    data = os.urandom(CHUNK)
    first = any_store.put(chunks_of(data))
    writes: list[str] = []
    if isinstance(any_store, LocalBlobStore):
        path = any_store._path(first.key)
        before = path.stat()
        real_replace = os.replace
        monkeypatch.setattr(os, "replace", lambda a, b: (writes.append(str(b)), real_replace(a, b)))
    else:
        for name in ("put_object", "compose_object", "copy_object"):
            real = getattr(any_store.client, name)
            monkeypatch.setattr(
                any_store.client,
                name,
                lambda b, o, *a, _real=real, **k: (writes.append(o), _real(b, o, *a, **k))[1],
            )
    again = any_store.put(chunks_of(data, 777))
    assert again == first
    assert writes == []  # an existing address is not written again
    if isinstance(any_store, LocalBlobStore):
        after = any_store._path(first.key).stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert blob_names(any_store) == [first.key]
    assert read_all(any_store, first.key) == data


def test_contract_too_large_and_failing_sources_leave_nothing(any_store):
    big = os.urandom(6 * CHUNK)
    with pytest.raises(TooLarge) as e:
        any_store.put(chunks_of(big), max_size=len(big) - 1)
    assert e.value.limit == len(big) - 1 and not e.value.part
    assert any_store.put(chunks_of(big), max_size=len(big)).size == len(big)

    def broken() -> Iterator[bytes]:
        yield os.urandom(6 * CHUNK)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        any_store.put(broken())
    assert blob_names(any_store) == [hashlib.sha256(big).hexdigest()]
    assert leftovers(any_store) == []


def test_contract_missing_and_malformed_keys(any_store):
    key = hashlib.sha256(b"never stored").hexdigest()
    assert not any_store.exists(key)
    with pytest.raises(FileNotFoundError):
        list(any_store.open(key))
    for bad in ("", "../" + "0" * 61, key.upper(), key[:-1]):
        with pytest.raises(ValueError):
            any_store.exists(bad)
        with pytest.raises(ValueError):
            list(any_store.open(bad))
    assert any_store.check() == "ok"


def test_contract_staged_upload_in_any_order(any_store):
    data = os.urandom(3 * PART_LIMIT + 1000)
    pieces = [data[i : i + PART_LIMIT] for i in range(0, len(data), PART_LIMIT)]
    upload = any_store.begin_upload(max_size=len(data))
    assert any_store.parts(upload) == []
    for n in (3, 1, 4, 2):
        assert any_store.write_part(upload, n, chunks_of(pieces[n - 1], 10_000)) == PartInfo(
            n, len(pieces[n - 1])
        )
    assert any_store.parts(upload) == [PartInfo(i + 1, len(p)) for i, p in enumerate(pieces)]
    info = any_store.complete_upload(upload)
    assert info == BlobInfo(hashlib.sha256(data).hexdigest(), len(data))
    assert read_all(any_store, info.key) == data
    # a retried complete (the answer was lost on the way) gives the same answer; the upload is closed
    assert any_store.complete_upload(upload) == info
    with pytest.raises(UploadNotFound):
        any_store.write_part(upload, 5, [b"late"])
    with pytest.raises(UploadNotFound):
        any_store.parts(upload)
    assert blob_names(any_store) == [info.key]
    assert not [n for n in staging(any_store) if "part-" in n]  # the parts are gone once the blob exists
    assert leftovers(any_store) == []


def test_contract_upload_resumes_after_a_dropped_part(any_store):
    data = os.urandom(2 * PART_LIMIT + 5)
    pieces = [data[:PART_LIMIT], data[PART_LIMIT : 2 * PART_LIMIT], data[2 * PART_LIMIT :]]
    upload = any_store.begin_upload()
    any_store.write_part(upload, 1, [pieces[0]])
    any_store.write_part(upload, 2, [b"an earlier attempt"])

    def dropped() -> Iterator[bytes]:
        yield pieces[1][:1000]
        raise ConnectionResetError("connection dropped halfway through part 2")

    with pytest.raises(ConnectionResetError):
        any_store.write_part(upload, 2, dropped())
    # The half part left no trace: part 2 reads as missing (the file store writes parts in place) or as the
    # earlier attempt (the S3 store keeps every attempt as its own object), never as the 1000 bytes that came.
    # The client sees what is safely stored and resends from there.
    assert any_store.parts(upload) in (
        [PartInfo(1, PART_LIMIT)],
        [PartInfo(1, PART_LIMIT), PartInfo(2, len(b"an earlier attempt"))],
    )
    any_store.write_part(upload, 3, [pieces[2]])
    any_store.write_part(upload, 2, chunks_of(pieces[1], 4096))  # the resend replaces the same part
    assert any_store.parts(upload) == [PartInfo(1, PART_LIMIT), PartInfo(2, PART_LIMIT), PartInfo(3, 5)]
    info = any_store.complete_upload(upload)
    assert read_all(any_store, info.key) == data
    assert info.size == len(data)


def test_contract_upload_size_limits(any_store):
    upload = any_store.begin_upload(max_size=2 * PART_LIMIT + 10)
    with pytest.raises(TooLarge) as e:
        any_store.write_part(upload, 1, chunks_of(b"x" * (PART_LIMIT + 1), 1000))
    assert e.value.part and e.value.limit == PART_LIMIT
    any_store.write_part(upload, 1, [b"x" * PART_LIMIT])
    any_store.write_part(upload, 2, [b"y" * PART_LIMIT])
    with pytest.raises(TooLarge) as e:
        any_store.write_part(upload, 3, [b"z" * 11])  # one byte over the upload's own limit
    assert not e.value.part and e.value.limit == 2 * PART_LIMIT + 10
    assert any_store.parts(upload) == [PartInfo(1, PART_LIMIT), PartInfo(2, PART_LIMIT)]
    # rewriting a part counts only the new size against the limit
    any_store.write_part(upload, 2, [b"y" * (PART_LIMIT - 100)])
    any_store.write_part(upload, 3, [b"z" * 110])
    info = any_store.complete_upload(upload)
    assert info.size == 2 * PART_LIMIT + 10
    assert leftovers(any_store) == []


def test_contract_complete_needs_every_part(any_store):
    upload = any_store.begin_upload()
    with pytest.raises(PartsMissing) as e:
        any_store.complete_upload(upload)
    assert e.value.missing == [1]
    any_store.write_part(upload, 1, [b"a"])
    any_store.write_part(upload, 4, [b"d"])
    with pytest.raises(PartsMissing) as e:
        any_store.complete_upload(upload)
    assert e.value.missing == [2, 3]
    any_store.write_part(upload, 2, [b"b"])
    any_store.write_part(upload, 3, [b"c"])
    assert read_all(any_store, any_store.complete_upload(upload).key) == b"abcd"


def test_contract_bad_upload_ids_and_part_numbers(any_store):
    for bad in ("", "0" * 32 + "/../x", "../../etc", "Z" * 32, "0" * 32):
        with pytest.raises(UploadNotFound):
            any_store.write_part(bad, 1, [b"x"])
        with pytest.raises(UploadNotFound):
            any_store.parts(bad)
        with pytest.raises(UploadNotFound):
            any_store.complete_upload(bad)
    upload = any_store.begin_upload()
    for number in (0, -1, MAX_PARTS + 1, True, "1"):
        with pytest.raises(ValueError):
            any_store.write_part(upload, number, [b"x"])
    any_store.write_part(upload, MAX_PARTS, [b"last"])
    assert any_store.parts(upload) == [PartInfo(MAX_PARTS, 4)]


def test_contract_abort(any_store):
    upload = any_store.begin_upload()
    any_store.write_part(upload, 1, [b"withdrawn"])
    other = any_store.begin_upload()
    any_store.abort_upload(upload)
    any_store.abort_upload(upload)  # aborting twice is harmless (a retried request)
    for call in (
        lambda: any_store.parts(upload),
        lambda: any_store.complete_upload(upload),
        lambda: any_store.write_part(upload, 1, [b"x"]),
    ):
        with pytest.raises(UploadNotFound):
            call()
    assert any_store.parts(other) == []
    assert all(upload not in n for n in staging(any_store))
    assert blob_names(any_store) == []


def test_contract_sweep_removes_only_abandoned_uploads(any_store):
    stale = any_store.begin_upload()
    any_store.write_part(stale, 1, [b"abandoned"])
    done = any_store.begin_upload()
    any_store.write_part(done, 1, [b"finished"])
    info = any_store.complete_upload(done)
    assert any_store.sweep_uploads(timedelta(hours=1)) == 0
    assert any_store.parts(stale) == [PartInfo(1, 9)]
    later = clock.now() + timedelta(hours=2)
    assert (
        any_store.sweep_uploads(timedelta(hours=1), now=later) == 2
    )  # the abandoned one and the done marker
    assert staging(any_store) == []
    with pytest.raises(UploadNotFound):
        any_store.parts(stale)
    assert read_all(any_store, info.key) == b"finished"  # blobs are never swept
    assert any_store.sweep_uploads(timedelta(hours=1), now=later) == 0  # safe to run twice


def test_sweep_keeps_recent_uploads_and_removes_crash_leftovers(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs", part_limit=PART_LIMIT)
    old, fresh = store.begin_upload(), store.begin_upload()
    store.write_part(old, 1, [b"old"])
    store.write_part(fresh, 1, [b"fresh"])
    crashed = store.root / "tmp" / "tmpcrashed"
    crashed.write_bytes(b"half a blob")
    day_ago = (clock.now() - timedelta(days=1)).timestamp()
    for p in [store.root / "staging" / old, *(store.root / "staging" / old).iterdir(), crashed]:
        os.utime(p, (day_ago, day_ago))
    assert store.sweep_uploads(timedelta(hours=12)) == 1
    assert not crashed.exists()
    assert store.parts(fresh) == [PartInfo(1, 5)]
    with pytest.raises(UploadNotFound):
        store.parts(old)


def test_full_parts_become_the_blob_without_a_copy(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs", part_limit=PART_LIMIT)
    data = os.urandom(2 * PART_LIMIT + 99)
    upload = store.begin_upload()
    for n, start in enumerate(range(0, len(data), PART_LIMIT), 1):
        store.write_part(upload, n, [data[start : start + PART_LIMIT]])
    staged = (store.root / "staging" / upload / "data").stat().st_ino

    def dropped() -> Iterator[bytes]:
        yield b"z" * 5000
        raise ConnectionResetError("dropped attempt at a part past the end")

    with pytest.raises(ConnectionResetError):
        store.write_part(upload, 4, dropped())
    info = store.complete_upload(upload)
    assert info == BlobInfo(hashlib.sha256(data).hexdigest(), len(data))  # the dropped bytes were cut off
    path = store._path(info.key)
    assert path.stat().st_ino == staged  # renamed into place: the bid was written to disk once
    assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0
    assert path.read_bytes() == data
    assert sorted(p.name for p in (store.root / "staging" / upload).iterdir()) == ["done.json", "meta.json"]


def test_complete_waits_for_a_part_still_arriving(tmp_path):
    import threading

    store = LocalBlobStore(tmp_path / "blobs", part_limit=PART_LIMIT)
    upload = store.begin_upload()
    store.write_part(upload, 1, [b"a" * PART_LIMIT])
    arriving, release = threading.Event(), threading.Event()

    def slow_part() -> Iterator[bytes]:
        yield b"b" * 100
        arriving.set()
        assert release.wait(10)
        yield b"b" * 100

    writer = threading.Thread(target=store.write_part, args=(upload, 2, slow_part()))
    writer.start()
    assert arriving.wait(10)
    results: list[BlobInfo] = []
    completer = threading.Thread(target=lambda: results.append(store.complete_upload(upload)))
    completer.start()
    completer.join(0.3)
    assert completer.is_alive()  # the part being written holds completion back
    release.set()
    writer.join(10)
    completer.join(10)
    assert read_all(store, results[0].key) == b"a" * PART_LIMIT + b"b" * 200
    with pytest.raises(UploadNotFound):
        store.write_part(upload, 3, [b"too late"])


def test_an_upload_keeps_the_part_size_it_began_with(tmp_path):
    before = LocalBlobStore(tmp_path / "blobs", part_limit=PART_LIMIT)
    upload = before.begin_upload()
    before.write_part(upload, 1, [b"a" * PART_LIMIT])
    after = LocalBlobStore(tmp_path / "blobs", part_limit=2 * PART_LIMIT)  # restarted with a new setting
    after.write_part(upload, 2, [b"b" * 10])
    with pytest.raises(TooLarge):
        after.write_part(upload, 3, [b"c" * (PART_LIMIT + 1)])
    assert read_all(after, after.complete_upload(upload).key) == b"a" * PART_LIMIT + b"b" * 10


# ---------------------------------------------------------------- put: what it takes, what it finds


def test_put_fsyncs_before_naming_and_takes_bytes_like_views(store, monkeypatch):
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(
        os,
        "fsync",
        lambda fd: (
            synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"),
            real_fsync(fd),
        )[1],
    )
    monkeypatch.setattr(os, "replace", lambda a, b: (synced.append("named"), real_replace(a, b))[1])
    info = store.put([memoryview(b"a sealed "), memoryview(b"bid")])
    # the file is synced before it is named, then its folder, so that the name survives a crash as well
    assert synced == ["file", "named", "folder"] and info == BlobInfo(
        hashlib.sha256(b"a sealed bid").hexdigest(), 12
    )
    assert read_all(store, info.key) == b"a sealed bid"
    assert stat.S_IMODE(os.stat(store._path(info.key)).st_mode) == 0o444 and tmp_files(store) == []


def test_a_leftover_of_another_size_under_a_key_is_replaced_and_a_whole_blob_never_rewritten(store):
    data = os.urandom(CHUNK + 5)
    key = hashlib.sha256(data).hexdigest()
    path = store._path(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")  # a damaged file under the name (a disk fault, a hand-made copy): not the content
    assert store.put(chunks_of(data)) == BlobInfo(key, len(data))
    assert read_all(store, key) == data and stat.S_IMODE(path.stat().st_mode) == 0o444
    before = path.stat()
    assert store.put(chunks_of(data, 1000)) == BlobInfo(key, len(data))
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns) and tmp_files(store) == []


def test_contract_put_takes_views(any_store):
    data = os.urandom(6 * CHUNK + 7)  # above 5 MiB: S3's multipart path too
    view = memoryview(data)
    info = any_store.put(view[i : i + 65536] for i in range(0, len(data), 65536))
    assert info == BlobInfo(hashlib.sha256(data).hexdigest(), len(data))
    assert read_all(any_store, info.key) == data


def test_an_upload_swept_while_its_parts_are_listed_is_not_found(store, monkeypatch):
    """The sweep can remove an abandoned upload between reading its meta.json and listing its parts: that is
    UploadNotFound (the web answers 'start a new upload'), not a file-system error."""
    import shutil

    upload = store.begin_upload()
    store.write_part(upload, 1, [b"a part"])
    real = store._open_upload

    def swept_meanwhile(upload_id):  # type: ignore[no-untyped-def]
        opened = real(upload_id)
        shutil.rmtree(opened[0])
        return opened

    monkeypatch.setattr(store, "_open_upload", swept_meanwhile)
    with pytest.raises(UploadNotFound):
        store.parts(upload)


def test_contract_a_part_beyond_the_announced_size_is_refused_and_the_upload_still_completes(any_store):
    from storage.base import PartBeyondSize

    data = os.urandom(2 * PART_LIMIT + 10)  # three parts
    upload = any_store.begin_upload(max_size=len(data))
    for number in (4, 5, 10_000):
        with pytest.raises(PartBeyondSize) as e:
            any_store.write_part(upload, number, [b""])
        assert e.value.count == 3 and e.value.number == number
    assert any_store.parts(upload) == []  # nothing of the refused parts is kept
    for n, start in enumerate(range(0, len(data), PART_LIMIT), start=1):
        any_store.write_part(upload, n, [data[start : start + PART_LIMIT]])
    info = any_store.complete_upload(upload)
    assert info.size == len(data) and b"".join(any_store.open(info.key)) == data
    empty = any_store.begin_upload(max_size=PART_LIMIT)  # exactly one part: part 2 does not exist
    with pytest.raises(PartBeyondSize):
        any_store.write_part(empty, 2, [b""])
