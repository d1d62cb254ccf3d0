"""Sealed bids and the worlds of the opening.

Two ways to a bid:

    sealed_bid / upload / submit_bid   through the services, as a bidder's upload goes (begin, parts,
                                       complete): for tests of submission, the opening over HTTP and
                                       evaluation
        signer = signing_key(tmp_path, "etender.test")
        bid = submit_bid(db, w.bidder, blobs, w.tender, w.lot1, signer)   # registers the company if needed
    seal_bid                           sealed and stored as submitted without the upload (a Bid row): for the
                                       ceremony's own tests, which also need a tampered one

Every bid is sealed with tender/sealing.py to the tender's published key bundle. `world` is the ceremony's
world (the cast, a published tender, bids of the three bidder companies); `opening_world` a tender of given
bidders brought to a stage of its opening (early, opening, opened), for the matrix and the opening's pages."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from accounts.models import Organisation, User, actor_for
from core import clock
from core.identity import Actor
from core.signing import SigningKey
from storage.base import BlobStore
from tender import deadlines, drafting, keyholders, participation, sealing
from tender.bids import submission
from tender.models import Bid, BidStatus, Lot, OpenedBid, Opening, Registration, Tender
from tender.opening import base as opening_base
from tender.opening import decryption
from tender.opening import parts as opening_parts
from tests.factories.accounts import cast
from tests.factories.tenders import PDF, draft_tender, move_to, published_tender, tender_input

# ---------------------------------------------------------------- through the services

PRICE_FORM = {"total_price_fen": 98_000_00, "duration_days": 60, "quality_commitment": "合格"}


def sealed_bid(
    db: Any,
    tender: Tender | int,
    lot: Lot | int,
    content: bytes = b"%PDF technical proposal",
    price_form: dict[str, Any] | None = None,
    **seal_options: Any,
) -> bytes:
    """The bytes of a sealed bid for `lot` of `tender`, sealed to its published key bundle."""
    tender_id = tender if isinstance(tender, int) else tender.id
    lot_id = lot if isinstance(lot, int) else lot.id
    bundle = keyholders.bundle_of(db, tender_id)
    assert bundle is not None, "the tender has no published key bundle"
    out = io.BytesIO()
    files = [
        sealing.BidFile("technical", "technical.pdf", "application/pdf", len(content), io.BytesIO(content))
    ]
    sealing.seal(bundle, lot_id, files, price_form or PRICE_FORM, out, **seal_options)
    return out.getvalue()


def with_bid_id(bid_id: str) -> Callable[[int], bytes]:
    """A random source for sealing.seal whose sealed bid gets the header bid_id `bid_id` (hex), as a bidder
    who copies another's header id would write it; everything else stays random. seal draws the data key
    first, then the 16 bytes of the bid id."""
    calls = iter(range(1_000_000))

    def rng(n: int) -> bytes:
        return bytes.fromhex(bid_id) if next(calls) == 1 else os.urandom(n)

    return rng


def ensure_registered(db: Any, actor: Actor, tender_id: int, lot_id: int) -> None:
    exists = db.scalar(
        select(Registration.id).where(
            Registration.lot_id == lot_id, Registration.organisation_id == actor.organisation_id
        )
    )
    if not exists:
        participation.register(db, actor, tender_id, lot_id, "Contact", "0571-1")


def upload(
    db: Any,
    actor: Actor,
    blobs: BlobStore,
    tender_id: int,
    lot_id: int,
    data: bytes,
    signer: SigningKey,
    part_size: int | None = None,
    max_bytes: int = 2 * 1024**3,
) -> Bid:
    """begin -> parts -> complete through the services (no registration step)."""
    bid = submission.begin(db, actor, blobs, tender_id, lot_id, len(data), max_bytes=max_bytes)
    step = part_size or blobs.part_limit
    for number, start in enumerate(range(0, len(data), step), start=1):
        submission.write_part(db, actor, blobs, bid.id, number, [data[start : start + step]])
    return submission.complete(db, actor, blobs, bid.id, signer)


def submit_bid(
    db: Any,
    actor: Actor,
    blobs: BlobStore,
    tender: Tender | int,
    lot: Lot | int,
    signer: SigningKey,
    content: bytes = b"%PDF technical proposal",
    price_form: dict[str, Any] | None = None,
    part_size: int | None = None,
) -> Bid:
    """Register the actor's company for the lot (if needed), seal a bid and submit it: the submitted Bid."""
    tender_id = tender if isinstance(tender, int) else tender.id
    lot_id = lot if isinstance(lot, int) else lot.id
    ensure_registered(db, actor, tender_id, lot_id)
    data = sealed_bid(db, tender_id, lot_id, content, price_form)
    return upload(db, actor, blobs, tender_id, lot_id, data, signer, part_size)


