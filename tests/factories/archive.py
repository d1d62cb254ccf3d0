"""The procedure file's worlds: a tender that failed at its opening (R44: one bid), and a tender whose
committee signed its report, with the publicity, the award and the contract rows the award services will write
(award/models.py), inserted here, and the tender moved to awarded; and the build of the file for a reader."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from audit import record
from award.archive import services
from award.models import Award, Contract, Publicity
from core import clock
from core.identity import Actor
from core.signing import SigningKey, signing_key
from evaluation.report import signing
from tender import deadlines, lifecycle
from tender.events import TenderTag
from tender.lifecycle import Event
from tests.factories.bids import submit_bid
from tests.factories.report import public_hex, report_world, sign_as
from tests.factories.room import room_world
from tests.factories.tenders import move_to, published_tender

ORIGIN = "etender.test"
CONTRACT = b"%PDF-1.7 signed contract " + b"c" * 300


def platform_key(tmp_path: Path) -> SigningKey:
    return signing_key(tmp_path / "platform", ORIGIN)


def failed_world(db, make, blobs, tmp_path, key: SigningKey | None = None) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """published_tender's world with one sealed bid, past its deadline: the opening fails (R44). `key`: the
    platform's signing key (default: one under tmp_path)."""
    w = published_tender(db, make, blobs)
    w.key = key or platform_key(tmp_path)
    w.blobs = blobs
    w.bid = submit_bid(db, w.bidder, blobs, w.tender, w.lot1, w.key)
    move_to(w.deadline + timedelta(minutes=1))
    deadlines.close_due_tenders(db)
    db.flush()
    db.refresh(w.tender)
    assert w.tender.status == "failed", w.tender.status
    return w


def signed_world(db, make, blobs, tmp_path) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """room_world's committee signs its report (tests/factories/report.py): the tender is evaluated."""
    w = room_world(db, make, blobs, tmp_path)
    w.key = platform_key(tmp_path)
    w.blobs = blobs
    report_world(w)
    w.report = signing.generate(db, w.members[0][1], w.tender.id)
    for seat, actor in w.members:
        signing.register_key(db, actor, w.tender.id, public_hex(w.private[seat.id]))
    for i in range(len(w.members)):
        sign_as(w, i)
    db.flush()
    db.refresh(w.tender)
    assert w.tender.status == "evaluated", w.tender.status
    return w


def award(w: SimpleNamespace) -> SimpleNamespace:
    """The publicity, the award to candidate no. 1 and its contract (with its signed file in the blob store)
    as rows, each with an audit entry of the tender, and the tender moved to publicity then awarded."""
    db = w.db
    doc = signing.document_of(w.report)
    first = doc["ranking"]["ranking"][0]
    from tender.models import Bid, OpenedBid

    opened = db.get(OpenedBid, first["bid"])
    bid = db.get(Bid, opened.bid_id)
    now = clock.now()

    def entry(what: str) -> int:
        return record(
            db,
            TenderTag.tender_updated,
            actor=w.agency,
            subject=f"tender:{w.tender.id}",
            details={"test": what},
        ).index

    w.publicity = Publicity(
        tender_id=w.tender.id,
        report_id=w.report.id,
        candidates=[{"rank": 1, "bid_id": bid.id, "organisation_id": bid.organisation_id, "price_fen": 1}],
        published_at=now,
        ends_at=now + timedelta(days=3),
        audit_index=entry("publicity"),
    )
    db.add(w.publicity)
    lifecycle.apply(w.tender, Event.publish_candidates)
    w.award = Award(
        tender_id=w.tender.id,
        bid_id=bid.id,
        organisation_id=bid.organisation_id,
        rank=1,
        amount=first["price_fen"],
        estimate=w.lot1.estimated_price,
        decided_by=w.purchaser_user.id,
        audit_index=entry("award"),
    )
    db.add(w.award)
    db.flush()
    lifecycle.apply(w.tender, Event.award)
    info = w.blobs.put([CONTRACT])
    w.contract = Contract(
        award_id=w.award.id,
        tender_id=w.tender.id,
        amount=first["price_fen"],
        signed_on=date(2026, 12, 1),
        filename="合同/contract.pdf",
        blob_key=info.key,
        sha256=hashlib.sha256(CONTRACT).hexdigest(),
        recorded_by=w.agency_user.id,
        audit_index=entry("contract"),
    )
    db.add(w.contract)
    db.flush()
    return w


def build(w: SimpleNamespace, actor: Actor, path: Path, **kw: Any) -> services.Built:
    """The procedure file of w.tender for `actor`, written to `path`."""
    with path.open("wb") as out:
        return services.build(w.db, actor, w.tender.id, w.blobs, w.key, ORIGIN, out, **kw)


def build_bytes(w: SimpleNamespace, actor: Actor) -> bytes:
    out = io.BytesIO()
    services.build(w.db, actor, w.tender.id, w.blobs, w.key, ORIGIN, out)
    return out.getvalue()
