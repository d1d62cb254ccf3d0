"""Rating appeals and their review (rules.md §5.4: "credit repair and appeals exist"; issue 15: every rating
and its review is kept). The rated intermediary appeals one rating within APPEAL_DAYS of it, with its
grounds; the centre reviews it: dismissed, the rating counts as it is; upheld, the reviewed scores count
instead (marketplace.credit.effective_scores). The rating row itself is never changed. Services never
commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.access import require_role
from audit import record
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import Actor, Role
from marketplace import credit, ratings
from marketplace.events import MarketplaceTag
from marketplace.models import Rating, RatingAppeal

APPEAL_DAYS = 30  # policy: a rating is appealed within 30 days of it


def appeal(session: Session, actor: Actor, rating_id: int, grounds: str) -> RatingAppeal:
    require_role(actor, Role.intermediary)
    rating = session.get(Rating, rating_id, with_for_update=True)
    if rating is None:
        raise NotFound.one("rating_not_found", N_("No such rating."))
    if rating.intermediary_org_id != actor.organisation_id:
        raise Forbidden.one("not_your_rating", N_("Only the rated intermediary may appeal a rating."))
    if clock.now() > rating.rated_at + timedelta(days=APPEAL_DAYS):
        raise Conflict.one(
            "rating_appeal_late",
            N_("A rating is appealed within %(days)s days of it."),
            rule="§5.4",
            days=APPEAL_DAYS,
        )
    if session.scalars(select(RatingAppeal).where(RatingAppeal.rating_id == rating.id)).first():
        raise Conflict.one("rating_appealed_already", N_("This rating has already been appealed."))
    if not grounds.strip():
        raise ValidationFailed.one("grounds_missing", N_("Give your grounds."), "grounds")
    assert actor.user_id is not None
    row = RatingAppeal(rating_id=rating.id, filed_by=actor.user_id, grounds=grounds.strip())
    session.add(row)
    session.flush()
    record(
        session,
        MarketplaceTag.rating_appealed,
        actor=actor,
        subject=f"purchase:{rating.purchase_id}",
        details={"appeal": row.id, "rating": rating.id, "rater": rating.rater_kind, "grounds": row.grounds},
    )
    return row


def review(
    session: Session,
    actor: Actor,
    appeal_id: int,
    upheld: bool,
    note: str,
    revised: Mapping[str, int | None] | None = None,
) -> RatingAppeal:
    require_role(actor, Role.admin)
    row = session.get(RatingAppeal, appeal_id, with_for_update=True)
    if row is None:
        raise NotFound.one("appeal_not_found", N_("No such appeal."))
    if row.status != "filed":
        raise Conflict.one("appeal_reviewed_already", N_("This appeal has already been reviewed."))
    problems = []
    if not note.strip():
        problems += ValidationFailed.one(
            "review_note_missing", N_("Give the reasons for the review."), "note"
        ).problems
    if upheld:
        problems += ratings.score_problems(revised or {})
    if problems:
        raise ValidationFailed(problems)
    rating = session.get(Rating, row.rating_id)
    assert rating is not None
    row.status = "upheld" if upheld else "dismissed"
    row.reviewed_by, row.reviewed_at, row.review_note = actor.user_id, clock.now(), note.strip()
    row.revised_scores = {k: int(revised[k]) for k in ratings.INDICATORS} if upheld and revised else None  # type: ignore[arg-type]
    session.flush()
    record(
        session,
        MarketplaceTag.rating_reviewed,
        actor=actor,
        subject=f"purchase:{rating.purchase_id}",
        details={
            "appeal": row.id,
            "rating": rating.id,
            "outcome": row.status,
            "original": rating.scores,
            "revised": row.revised_scores,
            "note": row.review_note,
        },
    )
    credit.refresh(session, [rating.intermediary_org_id])
    return row


def appeals_of(session: Session, rating_ids: list[int]) -> dict[int, RatingAppeal]:
    if not rating_ids:
        return {}
    return {
        a.rating_id: a
        for a in session.scalars(select(RatingAppeal).where(RatingAppeal.rating_id.in_(rating_ids)))
    }


def open_appeals(session: Session, actor: Actor) -> list[RatingAppeal]:
    require_role(actor, Role.admin)
    return list(
        session.scalars(select(RatingAppeal).where(RatingAppeal.status == "filed").order_by(RatingAppeal.id))
    )
