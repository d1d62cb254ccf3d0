"""The opening ceremony (tender/opening/) on both backends: R44 failure, the opening time,
key parts (k-1 open nothing, the quorum opens every bid, each bad part refused precisely), quorum+bidder and
its window (E31), a corrupted stored bid (withdrawn) and a badly sealed one (revoked), crash resume,
objections, the record and its PDF."""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import func, select

from accounts.models import Notification
from audit.log import AuditConfidential, AuditEntry
from core import clock, tasks
from core.errors import Conflict, Forbidden
from storage.local import LocalBlobStore
from tender import sealing
from tender.models import Bid, KeyPart, OpenedBid
from tender.opening import base as opening_base
from tender.opening import ceremony, decryption
from tender.opening import parts as opening_parts
from tender.opening import record as opening_record
from tests.factories.bids import (
    MARKER,
    copy_bid,
    header_doc_parts,
    price,
    reach_deadline,
    seal_bid,
    statuses,
    world,
)
from tests.factories.tenders import move_to

# ---------------------------------------------------------------- helpers


def submit(db, store, w, uid: int, bids: list[Bid] | None = None) -> opening_parts.PartsResult:  # type: ignore[no-untyped-def]
    docs = header_doc_parts(db, store, w.tender, w.holder_keys[uid], bids or w.bids)
    result = opening_parts.submit_parts(db, w.keys[uid], store, w.tender.id, {"bids": docs})
    db.commit()
    assert tasks.drain(60)
    return result


def tags(db, tag: str) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == tag)) or 0


# ---------------------------------------------------------------- R44


def test_fewer_than_three_bids_fail_the_tender_with_a_notice(db, make, store):
    w = world(db, make, store, n_bids=2)
    op = reach_deadline(db, w)
    db.refresh(w.tender)
    assert w.tender.status == "failed" and op is not None and op.status == "failed"
    assert (w.tender.end_reason_key, w.tender.end_reason_params) == (ceremony.FEWER_THAN_3, {"n": 2})
    assert tags(db, "tender.failed") == 1 and tags(db, "tender.opening.started") == 0
    assert db.scalar(select(func.count()).select_from(OpenedBid)) == 0
    assert (
        db.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "tender.failed"))
        >= 1
    )
    doc = opening_record.record_document(db, w.tender.id)
    assert doc["status"] == "failed" and "R44" in doc["failed"]


def test_start_creates_pending_rows_and_moves_to_opening(db, make, store):
    w = world(db, make, store)
    op = reach_deadline(db, w)
    db.refresh(w.tender)
    assert w.tender.status == "opening" and op is not None and op.status == "awaiting_parts"
    assert op.bids_count == 3 and statuses(db, w) == ["pending"] * 3
    assert clock.as_utc(op.opens_at) == clock.as_utc(w.deadline)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "tender.opening.started"))
    assert entry.details["bids"] == 3 and entry.details["lots_not_opened"] == [2]
    # before publication the record shows counts only
    doc = opening_record.record_document(db, w.tender.id)
    assert not doc["published"] and "record" not in doc and doc["progress"]["bids"] == 3
    assert "Bidder One" not in str(doc)


# ---------------------------------------------------------------- the opening time


def test_headers_and_parts_refused_before_the_opening_time_and_audited(db, make, store):
    w = world(db, make, store)
    uid = w.agency_user.id
    docs = header_doc_parts(
        db, store, w.tender, w.holder_keys[uid], w.bids
    )  # what a thief of the header would unwrap
    with pytest.raises(opening_base.AuditedRefusal) as e:
        opening_parts.headers(db, w.agency, store, w.tender.id)
    assert e.value.problems[0].code == "opening_not_yet" and e.value.status == 403
    with pytest.raises(opening_base.AuditedRefusal):
        opening_parts.submit_parts(db, w.agency, store, w.tender.id, docs)
    db.commit()
    refused = db.scalars(select(AuditEntry).where(AuditEntry.tag == "access.refused")).all()
    assert [r.details["reason"] for r in refused] == ["headers_before_opening", "parts_before_opening"]
    assert all(r.details["window"] == "opening_time" for r in refused)
    assert db.scalar(select(func.count()).select_from(KeyPart)) == 0
    # one second before the deadline by the server clock: still refused
    move_to(w.deadline - timedelta(seconds=1))
    with pytest.raises(opening_base.AuditedRefusal):
        opening_parts.headers(db, w.monitor, store, w.tender.id)
    db.rollback()


