"""`etender audit verify-bundle FILE [--key KEYFILE]`: exit 0 with a summary when the procedure file holds,
1 naming every difference, 2 when it could not check."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from cli.main import main
from core.signing import signing_key
from tests.factories.archive import build, failed_world


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["audit", "verify-bundle", *args], catch_exceptions=False)


@pytest.fixture
def archive(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    w = failed_world(db, make, blobs, tmp_path)
    path = tmp_path / "file.zip"
    build(w, w.agency, path)
    key = tmp_path / "platform.key"
    key.write_text(w.key.verifier.encode() + "\n", encoding="utf-8")
    return w, path, key


def test_a_whole_file_verifies_with_the_key(archive):
    w, path, key = archive
    result = run(str(path), "--key", str(key))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"OK: the procedure file of {w.tender.reference} verifies with the given key"
    )
    alone = run(str(path))
    assert alone.exit_code == 0 and "bundle's own key" in alone.output


def test_every_difference_is_named_and_exits_1(archive, tmp_path):
    w, path, key = archive
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in ("notice/tender.json", "documents/index.json"):
                data = data.replace(b'"', b"'", 1)
            zout.writestr(info, data)
    result = run(str(bad), "--key", str(key))
    assert result.exit_code == 1
    assert "DIFFERENT: 2 differences" in result.output
    assert "notice/tender.json: its SHA-256" in result.output
    assert "documents/index.json: its SHA-256" in result.output


def test_a_wrong_key_exits_1(archive, tmp_path):
    _, path, _ = archive
    other = tmp_path / "other.key"
    other.write_text(signing_key(tmp_path / "x", "etender.test").verifier.encode(), encoding="utf-8")
    result = run(str(path), "--key", str(other))
    assert result.exit_code == 1 and "no known key signed this checkpoint" in result.output


def test_what_is_not_an_archive_exits_2(archive, tmp_path):
    _, _, key = archive
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert run(str(junk), "--key", str(key)).exit_code == 2
    empty_key = tmp_path / "empty.key"
    empty_key.write_text("", encoding="utf-8")
    _, path, _ = archive
    assert run(str(path), "--key", str(empty_key)).exit_code == 2
    no_manifest = tmp_path / "nomanifest.zip"
    with zipfile.ZipFile(no_manifest, "w") as z:
        z.writestr("a.txt", json.dumps({}))
    result = run(str(no_manifest), "--key", str(key))
    assert result.exit_code == 1 and "no manifest.json" in result.output
