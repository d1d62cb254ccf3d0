"""The scoring step's world: room_world's session started, every member checked in, member 0 the chair, and
the review closed by the chair through the one step service (evaluation.room.steps.close) with the valid
bids; helpers to fill and submit a member's sheet."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from evaluation.room import steps
from evaluation.room.models import Step
from evaluation.scoring import sheets
from tender.models import OpenedBid, Opening
from tests.factories.room import check_in_all, elect_chair, start


def opened_bid_ids(w: SimpleNamespace) -> list[int]:
    return list(
        w.db.scalars(
            select(OpenedBid.id)
            .join(Opening, Opening.id == OpenedBid.opening_id)
            .where(Opening.tender_id == w.tender.id)
            .order_by(OpenedBid.id)
        )
    )


def close_review(w: SimpleNamespace, valid: list[int] | None = None) -> list[int]:
    chair = w.members[0][1]
    working = steps.working_member(w.db, chair, w.tender.id)
    valid = opened_bid_ids(w) if valid is None else valid
    outcome = {"valid": sorted(valid), "rejected": [], "dissent": [], "clarifications": []}
    steps.close(w.db, chair, working, Step.review, outcome)
    w.db.flush()
    return sorted(valid)


def scoring_world(w: SimpleNamespace, valid: list[int] | None = None) -> SimpleNamespace:
    start(w)
    check_in_all(w)
    elect_chair(w, 0)
    w.chair = w.members[0][1]
    w.bids = close_review(w, valid)
    return w


def fill(w: SimpleNamespace, actor: Any, scores: dict[int, list[Any]]) -> sheets.Saved:
    """Save a member's scores: bid id -> one value per factor, in the criteria's order."""
    entries = [
        sheets.EntryIn(bid, i, value) for bid, values in scores.items() for i, value in enumerate(values)
    ]
    saved = sheets.save(w.db, actor, w.tender.id, entries)
    w.db.flush()
    return saved


def everyone_submits(w: SimpleNamespace, scores: Any) -> None:
    """Every member fills and submits; `scores(index) -> {bid: [values]}` gives member `index`'s sheet."""
    for i, (_, actor) in enumerate(w.members):
        fill(w, actor, scores(i))
        sheets.submit(w.db, actor, w.tender.id)
    w.db.flush()
