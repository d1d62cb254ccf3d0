"""A served purchase for the credit, complaint, appeal and exit tests (tests/marketplace): an intermediary
selected by a random draw, its contract confirmed and its result accepted, ready to be rated."""

from __future__ import annotations

import random
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import insert
from sqlalchemy.orm import Session

from core import clock
from core.identity import Actor
from marketplace import aftercare, purchases
from marketplace.models import Purchase, Rating, RatingAppeal
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


KINDS = ("owner", "authority", "centre")


def rated_market(w: SimpleNamespace, db: Session, rng: random.Random, purchases_n: int) -> list[int]:
    """Many served purchases of `w.firms`, rated by one, two or all three raters with mixed scores, written as
    rows (as the bench does: the services' one-by-one path would take minutes); a few ratings appealed and
    upheld or dismissed. The mix gives every weight combination (5, 3, 2, 8, 7, 5, 10) and means that do not
    end (…/3, …/7), so that a bulk recomputation that rounds differently from `breakdown` shows. Returns the
    rating ids."""
    now = clock.now()
    user = w.owner.user_id
    firms = [org.id for org, _ in w.firms]  # type: ignore[attr-defined]
    chosen = [rng.choice(firms) for _ in range(purchases_n)]
    pids = [
        db.execute(
            insert(Purchase).returning(Purchase.id),
            {
                "reference": f"ZJ-MIX-{i:05d}",
                "owner_org_id": w.owner_org.id,
                "created_by": user,
                "service_code": "testing",
                "project": "检测服务",
                "ceiling_fen": 1_000_000,
                "requirements": "",
                "state_funds": True,
                "method": "random",
                "signup_deadline": now,
                "selection_at": now,
                "status": "selected",
                "chosen_org_id": firm,
                "created_at": now,
                "contract_number": "",
                "acceptance": "accepted",
                "acceptance_note": "",
                "accepted_at": now,
                "quote_key": "",
                "quote_key_released": "",
            },
        ).scalar_one()
        for i, firm in enumerate(chosen)
    ]
    # the purchases' ratings interleaved (a purchase's first rating is not always its lowest id's neighbour)
    pending = [
        (pid, firm, kind)
        for pid, firm in zip(pids, chosen, strict=True)
        for kind in rng.sample(KINDS, rng.choice([1, 2, 3]))
    ]
    rng.shuffle(pending)
    ids = []
    for pid, firm, kind in pending:
        scores = {k: rng.randint(1, 5) for k in FIVE}
        ids.append(
            db.execute(
                insert(Rating).returning(Rating.id),
                {
                    "purchase_id": pid,
                    "intermediary_org_id": firm,
                    "rater_kind": kind,
                    "rated_by": user,
                    "scores": scores,
                    "comment": "",
                    "rated_at": now,
                },
            ).scalar_one()
        )
    for rating_id in rng.sample(ids, min(6, len(ids))):
        upheld = rng.random() < 0.7
        db.add(
            RatingAppeal(
                rating_id=rating_id,
                filed_by=user,
                grounds="评价与事实不符",
                status="upheld" if upheld else "dismissed",
                revised_scores={k: rng.randint(1, 5) for k in FIVE} if upheld else None,
            )
        )
    db.flush()
    return ids