# ---------------------------------------------------------------- the quorum


def test_k_minus_one_open_nothing_and_the_quorum_opens_every_bid(db, make, store):
    w = world(db, make, store)
    reach_deadline(db, w)
    doc = opening_parts.headers(db, w.agency, store, w.tender.id)
    assert len(doc["bids"]) == 3 and all("header" in b for b in doc["bids"])
    r = submit(db, store, w, w.agency_user.id)
    assert (
        r.accepted == 6 and not r.refused and not r.queued
    )  # two parts per bid: each holder is in two 2-subsets
    assert statuses(db, w) == ["pending"] * 3
    assert opening_base.opening_of(db, w.tender.id).quorum_at is None
    r = submit(db, store, w, w.monitor_user.id)
    assert r.accepted == 6 and len(r.queued) == 3
    assert statuses(db, w) == ["opened"] * 3
    op = opening_base.opening_of(db, w.tender.id)
    db.refresh(op)
    assert op.status == "done" and op.quorum_at is not None and len(op.record_sha256) == 64
    assert tags(db, "tender.opening.bid.decrypted") == 3 and tags(db, "tender.opening.record.published") == 1
    doc = opening_record.published_record(db, w.tender.id)
    bids = doc["record"]["lots"][0]["bids"]
    assert [b["total_price_fen"] for b in bids] == [100_000_000, 100_000_100, 100_000_200]
    assert {b["bidder"] for b in bids} == {"Bidder One Ltd", "Bidder Two Ltd", "Bidder Three Ltd"}
    assert (
        doc["record"]["lots"][1]["opened"] is False
        and doc["record"]["lots"][1]["not_opened_reason"] == "fewer_than_3_bids"
    )
    ob = db.scalar(select(OpenedBid).where(OpenedBid.bid_id == w.bids[0].id))
    # nothing decrypted is stored; a file is decrypted on demand from the sealed file and the kept parts
    got = bytearray()
    entry = decryption.read_file(db, store, ob.id, 0, got.extend)
    assert (
        MARKER.encode() in got
        and entry["size"] == len(got)
        and set(entry) == {"role", "name", "media_type", "size"}
    )

    real_key = w.bids[0].blob_key

    # a store that answers with another file than the receipt's (here: the same bytes under another name)
    class Swapped:
        def open(self, _key: str):  # type: ignore[no-untyped-def]
            return store.open(real_key)

    bid = db.get(Bid, w.bids[0].id)
    bid.blob_key = "0" * 64
    db.flush()
    with pytest.raises(decryption.FileChanged):
        decryption.read_file(db, Swapped(), ob.id, 0, bytearray().extend)  # type: ignore[arg-type]
    # the record's hash is over its canonical JSON
    assert hashlib.sha256(sealing.canonical_json(doc["record"])).hexdigest() == op.record_sha256
    # E29: who bid is disclosed with the record (the check-in / parts entries of bidders were concealed)
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditConfidential)
            .where(AuditConfidential.disclosed_at.is_(None))
        )
        == 0
    )


