"""A served purchase for the credit, complaint, appeal and exit tests (tests/marketplace): an intermediary
selected by a random draw, its contract confirmed and its result accepted, ready to be rated."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy.orm import Session

from core import clock
from core.identity import Actor
from marketplace import aftercare, purchases
from marketplace.models import Purchase
from tests.factories.accounts import Maker
from tests.factories.marketplace import RESULT, approved, market_world, purchase_input, select_now, stored

FIVE = {"quality": 5, "timeliness": 5, "attitude": 5, "fees": 5, "conduct": 5}
ONE = dict.fromkeys(FIVE, 1)


def served(w: SimpleNamespace, db: Session, firms: list[tuple[object, Actor]] | None = None) -> Purchase:
    """A random-draw purchase among `firms`, selected, contracted and accepted (the clock moves 3 days)."""
    p = purchases.post(db, w.owner, purchase_input("random", ceiling_fen=1_000_000))
    for _, actor in firms or w.firms:
        purchases.sign_up(db, actor, p.id, None)
    clock.shift(timedelta(days=3, seconds=1))
    select_now(db, w.owner, p.id)
    chosen = next(a for o, a in (firms or w.firms) if o.id == p.chosen_org_id)  # type: ignore[attr-defined]
    aftercare.enter_contract(db, chosen, p.id, f"HT-{p.id}", 900_000, stored(w.blobs))
    aftercare.confirm_contract(db, w.owner, p.id)
    aftercare.upload_result(db, chosen, p.id, stored(w.blobs, "检测报告.pdf", RESULT))
    aftercare.record_acceptance(db, w.owner, p.id, True, "")
    return p


def credit_world(db: Session, make: Maker) -> SimpleNamespace:
    w = market_world(db, make)
    w.firms = [approved(db, make, w.admin, f"检测公司{i}") for i in range(3)]
    w.monitor = make.actor(make.user(make.org("supervisor", "县发改局"), "monitor"))
    return w


def actor_of(w: SimpleNamespace, org_id: int) -> Actor:
    return next(a for o, a in w.firms if o.id == org_id)
