"""The procedure file (award.archive): built for a failed tender and for an awarded one with a signed
report, it verifies offline; any changed byte, a removed entry, a proof to another checkpoint or a wrong key
is named."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from award.archive import bundle
from award.archive.events import ArchiveTag
from core.signing import signing_key
from tests.factories.archive import award, build, failed_world, signed_world


@pytest.fixture
def failed(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    return failed_world(db, make, blobs, tmp_path)


@pytest.fixture
def awarded(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    return award(signed_world(db, make, blobs, tmp_path))


def _members(path) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _rewrite(src, dst, changes: dict[str, bytes | None]) -> None:  # type: ignore[no-untyped-def]
    """A copy of the archive with members replaced (None: removed)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename in changes:
                data = changes[info.filename]
                if data is None:
                    continue
            else:
                data = zin.read(info.filename)
            zout.writestr(info, data)


def test_a_failed_tenders_file_verifies(failed, tmp_path):
    path = tmp_path / "failed.zip"
    built = build(failed, failed.agency, path)
    verdict = bundle.verify(str(path), [failed.key.verifier])
    assert verdict.ok, verdict.problems
    files = _members(path)
    manifest = json.loads(files["manifest.json"])
    assert hashlib.sha256(files["manifest.json"]).hexdigest() == built.manifest_sha256
    paths = {f["path"] for f in manifest["files"]}
    assert {"notice/tender.json", "opening/record.json", "bids/index.json", bundle.ENTRIES} <= paths
    assert f"bids/{failed.bid.id:06d}.sealed" in paths
    sealed = files[f"bids/{failed.bid.id:06d}.sealed"]
    assert hashlib.sha256(sealed).hexdigest() == failed.bid.blob_key  # as submitted, its receipt's hash
    assert json.loads(files["opening/record.json"])["status"] == "failed"
    for item in manifest["files"]:
        assert hashlib.sha256(files[item["path"]]).hexdigest() == item["sha256"]
    lines = [json.loads(x) for x in files[bundle.ENTRIES].splitlines()]
    assert lines and all(x["decoded"]["subject"] == f"tender:{failed.tender.id}" for x in lines)
    assert manifest["audit"]["count"] == len(lines) == built.entries
    seal = json.loads(files["seal.json"])
    assert seal["entry"]["decoded"]["tag"] == ArchiveTag.archive_created.value
    assert seal["entry"]["details"]["manifest_sha256"] == built.manifest_sha256
    assert verdict.entries == len(lines) and verdict.files == len(manifest["files"])


def test_an_awarded_tenders_file_holds_the_signed_report_and_the_results(awarded, tmp_path):
    path = tmp_path / "awarded.zip"
    build(awarded, awarded.purchaser, path)
    verdict = bundle.verify(str(path), [awarded.key.verifier])
    assert verdict.ok, verdict.problems
    files = _members(path)
    assert files["evaluation/report.json"].decode() == awarded.report.document
    assert hashlib.sha256(files["evaluation/report.json"]).hexdigest() == awarded.report.sha256
    report_bundle = json.loads(files["evaluation/report-bundle.json"])
    assert len(report_bundle["signatures"]) == len(awarded.members)
    assert json.loads(files["results/awards.json"])[0]["id"] == awarded.award.id
    contracts = json.loads(files["results/contracts.json"])
    assert files[contracts[0]["path"]] == b"%PDF-1.7 signed contract " + b"c" * 300
    assert contracts[0]["path"].endswith("合同_contract.pdf")
    assert json.loads(files["results/publicity.json"])["report"] == awarded.report.id
    assert "opening/record-body.json" in files and "documents/index.json" in files
    entries = [json.loads(x) for x in files[bundle.ENTRIES].splitlines()]
    assert {awarded.award.audit_index, awarded.contract.audit_index, awarded.report.audit_index} <= {
        e["index"] for e in entries
    }


def test_the_report_bundle_inside_verifies_with_its_own_command(awarded, tmp_path):
    from click.testing import CliRunner

    from cli.main import main as cli

    path = tmp_path / "a.zip"
    build(awarded, awarded.monitor, path)
    inner = tmp_path / "report-bundle.json"
    inner.write_bytes(_members(path)["evaluation/report-bundle.json"])
    result = CliRunner().invoke(cli, ["evaluation", "verify-report", str(inner)])
    assert result.exit_code == 0, result.output


