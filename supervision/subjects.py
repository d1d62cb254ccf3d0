"""Audit subjects as people know them: the log names "tender:13" or "draw:5"; a monitor reads the tender's
reference number and title (issue 16: no internal id on a page), and filters by the reference number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Organisation, User
from evaluation.committee.models import Draw
from evaluation.pool.models import Expert
from marketplace.models import Purchase
from tender.centre.models import ProjectIntake
from tender.models import Lot, Tender


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
    out.update(_others(session, subjects))
    return out


def _ids(subjects: set[str], kind: str) -> set[int]:
    prefix = kind + ":"
    return {int(s[len(prefix) :]) for s in subjects if s.startswith(prefix) and s[len(prefix) :].isdigit()}


def _others(session: Session, subjects: set[str]) -> dict[str, str]:
    """The other subjects the log names: people by name, organisations (an intermediary is one) by name,
    purchases and the centre's intakes by reference and title, experts by name, an audit entry by its index
    (the public log's own number)."""
    out: dict[str, str] = {}
    if ids := _ids(subjects, "user"):
        for uid, name, username in session.execute(
            select(User.id, User.full_name, User.username).where(User.id.in_(ids))
        ):
            out[f"user:{uid}"] = f"{name} ({username})"
    org_ids = _ids(subjects, "org") | _ids(subjects, "intermediary")
    if org_ids:
        for oid, name in session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
        ):
            out[f"org:{oid}"] = out[f"intermediary:{oid}"] = name
    if ids := _ids(subjects, "purchase"):
        for pid, ref, project in session.execute(
            select(Purchase.id, Purchase.reference, Purchase.project).where(Purchase.id.in_(ids))
        ):
            out[f"purchase:{pid}"] = f"{ref} {project}"
    if ids := _ids(subjects, "intake"):
        for iid, ref, title in session.execute(
            select(ProjectIntake.id, ProjectIntake.reference, ProjectIntake.title).where(
                ProjectIntake.id.in_(ids)
            )
        ):
            out[f"intake:{iid}"] = f"{ref} {title}"
    if ids := _ids(subjects, "expert"):
        for eid, name in session.execute(select(Expert.id, Expert.name).where(Expert.id.in_(ids))):
            out[f"expert:{eid}"] = name
    out.update({f"audit:{n}": f"#{n}" for n in _ids(subjects, "audit")})
    return {k: v for k, v in out.items() if k in subjects}


def lot_numbers(session: Session, lot_ids: set[int]) -> dict[int, int]:
    """The lots' numbers (第 1 标段) by their ids, which the log records."""
    if not lot_ids:
        return {}
    return {lid: n for lid, n in session.execute(select(Lot.id, Lot.number).where(Lot.id.in_(lot_ids)))}
