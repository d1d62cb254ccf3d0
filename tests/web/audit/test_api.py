"""The public audit API (/api/v1/audit/*): checkpoints, the verifier key, entries, proofs and the live stream,
checked the way an outside verifier would check them."""

from __future__ import annotations

import base64
import json

from audit import checkpoints, merkle, record
from audit.log import disclose
from audit.verify import check_published_entry
from core.identity import SYSTEM, Actor
from core.signing import VerifierKey
from tender.events import TenderTag

ALICE = Actor(user_id=7, username="alice", role="agency", organisation_id=3, ip="198.51.100.7")
BIDDER = Actor(user_id=9, username="bidder_a", role="bidder", organisation_id=5, ip="203.0.113.9")


def fill(db, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        record(db, TenderTag.tender_updated, actor=ALICE, subject=f"tender:{i % 3}", details={"i": i})
    db.commit()


def opened_checkpoint(client) -> checkpoints.Checkpoint:  # type: ignore[no-untyped-def]
    key = client.get("/api/v1/audit/key").json()
    r = client.get("/api/v1/audit/checkpoint")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return checkpoints.open_note(r.text, [VerifierKey.parse(k["verifier_key"]) for k in key["keys"]])


def test_checkpoint_and_key_are_public_and_verify(client, db, settings):
    fill(db, 7)
    key = client.get("/api/v1/audit/key").json()
    assert key["name"] == settings.origin and len(base64.b64decode(key["public_key"])) == 32
    assert VerifierKey.parse(key["verifier_key"]).id.hex() == key["key_id"]
    cp = opened_checkpoint(client)
    assert (cp.origin, cp.size) == (settings.origin, 7)
    leaves = [
        merkle.leaf_hash(base64.b64decode(e["entry"]))
        for e in client.get("/api/v1/audit/entries?start=0&end=7").json()["entries"]
    ]
    assert cp.root == merkle.root(leaves)


def test_an_empty_log_has_a_signed_empty_checkpoint(client, settings):
    cp = opened_checkpoint(client)
    assert (cp.size, cp.root) == (0, merkle.EMPTY_ROOT)


def test_entries_carry_bytes_hash_decoded_entry_and_details(client, db):
    fill(db, 5)
    body = client.get("/api/v1/audit/entries", params={"start": 1, "end": 3}).json()
    assert body["size"] == 5 and [e["index"] for e in body["entries"]] == [1, 2]
    for item in body["entries"]:
        raw = base64.b64decode(item["entry"])
        assert item["leaf_hash"] == merkle.leaf_hash(raw).hex()
        assert item["decoded"] == json.loads(raw) and item["decoded"]["actor"] == "alice"
        assert check_published_entry(item) is None
    assert (
        client.get("/api/v1/audit/entries", params={"start": 3, "end": 99}).json()["entries"][-1]["index"]
        == 4
    )
    bad = client.get("/api/v1/audit/entries", params={"start": 3, "end": 1})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "audit_bad_range"


def test_proofs_verify_against_the_signed_checkpoint(client, db):
    fill(db, 11)
    cp = opened_checkpoint(client)
    entries = client.get("/api/v1/audit/entries?start=0&end=11").json()["entries"]
    for i in (0, 5, 10):
        proof = client.get("/api/v1/audit/proof/inclusion", params={"index": i, "tree_size": cp.size}).json()
        assert (proof["leaf_index"], proof["tree_size"]) == (i, 11)
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        assert merkle.verify_inclusion(bytes.fromhex(entries[i]["leaf_hash"]), i, 11, hashes, cp.root)
    leaves = [bytes.fromhex(e["leaf_hash"]) for e in entries]
    c = client.get("/api/v1/audit/proof/consistency", params={"first": 4, "second": 11}).json()
    assert (c["first"], c["second"]) == (4, 11)
    assert merkle.verify_consistency(
        4, 11, merkle.root(leaves[:4]), cp.root, [bytes.fromhex(h) for h in c["hashes"]]
    )
    too_large = client.get("/api/v1/audit/proof/inclusion", params={"index": 0, "tree_size": 12})
    assert too_large.status_code == 422 and too_large.json()["error"]["code"] == "audit_tree_too_large"
    assert (
        client.get("/api/v1/audit/proof/inclusion", params={"index": 11, "tree_size": 11}).json()["error"][
            "code"
        ]
        == "audit_bad_index"
    )
    assert client.get("/api/v1/audit/proof/consistency", params={"first": 5, "second": 4}).status_code == 422


def test_concealed_actors_and_confidential_details_show_only_once_disclosed(client, db):
    e = record(
        db,
        TenderTag.bid_submitted,
        actor=BIDDER,
        subject="tender:1",
        details={"lot": 1},
        confidential={"bid": 12},
        conceal_actor=True,
    )
    db.commit()
    before = client.get(f"/api/v1/audit/entries/{e.index}").json()
    text = json.dumps(before) + base64.b64decode(before["entry"]).decode()
    assert (
        "bidder_a" not in text
        and "203.0.113.9" not in text
        and '"bid": 12' not in text
        and "disclosed" not in before
    )
    assert before["decoded"]["actor"] == "(confidential)" and "confidential_digest" in before["details"]
    stream = client.get("/api/v1/audit/stream", params={"max_idle": 0, "last_event_id": -1}).text
    assert "bidder_a" not in stream and "203.0.113.9" not in stream
    disclose(db, e.index, SYSTEM)
    db.commit()
    after = client.get(f"/api/v1/audit/entries/{e.index}").json()
    assert (
        after["disclosed"]["data"]["actor"]["username"] == "bidder_a"
        and after["disclosed"]["data"]["bid"] == 12
    )
    assert check_published_entry(after) is None
    after["disclosed"]["data"]["bid"] = 13
    assert "disclosed details do not match" in check_published_entry(after)


def test_stream_sends_entries_and_resumes_after_last_event_id(client, db):
    fill(db, 4)
    body = client.get("/api/v1/audit/stream", params={"max_idle": 0}).text
    ids = [int(line[4:]) for line in body.splitlines() if line.startswith("id: ")]
    assert ids == [0, 1, 2, 3] and body.count("event: entry") == 4 and "retry: 2000" in body
    data = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert data[2]["index"] == 2 and data[2]["decoded"]["subject"] == "tender:2"
    resumed = client.get("/api/v1/audit/stream", params={"max_idle": 0}, headers={"Last-Event-ID": "2"}).text
    assert [int(line[4:]) for line in resumed.splitlines() if line.startswith("id: ")] == [3]


def test_stream_filters_and_moves_the_cursor_past_what_it_skips(client, db):
    fill(db, 6)  # subjects tender:0, 1, 2, 0, 1, 2
    body = client.get("/api/v1/audit/stream", params={"max_idle": 0, "tender": 1}).text
    events = [json.loads(line[6:])["index"] for line in body.splitlines() if line.startswith("data: ")]
    assert events == [1, 4]
    assert (
        body.rstrip().splitlines()[-1] == "id: 5"
    )  # the client resumes after the last entry it was not sent
    assert (
        client.get("/api/v1/audit/stream", params={"max_idle": 0, "tag": "tender"}).text.count("event: entry")
        == 6
    )
    assert (
        client.get("/api/v1/audit/stream", params={"max_idle": 0, "tag": "auth"}).text.count("event: entry")
        == 0
    )


def test_all_checkpoints_are_listed(client, db, settings):
    from core.signing import signing_key

    key = signing_key(settings.data_dir, settings.origin)
    for _ in range(3):
        fill(db, 2)
        checkpoints.sign(db, key, settings.origin)
        db.commit()
    listed = client.get("/api/v1/audit/checkpoints").json()["checkpoints"]
    assert [c["size"] for c in listed] == [2, 4, 6]
    assert [
        c["size"] for c in client.get("/api/v1/audit/checkpoints", params={"after": 2}).json()["checkpoints"]
    ] == [4, 6]
    assert checkpoints.open_note(listed[1]["note"], [key.verifier]).size == 4


def test_the_web_app_signs_checkpoints_by_itself_while_the_log_grows(db, settings):
    import time
    from dataclasses import replace

    from litestar.testing import TestClient

    from web.app import create_app

    with TestClient(app=create_app(replace(settings, scheduler_interval=60))):
        fill(db, 3)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not [c for c in checkpoints.all_checkpoints(db) if c.size == 3]:
            db.rollback()
            time.sleep(0.3)
        db.rollback()
        assert [c.size for c in checkpoints.all_checkpoints(db)][-1] == 3
        fill(db, 2)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and checkpoints.latest(db).size != 5:
            db.rollback()
            time.sleep(0.3)
        assert checkpoints.latest(db).size == 5
        db.rollback()


def test_the_audit_api_is_in_the_openapi_document(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in (
        "checkpoint",
        "key",
        "checkpoints",
        "entries",
        "entries/{index}",
        "proof/inclusion",
        "proof/consistency",
        "stream",
    ):
        assert f"/api/v1/audit/{path}" in paths
