"""The archive writer (award.archive.bundle.Writer), without a database: a large file passes one chunk at a
time (never whole in memory), every file is listed with its size and SHA-256, the ZIP carries no time of its
own, and a path is written once."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import zipfile

import pytest

from award.archive import bundle

MIB = 1024 * 1024


def test_a_large_file_is_streamed_not_held(tmp_path):
    block = os.urandom(MIB)
    count = 48
    digest = hashlib.sha256()
    for _ in range(count):
        digest.update(block)
    with (tmp_path / "a.zip").open("wb") as out:
        writer = bundle.Writer(out)
        tracemalloc.start()
        listed = writer.add(
            "bids",
            bundle.File(
                "bids/000001.sealed", "application/octet-stream", lambda: (block for _ in range(count)), False
            ),
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        writer.finish({"format": bundle.FORMAT}, lambda sha: {"manifest_sha256": sha})
    assert peak < 8 * MIB, peak  # a few chunks at most, not the 48 MiB file
    assert (listed.size, listed.sha256) == (count * MIB, digest.hexdigest())
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        manifest = json.loads(zf.read(bundle.MANIFEST))
        assert manifest["files"] == [listed.as_json()]
        assert json.loads(zf.read(bundle.SEAL)) == {
            "manifest_sha256": hashlib.sha256(zf.read(bundle.MANIFEST)).hexdigest()
        }
        assert {i.date_time for i in zf.infolist()} == {bundle.ZIP_TIME}
        assert zf.getinfo("bids/000001.sealed").compress_type == zipfile.ZIP_STORED


def test_the_same_files_give_the_same_bytes():
    def make() -> bytes:
        out = io.BytesIO()
        writer = bundle.Writer(out)
        writer.add("notice", bundle.File.json("notice/tender.json", {"b": 1, "a": "招标"}))
        writer.finish({"format": bundle.FORMAT}, lambda sha: {"manifest_sha256": sha})
        return out.getvalue()

    assert make() == make()


def test_a_path_is_written_once_and_never_over_the_manifest():
    writer = bundle.Writer(io.BytesIO())
    writer.add("notice", bundle.File.raw("notice/a.txt", "text/plain", b"a"))
    with pytest.raises(ValueError):
        writer.add("notice", bundle.File.raw("notice/a.txt", "text/plain", b"b"))
    with pytest.raises(ValueError):
        writer.add("notice", bundle.File.raw(bundle.MANIFEST, "text/plain", b"b"))


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("招标文件.pdf", "招标文件.pdf"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("a\x00b", "a_b"),
        ("...", "file"),
    ],
)
def test_a_stored_name_cannot_leave_its_folder(name, safe):
    assert bundle.safe_name(name) == safe
