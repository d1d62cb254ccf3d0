"""The local-filesystem blob store (the embedded default): files under one level of folders, staged uploads
as part files beside a meta.json, completed by one streaming pass. See storage.base for the protocol."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from core import clock
from storage.base import (
    CHUNK,
    DEFAULT_PART_LIMIT,
    BlobInfo,
    PartInfo,
    PartsMissing,
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


class LocalBlobStore:
    """Blobs as files under a directory, in one folder per first byte of the key (two hex digits).

    Staged uploads live in `staging/<upload id>/`: `meta.json`; `data`, where part N is written in place at
    offset (N-1) x part_limit; a marker `part-0000N` holding the part's size, written only once the part is
    whole and synced (and removed when a new attempt at the part starts, so a dropped part reads as missing,
    never as half a part); and after completion `done.json` with the result, so a retried complete answers the
    same. When every part but the last is full, completing hashes `data` and renames it into place: a 2 GiB
    bid is written to disk once, not twice. Writers take a shared lock on `data` and completion an exclusive
    one (flock, so several web processes on one machine are safe)."""

    def __init__(self, root: Path, part_limit: int = DEFAULT_PART_LIMIT):
        self.root = Path(root)
        self.part_limit = part_limit
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)
        (self.root / "staging").mkdir(exist_ok=True)
        self._tmp = str(self.root / "tmp")
        self._folders: set[Path] = set()  # the blob folders made (or found) so far

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    def _legacy_path(self, key: str) -> Path:
        """Where stores written before 2026-11-26 keep a blob: two levels of folders, so a new folder for
        nearly every blob, the file system's slowest step, under a deadline burst. Read from, never written
        to."""
        return self.root / key[:2] / key[2:4] / key

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if path.exists():
            return path
        legacy = self._legacy_path(key)
        return legacy if legacy.exists() else path

    def put(self, chunks: Iterable[bytes], max_size: int | None = None) -> BlobInfo:
        """Store the chunks (bytes or any bytes-like object, e.g. memoryview) under their SHA-256. The file
        and then its folder are fsynced, so a blob whose key was returned survives a crash; a file already
        under the name is kept unless its size differs from the content's (damaged), when it is replaced."""
        digest = hashlib.sha256()
        size = 0
        tmp = os.path.join(self._tmp, secrets.token_hex(12))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)  # read-only once closed
        try:
            try:
                for chunk in chunks:
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise TooLarge(max_size)
                    digest.update(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            key = digest.hexdigest()
            final = self._path(key)
            if _size_of(final) == size or _size_of(self._legacy_path(key)) == size:
                os.unlink(tmp)  # already stored: never rewritten
            else:
                # absent; or a file of another size, which cannot be this content (damaged): replaced by it
                self._named(tmp, final)
            return BlobInfo(key=key, size=size)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _named(self, source: str | Path, final: Path) -> None:
        """Rename a synced file into place, then sync its folder so that the name survives a crash too."""
        folder = final.parent
        if folder not in self._folders:
            folder.mkdir(exist_ok=True)
            self._folders.add(folder)
        os.replace(source, final)
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def open(self, key: str) -> Iterator[bytes]:
        with self._existing(key).open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).exists() or self._legacy_path(key).exists()

    def check(self) -> str:
        # one probe file per check: concurrent health checks must not trip over each other
        fd, probe = tempfile.mkstemp(dir=self.root / "tmp", prefix=".health-")
        os.write(fd, b"ok")
        os.close(fd)
        os.unlink(probe)
        return "ok"

    # Staged uploads.

    def _staging(self, upload_id: str) -> Path:
        return self.root / "staging" / check_upload_id(upload_id)

    def _open_upload(self, upload_id: str) -> tuple[Path, int | None, int]:
        """The upload's folder, size limit and part size, if it is open. The part size is the one the upload
        began with: part N sits at (N-1) x part size even if the setting changes meanwhile."""
        folder = self._staging(upload_id)
        try:
            meta = json.loads((folder / "meta.json").read_bytes())
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None
        if (folder / "done.json").exists():
            raise UploadNotFound(upload_id)
        max_size = meta.get("max_size")
        return folder, max_size if isinstance(max_size, int) else None, int(meta["part_limit"])

    @staticmethod
    def _sizes(folder: Path) -> dict[int, int]:
        """The parts whose bytes are whole in the data file, with their sizes (from the part markers). The
        folder removed meanwhile (the upload aborted or swept just now) is UploadNotFound, as it is everywhere
        else."""
        sizes = {}
        try:
            markers = list(folder.glob("part-[0-9][0-9][0-9][0-9][0-9]"))
        except FileNotFoundError:  # removed while it was listed
            markers = []
        if not markers and not folder.is_dir():
            raise UploadNotFound(folder.name)
        for marker in markers:
            try:
                sizes[int(marker.name[5:])] = int(marker.read_text())
            except (FileNotFoundError, ValueError):
                continue  # being rewritten this moment: missing until it is whole
        return sizes

    def _lock_data(self, folder: Path, upload_id: str, mode: int) -> int:
        try:
            fd = os.open(folder / "data", os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None  # aborted or swept just now
        fcntl.flock(fd, mode)
        return fd

    def begin_upload(self, max_size: int | None = None) -> str:
        upload_id = new_upload_id()
        folder = self._staging(upload_id)
        folder.mkdir()
        _write_atomic(folder, "meta.json", meta_json(max_size, self.part_limit, clock.now()))
        return upload_id

    def write_part(self, upload_id: str, number: int, chunks: Iterable[bytes]) -> PartInfo:
        check_part_number(number)
        folder, max_size, part_limit = self._open_upload(upload_id)
        check_part_within(number, max_size, part_limit)
        others = sum(size for n, size in self._sizes(folder).items() if n != number)
        budget, is_part = part_budget(part_limit, max_size, others)
        error = TooLarge(part_limit, part=True) if is_part else TooLarge(max_size or 0)
        fd = self._lock_data(folder, upload_id, fcntl.LOCK_SH)  # parts are written side by side
        try:
            if (folder / "done.json").exists() or not (folder / "meta.json").exists():
                raise UploadNotFound(upload_id)  # completed or aborted while this request waited
            marker = folder / f"part-{number:05d}"
            marker.unlink(missing_ok=True)  # from here until the part is whole again it counts as missing
            offset = (number - 1) * part_limit
            size = 0
            for chunk in limited(chunks, budget, error):
                view = memoryview(chunk)
                while view:
                    written = os.pwrite(fd, view, offset + size)
                    view = view[written:]
                    size += written
            os.fdatasync(fd)  # a part reported as stored survives a crash
            _write_atomic(folder, marker.name, str(size).encode())
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None  # aborted or swept while the part was arriving
        finally:
            os.close(fd)
        return PartInfo(number, size)

    def parts(self, upload_id: str) -> list[PartInfo]:
        folder, _, _ = self._open_upload(upload_id)
        return [PartInfo(n, size) for n, size in sorted(self._sizes(folder).items())]

    def complete_upload(self, upload_id: str) -> BlobInfo:
        folder = self._staging(upload_id)
        if (done := _read_done(folder)) is not None:
            return done
        folder, max_size, part_limit = self._open_upload(upload_id)
        fd = self._lock_data(folder, upload_id, fcntl.LOCK_EX)  # waits for parts still being written
        try:
            if (done := _read_done(folder)) is not None:
                return done  # a concurrent complete finished first
            if not (folder / "meta.json").exists():
                raise UploadNotFound(upload_id)
            sizes = self._sizes(folder)
            if missing := missing_parts(sizes):
                raise PartsMissing(missing)
            numbers = sorted(sizes)
            total = sum(sizes.values())
            if max_size is not None and total > max_size:
                raise TooLarge(max_size)
            if all(sizes[n] == part_limit for n in numbers[:-1]):
                # Full parts sit end to end in the data file: hash it and rename it into place, no copy.
                # Writers hold the shared lock, so none is halfway; one that waits finds done.json and stops.
                os.ftruncate(fd, total)  # drop bytes of a dropped attempt at a later part
                digest = hashlib.sha256()
                for chunk in _read_range(fd, 0, total):
                    digest.update(chunk)
                os.fsync(fd)
                info = BlobInfo(digest.hexdigest(), total)
                if not self.exists(info.key):
                    os.fchmod(fd, 0o444)
                    self._named(folder / "data", self._path(info.key))
            else:
                # Short parts in the middle leave gaps: stream the parts into a new blob instead.
                def read_parts() -> Iterator[bytes]:
                    for n in numbers:
                        yield from _read_range(fd, (n - 1) * part_limit, sizes[n])

                info = self.put(read_parts(), max_size=max_size)
            _write_atomic(folder, "done.json", json.dumps({"key": info.key, "size": info.size}).encode())
        finally:
            os.close(fd)
        (folder / "data").unlink(missing_ok=True)
        for n in numbers:
            (folder / f"part-{n:05d}").unlink(missing_ok=True)
        return info

    def abort_upload(self, upload_id: str) -> None:
        shutil.rmtree(self._staging(upload_id), ignore_errors=True)

    def sweep_uploads(self, max_age: timedelta, now: datetime | None = None) -> int:
        """Remove staged uploads untouched for longer than max_age (and temporary files a crash left);
        returns how many uploads were removed."""
        cutoff = ((now or clock.now()) - max_age).timestamp()
        removed = 0
        for folder in (self.root / "staging").iterdir():
            try:
                last = max([folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.iterdir()])
            except FileNotFoundError:
                continue  # completed or aborted meanwhile
            if last < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        for tmp in (self.root / "tmp").iterdir():
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
            except FileNotFoundError:
                pass
        return removed


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _read_range(fd: int, start: int, length: int) -> Iterator[bytes]:
    end = start + length
    while start < end:
        chunk = os.pread(fd, min(CHUNK, end - start), start)
        if not chunk:
            raise OSError(f"staged data ends at byte {start}, before the parts it records")
        start += len(chunk)
        yield chunk


def _read_done(folder: Path) -> BlobInfo | None:
    try:
        done = json.loads((folder / "done.json").read_bytes())
    except FileNotFoundError:
        return None
    return BlobInfo(done["key"], done["size"])


def _write_atomic(folder: Path, name: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, folder / name)
