"""A tender taken through its whole procedure for the open-data tests: published and clarified through the
tender services, then the later stages written as rows (the opening's outcome, the signed report, the
publicity, the award and the contract: the award services are built elsewhere, the open data only reads
their rows), with the clock moved along so that every change happens at its own time."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from audit import record
from award.models import Award, Contract, Publicity
from core import clock
from core.identity import SYSTEM
from evaluation.report.models import EvaluationReport
from tender import clarifications
from tender.events import TenderTag
from tender.models import Bid, BidStatus, OpenedBid, Opening, OpeningStatus
from tests.factories.tenders import published_tender

STAGES = ("published", "clarified", "deadline", "opened", "evaluated", "publicity", "awarded", "contracted")


def procedure(db: Any, make: Any, blobs: Any, upto: str = "contracted") -> SimpleNamespace:
    """The cast with one tender taken up to `upto` (one of STAGES). `w.at` maps each stage to its time."""
    w = published_tender(db, make, blobs)
    w.at = {"published": w.tender.published_at}
    w.blobs = blobs
    steps = STAGES[1 : STAGES.index(upto) + 1]
    for step in steps:
        clock.shift(
            timedelta(days=1)
            if step != "deadline"
            else w.tender.bid_deadline - clock.now() + timedelta(minutes=1)
        )
        globals()[f"_{step}"](w)
        w.at[step] = clock.now()
        db.flush()
    return w


def _clarified(w: SimpleNamespace) -> None:
    w.clarification = clarifications.clarify(
        w.db,
        w.agency,
        w.blobs,
        w.tender.id,
        "Desk sizes",
        "Desks are 120 cm wide.",
        True,
        [],
        max_bytes=1 << 20,
    )


def _deadline(w: SimpleNamespace) -> None:
    """Bids of the three bidder companies on lot 1 (rows, submitted before the deadline), bidding closed."""
    w.bids = []
    for i, (org, user) in enumerate(
        [
            (w.bidder_org, w.bidder_user),
            (w.other_bidder_org, w.other_bidder_user),
            (w.third_bidder_org, w.third_bidder_user),
        ]
    ):
        bid = Bid(
            tender_id=w.tender.id,
            lot_id=w.lot1.id,
            organisation_id=org.id,
            user_id=user.id,
            status=BidStatus.submitted,
            blob_key=hashlib.sha256(f"sealed-{i}".encode()).hexdigest(),
            size=1000 + i,
            submitted_at=clock.now() - timedelta(days=1, hours=i),
        )
        w.db.add(bid)
        w.bids.append(bid)
    w.tender.status = "opening"
    w.db.flush()
    w.opening = Opening(tender_id=w.tender.id, opens_at=w.tender.bid_deadline, bids_count=3)
    w.db.add(w.opening)
    w.db.flush()
    w.opened = [OpenedBid(opening_id=w.opening.id, bid_id=b.id) for b in w.bids]
    w.db.add_all(w.opened)


def _opened(w: SimpleNamespace) -> None:
    """Every bid decrypted, the opening record published (E32)."""
    prices = [980_000_00, 1_010_000_00, 1_020_000_05]
    for ob, price in zip(w.opened, prices, strict=True):
        ob.status = "opened"
        ob.price_form = {"total_price_fen": price, "duration_days": 60}
        ob.decrypted_at = clock.now()
    w.opening.status = OpeningStatus.done
    w.opening.finished_at = clock.now()
    record(
        w.db,
        TenderTag.opening_record_published,
        actor=SYSTEM,
        subject=f"tender:{w.tender.id}",
        details={"bids": 3},
    )


def _evaluated(w: SimpleNamespace) -> None:
    """The signed report (R53): two members, every bid ranked; the tender evaluated."""
    w.db.flush()
    seats = [101, 102]
    ranking = [
        {
            "rank": i + 1,
            "bid": ob.id,
            "total": f"{90.5 - i:.2f}",
            "price_fen": p,
            "evaluated_price_fen": p,
            "tie_break": None,
        }
        for i, (ob, p) in enumerate(zip(w.opened, [980_000_00, 1_010_000_00, 1_020_000_05], strict=True))
    ]
    document = {
        "format": "etender-evaluation-report",
        "version": 1,
        "tender": {"id": w.tender.id, "method": "comprehensive"},
        "committee": {
            "members": [
                {"seat": seats[0], "position": 1, "name": "Expert Zhang", "specialty": "A01", "chair": True},
                {"seat": seats[1], "position": 2, "name": "Expert Wang", "specialty": "B02", "chair": False},
            ]
        },
        "bidders": [
            {"opened_bid": ob.id, "bid": b.id, "bidder": "x", "lot": 1, "outcome": "opened"}
            for ob, b in zip(w.opened, w.bids, strict=True)
        ],
        "review": {"valid": [ob.id for ob in w.opened], "rejected": []},
        "ranking": {
            "method": "comprehensive",
            "ranking": ranking,
            "candidates": [ob.id for ob in w.opened],
            "failed": None,
        },
        "sections": {
            "scoring": {
                "summary": {
                    str(ob.id): {
                        "member_sums": {str(seats[0]): f"{91 - i}.00", str(seats[1]): f"{90 - i}.00"},
                        "total": f"{90.5 - i:.2f}",
                    }
                    for i, ob in enumerate(w.opened)
                }
            }
        },
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    entry = record(w.db, TenderTag.opening_closed, actor=SYSTEM, subject=f"tender:{w.tender.id}", details={})
    w.db.flush()
    w.report = EvaluationReport(
        session_id=_evaluation_session(w),
        tender_id=w.tender.id,
        generated_by_seat_id=w.seat_id,
        document=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        audit_index=entry.index,
        deadline=clock.now() + timedelta(hours=1),
        completed_at=clock.now(),
    )
    w.db.add(w.report)
    w.tender.status = "evaluated"


def _evaluation_session(w: SimpleNamespace) -> int:
    """The evaluation session and the draw seat a report row needs (foreign keys), as bare rows."""
    from evaluation.committee.models import Draw, Seat
    from evaluation.room.models import EvaluationRoom, EvaluationSession

    draw = Draw(
        tender_id=w.tender.id,
        requested_by=w.agency_user.id,
        request_id=f"ocds-{w.tender.id}",
        committee_size=2,
        evaluation_date=clock.now().date(),
        algorithm_version="test",
        server_seed="00" * 32,
        commitment="00" * 32,
        pool_root="00" * 32,
        exclusions_digest="00" * 32,
        seed="00" * 32,
    )
    w.db.add(draw)
    w.db.flush()
    seat = Seat(
        draw_id=draw.id, expert_id=_expert(w), position=1, specialty="A01", kind="member", status="confirmed"
    )
    w.db.add(seat)
    room = EvaluationRoom(number=1000 + w.tender.id, name=f"Room {w.tender.id}")
    w.db.add(room)
    w.db.flush()
    sess = EvaluationSession(
        tender_id=w.tender.id,
        draw_id=draw.id,
        room_id=room.id,
        starts_at=clock.now() - timedelta(hours=3),
        ends_at=clock.now() + timedelta(hours=3),
        booked_by=w.agency_user.id,
    )
    w.db.add(sess)
    w.db.flush()
    w.seat_id = seat.id
    return sess.id


def _expert(w: SimpleNamespace) -> int:
    from evaluation.pool.models import Expert

    expert = Expert(name="Expert Zhang")
    w.db.add(expert)
    w.db.flush()
    return expert.id


def _publicity(w: SimpleNamespace) -> None:
    """R54: the candidates published from the report."""
    candidates = [
        {"rank": i + 1, "bid_id": b.id, "organisation_id": b.organisation_id, "name": "x", "price_fen": p}
        for i, (b, p) in enumerate(zip(w.bids, [980_000_00, 1_010_000_00, 1_020_000_05], strict=True))
    ]
    entry = record(w.db, TenderTag.tender_updated, actor=SYSTEM, subject=f"tender:{w.tender.id}", details={})
    w.db.flush()
    w.publicity = Publicity(
        tender_id=w.tender.id,
        report_id=w.report.id,
        candidates=candidates,
        published_at=clock.now(),
        ends_at=clock.now() + timedelta(days=3),
        audit_index=entry.index,
    )
    w.db.add(w.publicity)
    w.tender.status = "publicity"


def _awarded(w: SimpleNamespace) -> None:
    entry = record(w.db, TenderTag.tender_updated, actor=SYSTEM, subject=f"tender:{w.tender.id}", details={})
    w.db.flush()
    w.award = Award(
        tender_id=w.tender.id,
        bid_id=w.bids[0].id,
        organisation_id=w.bids[0].organisation_id,
        rank=1,
        amount=980_000_00,
        estimate=1_000_000_00,
        decided_at=clock.now(),
        decided_by=w.purchaser_user.id,
        audit_index=entry.index,
    )
    w.db.add(w.award)
    w.tender.status = "awarded"


def _contracted(w: SimpleNamespace) -> None:
    entry = record(w.db, TenderTag.tender_updated, actor=SYSTEM, subject=f"tender:{w.tender.id}", details={})
    w.db.flush()
    w.contract = Contract(
        award_id=w.award.id,
        tender_id=w.tender.id,
        amount=980_000_00,
        signed_on=date.today(),
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=60),
        filename="contract.pdf",
        recorded_at=clock.now(),
        recorded_by=w.purchaser_user.id,
        published_at=clock.now(),
        audit_index=entry.index,
    )
    w.db.add(w.contract)