# ---------------------------------------------------------------- stored as submitted, and the opening

MARKER = "PLAINTEXT-MARKER-7f3a9c"  # in the plaintext of seal_bid's bids: found anywhere else, a bid leaked


def price(total_yuan: int = 1_000_000) -> dict[str, Any]:
    return {
        "total_price_fen": total_yuan * 100,
        "duration_days": 60,
        "quality_commitment": "合格",
        "bid_security_reference": "BG-2026-001",
    }


def seal_bid(
    db,
    store,
    tender: Tender,
    org,
    user,
    lot,
    *,  # type: ignore[no-untyped-def]
    bidder_key: X25519PrivateKey | None = None,
    tamper: bool = False,
    total_yuan: int = 1_000_000,
    content: bytes | None = None,
    bid_id: str | None = None,
) -> Bid:
    """Seal a bid as its bidder would and store it as submitted (what helper A's upload does, without the
    HTTP). `bid_id`: the header's bid id (hex), random if not given."""
    bundle = keyholders.bundle_of(db, tender.id)
    assert bundle is not None
    data = content if content is not None else (f"{MARKER} technical proposal of {org.name} ".encode() * 200)
    files = [sealing.BidFile("technical", "technical.txt", "text/plain", len(data), io.BytesIO(data))]
    out = io.BytesIO()
    header = sealing.seal(
        bundle,
        lot.id,
        files,
        price(total_yuan),
        out,
        chunk_size=1024,
        bidder_public_key=sealing.public_bytes(bidder_key) if bidder_key else None,
        **({"rng": with_bid_id(bid_id)} if bid_id else {}),
    )
    raw = bytearray(out.getvalue())
    if tamper:  # an altered chunk with a valid header: the bidder's own file is bad
        raw[len(header.preamble) + 10] ^= 0xFF
    info = store.put([bytes(raw)])
    bid = Bid(
        tender_id=tender.id,
        lot_id=lot.id,
        organisation_id=org.id,
        user_id=user.id,
        status=BidStatus.submitted,
        blob_key=info.key,
        size=info.size,
        declared_size=info.size,
        sealed_bid_id=header.bid_id,
        submitted_at=clock.now(),
    )
    db.add(bid)
    db.flush()
    return bid


def copy_bid(db, bid: Bid, org, user) -> Bid:  # type: ignore[no-untyped-def]
    """Another company's submitted bid with `bid`'s very sealed file (the same stored blob), written directly
    as if it had passed the submission check (which refuses it, R40): for the opening's tests."""
    copy = Bid(
        tender_id=bid.tender_id,
        lot_id=bid.lot_id,
        organisation_id=org.id,
        user_id=user.id,
        status=BidStatus.submitted,
        blob_key=bid.blob_key,
        size=bid.size,
        declared_size=bid.size,
        sealed_bid_id=bid.sealed_bid_id,
        submitted_at=clock.now(),
    )
    db.add(copy)
    db.flush()
    return copy


def header_doc_parts(
    db,
    store,
    tender: Tender,
    key: X25519PrivateKey,  # type: ignore[no-untyped-def]
    bids: list[Bid],
) -> list[dict[str, Any]]:
    """A holder's (or bidder's) parts documents for these bids, as `etender keys unwrap --headers` makes them
    (each naming its platform bid id)."""
    from cli.bids import parts_document

    out = []
    for bid in bids:
        header = submission.header_of(store, bid)
        key_id = sealing.key_id(sealing.public_bytes(key))
        out.append(parts_document(header, key_id, sealing.unwrap_parts(header, key), bid.id))
    return out