def test_bad_parts_are_refused_precisely_and_the_others_still_open(db, make, store):
    w = world(db, make, store)
    reach_deadline(db, w)
    agency_docs = header_doc_parts(db, store, w.tender, w.holder_keys[w.agency_user.id], w.bids)
    monitor_docs = header_doc_parts(db, store, w.tender, w.holder_keys[w.monitor_user.id], w.bids)
    # wrong part: the bytes of another part
    wrong = [dict(d, parts=[dict(p) for p in d["parts"]]) for d in agency_docs]
    wrong[0]["parts"][0]["part"] = wrong[1]["parts"][0]["part"]
    # another tender's parts
    other = dict(agency_docs[1], tender_id=w.tender.id + 999)
    r = opening_parts.submit_parts(
        db, w.agency, store, w.tender.id, [wrong[0], other, agency_docs[1], agency_docs[2]]
    )
    codes = [x["code"] for x in r.refused]
    assert "part_commitment_mismatch" in codes and "part_other_tender" in codes
    assert r.accepted == len(agency_docs[0]["parts"]) - 1 + len(agency_docs[1]["parts"]) + len(
        agency_docs[2]["parts"]
    )
    db.commit()
    # duplicate
    r = opening_parts.submit_parts(db, w.agency, store, w.tender.id, agency_docs[1])
    assert r.accepted == 0 and {x["code"] for x in r.refused} == {"part_duplicate"}
    db.commit()
    # a holder submitting another holder's parts
    r = opening_parts.submit_parts(db, w.centre, store, w.tender.id, monitor_docs[0])
    assert r.accepted == 0 and {x["code"] for x in r.refused} == {"not_your_part"}
    db.commit()
    # a non-holder: refused as a whole and audited
    with pytest.raises(Forbidden) as e:
        opening_parts.submit_parts(db, w.purchaser, store, w.tender.id, monitor_docs)
    assert e.value.problems[0].code == "not_key_holder"
    db.commit()
    assert tags(db, "tender.opening.key_part.refused") == 4
    # the monitor's parts open every bid: the agency's parts of bid 0 lack one slot, but the monitor+centre
    # subset or the agency+monitor subsets of bids 1 and 2 are complete
    submit(db, store, w, w.monitor_user.id)
    st = statuses(db, w)
    assert st[1:] == ["opened", "opened"]
    # bid 0 opens as well: the agency's remaining part of it completes another subset with the monitor
    assert st[0] in ("opened", "pending")
    submit(db, store, w, w.centre_user.id, [w.bids[0]])
    assert statuses(db, w) == ["opened"] * 3


# ---------------------------------------------------------------- keyed by the platform's bid ids


def test_an_opening_completes_whatever_bidders_put_in_their_headers(db, make, store):
    """Bids that passed no submission check (written directly): the second company's is a byte copy of the
    first's sealed file, the third's its own file with the first's header bid_id. The parts are credited by
    the platform's bid ids, so every bid gets its outcome and the record is published."""
    w = world(db, make, store, n_bids=1)
    first = w.bids[0]
    copied = copy_bid(db, first, w.other_bidder_org, w.other_bidder_user)
    same_id = seal_bid(
        db,
        store,
        w.tender,
        w.third_bidder_org,
        w.third_bidder_user,
        w.lot1,
        total_yuan=1_000_002,
        bid_id=first.sealed_bid_id,
    )
    assert copied.blob_key == first.blob_key and same_id.blob_key != first.blob_key
    assert first.sealed_bid_id == copied.sealed_bid_id == same_id.sealed_bid_id
    w.bids = [first, copied, same_id]
    db.commit()
    reach_deadline(db, w)
    doc = opening_parts.headers(db, w.agency, store, w.tender.id)
    assert [b["bid"] for b in doc["bids"]] == [b.id for b in w.bids] and len(
        {b["bid_id"] for b in doc["bids"]}
    ) == 1

    # parts documents that name only the header's bid_id cannot say which bid they are for: refused, none
    # credited
    agency_key = w.holder_keys[w.agency_user.id]
    by_header = [
        {k: v for k, v in d.items() if k != "bid"}
        for d in header_doc_parts(db, store, w.tender, agency_key, w.bids)
    ]
    r = opening_parts.submit_parts(db, w.agency, store, w.tender.id, {"bids": by_header})
    assert r.accepted == 0 and [x["code"] for x in r.refused] == ["bid_id_ambiguous"] * 3
    assert db.scalar(select(func.count()).select_from(KeyPart)) == 0
    db.commit()
    # named by the platform's bid ids (as the opening page and `etender keys unwrap --headers` make them)
    r = submit(db, store, w, w.agency_user.id)
    assert r.accepted == 6 and not r.refused
    r = submit(db, store, w, w.monitor_user.id)
    assert sorted(r.queued) == sorted(b.id for b in w.bids)
    assert statuses(db, w) == ["opened"] * 3
    op = opening_base.opening_of(db, w.tender.id)
    db.refresh(op)
    assert (
        op.status == "done"
        and len(op.record_sha256) == 64
        and tags(db, "tender.opening.record.published") == 1
    )
    entries = opening_record.published_record(db, w.tender.id)["record"]["lots"][0]["bids"]
    assert [e["bid"] for e in entries] == [b.id for b in w.bids]
    assert [e["bidder"] for e in entries] == ["Bidder One Ltd", "Bidder Two Ltd", "Bidder Three Ltd"]
    assert [e["total_price_fen"] for e in entries] == [
        100_000_000,
        100_000_000,
        100_000_200,
    ]  # the copy opens as its original


