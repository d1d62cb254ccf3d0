"""Sealed-bid submission (tender/bids.py) on both databases: staged upload, the E26 check, receipts, replace
and withdraw, the deadline by the server clock (E27), and what another company can learn (nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from accounts.models import User
from audit.log import AuditConfidential, AuditEntry
from audit.refusals import RefusalFold
from core import clock
from core.errors import Conflict, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from core.signing import signing_key
from storage.local import LocalBlobStore
from tender import receipts, sealing
from tender.bids import submission as bids
from tender.models import Bid, BidStatus
from tests.factories.bids import ensure_registered, sealed_bid, submit_bid, upload
from tests.factories.tenders import published_tender


@pytest.fixture
def signer(tmp_path):
    return signing_key(tmp_path / "keys", "etender.test")


def _tags(db, *tags):
    return list(db.scalars(select(AuditEntry).where(AuditEntry.tag.in_(tags)).order_by(AuditEntry.index)))


def test_begin_parts_complete_gives_a_signed_receipt_and_conceals_the_bidder(db, make, signer, tmp_path):
    # parts of the store's own part size (a part number past the announced size's last part is refused)
    blobs = LocalBlobStore(tmp_path / "small-parts", part_limit=64 * 1024)
    w = published_tender(db, make, blobs)
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    data = sealed_bid(db, w.tender, w.lot1, b"x" * 200_000)
    bid = bids.begin(db, w.bidder, blobs, w.tender.id, w.lot1.id, len(data), max_bytes=1 << 30)
    assert bid.status == BidStatus.uploading and bid.upload_id
    part = 64 * 1024
    pieces = [data[i : i + part] for i in range(0, len(data), part)]
    # parts in any order; the first attempt at part 2 drops and is sent again
    bids.write_part(db, w.bidder, blobs, bid.id, 2, [pieces[1][:100]])
    for n in (3, 1, 2, *range(4, len(pieces) + 1)):
        bids.write_part(db, w.bidder, blobs, bid.id, n, [pieces[n - 1]])
    assert [p.number for p in bids.received_parts(db, w.bidder, blobs, bid.id)] == list(
        range(1, len(pieces) + 1)
    )
    done = bids.complete(db, w.bidder, blobs, bid.id, signer)
    assert done.status == BidStatus.submitted and done.size == len(data)
    assert done.sealed_bid_id == sealing.read_header(__import__("io").BytesIO(data)).bid_id
    assert bids.counted_bids(db, w.tender.id) == [done]
    # again (the client's connection dropped before the answer): the same receipt
    assert bids.complete(db, w.bidder, blobs, bid.id, signer).receipt == done.receipt

    doc = bids.receipt_document(db, w.bidder, bid.id)
    body = receipts.verify_receipt(doc, [signer.verifier])
    import hashlib

    assert body["sha256"] == hashlib.sha256(data).hexdigest() == done.blob_key
    assert (
        body["size"] == len(data)
        and body["lot"]["number"] == w.lot1.number
        and body["tender"]["reference"] == w.tender.reference
    )
    assert (
        body["bidder"]["credit_code"] == w.bidder_org.credit_code and body["audit_index"] == done.audit_index
    )
    assert b"".join(blobs.open(done.blob_key)) == data

    # the public log names neither the company nor the lot nor the size: only the role
    entry = db.get(AuditEntry, done.audit_index)
    assert entry.tag == "tender.bid.submitted" and entry.subject == f"tender:{w.tender.id}"
    assert (
        entry.actor_user_id is None
        and entry.organisation_id is None
        and "lot" not in entry.details
        and "size" not in entry.details
    )
    secret = db.get(AuditConfidential, done.audit_index)
    assert (
        secret.data["lot"] == w.lot1.id
        and secret.data["size"] == len(data)
        and secret.data["actor"]["organisation"] == w.bidder_org.id
    )
    started = _tags(db, "tender.bid.upload.started")
    assert len(started) == 1 and started[0].actor_user_id is None


def test_replace_newest_counts_and_withdraw_are_audited(db, make, blobs, signer):
    w = published_tender(db, make, blobs)
    first = submit_bid(db, w.bidder, blobs, w.tender, w.lot1, signer, content=b"first")
    second = submit_bid(
        db, w.colleague, blobs, w.tender, w.lot1, signer, content=b"second"
    )  # a colleague of the same company
    other = submit_bid(db, w.other_bidder, blobs, w.tender, w.lot1, signer)
    db.refresh(first)
    assert first.status == BidStatus.replaced and second.status == BidStatus.submitted
    assert {b.id for b in bids.counted_bids(db, w.tender.id)} == {second.id, other.id}
    assert len(_tags(db, "tender.bid.replaced")) == 1
    bids.withdraw(db, w.bidder, second.id)
    assert second.status == BidStatus.withdrawn
    assert [b.id for b in bids.counted_bids(db, w.tender.id)] == [other.id]
    withdrawn = _tags(db, "tender.bid.withdrawn")
    assert len(withdrawn) == 1 and withdrawn[0].actor_user_id is None
    with pytest.raises(Conflict) as e:
        bids.withdraw(db, w.bidder, second.id)
    assert e.value.problems[0].code == "bid_not_withdrawable"
    assert [b.id for b in bids.my_bids(db, w.bidder, w.tender.id)] == [second.id, first.id]


def test_a_new_upload_abandons_the_unfinished_one(db, make, blobs, signer):
    w = published_tender(db, make, blobs)
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    old = bids.begin(db, w.bidder, blobs, w.tender.id, w.lot1.id, 1000, max_bytes=1 << 20)
    new = bids.begin(db, w.bidder, blobs, w.tender.id, w.lot1.id, 1000, max_bytes=1 << 20)
    assert old.status == BidStatus.abandoned and new.status == BidStatus.uploading
    assert bids.received_parts(db, w.bidder, blobs, old.id) == []
    with pytest.raises(Conflict) as e:
        bids.write_part(db, w.bidder, blobs, old.id, 1, [b"x"])
    assert e.value.problems[0].code == "bid_not_uploading"


def test_deadline_boundary_by_the_server_clock(db, make, blobs, signer):
    w = published_tender(db, make, blobs)
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    ensure_registered(db, w.other_bidder, w.tender.id, w.lot1.id)
    data = sealed_bid(db, w.tender, w.lot1)
    early = bids.begin(db, w.bidder, blobs, w.tender.id, w.lot1.id, len(data), max_bytes=1 << 20)
    bids.write_part(db, w.bidder, blobs, early.id, 1, [data])
    unfinished = bids.begin(db, w.other_bidder, blobs, w.tender.id, w.lot1.id, len(data), max_bytes=1 << 20)
    # one microsecond before the deadline (the clock frozen there): accepted
    clock.freeze(clock.as_utc(w.deadline) - timedelta(microseconds=1))
    assert bids.complete(db, w.bidder, blobs, early.id, signer).status == BidStatus.submitted
    # exactly at the deadline: late; the opening is AT the deadline (L34)
    clock.freeze(clock.as_utc(w.deadline))
    for call in (
        lambda: bids.begin(db, w.bidder, blobs, w.tender.id, w.lot1.id, len(data), max_bytes=1 << 20),
        lambda: bids.write_part(db, w.other_bidder, blobs, unfinished.id, 1, [data]),
        lambda: bids.complete(db, w.other_bidder, blobs, unfinished.id, signer),
        lambda: bids.withdraw(db, w.bidder, early.id),
    ):
        with pytest.raises(Conflict) as e:
            call()
        assert e.value.problems[0].code == "bid_deadline_passed" and bids.is_recorded(e.value)
    refused = _tags(db, "tender.bid.refused")
    assert len(refused) == 4 and all(r.details["window"] == "bid_deadline" for r in refused)
    # E27: the upload unfinished at the deadline counts as withdrawn
    assert bids.expire_unfinished(db, w.tender.id, clock.now()) == 1
    db.refresh(unfinished)
    assert unfinished.status == BidStatus.withdrawn
    assert [b.id for b in bids.counted_bids(db, w.tender.id)] == [early.id]


@pytest.mark.parametrize("case", ["wrong_tender", "wrong_lot", "not_sealed", "truncated"])
def test_a_file_that_is_not_a_sealed_bid_for_this_tender_and_lot_is_refused(db, make, blobs, signer, case):
    w = published_tender(db, make, blobs)
    good = sealed_bid(db, w.tender, w.lot1)
    if case == "wrong_tender":
        from tests.factories.tenders import publish_new

        other = publish_new(w, blobs, title="Another tender")
        data, code = sealed_bid(db, other, other.lots[0]), "sealed_wrong_tender"
    elif case == "wrong_lot":
        data, code = sealed_bid(db, w.tender, w.lot2), "sealed_wrong_lot"
    elif case == "not_sealed":
        data, code = b"%PDF-1.7 an unencrypted bid " * 100, "sealed_not_sealed"
    else:
        data, code = good[:-10], "sealed_size_mismatch"
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    with pytest.raises(sealing.SealedBidInvalid) as e:
        upload(db, w.bidder, blobs, w.tender.id, w.lot1.id, data, signer)
    assert e.value.code == code and bids.is_recorded(e.value)
    bid = db.scalars(select(Bid)).one()
    assert bid.status == BidStatus.abandoned and blobs.exists(bid.blob_key)  # nothing uploaded is lost
    refused = _tags(db, "tender.bid.refused")
    assert [r.details["reason"] for r in refused] == [code]
    assert bids.counted_bids(db, w.tender.id) == []


def test_begin_refusals(db, make, blobs):
    w = published_tender(db, make, blobs)
    with pytest.raises(Conflict) as e:
        bids.begin(db, w.bidder, blobs, w.tender.id, w.lot1.id, 1000, max_bytes=1 << 20)
    assert e.value.problems[0].code == "not_registered"
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    with pytest.raises(ValidationFailed) as e:
        bids.begin(db, w.bidder, blobs, w.tender.id, w.lot1.id, (1 << 20) + 1, max_bytes=1 << 20)
    problem = e.value.problems[0]
    assert (
        problem.code == "bid_too_large"
        and "1,048,577 bytes" in problem.params["size"]
        and "1.0 MiB" in problem.params["limit"]
    )
    with pytest.raises(ValidationFailed):
        bids.begin(db, w.bidder, blobs, w.tender.id, w.lot2.id + 1000, 10, max_bytes=1 << 20)
    with pytest.raises(Forbidden):
        bids.begin(db, w.agency, blobs, w.tender.id, w.lot1.id, 10, max_bytes=1 << 20)
    # the declared size binds: more bytes than announced are refused
    bid = bids.begin(db, w.bidder, blobs, w.tender.id, w.lot1.id, 10, max_bytes=1 << 20)
    with pytest.raises(ValidationFailed) as e:
        bids.write_part(db, w.bidder, blobs, bid.id, 1, [b"x" * 11])
    assert e.value.problems[0].code == "bid_larger_than_declared"
    with pytest.raises(Conflict) as e:
        bids.complete(db, w.bidder, blobs, bid.id, None)  # type: ignore[arg-type]
    assert e.value.problems[0].code == "parts_missing"


def test_another_company_cannot_see_complete_or_withdraw_your_bid(db, make, blobs, signer):
    w = published_tender(db, make, blobs)
    mine = submit_bid(db, w.bidder, blobs, w.tender, w.lot1, signer)
    ensure_registered(db, w.bidder, w.tender.id, w.lot2.id)
    pending = bids.begin(db, w.bidder, blobs, w.tender.id, w.lot2.id, 100, max_bytes=1 << 20)
    for bid_id in (mine.id, pending.id, 999_999):
        for call in (
            lambda: bids.my_bid(db, w.other_bidder, bid_id),
            lambda: bids.receipt_document(db, w.other_bidder, bid_id),
            lambda: bids.received_parts(db, w.other_bidder, blobs, bid_id),
            lambda: bids.write_part(db, w.other_bidder, blobs, bid_id, 1, [b"x"]),
            lambda: bids.complete(db, w.other_bidder, blobs, bid_id, signer),
            lambda: bids.withdraw(db, w.other_bidder, bid_id),
            lambda: bids.abort(db, w.other_bidder, blobs, bid_id),
        ):
            with pytest.raises(NotFound) as e:
                call()
            assert e.value.problems[0].code == "bid_not_found"
    assert bids.my_bids(db, w.other_bidder, w.tender.id) == []
    for role in (w.agency, w.monitor, w.admin, w.purchaser):
        with pytest.raises(Forbidden):
            bids.my_bid(db, role, mine.id)


def test_complete_submission_on_either_blob_store(db, make, any_store, signer):
    w = published_tender(db, make, any_store)
    data_bid = submit_bid(db, w.bidder, any_store, w.tender, w.lot1, signer, content=b"y" * 300_000)
    body = receipts.verify_receipt(bids.receipt_document(db, w.bidder, data_bid.id), [signer.verifier])
    assert body["size"] == data_bid.size and any_store.exists(body["sha256"])
    header = bids.header_of(any_store, data_bid)
    assert header.lot_id == w.lot1.id


@pytest.fixture(params=["file", "s3"])
def any_store(request, tmp_path):
    from storage.local import LocalBlobStore

    if request.param == "file":
        return LocalBlobStore(tmp_path / "blobs", part_limit=64 * 1024)
    return request.getfixturevalue("s3_store")


def test_bids_open_rule_is_strictly_before_the_deadline():
    from datetime import UTC, datetime

    from tender.rules import bids_open

    deadline = datetime(2026, 12, 21, 1, 30, tzinfo=UTC)
    assert bids_open(deadline - timedelta(microseconds=1), deadline)
    assert not bids_open(deadline, deadline)  # E27/L28: at the deadline the opening begins (L34)
    assert not bids_open(deadline + timedelta(seconds=1), deadline)
    assert not bids_open(deadline, None)
    assert bids_open(deadline.replace(tzinfo=None) - timedelta(seconds=1), deadline)  # SQLite's naive UTC


# ---------------------------------------------------------------- one request for a small bid (submit_whole)


def test_submit_whole_gives_the_same_receipt_with_one_audit_entry_and_replaces_the_previous_bid(
    db, make, blobs, signer
):
    import hashlib

    w = published_tender(db, make, blobs)
    first = submit_bid(db, w.bidder, blobs, w.tender, w.lot1, signer, content=b"first")
    data = sealed_bid(db, w.tender, w.lot1, b"y" * 20_000)
    bid = bids.submit_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, data, signer, max_bytes=1 << 20)
    assert (
        bid.status == BidStatus.submitted
        and bid.size == len(data)
        and bid.blob_key == hashlib.sha256(data).hexdigest()
    )
    assert bid.sealed_bid_id == sealing.read_header(__import__("io").BytesIO(data)).bid_id
    assert b"".join(blobs.open(bid.blob_key)) == data
    body = receipts.verify_receipt(bids.receipt_document(db, w.bidder, bid.id), [signer.verifier])
    assert (
        body["sha256"] == bid.blob_key
        and body["size"] == len(data)
        and body["audit_index"] == bid.audit_index
    )
    db.refresh(first)
    assert first.status == BidStatus.replaced and bids.counted_bids(db, w.tender.id) == [bid]
    # one bid_submitted entry for it (and the replacement), no upload_started entry; the bidder concealed
    started = _tags(db, "tender.bid.upload.started")
    submitted = _tags(db, "tender.bid.submitted")
    assert (
        len(started) == 1 and len(submitted) == 2 and len(_tags(db, "tender.bid.replaced")) == 1
    )  # the first bid's
    entry = db.get(AuditEntry, bid.audit_index)
    assert (
        entry.tag == "tender.bid.submitted" and entry.actor_user_id is None and entry.organisation_id is None
    )
    # the same in two steps: prepare_whole (read-only checks, the ciphertext stored before the writing unit),
    # then submit_prepared (the decision): two bids of one group, the second replacing the first at once
    data2, data3 = (
        sealed_bid(db, w.tender, w.lot1, b"z" * 1000),
        sealed_bid(db, w.tender, w.lot1, b"w" * 1000),
    )
    prepared = [
        bids.prepare_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, d, max_bytes=1 << 20)
        for d in (data2, data3)
    ]
    assert all(p.info is not None and blobs.exists(p.info.key) and p.header is not None for p in prepared)
    second, third = bids.submit_prepared(db, signer, prepared)
    assert (
        isinstance(second, bids.Submitted)
        and isinstance(third, bids.Submitted)
        and second.blob_key == prepared[0].info.key
    )
    db.expire_all()
    assert [db.get(Bid, b.id).status for b in (bid, second, third)] == [BidStatus.replaced] * 2 + [
        BidStatus.submitted
    ]
    assert bids.counted_bids(db, w.tender.id) == [db.get(Bid, third.id)]
    replaced = _tags(db, "tender.bid.replaced")
    assert (
        len(replaced) == 3 and replaced[-1].index < third.audit_index
    )  # each replacement recorded before the new bid
    for new_bid in (second, third):
        stored = db.get(Bid, new_bid.id)
        body = receipts.verify_receipt(bids.receipt_document(db, w.bidder, new_bid.id), [signer.verifier])
        assert (
            body["bid"] == stored.id
            and body["audit_index"] == stored.audit_index == new_bid.audit_index
            and stored.receipt == new_bid.receipt
        )


def test_prepare_whole_as_a_session_from_before_a_password_change_is_anonymous(db, make, blobs):
    w = published_tender(db, make, blobs)
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    data = sealed_bid(db, w.tender, w.lot1)
    user_id, ip = w.bidder.user_id, w.bidder.ip
    actor, prepared = bids.prepare_whole_as(
        db, user_id, ip, "bidder", blobs, w.tender.id, w.lot1.id, data, max_bytes=1 << 20
    )
    assert actor.user_id == user_id and isinstance(prepared, bids.WholeBid)
    db.execute(
        update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
    )  # the password changed
    stale, refused = bids.prepare_whole_as(
        db, user_id, ip, "bidder", blobs, w.tender.id, w.lot1.id, data, max_bytes=1 << 20
    )
    assert stale.anonymous and isinstance(refused, Forbidden | NotAuthenticated)
    current, _ = bids.prepare_whole_as(
        db, user_id, ip, "bidder", blobs, w.tender.id, w.lot1.id, data, max_bytes=1 << 20, epoch=1
    )
    assert current.user_id == user_id


def test_submit_whole_refusals(db, make, blobs, signer):
    w = published_tender(db, make, blobs)
    data = sealed_bid(db, w.tender, w.lot1)
    with pytest.raises(Conflict) as e:
        bids.submit_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, data, signer, max_bytes=1 << 20)
    assert e.value.problems[0].code == "not_registered"
    with pytest.raises(Conflict):  # refused before anything is stored
        bids.prepare_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, data, max_bytes=1 << 20)
    assert not blobs.exists(__import__("hashlib").sha256(data).hexdigest())
    with pytest.raises(Forbidden):
        bids.submit_whole(db, w.agency, blobs, w.tender.id, w.lot1.id, data, signer, max_bytes=1 << 20)
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    with pytest.raises(ValidationFailed) as e:
        bids.submit_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, b"", signer, max_bytes=1 << 20)
    assert e.value.problems[0].code == "bid_body_empty"
    with pytest.raises(ValidationFailed) as e:  # more than one part: the resumable upload
        bids.submit_whole(
            db,
            w.bidder,
            blobs,
            w.tender.id,
            w.lot1.id,
            b"x" * (blobs.part_limit + 1),
            signer,
            max_bytes=1 << 40,
        )
    assert e.value.problems[0].code == "bid_too_large_for_one_request"
    with pytest.raises(ValidationFailed) as e:
        bids.submit_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, data, signer, max_bytes=len(data) - 1)
    assert e.value.problems[0].code == "bid_too_large"
    # E26: a file that is not a sealed bid for this lot is refused, recorded, and kept
    wrong = sealed_bid(db, w.tender, w.lot2)
    with pytest.raises(sealing.SealedBidInvalid) as e:
        bids.submit_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, wrong, signer, max_bytes=1 << 20)
    assert e.value.code == "sealed_wrong_lot" and bids.is_recorded(e.value)
    bid = db.scalars(select(Bid)).one()
    assert bid.status == BidStatus.abandoned and blobs.exists(bid.blob_key)
    assert [r.details["reason"] for r in _tags(db, "tender.bid.refused")] == ["sealed_wrong_lot"]
    # E27: at the deadline, refused and recorded (prepare_whole records nothing and stores nothing: it leaves
    # the decision to submit_prepared, which records it)
    clock.shift(clock.as_utc(w.deadline) - clock.now())
    prepared = bids.prepare_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, data, max_bytes=1 << 20)
    assert prepared.info is None and len(_tags(db, "tender.bid.refused")) == 1
    [late] = bids.submit_prepared(db, signer, [prepared])
    assert (
        isinstance(late, Conflict)
        and late.problems[0].code == "bid_deadline_passed"
        and bids.is_recorded(late)
    )
    with pytest.raises(Conflict) as e:
        bids.submit_whole(db, w.bidder, blobs, w.tender.id, w.lot1.id, data, signer, max_bytes=1 << 20)
    assert e.value.problems[0].code == "bid_deadline_passed" and bids.is_recorded(e.value)
    refused = _tags(db, "tender.bid.refused")
    assert (
        len(refused) == 2
        and refused[-1].details["step"] == "whole"
        and refused[-1].details["reason"] == "bid_deadline_passed"
    )
    # the second late attempt of the same kind is counted, not recorded again (audit.refusals folds it)
    assert (
        db.scalars(select(RefusalFold.count).where(RefusalFold.first_index == refused[-1].index)).one() == 1
    )
    assert bids.counted_bids(db, w.tender.id) == []


def test_the_closing_of_bidding_waits_for_a_bid_decided_before_the_deadline_and_counts_it(
    db, make, blobs, signer, factory
):
    """E27: a bid decided before the deadline whose transaction commits a moment after it must be counted at
    the opening. Every write that makes a counted bid reads the tender with a shared lock, so the closing of
    bidding (deadlines.close_due_tenders, FOR UPDATE) waits for that transaction before it counts the bids (on
    PostgreSQL; the audit log's head row, which both append to, makes it wait as well; on SQLite the writers
    queue on the database's lock)."""
    import threading
    import time

    from tender import deadlines

    w = published_tender(db, make, blobs)
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    prepared = bids.prepare_whole(
        db, w.bidder, blobs, w.tender.id, w.lot1.id, sealed_bid(db, w.tender, w.lot1), max_bytes=1 << 20
    )
    tender_id = w.tender.id
    db.commit()
    writer = factory()
    clock.shift(clock.as_utc(w.deadline) - clock.now() - timedelta(seconds=1))  # a second before the deadline
    [bid] = bids.submit_prepared(writer, signer, [prepared])
    assert isinstance(bid, bids.Submitted)
    clock.shift(timedelta(seconds=2))  # the deadline passes before the bid's transaction commits
    seen: dict[str, object] = {}

    def close() -> None:
        closer = factory()
        try:
            started = time.monotonic()
            seen["closed"] = deadlines.close_due_tenders(closer)
            seen["waited"] = time.monotonic() - started
            seen["counted"] = [b.id for b in bids.counted_bids(closer, tender_id)]
            closer.commit()
        finally:
            closer.close()

    closing = threading.Thread(target=close)
    closing.start()
    time.sleep(0.5)
    assert "closed" not in seen  # the closing waits for the bid's transaction
    writer.commit()
    writer.close()
    closing.join(30)
    assert seen["closed"] == [tender_id] and seen["waited"] >= 0.4
    assert seen["counted"] == [bid.id]  # the receipt's bid is among the bids the opening counts


# ---------------------------------------------------------------- one sealed file, one company (R40)


def _send(db, path, actor, blobs, w, data, signer):  # type: ignore[no-untyped-def]
    """A sealed bid through the resumable upload (begin, parts, complete) or in one request."""
    if path == "parts":
        return upload(db, actor, blobs, w.tender.id, w.lot1.id, data, signer, part_size=4096)
    return bids.submit_whole(db, actor, blobs, w.tender.id, w.lot1.id, data, signer, max_bytes=1 << 20)


@pytest.mark.parametrize("what", ["file", "bid_id"])
@pytest.mark.parametrize("path", ["parts", "whole"])
def test_another_companys_sealed_file_or_header_bid_id_is_refused_recorded_and_alerted(
    db, make, blobs, signer, tmp_path, path, what
):
    """R40: a second company sending the first one's sealed file, or a file of its own whose header carries
    the first one's bid_id, is refused with what to do, the refusal is recorded and kept, and the monitors see
    an alert naming both companies. The first company sending its own file again replaces its bid as before
    (E27)."""
    from supervision import alerts

    if path == "parts":  # parts of the store's part size: a part past the announced size's last is refused
        blobs = LocalBlobStore(tmp_path / "small-parts", part_limit=4096)
    w = published_tender(db, make, blobs)
    for actor in (w.bidder, w.other_bidder):
        ensure_registered(db, actor, w.tender.id, w.lot1.id)
    ours = sealed_bid(db, w.tender, w.lot1, b"our own technical proposal " * 400)
    first = _send(db, path, w.bidder, blobs, w, ours, signer)
    header = sealing.read_header(__import__("io").BytesIO(ours))
    if what == "file":
        theirs, code = ours, "sealed_file_reused"
    else:
        from tests.factories.bids import with_bid_id

        theirs, code = (
            sealed_bid(db, w.tender, w.lot1, b"their proposal", rng=with_bid_id(header.bid_id)),
            "sealed_bid_id_reused",
        )
        assert (
            theirs != ours and sealing.read_header(__import__("io").BytesIO(theirs)).bid_id == header.bid_id
        )
    with pytest.raises(Conflict) as e:
        _send(db, path, w.other_bidder, blobs, w, theirs, signer)
    problem = e.value.problems[0]
    assert problem.code == code and problem.rule == "R40" and bids.is_recorded(e.value)
    assert (
        "another company" in problem.message
        and "etender bid seal" in problem.message
        and "afresh" in problem.message
    )
    db.commit()  # what the unit of work does with a kept refusal
    assert bids.counted_bids(db, w.tender.id) == [first]
    refused_bid = db.scalars(select(Bid).where(Bid.organisation_id == w.other_bidder_org.id)).one()
    assert (
        refused_bid.status == BidStatus.abandoned
        and not refused_bid.receipt
        and blobs.exists(refused_bid.blob_key)
    )

    [entry] = _tags(db, "tender.bid.refused")
    # the public entry says nothing of the other bid: who bid and how many is secret until the opening (E21)
    assert entry.actor_user_id is None and entry.organisation_id is None and "R40" not in str(entry.details)
    secret = db.get(AuditConfidential, entry.index).data
    assert secret["reason"] == code and secret["rule"] == "R40" and secret["bid"] == refused_bid.id
    assert secret["same_as_bid"] == first.id and secret["same_as_organisation"] == w.bidder_org.id
    assert (
        secret["actor"]["organisation"] == w.other_bidder_org.id and secret["sealed_bid_id"] == header.bid_id
    )

    [alert] = [a for a in alerts.alerts(db, w.monitor) if a.kind == "reused_sealed_bids"]
    assert alert.subject == f"tender:{w.tender.id}" and alert.indexes == [entry.index]
    assert alert.params["what"] == what and alert.params["lot"] == w.lot1.id
    assert (alert.params["first"], alert.params["second"]) == ("Bidder One Ltd", "Bidder Two Ltd")
    with pytest.raises(Forbidden):  # the alerts, and the names in them, are the monitors' alone
        alerts.alerts(db, w.other_bidder)

    # the first company sending its own file again (a colleague's upload) replaces its bid: no refusal, no
    # alert
    again = _send(db, path, w.colleague, blobs, w, ours, signer)
    db.commit()
    db.refresh(first)
    assert (
        first.status == BidStatus.replaced
        and again.status == BidStatus.submitted
        and again.blob_key == first.blob_key
    )
    assert bids.counted_bids(db, w.tender.id) == [again] and len(_tags(db, "tender.bid.refused")) == 1
    # and the second company's own fresh sealing is taken
    fresh = _send(
        db, path, w.other_bidder, blobs, w, sealed_bid(db, w.tender, w.lot1, b"their proposal"), signer
    )
    assert {b.id for b in bids.counted_bids(db, w.tender.id)} == {again.id, fresh.id}


def test_a_group_of_one_request_bids_refuses_a_file_another_company_sent_earlier_in_the_group(
    db, make, blobs, signer
):
    """R40 inside one group commit (tender/bids/writer.py): the bids of a group are decided in order, so the
    second company's copy is refused although the first one's bid is not written yet; the same company's
    second copy in the group replaces its first."""
    w = published_tender(db, make, blobs)
    for actor in (w.bidder, w.other_bidder):
        ensure_registered(db, actor, w.tender.id, w.lot1.id)
    data = sealed_bid(db, w.tender, w.lot1)
    group = [
        bids.prepare_whole(db, actor, blobs, w.tender.id, w.lot1.id, data, max_bytes=1 << 20)
        for actor in (w.bidder, w.other_bidder, w.colleague)
    ]
    first, copied, own_again = bids.submit_prepared(db, signer, group)
    db.commit()
    assert isinstance(first, bids.Submitted) and isinstance(own_again, bids.Submitted)
    assert (
        isinstance(copied, Conflict)
        and copied.problems[0].code == "sealed_file_reused"
        and bids.is_recorded(copied)
    )
    assert [b.id for b in bids.counted_bids(db, w.tender.id)] == [own_again.id]
    assert db.get(Bid, first.id).status == BidStatus.replaced
    assert [
        db.get(AuditConfidential, r.index).data["same_as_bid"] for r in _tags(db, "tender.bid.refused")
    ] == [first.id]


def test_two_companies_sending_the_same_file_at_once_cannot_both_pass(db, make, blobs, signer, factory):
    """The check and the insert are one step: while the first company's submission is not committed, the
    second's waits (on PostgreSQL for the tender's reuse lock, on SQLite for the write lock), then sees it and
    is refused."""
    import threading
    import time

    w = published_tender(db, make, blobs)
    for actor in (w.bidder, w.other_bidder):
        ensure_registered(db, actor, w.tender.id, w.lot1.id)
    data = sealed_bid(db, w.tender, w.lot1)
    mine, theirs = (
        bids.prepare_whole(db, actor, blobs, w.tender.id, w.lot1.id, data, max_bytes=1 << 20)
        for actor in (w.bidder, w.other_bidder)
    )
    db.commit()
    writer = factory()
    [accepted] = bids.submit_prepared(writer, signer, [mine])
    assert isinstance(accepted, bids.Submitted)
    seen: dict[str, object] = {}

    def second() -> None:
        other = factory()
        try:
            [seen["result"]] = bids.submit_prepared(other, signer, [theirs])
            other.commit()
        finally:
            other.close()

    racing = threading.Thread(target=second)
    racing.start()
    time.sleep(0.5)
    assert "result" not in seen  # it waits for the first submission's transaction
    writer.commit()
    writer.close()
    racing.join(30)
    result = seen["result"]
    assert isinstance(result, Conflict) and result.problems[0].code == "sealed_file_reused"
    db.expire_all()
    assert [b.id for b in bids.counted_bids(db, w.tender.id)] == [accepted.id]


def test_the_reuse_check_is_two_index_lookups(db):
    """The intake stays fast at any number of bids: the digest and the header bid id are each found by their
    own index (on both columns with the tender), not by reading the tender's bids. SQLite's plan is fixed by
    the schema; PostgreSQL's depends on its statistics (with many bids it takes the same two indexes)."""
    from sqlalchemy import text

    if db.connection().dialect.name != "sqlite":
        pytest.skip("the plan of PostgreSQL depends on the table's statistics")
    stmt = bids._USED.params(tenders=[1], keys=["a" * 64], sealed=["b" * 32])
    sql = str(
        stmt.compile(
            dialect=db.connection().dialect,
            compile_kwargs={"literal_binds": True, "render_postcompile": True},
        )
    )
    plan = " | ".join(row[-1] for row in db.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "USING INDEX ix_bids_tender_blob_key (tender_id=? AND blob_key=?)" in plan, plan
    assert "USING INDEX ix_bids_tender_sealed_bid_id (tender_id=? AND sealed_bid_id=?)" in plan, plan
