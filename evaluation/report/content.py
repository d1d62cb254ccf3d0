"""The evaluation report's document (评标报告, R53; G87 art. 64): assembled once the ranking step is
closed, from the tender, the session, the opening record and each closed step's outcome
(evaluation.room.models.EvaluationStep) plus the step services' own sections. Its canonical JSON
(rules.canonical) is what every member signs.

docs/evaluation-report.md lists the fields. Times are UTC, "YYYY-MM-DDTHH:MM:SSZ"; money in fen (integers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Organisation
from core import clock
from evaluation.committee.models import Draw, Seat
from evaluation.pool.models import Expert, Specialty
from evaluation.report import rules
from evaluation.review.review import report_section as review_section
from evaluation.room.models import STEP_ORDER, AttendanceStatus, EvaluationSession, EvaluationStep, Step
from evaluation.scoring.sheets import report_section as scoring_section
from tender.models import Bid, Lot, OpenedBid, Tender
from tender.opening.base import is_published, opening_of
from tender.opening.record import record_body


def iso(value: datetime | None) -> str | None:
    return clock.as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _dissents(closed: dict[Step, EvaluationStep]) -> list[dict[str, Any]]:
    """Every dissent the steps recorded (G87 art. 64: a member who disagrees states it in writing), with the
    step and, for a rejected bid, the bid it is about."""
    out: list[dict[str, Any]] = []
    for step in STEP_ORDER:
        row = closed.get(step)
        outcome = row.outcome if row is not None and isinstance(row.outcome, dict) else {}
        for d in outcome.get("dissent") or []:
            bid = d.get("bid") if isinstance(d, dict) else None
            out.append({"step": step.value, "bid": bid, "dissent": d})
        for rejected in outcome.get("rejected") or []:
            if isinstance(rejected, dict):
                for d in rejected.get("dissent") or []:
                    out.append({"step": step.value, "bid": rejected.get("bid"), "dissent": d})
    return out


def committee(session: Session, sess: EvaluationSession, draw_row: Draw) -> dict[str, Any]:
    """The members by seat (present at generation: those who sign), the chair, check-in times, who left."""
    names = dict(
        session.execute(
            select(Seat.id, Expert.name)
            .join(Expert, Expert.id == Seat.expert_id)
            .where(Seat.draw_id == draw_row.id)
        ).all()
    )
    specialties = {s.id: s.specialty for s in draw_row.seats}
    labels = {
        code: (zh, en)
        for code, zh, en in session.execute(
            select(Specialty.code, Specialty.name_zh, Specialty.name_en).where(
                Specialty.code.in_(set(specialties.values()))
            )
        )
    }
    positions = {s.id: s.position for s in draw_row.seats}
    confirmed = {s.id for s in draw_row.seats if s.status == "confirmed"}
    present = [a for a in sess.attendances if a.status == AttendanceStatus.present and a.seat_id in confirmed]
    left = [a for a in sess.attendances if a.status == AttendanceStatus.left]
    return {
        "session": sess.id,
        "room": sess.room.name,
        "starts_at": iso(sess.starts_at),
        "ends_at": iso(sess.ends_at),
        "chair_seat": sess.chair_seat_id,
        "members": [
            {
                "seat": a.seat_id,
                "position": positions.get(a.seat_id),
                "name": names.get(a.seat_id, ""),
                "specialty": specialties.get(a.seat_id, ""),
                "specialty_name": {
                    "zh": labels.get(specialties.get(a.seat_id, ""), ("", ""))[0],
                    "en": labels.get(specialties.get(a.seat_id, ""), ("", ""))[1],
                },
                "chair": a.seat_id == sess.chair_seat_id,
                "checked_in_at": iso(a.checked_in_at),
                "declaration_sha256": a.declaration_sha256,
            }
            for a in sorted(present, key=lambda a: positions.get(a.seat_id, 0))
        ],
        "left": [
            {
                "seat": a.seat_id,
                "name": names.get(a.seat_id, ""),
                "left_at": iso(a.left_at),
                "reason": a.leave_reason,
            }
            for a in left
        ],
    }


def bidders(session: Session, tender: Tender) -> list[dict[str, Any]]:
    """The opened bids the steps name (by their opened-bid id), with the bidder and the lot: the report says
    who, not which number."""
    rows = session.execute(
        select(OpenedBid.id, Bid.id, Organisation.name, Lot.number, OpenedBid.status)
        .join(Bid, Bid.id == OpenedBid.bid_id)
        .join(Organisation, Organisation.id == Bid.organisation_id)
        .join(Lot, Lot.id == Bid.lot_id)
        .where(Bid.tender_id == tender.id)
        .order_by(Lot.number, OpenedBid.id)
    ).all()
    return [
        {"opened_bid": ob, "bid": bid, "bidder": name, "lot": lot, "outcome": status}
        for ob, bid, name, lot, status in rows
    ]


def sections(session: Session, sess: EvaluationSession) -> dict[str, Any]:
    """The step services' own parts of the report (the review's rejected bids with reasons, each member's
    sheets and the summary, the price workings), keyed by step."""
    return {"review": review_section(session, sess), "scoring": scoring_section(session, sess)}


def document(
    session: Session,
    tender: Tender,
    sess: EvaluationSession,
    draw_row: Draw,
    closed: dict[Step, EvaluationStep],
    generated_at: datetime,
) -> dict[str, Any]:
    """The report document (every step closed: the caller checks)."""
    op = opening_of(session, tender.id)
    steps = {
        step.value: {
            "closed_at": iso(closed[step].closed_at),
            "closed_by_seat": closed[step].closed_by_seat_id,
            "outcome": closed[step].outcome,
        }
        for step in STEP_ORDER
    }
    ranking = closed[Step.ranking].outcome or {}
    return {
        "format": rules.DOCUMENT_FORMAT,
        "version": rules.VERSION,
        "generated_at": iso(generated_at),
        "tender": {
            "id": tender.id,
            "reference": tender.reference,
            "title": tender.title,
            "category": tender.category,
            "method": tender.evaluation_method,
            "criteria": tender.criteria if isinstance(tender.criteria, dict) else {},
            "lots": [
                {
                    "number": lot.number,
                    "name": lot.name,
                    "estimated_price_fen": lot.estimated_price,
                    "price_ceiling_fen": lot.price_ceiling,
                }
                for lot in tender.lots
            ],
        },
        "committee": committee(session, sess, draw_row),
        "bidders": bidders(session, tender),
        "opening": record_body(session, tender, op) if op is not None and is_published(op) else None,
        "clarifications": {
            # the tender documents' clarifications and amendments (R21), then those the committee asked of
            # the bidders during the review (their ids, as the review step recorded them)
            "tender": [
                {"number": c.number, "title": c.title, "issued_at": iso(c.issued_at)}
                for c in tender.clarifications
            ],
            "review": list((closed[Step.review].outcome or {}).get("clarifications") or []),
        },
        "steps": steps,
        "review": closed[Step.review].outcome,
        "scoring": closed[Step.scoring].outcome,
        "ranking": ranking,
        "candidates": list(ranking.get("candidates") or []),
        "failed": ranking.get("failed"),
        "dissents": _dissents(closed),
        "sections": sections(session, sess),
    }
