"""Audit subjects as people know them: the log names "tender:13" or "draw:5"; a monitor reads the tender's
reference number and title (issue 16: no internal id on a page), and filters by the reference number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluation.committee.models import Draw
from tender.models import Tender


def tender_by_reference(session: Session, reference: str) -> int | None:
    return session.scalar(select(Tender.id).where(Tender.reference == reference.strip().upper()))


def names(session: Session, subjects: set[str]) -> dict[str, str]:
    """Each subject that is a tender or its draw, by the tender's reference and title."""
    tender_ids = {int(s[7:]) for s in subjects if s.startswith("tender:") and s[7:].isdigit()}
    draw_ids = {int(s[5:]) for s in subjects if s.startswith("draw:") and s[5:].isdigit()}
    draws: dict[int, int] = (
        {d: t for d, t in session.execute(select(Draw.id, Draw.tender_id).where(Draw.id.in_(draw_ids)))}
        if draw_ids
        else {}
    )
    tender_ids |= set(draws.values())
    tenders = {
        tid: f"{ref} {title}"
        for tid, ref, title in session.execute(
            select(Tender.id, Tender.reference, Tender.title).where(Tender.id.in_(tender_ids))
        )
    }
    out = {f"tender:{tid}": name for tid, name in tenders.items()}
    out.update({f"draw:{did}": tenders[tid] for did, tid in draws.items() if tid in tenders})
    return out