def world(
    db,
    make,
    store,
    n_bids: int = 3,
    policy: str = "quorum",  # type: ignore[no-untyped-def]
    tamper: int | None = None,
) -> SimpleNamespace:
    """The cast, a published tender with `policy` and `n_bids` sealed bids on its first lot from the three
    bidder companies in turn (bid number `tamper` altered), committed; `keys` maps each key holder's user id
    to its actor."""
    w = published_tender(db, make, store) if policy == "quorum" else None
    if w is None:
        w = cast(db, make)
        t = draft_tender(w, store, opening_policy="quorum+bidder")
        w.tender = drafting.publish(db, w.agency, t.id)
        w.lot1, w.lot2 = w.tender.lots
        w.deadline = w.tender.bid_deadline
    orgs = [
        (w.bidder_org, w.bidder_user),
        (w.other_bidder_org, w.other_bidder_user),
        (w.third_bidder_org, w.third_bidder_user),
    ]
    w.bidder_keys = {org.id: X25519PrivateKey.generate() for org, _ in orgs}
    w.bids = []
    for i in range(n_bids):
        org, user = orgs[i % 3]
        w.bids.append(
            seal_bid(
                db,
                store,
                w.tender,
                org,
                user,
                w.lot1,
                total_yuan=1_000_000 + i,
                tamper=(i == tamper),
                bidder_key=w.bidder_keys[org.id] if policy != "quorum" else None,
            )
        )
    db.commit()
    w.keys = {w.agency_user.id: w.agency, w.monitor_user.id: w.monitor, w.centre_user.id: w.centre}
    return w


def reach_deadline(db, w) -> Opening | None:  # type: ignore[no-untyped-def]
    move_to(w.deadline + timedelta(seconds=1))
    deadlines.close_due_tenders(db)
    db.commit()
    return opening_base.opening_of(db, w.tender.id)


def statuses(db, w) -> list[str]:  # type: ignore[no-untyped-def]
    """The opened-bid status of each of w.bids, read afresh."""
    db.expire_all()
    return [db.scalar(select(OpenedBid.status).where(OpenedBid.bid_id == b.id)) for b in w.bids]


def opening_world(
    session: Any,
    blobs: Any,
    w: SimpleNamespace,
    *,
    stage: str,
    title: str,
    holders: list[int],
    agency_uid: int,
    purchaser_org: Organisation,
    bidders: list[tuple[Organisation, User]],
) -> SimpleNamespace:
    """A tender of agency A with one counted bid per bidder on its first lot, brought to `stage`: early,
    opening or opened. Used by the matrix (tests/web/matrix_opening.py) and
    tests/web/tender/test_opening.py."""
    agency_user = session.get(User, agency_uid)
    agency = actor_for(agency_user, "198.51.100.7")
    basis = SimpleNamespace(purchaser_org=purchaser_org, holders=holders)
    t = drafting.create_tender(session, agency, tender_input(basis, title=title))
    drafting.add_document(
        session, agency, blobs, t.id, drafting.FileInput("tender-documents.pdf", [PDF]), max_bytes=1 << 20
    )
    keys = keyholders.generate_keys_for(session, t)
    drafting.publish(session, agency, t.id)
    session.flush()
    session.refresh(t)
    made = [
        seal_bid(session, blobs, t, org, user, t.lots[0], total_yuan=900_000 + 1000 * i)
        for i, (org, user) in enumerate(bidders)
    ]
    out = SimpleNamespace(tender=t, keys=keys, bids=made)
    if stage == "early":
        return out
    t.bid_deadline = clock.now() - timedelta(minutes=1)
    session.flush()
    deadlines.close_due_tenders(session)
    session.flush()
    if stage == "opening":
        return out
    for uid in holders[: t.key_threshold]:
        docs = header_doc_parts(session, blobs, t, keys[uid], made)
        holder = actor_for(session.get(User, uid), "198.51.100.7")
        opening_parts.submit_parts(session, holder, blobs, t.id, {"bids": docs})
    session.flush()
    for ob_id in session.scalars(select(OpenedBid.id).where(OpenedBid.bid_id.in_([b.id for b in made]))):
        job = decryption.claim(session, ob_id)
        assert job is not None
        decryption.finish_bid(session, job, decryption.decrypt(blobs, job))
    session.flush()
    assert opening_base.is_published(opening_base.opening_of(session, t.id)), (
        "the matrix's opened tender did not open"
    )
    return out
