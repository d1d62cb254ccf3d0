"""The test vector of docs/archive.md: docs/archive-vector.zip, a procedure file of a tender that failed
at its opening, verifies with docs/archive-vector.key, and its hashes are those the document states. Any
change to the format shows here: rebuild the vector with ETENDER_WRITE_VECTOR=1 (SQLite, the test below)
and update the hashes in docs/archive.md."""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import pytest

from award.archive import bundle
from core.signing import VerifierKey
from tests.factories.archive import build, failed_world

DOCS = Path(__file__).resolve().parents[3] / "docs"
VECTOR, KEY, DOC = DOCS / "archive-vector.zip", DOCS / "archive-vector.key", DOCS / "archive.md"


def _key() -> list[VerifierKey]:
    return [VerifierKey.parse(KEY.read_text(encoding="utf-8").strip())]


def test_the_vector_verifies_with_its_key_and_has_the_documented_hashes():
    verdict = bundle.verify(str(VECTOR), _key())
    assert verdict.ok, verdict.problems
    text = DOC.read_text(encoding="utf-8")
    with zipfile.ZipFile(VECTOR) as zf:
        manifest = zf.read(bundle.MANIFEST)
        seal = json.loads(zf.read(bundle.SEAL))
        for item in json.loads(manifest)["files"]:
            assert f"| `{item['path']}` | {item['size']} | `{item['sha256']}` |" in text, item["path"]
    assert f"manifest.json SHA-256: `{hashlib.sha256(manifest).hexdigest()}`" in text
    assert seal["entry"]["details"]["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    assert f"`{KEY.read_text(encoding='utf-8').strip()}`" in text


def test_one_changed_byte_of_the_vector_is_named(tmp_path):
    with zipfile.ZipFile(VECTOR) as zin, zipfile.ZipFile(tmp_path / "v.zip", "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "notice/tender.json":
                data = re.sub(rb'"title":"', b'"title":"X', data)
            zout.writestr(info, data)
    problems = bundle.verify(str(tmp_path / "v.zip"), _key()).problems
    assert len(problems) == 1 and problems[0].startswith("notice/tender.json: its SHA-256 is ")


@pytest.mark.skipif(not os.environ.get("ETENDER_WRITE_VECTOR"), reason="writes docs/archive-vector.*")
def test_write_the_vector(db, make, blobs, tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("written once, from SQLite")
    w = failed_world(db, make, blobs, tmp_path)
    build(w, w.agency, VECTOR)
    KEY.write_text(w.key.verifier.encode() + "\n", encoding="utf-8")
    with zipfile.ZipFile(VECTOR) as zf:
        manifest = zf.read(bundle.MANIFEST)
        rows = [f"| `{i['path']}` | {i['size']} | `{i['sha256']}` |" for i in json.loads(manifest)["files"]]
    (tmp_path / "rows.md").write_text("\n".join(rows), encoding="utf-8")
    print("\n".join(rows))
    print(f"manifest.json SHA-256: `{hashlib.sha256(manifest).hexdigest()}`")
