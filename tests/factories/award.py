"""The award's world: the signed report of tests/factories/report.py (every member signs, the tender is
evaluated), a Publicity row with the candidates' snapshot taken from the report's ranking, the tender moved to
publicity through the lifecycle, and the platform's signer for the notices. The publicity ends `ends_in` from
now; `past()` moves the clock beyond it."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select

from accounts.models import Organisation
from audit.log import AuditEntry
from award.decision.services import Signer
from award.models import Publicity
from core import clock
from core.signing import signing_key
from evaluation.report import signing
from evaluation.report.models import EvaluationReport
from evaluation.room.models import Step
from tender import lifecycle
from tender.lifecycle import Event
from tender.models import Bid, OpenedBid
from tests.factories.report import opened_bid_ids, outcomes, public_hex, report_world, sign_as
from tests.factories.room import room_world
from tests.factories.tenders import move_to

ORIGIN = "etender.test/audit"


def candidates_of(w: SimpleNamespace) -> list[dict[str, Any]]:
    """The publicity's snapshot from the ranking the report carries (tests/factories/report.py outcomes)."""
    ranking = outcomes(opened_bid_ids(w), w.members)[Step.ranking]
    out = []
    for row in ranking["ranking"]:
        if row["bid"] not in ranking["candidates"]:
            continue
        bid = w.db.scalar(
            select(Bid).join(OpenedBid, OpenedBid.bid_id == Bid.id).where(OpenedBid.id == row["bid"])
        )
        org = w.db.get(Organisation, bid.organisation_id)
        out.append(
            {
                "rank": row["rank"],
                "bid_id": bid.id,
                "organisation_id": org.id,
                "name": org.name,
                "price_fen": row["price_fen"],
            }
        )
    return out


def in_publicity(w: SimpleNamespace, ends_in: timedelta = timedelta(days=3)) -> Publicity:
    """The Publicity row and the tender moved to publicity (the publicity service's job, done by hand)."""
    db = w.db
    report = db.scalar(select(EvaluationReport).where(EvaluationReport.tender_id == w.tender.id))
    now = clock.now()
    row = Publicity(
        tender_id=w.tender.id,
        report_id=report.id,
        candidates=candidates_of(w),
        published_at=now,
        ends_at=now + ends_in,
        audit_index=int(db.scalar(select(func.max(AuditEntry.index))) or 0),
    )
    db.add(row)
    db.refresh(w.tender)
    lifecycle.apply(w.tender, Event.publish_candidates)
    db.flush()
    w.publicity = row
    return row


def award_world(
    db,
    make,
    blobs,
    tmp_path,
    *,
    state_funded: bool = True,
    ends_in: timedelta = timedelta(days=3),  # type: ignore[no-untyped-def]
) -> SimpleNamespace:
    w = room_world(db, make, blobs, tmp_path)
    report_world(w)
    signing.generate(db, w.members[0][1], w.tender.id)  # the chair generates it, every member signs
    for seat, actor in w.members:
        signing.register_key(db, actor, w.tender.id, public_hex(w.private[seat.id]))
    for i in range(len(w.members)):
        sign_as(w, i)
    db.flush()
    db.refresh(w.tender)
    assert w.tender.status == "evaluated", w.tender.status
    w.tender.state_funded = state_funded
    in_publicity(w, ends_in)
    w.blobs = blobs
    w.key = signing_key(tmp_path / "data", ORIGIN)
    w.signer = Signer(blobs, w.key, ORIGIN)
    w.tmp_path = tmp_path
    db.flush()
    return w


def past(w: SimpleNamespace, extra: timedelta = timedelta(minutes=1)) -> None:
    move_to(w.publicity.ends_at + extra)
