"""The review's world: the room's world (tests/factories/room.py) started, its members checked in and a chair
elected, and helpers that enter members' verdicts through the service."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from sqlalchemy import select

from evaluation.review import review
from evaluation.review.rules import Criterion
from evaluation.room import reading
from tender.models import OpenedBid
from tests.factories.room import check_in_all, elect_chair, start

# (member index, opened bid id, criterion) -> (passed, ground, reason), or None to leave it
Choice = Callable[[int, int, Criterion], tuple[bool, str, str] | None]


def sitting(w: SimpleNamespace, n: int | None = None) -> SimpleNamespace:
    """Start the session, check in the first n members (all by default) and elect member 0 chair."""
    start(w)
    check_in_all(w, n)
    elect_chair(w, 0)
    w.present = w.members[:n]
    w.chair = w.members[0][1]
    w.bids = [b["opened_bid"] for b in reading.opened_bids(w.db, w.tender.id)]
    w.criteria = review.criteria_for(w.tender)
    return w


def everyone_passes(_m: int, _b: int, _c: Criterion) -> tuple[bool, str, str]:
    return (True, "", "")


def enter(w: SimpleNamespace, choice: Choice = everyone_passes, members: list[int] | None = None) -> None:
    """Each of the given members (indexes into w.members; the present ones by default) saves their verdicts,
    bid by bid."""
    for m in members if members is not None else range(len(w.present)):
        actor = w.members[m][1]
        for b in w.bids:
            entries = []
            for c in w.criteria:
                got = choice(m, b, c)
                if got is not None:
                    entries.append(review.VerdictInput(c.kind, c.index, *got))
            if entries:
                review.save_verdicts(w.db, actor, w.tender.id, b, entries)
    w.db.flush()


def set_prices(w: SimpleNamespace, fen: list[int]) -> None:
    """Give the opened bids (in reading order) these total prices, as if they had been opened so."""
    for b, price in zip(w.bids, fen, strict=True):
        ob = w.db.scalars(select(OpenedBid).where(OpenedBid.id == b)).one()
        ob.price_form = {**(ob.price_form or {}), "total_price_fen": price}
    w.db.flush()