def test_parts_named_by_header_bid_id_alone_still_open_a_bid_whose_id_is_unique(db, make, store):
    """The envelope's `bid` is optional (a document made from one sealed file with `etender keys unwrap
    --bid`, or by an older tool): a header bid_id that only one bid of the opening carries still finds it. A
    `bid` that is no bid of the opening is refused."""
    w = world(db, make, store)
    reach_deadline(db, w)
    for uid in (w.agency_user.id, w.monitor_user.id):
        docs = [
            {k: v for k, v in d.items() if k != "bid"}
            for d in header_doc_parts(db, store, w.tender, w.holder_keys[uid], w.bids)
        ]
        stray = dict(
            header_doc_parts(db, store, w.tender, w.holder_keys[uid], w.bids[:1])[0], bid=w.bids[-1].id + 1000
        )
        r = opening_parts.submit_parts(db, w.keys[uid], store, w.tender.id, [*docs, stray])
        assert r.accepted == 6 and [x["code"] for x in r.refused] == ["bid_number_unknown"]
        db.commit()
        assert tasks.drain(60)
    assert statuses(db, w) == ["opened"] * 3


# ---------------------------------------------------------------- E31 outcomes


def test_corrupted_stored_blob_is_withdrawn_and_badly_sealed_bid_is_revoked(db, make, store):
    w = world(db, make, store, n_bids=4, tamper=3)
    reach_deadline(db, w)
    submit(db, store, w, w.agency_user.id)
    # after the parts came in but before decryption, the stored file of bid 0 is damaged on disk
    path = store._path(w.bids[0].blob_key)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    submit(db, store, w, w.monitor_user.id)
    st = statuses(db, w)
    assert st == ["withdrawn", "opened", "opened", "revoked"]
    codes = [db.scalar(select(OpenedBid.reason_code).where(OpenedBid.bid_id == b.id)) for b in w.bids]
    assert codes[0] == "blob_hash_mismatch" and codes[3] == "chunk_altered"
    assert tags(db, "tender.opening.bid.decryption_failed") == 2
    doc = opening_record.published_record(db, w.tender.id)
    outcomes = [b["outcome"] for b in doc["record"]["lots"][0]["bids"]]
    assert outcomes == ["withdrawn", "opened", "opened", "revoked"]


def test_quorum_plus_bidder_needs_the_bidders_part_and_the_window_revokes(db, make, store):
    w = world(db, make, store, policy="quorum+bidder")
    reach_deadline(db, w)
    submit(db, store, w, w.agency_user.id)
    submit(db, store, w, w.monitor_user.id)
    op = opening_base.opening_of(db, w.tender.id)
    db.refresh(op)
    assert statuses(db, w) == ["pending"] * 3  # the holders' quorum alone opens nothing
    assert op.window_ends_at is not None and clock.as_utc(op.window_ends_at) - clock.as_utc(
        op.quorum_at
    ) == timedelta(seconds=1800)
    # bidder one sees only its own header and submits its part
    bidder_bid = w.bids[0]
    doc = opening_parts.headers(db, w.bidder, store, w.tender.id)
    assert [b["bid"] for b in doc["bids"]] == [bidder_bid.id]
    key = w.bidder_keys[w.bidder_org.id]
    parts = header_doc_parts(db, store, w.tender, key, [bidder_bid])
    # another bidder may not submit it
    r = opening_parts.submit_parts(db, w.other_bidder, store, w.tender.id, parts)
    assert r.accepted == 0 and r.refused[0]["code"] == "not_your_part"
    r = opening_parts.submit_parts(db, w.bidder, store, w.tender.id, parts)
    assert r.accepted == len(parts[0]["parts"]) and r.queued == [bidder_bid.id]
    db.commit()
    assert tasks.drain(60)
    assert statuses(db, w) == ["opened", "pending", "pending"]
    # the window ends: the two silent bidders' bids are revoked (E31), the record is published
    move_to(clock.as_utc(op.window_ends_at) + timedelta(seconds=1))
    out = decryption.sweep(db)
    db.commit()
    assert out["revoked"] == 2
    assert statuses(db, w) == ["opened", "revoked", "revoked"]
    db.refresh(op)
    assert op.status == "done" and op.record_sha256


# ---------------------------------------------------------------- crash resume


