"""Blob store throughput and memory: a 1 GiB file through each store, streamed both ways.

For each store (the file store on a temporary directory; the S3 store through the real minio client against
moto's S3 server, run as a separate process on loopback so that its memory is not counted here):
- put(): the file streamed in 1 MiB chunks from a generator (the way an upload arrives),
- a staged upload: the file sent as parts of ETENDER_UPLOAD_PART_BYTES (8 MiB), then complete_upload(),
- open(): the blob streamed back and hashed.
The baseline, measured in the same run, is a plain copy of the same file (shutil.copyfileobj in 1 MiB
chunks) plus SHA-256 of the bytes, since every put hashes what it stores. Memory is this process's resident
set size, sampled every 50 ms; the growth over the start of each step is what matters (it must stay flat,
far under the file size).

    .venv/bin/python bench/blob_store.py [--size-mib 1024] [--stores file,s3]

moto keeps objects in its own process (spooled to temporary files); it is a correctness stand-in, not a
fast S3, so the S3 figures are a floor: a MinIO on the same machine is faster.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.base import CHUNK, DEFAULT_PART_LIMIT, BlobStore  # noqa: E402
from storage.local import LocalBlobStore  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakRss:
    """Highest resident set size seen while the block runs (sampled; ru_maxrss only ever grows)."""

    def __enter__(self) -> PeakRss:
        self.start = rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.start) / 2**20


def file_chunks(path: Path, size: int = CHUNK) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk


def piece_by_piece(f: BinaryIO, length: int, piece: int = 65536) -> Iterator[bytes]:
    while length > 0:
        chunk = f.read(min(piece, length))
        if not chunk:
            return
        length -= len(chunk)
        yield chunk


def measure(label: str, nbytes: int, fn: Callable[[], object]) -> object:
    os.sync()  # start each step with no dirty pages from the previous one
    with PeakRss() as mem:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    print(
        f"  {label:<34} {nbytes / 2**20 / seconds:8.0f} MB/s   {seconds:6.2f} s   RSS growth "
        f"{mem.growth_mib:6.1f} MiB"
    )
    return result


def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(CHUNK)
    with path.open("wb") as f:
        written = 0
        while written < size:
            piece = block[: min(CHUNK, size - written)]
            # vary each chunk so that nothing downstream can deduplicate
            piece = written.to_bytes(8, "big") + piece[8:] if len(piece) >= 8 else piece
            f.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def baseline(src: Path, dst: Path, size: int) -> None:
    def copy_and_hash() -> None:
        digest = hashlib.sha256()
        with src.open("rb") as a, dst.open("wb") as b:
            while chunk := a.read(CHUNK):
                digest.update(chunk)
                b.write(chunk)
            b.flush()
            os.fsync(b.fileno())

    measure("baseline: file copy + SHA-256", size, copy_and_hash)
    dst.unlink()


def run_store(name: str, store: BlobStore, src: Path, size: int, expected: str) -> None:
    print(f"{name} store (part size {store.part_limit // 2**20} MiB)")
    info = measure("put() from a stream", size, lambda: store.put(file_chunks(src)))
    assert info.key == expected and info.size == size, info  # type: ignore[attr-defined]

    def staged() -> object:
        upload = store.begin_upload(max_size=size)
        with src.open("rb") as f:
            for n in range(1, -(-size // store.part_limit) + 1):
                # each part arrives as 64 KiB pieces, as a request body does: no part-sized buffer here
                store.write_part(
                    upload, n, piece_by_piece(f, min(store.part_limit, size - (n - 1) * store.part_limit))
                )
        return store.complete_upload(upload)

    info = measure("staged upload (parts + complete)", size, staged)
    assert info.key == expected and info.size == size, info  # type: ignore[attr-defined]

    def read_back() -> str:
        digest = hashlib.sha256()
        for chunk in store.open(expected):
            digest.update(chunk)
        return digest.hexdigest()

    assert measure("open() streamed back + SHA-256", size, read_back) == expected


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("moto's S3 server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--stores", default="file,s3")
    args = parser.parse_args()
    size = args.size_mib * 2**20
    with tempfile.TemporaryDirectory(prefix="etender-bench-") as tmp:
        work = Path(tmp)
        src = work / "bid.bin"
        expected = make_file(src, size)
        print(
            f"{args.size_mib} MiB file, SHA-256 {expected[:16]}...; "
            f"process RSS at start {rss() / 2**20:.0f} MiB"
        )
        baseline(src, work / "copy.bin", size)
        baseline(src, work / "copy.bin", size)  # twice: the first one can pay for the test file's writeback
        stores = args.stores.split(",")
        if "file" in stores:
            run_store(
                "file", LocalBlobStore(work / "blobs", part_limit=DEFAULT_PART_LIMIT), src, size, expected
            )
            shutil.rmtree(work / "blobs")
        if "s3" in stores:
            from minio import Minio

            from storage.s3 import S3BlobStore

            proc, endpoint = start_moto()
            try:
                client = Minio(
                    endpoint, access_key="bench", secret_key="bench", secure=False, region="us-east-1"
                )
                store = S3BlobStore(client, f"bench-{uuid.uuid4().hex[:8]}", part_limit=DEFAULT_PART_LIMIT)
                run_store("s3 (minio client -> moto server)", store, src, size, expected)
            finally:
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
