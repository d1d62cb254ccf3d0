"""The expert pool and the draw's world: a tender past its deadline with three sealed bids, a small specialty
catalogue and experts with accounts in two of its specialties."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from types import SimpleNamespace

from accounts.notifications import LogChannel
from core import clock
from core.identity import Role
from core.signing import signing_key
from evaluation.pool.models import Expert, ExpertSpecialty, Specialty
from tender import deadlines, participation
from tests.factories.accounts import quick_user
from tests.factories.bids import submit_bid
from tests.factories.tenders import move_to, published_tender

CATALOGUE = [("A", None), ("A01", "A"), ("A02", "A"), ("B", None), ("B01", "B")]


def add_expert(
    w: SimpleNamespace,
    *codes: str,
    user: bool = False,  # type: ignore[no-untyped-def]
    **fields,
) -> Expert:
    """An expert in these specialties; with `user`, also an expert account (w.expert_actors, by expert id)."""
    w.n_experts = getattr(w, "n_experts", 0) + 1
    u = quick_user(w.db, None, "expert") if user else None
    expert = Expert(name=f"Expert {w.n_experts:03d}", user_id=u.id if u else None, **fields)
    expert.specialties = [ExpertSpecialty(specialty_code=c) for c in codes]
    w.db.add(expert)
    w.db.flush()
    if u is not None:
        w.expert_actors[expert.id] = SimpleNamespace(user=u, actor=w.make.actor(u))
    return expert


def draw_world(db, make, blobs, tmp_path) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """published_tender's world closed at its deadline with three bids, a company registered without a bid,
    8 civil (A01) and 5 power (B01) experts with accounts, `eval_day` two days after the deadline, a
    LogChannel; w.monitor (cast's) contributes to draws for the supervising organisation."""
    w = published_tender(db, make, blobs)
    w.make = make
    w.expert_actors = {}
    for code, parent in CATALOGUE:
        db.add(Specialty(code=code, parent_code=parent, name_zh=code, name_en=code, kind="goods"))
    db.flush()
    signer = signing_key(tmp_path / "platform", "etender.test")
    for bidder in (w.bidder, w.other_bidder, w.third_bidder):  # three sealed bids: the tender opens (R44)
        submit_bid(db, bidder, blobs, w.tender, w.lot1, signer)
    w.registered_only_org = make.org("bidder", "Registered Only Ltd")
    registered_only = make.actor(quick_user(db, w.registered_only_org, "bidder"))
    participation.register(db, registered_only, w.tender.id, w.lot1.id)  # not a bidder
    w.civil = [add_expert(w, "A01", user=True) for _ in range(8)]
    w.power = [add_expert(w, "B01", user=True) for _ in range(5)]
    w.eval_day = (clock.to_cst(w.deadline) + timedelta(days=2)).date()
    move_to(w.deadline + timedelta(minutes=1))
    deadlines.close_due_tenders(db)
    w.channel = LogChannel()
    return w


def contribute(db, draw_row, parties, channel, values=None):  # type: ignore[no-untyped-def]
    """Run the parties' side of the draw protocol for `draw_row`: every party (an actor per contribution, in
    `parties`) commits SHA-256 of 32 random bytes, then every party reveals, as their browsers would. `values`
    (party name -> bytes) fixes the values; returns them."""
    from evaluation.committee import draws

    values = dict(values or {})
    by_party = {}
    for c in draw_row.contributions:
        actor = next(a for a in parties if a.organisation_id == c.organisation_id and a.has(Role(c.role)))
        by_party[c.party] = actor
        values.setdefault(c.party, secrets.token_bytes(32))
    for party, actor in by_party.items():
        draws.commit_contribution(db, actor, draw_row.id, hashlib.sha256(values[party]).hexdigest())
    for party, actor in by_party.items():
        draws.reveal_contribution(db, actor, draw_row.id, values[party].hex(), channel)
    return values


def drawn(w: SimpleNamespace, data, cap=None):  # type: ignore[no-untyped-def]
    """A committee drawn for w.tender by the whole protocol: the agency's request, then the agency's and the
    monitors' contributions committed and revealed (draw_world's parties)."""
    from evaluation.committee import draws
    from evaluation.committee.avoidance import DrawCap

    d = draws.request_draw(w.db, w.agency, w.tender.id, data, w.channel, cap or DrawCap())
    contribute(w.db, d, [w.agency, w.monitor], w.channel)
    return d
