"""`etender ocds export`: the whole history as release packages and compiled releases in JSON Lines, with a
progress bar; what it writes round-trips to the stored releases, validates, and an interrupted export resumes
without writing a release twice."""

from __future__ import annotations

import json
from decimal import Decimal

import ocdsmerge
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli.main import main
from opendata import releases, schema
from opendata.export import COMPILED, MANIFEST, RELEASES
from opendata.models import OcdsRelease
from tests.factories.ocds import procedure
from tests.factories.tenders import publish_new


@pytest.fixture
def env(monkeypatch, settings):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ETENDER_DATA", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ETENDER_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("ETENDER_PUBLIC_URL", settings.public_url)
    return settings


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["ocds", "export", *args], catch_exceptions=False)


def _world(db, make, blobs, settings) -> list[dict]:  # type: ignore[no-untyped-def]
    w = procedure(db, make, blobs)
    publish_new(w, blobs, title="A second tender")
    releases.sync(db, settings)
    stored = [json.loads(r.document) for r in db.scalars(select(OcdsRelease).order_by(OcdsRelease.seq))]
    db.commit()  # the command reads the database itself (SQLite: no transaction left open here)
    return stored


def _lines(path) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_export_round_trips_validates_and_shows_its_progress(env, db, make, blobs, tmp_path):
    stored = _world(db, make, blobs, env)
    out = tmp_path / "export"
    result = run("--out", str(out), "--package-size", "3")
    assert result.exit_code == 0, result.output
    assert "releases" in result.output and "compiled releases" in result.output  # the progress bars
    assert f"{len(stored)}/{len(stored)}" in result.output
    assert f"{len(stored)} releases in 3 packages and 2 compiled releases written" in result.output
    packages = _lines(out / RELEASES)
    assert [len(p["releases"]) for p in packages] == [3, 3, 2]
    for package in packages:
        assert schema.package_errors(package) == []
    assert [r for p in packages for r in p["releases"]] == stored  # the same releases, in feed order
    compiled = _lines(out / COMPILED)
    for doc in compiled:
        assert schema.release_errors(doc) == []
        mine = [r for r in stored if r["ocid"] == doc["ocid"]]
        expected = ocdsmerge.Merger(schema=schema.release_schema()).create_compiled_release(mine)
        assert doc == json.loads(releases.encode(expected))
    # amounts keep their exact decimal form through the export
    raw = (out / RELEASES).read_text(encoding="utf-8")
    assert "1020000.05" in raw
    assert any(
        r["value"]["amount"] == Decimal("1020000.05")
        for p in (json.loads(line, parse_float=Decimal) for line in raw.splitlines())
        for rel in p["releases"]
        for r in rel.get("bids", {}).get("details", [])
    )
    assert json.loads((out / MANIFEST).read_text())["complete"] is True


def test_an_interrupted_export_resumes_without_duplicating_a_release(env, db, make, blobs, tmp_path):
    stored = _world(db, make, blobs, env)
    out = tmp_path / "export"
    assert run("--out", str(out), "--package-size", "3").exit_code == 0
    whole = (out / RELEASES).read_bytes()
    compiled = (out / COMPILED).read_bytes()
    # cut off in the middle of the second package line and of the second compiled release
    first_end = whole.index(b"\n") + 1
    (out / RELEASES).write_bytes(whole[: first_end + 40])
    (out / COMPILED).write_bytes(compiled[: compiled.index(b"\n") + 1 + 25])
    manifest = json.loads((out / MANIFEST).read_text())
    (out / MANIFEST).write_text(json.dumps({**manifest, "complete": False}))
    result = run("--out", str(out), "--package-size", "3", "--no-sync")
    assert result.exit_code == 0, result.output
    assert result.output.count("resumed:") == 1
    ids = [r["id"] for p in _lines(out / RELEASES) for r in p["releases"]]
    assert ids == [r["id"] for r in stored]  # every release once, in order
    got = (out / COMPILED).read_bytes()
    assert got == compiled


def test_a_finished_export_starts_a_new_snapshot_with_what_came_since(env, db, make, blobs, tmp_path):
    stored = _world(db, make, blobs, env)
    out = tmp_path / "export"
    assert run("--out", str(out)).exit_code == 0
    assert json.loads((out / MANIFEST).read_text())["max_seq"] == len(stored)
    procedure(db, make, blobs, upto="published")
    db.commit()
    result = run("--out", str(out))
    assert "stored 1 new releases" in result.output
    ids = [r["id"] for p in _lines(out / RELEASES) for r in p["releases"]]
    assert len(ids) == len(set(ids)) == len(stored) + 1