def test_a_long_decryption_keeps_its_claim_by_its_heartbeat(db, make, store, monkeypatch):
    """Issue 17: the claim is renewed while the task decrypts, so a short claim timeout (a dead worker's bids
    are taken up in seconds) never takes a bid from a task that is alive, however long it takes."""
    import time

    from core.tasks import unit_of_work

    monkeypatch.setattr(decryption, "HEARTBEAT", timedelta(seconds=0.05))
    monkeypatch.setattr(decryption, "CLAIM_TIMEOUT", timedelta(seconds=0.3))
    w = world(db, make, store)
    reach_deadline(db, w)
    real = decryption.decrypt
    seen: dict[str, int] = {}

    def slow(blobs, job):  # type: ignore[no-untyped-def]
        if not seen:
            seen["claim"] = job.opened_bid_id
            time.sleep(1.0)  # more than three claim timeouts
            with unit_of_work() as session:
                seen["reclaimed"] = decryption.sweep(session)["reclaimed"]
        return real(blobs, job)

    submit(db, store, w, w.agency_user.id)
    monkeypatch.setattr(decryption, "decrypt", slow)
    submit(db, store, w, w.monitor_user.id)  # the quorum: the bids are sent
    assert seen["reclaimed"] == 0  # alive and renewing: not given back
    assert statuses(db, w) == ["opened"] * 3
    assert sorted(db.scalars(select(OpenedBid.attempts))) == [1, 1, 1]  # each decrypted once
    assert tags(db, "tender.opening.bid.decrypted") == 3


def test_a_dead_tasks_claim_is_given_back_once_its_heartbeat_stops(db, make, store, monkeypatch):
    w = world(db, make, store)
    reach_deadline(db, w)
    real = decryption.decrypt
    dying = {"left": 1}

    def die_once(blobs, job):  # type: ignore[no-untyped-def]
        if dying["left"]:
            dying["left"] -= 1
            raise SystemExit("worker killed")
        return real(blobs, job)

    submit(db, store, w, w.agency_user.id)
    monkeypatch.setattr(decryption, "decrypt", die_once)
    submit(db, store, w, w.monitor_user.id)
    assert statuses(db, w).count("decrypting") == 1
    assert timedelta(seconds=30) >= decryption.CLAIM_TIMEOUT  # the aim: taken up again within 30 s
    move_to(clock.now() + decryption.CLAIM_TIMEOUT + timedelta(seconds=1))
    out = decryption.sweep(db)
    db.commit()
    assert out["reclaimed"] == 1 and out["sent"] == 1
    assert tasks.drain(60)
    assert statuses(db, w) == ["opened"] * 3


def test_a_task_dying_midway_is_resumed_by_the_sweep_and_no_bid_is_decrypted_twice(
    db, make, store, monkeypatch
):
    w = world(db, make, store)
    reach_deadline(db, w)
    submit(db, store, w, w.agency_user.id)
    real = decryption.decrypt
    dying = {"left": 2}

    def die_sometimes(blobs, job):  # type: ignore[no-untyped-def]
        if dying["left"] > 0:
            dying["left"] -= 1
            raise SystemExit("worker killed")
        return real(blobs, job)

    monkeypatch.setattr(decryption, "decrypt", die_sometimes)
    submit(db, store, w, w.monitor_user.id)
    st = statuses(db, w)
    assert st.count("decrypting") == 2 and st.count("opened") == 1
    # a second delivery of the same task finds the bid claimed and does nothing
    from tender.opening.decryption import decrypt_bid

    ob_ids = [db.scalar(select(OpenedBid.id).where(OpenedBid.bid_id == b.id)) for b in w.bids]
    db.rollback()  # SQLite: the test's session must not hold the write lock while the task runs
    assert [decrypt_bid(i) for i in ob_ids].count("skipped") == 3
    # within the claim timeout the sweep leaves the claims alone
    assert decryption.sweep(db)["reclaimed"] == 0
    db.commit()
    move_to(clock.now() + decryption.CLAIM_TIMEOUT + timedelta(seconds=1))
    out = decryption.sweep(db)
    db.commit()
    assert out["reclaimed"] == 2 and out["sent"] == 2
    assert tasks.drain(60)
    assert statuses(db, w) == ["opened"] * 3
    assert tags(db, "tender.opening.bid.decrypted") == 3  # each bid decrypted and recorded exactly once
    attempts = sorted(db.scalars(select(OpenedBid.attempts)))
    assert attempts == [1, 2, 2]
    # terminal bids are never redone
    assert decryption.sweep(db) == {"reclaimed": 0, "sent": 0, "revoked": 0}


