"""A credit shortlist (信用择优) purchase for the service and page tests: four approved intermediaries whose
credit differs (one on the red list: 70; one sanctioned: 40; two newcomers: 60), signed up; sign-up closed
and the owner's number shown, so that the short list waits for the owner's choice."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy.orm import Session

from core import clock
from marketplace import credit, purchases
from marketplace.models import Purchase
from tests.factories.accounts import Maker
from tests.factories.marketplace import approved, market_world, purchase_input, select_now


def credit_firms(db: Session, make: Maker) -> SimpleNamespace:
    w = market_world(db, make)
    w.firms = [approved(db, make, w.admin, f"信用公司{i}") for i in range(4)]
    today = clock.to_cst(clock.now()).date()
    red, sanctioned = w.firms[0][0].id, w.firms[1][0].id
    credit.add_listing(db, w.admin, red, credit.RED, "守信激励", "县发改局", today, None)
    credit.record_sanction(db, w.admin, sanctioned, "县市场监管局", "违规执业", "罚字1号", today)
    w.expected = {red: 70, sanctioned: 40, w.firms[2][0].id: 60, w.firms[3][0].id: 60}
    return w


def credit_purchase(w: SimpleNamespace, db: Session, firms: int = 4) -> Purchase:
    """Posted, `firms` of the intermediaries signed up, the clock past the deadline (not closed yet)."""
    p = purchases.post(db, w.owner, purchase_input("credit", ceiling_fen=1_000_000))
    for _, actor in w.firms[:firms]:
        purchases.sign_up(db, actor, p.id, None)
    clock.shift(timedelta(days=3, seconds=1))
    return p


def shortlisted(w: SimpleNamespace, db: Session, firms: int = 4) -> Purchase:
    """Closed and drawn: the short list waits for the owner's choice (or failed, with fewer than 2)."""
    p = credit_purchase(w, db, firms)
    select_now(db, w.owner, p.id)
    return p