@pytest.fixture
def built(failed, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "good.zip"
    build(failed, failed.admin, path)
    assert bundle.verify(str(path), [failed.key.verifier]).ok
    return path


def test_a_changed_byte_in_any_file_is_named(built, failed, tmp_path):
    files = _members(built)
    manifest = json.loads(files["manifest.json"])
    for item in manifest["files"]:
        data = bytearray(files[item["path"]])
        data[len(data) // 2] ^= 0x01
        bad = tmp_path / "bad.zip"
        _rewrite(built, bad, {item["path"]: bytes(data)})
        problems = bundle.verify(str(bad), [failed.key.verifier]).problems
        assert problems and any(p.startswith(item["path"] + ":") for p in problems), (item["path"], problems)


def test_a_changed_byte_in_the_zip_itself_is_named(built, failed, tmp_path):
    raw = bytearray(built.read_bytes())
    target = f"bids/{failed.bid.id:06d}.sealed"
    with zipfile.ZipFile(built) as zf:
        info = zf.getinfo(target)
    # the stored member's data starts after its local header (30 bytes, its name, its extra field)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 40
    raw[start] ^= 0xFF
    bad = tmp_path / "flipped.zip"
    bad.write_bytes(bytes(raw))
    problems = bundle.verify(str(bad), [failed.key.verifier]).problems
    assert any(p.startswith(target + ":") for p in problems), problems


def test_a_removed_entry_is_named(built, failed, tmp_path):
    files = _members(built)
    lines = files[bundle.ENTRIES].splitlines(keepends=True)
    removed = json.loads(lines[1])["index"]
    # the entries file without the line: its hash no longer matches the manifest
    bad = tmp_path / "removed.zip"
    _rewrite(built, bad, {bundle.ENTRIES: b"".join(lines[:1] + lines[2:])})
    problems = bundle.verify(str(bad), [failed.key.verifier]).problems
    assert any(p.startswith(bundle.ENTRIES + ":") for p in problems), problems
    # the entry's proof taken out of the seal
    seal = json.loads(files["seal.json"])
    del seal["proofs"][str(removed)]
    bad2 = tmp_path / "noproof.zip"
    _rewrite(built, bad2, {"seal.json": bundle.canonical(seal)})
    problems = bundle.verify(str(bad2), [failed.key.verifier]).problems
    assert any(f"audit entry {removed} has no inclusion proof" in p for p in problems), problems
    # the line removed and the manifest rewritten to match: the manifest is no longer the one the log sealed
    manifest = json.loads(files["manifest.json"])
    shorter = b"".join(lines[:1] + lines[2:])
    for item in manifest["files"]:
        if item["path"] == bundle.ENTRIES:
            item.update(sha256=hashlib.sha256(shorter).hexdigest(), size=len(shorter))
    manifest["audit"]["count"] -= 1
    bad4 = tmp_path / "rewritten.zip"
    _rewrite(built, bad4, {bundle.ENTRIES: shorter, "manifest.json": bundle.canonical(manifest)})
    problems = bundle.verify(str(bad4), [failed.key.verifier]).problems
    assert problems[0].startswith("manifest.json: its SHA-256 is "), problems
    assert problems[1:] == ["seal.json: names another manifest than manifest.json"]
    # a file removed from the ZIP
    bad3 = tmp_path / "nofile.zip"
    _rewrite(built, bad3, {"notice/tender.json": None})
    problems = bundle.verify(str(bad3), [failed.key.verifier]).problems
    assert problems == ["notice/tender.json: listed in the manifest but not in the ZIP (removed)"]


def test_a_proof_to_another_checkpoint_is_named(built, failed, tmp_path):
    from audit.queries import checkpoints_after

    files = _members(built)
    seal = json.loads(files["seal.json"])
    older = [cp for cp in checkpoints_after(failed.db) if cp.note != seal["checkpoint"]]
    assert older
    seal["checkpoint"] = older[0].note
    bad = tmp_path / "other.zip"
    _rewrite(built, bad, {"seal.json": bundle.canonical(seal)})
    problems = bundle.verify(str(bad), [failed.key.verifier]).problems
    assert problems and all("not proved included in the signed checkpoint" in p for p in problems), problems
    assert any(p.startswith("seal.json:") for p in problems)


def test_a_wrong_key_is_named(built, tmp_path):
    other = signing_key(tmp_path / "elsewhere", "etender.test").verifier
    problems = bundle.verify(str(built), [other]).problems
    assert problems == [
        "seal.json: its checkpoint does not verify with the key: no known key signed this checkpoint"
    ]


def test_an_entry_of_another_procedure_is_named(built, failed, tmp_path):
    files = _members(built)
    manifest = json.loads(files["manifest.json"])
    manifest["subjects"] = ["tender:999999"]
    bad = tmp_path / "subject.zip"
    _rewrite(built, bad, {"manifest.json": bundle.canonical(manifest)})
    problems = bundle.verify(str(bad), [failed.key.verifier]).problems
    assert any("not this procedure" in p for p in problems)
    assert any(p.startswith("manifest.json: its SHA-256") for p in problems)


def test_an_unlisted_file_is_named(built, failed, tmp_path):
    bad = tmp_path / "extra.zip"
    with zipfile.ZipFile(built) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        zout.writestr("notice/extra.txt", b"added later")
    problems = bundle.verify(str(bad), [failed.key.verifier]).problems
    assert problems == ["notice/extra.txt: in the ZIP but not in the manifest"]