def test_an_unreadable_store_is_tried_again_and_only_then_counts_as_withdrawn(db, make, store, monkeypatch):
    """A store that cannot be read (a network store's outage) is not a verdict: the bid goes back to pending
    and the sweep sends it again; after READ_ATTEMPTS failed reads it is withdrawn (the platform's fault,
    E31)."""
    w = world(db, make, store)
    reach_deadline(db, w)
    submit(db, store, w, w.agency_user.id)
    failing = {
        w.bids[0].blob_key: 2,
        w.bids[1].blob_key: 99,
    }  # bid 0 recovers after 2 failed reads; bid 1 never
    real = decryption.decrypt

    class Flaky:  # the store as the decryption task sees it
        def __init__(self, blobs):  # type: ignore[no-untyped-def]
            self.blobs = blobs

        def exists(self, key: str) -> bool:
            return bool(self.blobs.exists(key))

        def open(self, key: str):  # type: ignore[no-untyped-def]
            if failing.get(key, 0) > 0:
                failing[key] -= 1
                raise OSError("the store did not answer")
            return self.blobs.open(key)

    monkeypatch.setattr(decryption, "decrypt", lambda blobs, job: real(Flaky(blobs), job))
    submit(db, store, w, w.monitor_user.id)
    assert statuses(db, w) == ["pending", "pending", "opened"]
    for _ in range(decryption.READ_ATTEMPTS):
        move_to(clock.now() + decryption.RESEND_AFTER + timedelta(seconds=1))
        decryption.sweep(db)
        db.commit()
        assert tasks.drain(60)
    assert statuses(db, w) == ["opened", "withdrawn", "opened"]
    ob = db.scalar(select(OpenedBid).where(OpenedBid.bid_id == w.bids[1].id))
    assert (ob.reason_code, ob.attempts) == ("blob_unreadable", decryption.READ_ATTEMPTS)


# ---------------------------------------------------------------- objections, check-in, closing, the PDF


def test_check_in_objections_close_and_the_pdf(db, make, store):
    w = world(db, make, store)
    with pytest.raises(Conflict):
        ceremony.check_in(db, w.bidder, w.tender.id)  # before the deadline
    db.rollback()
    reach_deadline(db, w)
    ceremony.check_in(db, w.bidder, w.tender.id)
    ceremony.check_in(db, w.bidder, w.tender.id)  # idempotent
    with pytest.raises(Forbidden):
        ceremony.check_in(db, w.other_agency, w.tender.id)
    obj = ceremony.raise_objection(db, w.other_bidder, w.tender.id, "开标时间比公告晚了5分钟。")
    with pytest.raises(Forbidden):
        ceremony.answer_objection(db, w.other_agency, w.tender.id, obj.id, "no")
    db.commit()
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "tender.opening.objection.recorded"))
    assert (
        entry.actor == "(confidential)"
    )  # who objected says who bid: concealed until the record is published
    submit(db, store, w, w.agency_user.id)
    submit(db, store, w, w.centre_user.id)
    with pytest.raises(Conflict) as e:
        ceremony.close(db, w.agency, w.tender.id)
    assert e.value.problems[0].code == "objections_unanswered"
    db.rollback()
    ceremony.answer_objection(db, w.agency, w.tender.id, obj.id, "开标按服务器时间在截止时间准时开始。")
    db.commit()
    doc = opening_record.published_record(db, w.tender.id)
    assert (
        doc["objections"][0]["answer"].startswith("开标")
        and doc["objections"][0]["bidder"] == "Bidder Two Ltd"
    )
    assert doc["record"]["check_ins"][0]["bidder"] == "Bidder One Ltd"
    assert [h["submitted"] for h in doc["record"]["key_holders"]] == [True, False, True]
    pdf = opening_record.record_pdf(doc)
    if opening_record.font_path() is None:
        pytest.skip("the Noto CJK font is not installed: no PDF")
    assert pdf is not None and pdf.startswith(b"%PDF")
    assert pdf == opening_record.record_pdf(doc)  # deterministic bytes
    text = pdf_text(pdf)
    assert "开标记录" in text and "Bidder One Ltd" in text and "已开启" in text
    # issue 16: Beijing time, page numbers, the check-in list and the signature block; no UTC ISO time
    assert "北京时间" in text and re.search(r"第 1 页 共\s*1\s*页", text) and "投标人签到" in text
    assert "监标人（签字）" in text and "记录人（签字）" in text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text) and "R44" not in text
    assert opening_record.record_pdf(doc) is pdf  # rendered once per version of the record, then kept
    ceremony.close(db, w.agency, w.tender.id)
    db.commit()
    db.refresh(w.tender)
    assert w.tender.status == "evaluating"


