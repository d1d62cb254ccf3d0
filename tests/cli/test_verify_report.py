"""`etender evaluation verify-report` (docs/evaluation-report.md, "Verifying"): the bundle the platform serves
verifies offline and against the running platform; a changed byte of the document, a signature over another
hash, a tampered audit entry or an unsigned checkpoint each exit 1 naming what differs; an unreadable file
2."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from click.testing import CliRunner

from audit import checkpoints
from audit.queries import latest_checkpoint
from cli.evaluation import evaluation
from core.signing import signing_key, verifier_keys
from evaluation.report import rules, signing
from tests.factories.report import public_hex, report_world, sign_as
from tests.factories.room import room_world
from tests.support import serving


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(evaluation, ["verify-report", *args], catch_exceptions=False)


@pytest.fixture
def bundle(db, make, blobs, tmp_path, settings):  # type: ignore[no-untyped-def]
    """Every member signed (one with a dissent), a checkpoint signed over the entries: the bundle as a
    monitor gets it."""
    r = room_world(db, make, blobs, tmp_path)
    report_world(r)
    signing.generate(db, r.members[0][1], r.tender.id)
    for seat, actor in r.members:
        signing.register_key(db, actor, r.tender.id, public_hex(r.private[seat.id]))
    for i in range(len(r.members)):
        sign_as(r, i, dissent="评分偏高" if i == 2 else "")
    db.commit()
    checkpoints.sign(db, signing_key(settings.data_dir, settings.origin), settings.origin)
    db.commit()
    keys = [k.encode() for k in verifier_keys(settings.data_dir, settings.origin)]
    doc = signing.bundle(db, r.monitor, r.tender.id, latest_checkpoint(db), keys)
    db.commit()
    return r, doc


def write(tmp_path, doc, name: str = "bundle.json") -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_the_served_bundle_verifies_offline(bundle, tmp_path):
    r, doc = bundle
    got = run(write(tmp_path, doc))
    assert got.exit_code == 0, got.output
    assert got.output.startswith("OK:") and f"{len(r.members)} signed" in got.output
    assert "1 with a written dissent" in got.output


def test_any_changed_byte_of_the_document_fails(bundle, tmp_path):
    _, doc = bundle
    changed = copy.deepcopy(doc)
    changed["document"]["ranking"]["ranking"][0]["total"] = "99.99"
    got = run(write(tmp_path, changed))
    assert got.exit_code == 1 and "DIFFERENT: the document's SHA-256" in got.output
    renamed = copy.deepcopy(doc)
    renamed["document"]["committee"]["members"][0]["name"] += "x"
    assert run(write(tmp_path, renamed)).exit_code == 1


def test_a_signature_over_another_hash_fails(bundle, tmp_path):
    r, doc = bundle
    changed = copy.deepcopy(doc)
    s = changed["signatures"][1]
    seat = s["seat"]
    s["signature"] = r.private[seat].sign(rules.signing_message("ab" * 32)).hex()
    got = run(write(tmp_path, changed))
    assert got.exit_code == 1
    assert f"DIFFERENT: seat {seat}'s signature does not verify" in got.output


def test_a_tampered_audit_entry_fails(bundle, tmp_path):
    _, doc = bundle
    changed = copy.deepcopy(doc)
    item = next(e for e in changed["audit"]["entries"] if e["index"] == changed["audit_index"])
    entry = json.loads(base64.b64decode(item["entry"]))
    entry["subject"] = "tender:999"
    item["entry"] = base64.b64encode(json.dumps(entry).encode()).decode()
    got = run(write(tmp_path, changed))
    assert got.exit_code == 1 and f"audit entry {item['index']}" in got.output
    # the details changed with the entry's digest left alone
    changed = copy.deepcopy(doc)
    item = next(e for e in changed["audit"]["entries"] if e["index"] == changed["audit_index"])
    item["details"]["report_sha256"] = "0" * 64
    got = run(write(tmp_path, changed))
    assert got.exit_code == 1 and "details do not match" in got.output


def test_a_checkpoint_signed_by_another_key_fails(bundle, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from core.signing import SigningKey

    _, doc = bundle
    other = SigningKey(doc["audit"]["verifier_keys"][0].split("+")[0], Ed25519PrivateKey.generate())
    got = run(write(tmp_path, doc), "--key", other.verifier.encode())
    assert got.exit_code == 1 and "checkpoint does not verify" in got.output


def test_an_unreadable_file_exits_2(tmp_path):
    got = run(str(tmp_path / "missing.json"))
    assert got.exit_code == 2


def test_the_bundle_verifies_against_the_running_platform(bundle, settings, tmp_path):
    r, doc = bundle
    with serving(settings) as url:
        got = run(write(tmp_path, doc), "--url", url)
        assert got.exit_code == 0, got.output
        assert f"against {url}" in got.output
        served = run(str(r.tender.id), "--url", url)  # anonymous: not final yet, the platform refuses
        assert served.exit_code == 2 and "did not serve" in served.output
        # once the result is final (here: cancelled after its deadline) the public fetches it by tender id
        from tender import supervision

        supervision.cancel(r.db, r.agency, r.tender.id, "The budget was withdrawn")
        r.db.commit()
        served = run(str(r.tender.id), "--url", url)
        assert served.exit_code == 0, served.output
        assert served.output.startswith("OK:") and f"against {url}" in served.output