def _streams(pdf: bytes) -> list[bytes]:
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            out.append(m.group(1))
    return out


def _unescape(lit: bytes) -> bytes:
    out, i = bytearray(), 0
    esc = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
    while i < len(lit):
        c = lit[i]
        if c == 0x5C:
            i += 1
            d = lit[i]
            if d in esc:
                out.append(esc[d])
            elif 0x30 <= d <= 0x37:
                j = i
                while j < len(lit) and j < i + 3 and 0x30 <= lit[j] <= 0x37:
                    j += 1
                out.append(int(lit[i:j], 8) & 0xFF)
                i = j - 1
            else:
                out.append(d)
        else:
            out.append(c)
        i += 1
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF written by fpdf2 with an embedded TrueType font: 2-byte glyph codes in literal
    strings, mapped back through the font's ToUnicode CMap."""
    streams = _streams(pdf) + [pdf]
    cmap: dict[int, str] = {}
    for st in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", st, re.S):
            for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                cmap[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", st, re.S):
            for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                base = int(dst, 16)
                for k in range(int(lo, 16), int(hi, 16) + 1):
                    cmap[k] = chr(base + k - int(lo, 16))
    text = []
    for st in streams:
        for lit in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", st, re.S):
            raw = _unescape(lit)
            text.append(
                "".join(
                    cmap.get(int.from_bytes(raw[i : i + 2], "big"), "?") for i in range(0, len(raw) - 1, 2)
                )
            )
    return "\n".join(text)


# ---------------------------------------------------------------- the decryption step alone (no database)


def test_decrypt_stores_nothing_decrypted(tmp_path):
    keys = [X25519PrivateKey.generate() for _ in range(3)]
    bundle = sealing.KeyBundle(
        7,
        (70,),
        2,
        "quorum",
        tuple(
            sealing.Holder(i, sealing.key_id(sealing.public_bytes(k)), sealing.public_bytes(k))
            for i, k in enumerate(keys)
        ),
    )
    bodies = {"technical.txt": MARKER.encode() * 3000, "commercial.txt": b"price list " * 999}
    files = [
        sealing.BidFile(
            "technical" if n.startswith("t") else "commercial", n, "text/plain", len(b), io.BytesIO(b)
        )
        for n, b in bodies.items()
    ]
    out = io.BytesIO()
    header = sealing.seal(bundle, 70, files, price(), out, chunk_size=4096)
    real = LocalBlobStore(tmp_path / "blobs")

    class Recording:
        def exists(self, key: str) -> bool:
            return real.exists(key)

        def open(self, key: str):  # type: ignore[no-untyped-def]
            return real.open(key)

        def put(self, chunks, max_size=None, durable=True):  # type: ignore[no-untyped-def]
            raise AssertionError("the opening stores nothing decrypted")

    def job(blob: bytes) -> decryption.Job:
        info = real.put([blob])
        parts = [p for k in keys[:2] for p in sealing.unwrap_parts(header, k)]
        return decryption.Job(1, 1, 1, info.key, info.size, parts)

    before = set(real.root.glob("??/*"))
    outcome = decryption.decrypt(Recording(), job(out.getvalue()))  # type: ignore[arg-type]
    assert outcome.status == "opened"
    assert {f["name"]: f["size"] for f in outcome.files} == {n: len(b) for n, b in bodies.items()}
    assert {p.name for p in set(real.root.glob("??/*")) - before} == {
        hashlib.sha256(out.getvalue()).hexdigest()
    }  # only the sealed file
    # an altered chunk inside the second file: revoked
    bad = bytearray(out.getvalue())
    bad[-100] ^= 1
    outcome = decryption.decrypt(Recording(), job(bytes(bad)))  # type: ignore[arg-type]
    assert (outcome.status, outcome.code) == ("revoked", "chunk_altered")
    assert list((real.root / "tmp").iterdir()) == []
