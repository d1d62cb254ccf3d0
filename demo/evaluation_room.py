"""The demo's tender in evaluation (issue 13): published a month ago, three sealed bids, opened by its key
holders and its ceremony closed, a committee of five drawn from the pool with the demo's expert accounts
among them (they have confirmed), and a session booked in the first evaluation room that starts a minute
after the demo is loaded. A demo expert who was drawn (expert1 … expert5: "My draws" says) checks in, signs
the declaration and reads the bids.

Called by demo.county's loader (load(loader)), through the same services as everything else."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from accounts.notifications import LogChannel
from core import clock
from core.settings import Settings
from evaluation.committee import draws
from evaluation.committee.avoidance import DrawCap
from evaluation.committee.models import SeatStatus
from evaluation.pool.models import Expert, ExpertSpecialty
from evaluation.room import sessions
from tender import deadlines, drafting, keyholders, sealing
from tender.bids import submission
from tender.models import Bid, OpenedBid
from tender.opening import ceremony, decryption
from tender.opening import parts as opening_parts

KEY = "evaluation_room"
COMMITTEE = 5
BIDDERS = (("bidder1", 4_986_000, 150), ("bidder2", 4_912_300, 160), ("bidder3", 5_034_800, 145))


@dataclass(frozen=True)
class _Spec:
    """What the loader's tender_input and documents read of a demo tender (demo.county.TenderSpec's fields;
    not imported: demo.county imports this module)."""

    title: str
    agency_user: str
    purchaser: str
    category: str
    method: str
    lots: list[tuple[str, int, int, int]]
    description: str
    government_procurement: bool = False
    region: str = "某某县"


@contextmanager
def _days_ago(days: int) -> Iterator[None]:
    clock.shift(timedelta(days=-days))
    try:
        yield
    finally:
        clock.reset()


def _spec() -> _Spec:
    return _Spec(
        "某某县城区道路提升改造工程施工",
        "agency1",
        "education",
        "works",
        "average_benchmark",
        [("城区道路提升改造工程施工", 5_100_000, 5_200_000, 100_000)],
        "城区主次干道沥青路面铣刨重铺约 12 公里，同步改造人行道、排水及交通标线；计划工期 160 日历天。",
    )


def _publish(loader: Any) -> Any:
    spec = _spec()
    with _days_ago(30):
        agent = loader.actor(spec.agency_user)
        tender = drafting.create_tender(loader.session, agent, loader.tender_input(spec, 21))
        loader.documents(KEY, tender, spec)
        keyholders.generate_keys_for(loader.session, tender, loader.holder_keys)
        loader.tenders[KEY] = tender
        tender = drafting.publish(loader.session, agent, tender.id)
        loader.download_all(tender, *(b for b, _, _ in BIDDERS))
        for bidder, _, _ in BIDDERS:
            loader.register(tender, bidder)
    with _days_ago(12):
        for bidder, price, days in BIDDERS:
            loader.bid(tender, bidder, price, days)
    return tender


def open_bids(loader: Any, tender: Any, agency_user: str) -> None:
    """The key holders unwrap their parts locally (here: with the demo's key files) and submit them; every
    bid is decrypted; the agency closes the ceremony, and the tender is being evaluated
    (demo.evaluation_stages opens its tenders so too)."""
    s = loader.session
    deadlines.close_due_tenders(s)
    made = list(s.scalars(select(Bid).where(Bid.tender_id == tender.id, Bid.status == "submitted")))
    for uid in tender.key_holder_ids[: tender.key_threshold]:
        key = loader.holder_keys[uid]
        kid = sealing.key_id(sealing.public_bytes(key))
        docs = []
        for bid in made:
            header = submission.header_of(loader.blobs, bid)
            parts = sealing.unwrap_parts(header, key)
            docs.append(
                {
                    "format": "etender-key-parts",
                    "version": 1,
                    "tender_id": header.tender_id,
                    "lot_id": header.lot_id,
                    "bid_id": header.bid_id,
                    "key_id": kid,
                    "parts": [p.to_json() for p in parts],
                    "bid": bid.id,
                }
            )
        holder = next(u for u in loader.users.values() if u.id == uid)
        opening_parts.submit_parts(s, loader.actor(holder.username), loader.blobs, tender.id, {"bids": docs})
    s.flush()
    for ob_id in s.scalars(select(OpenedBid.id).where(OpenedBid.bid_id.in_([b.id for b in made]))):
        job = decryption.claim(s, ob_id)
        if job is not None:
            decryption.finish_bid(s, job, decryption.decrypt(loader.blobs, job))
    s.flush()
    ceremony.close(s, loader.actor(agency_user), tender.id)


def _quotas(loader: Any, tender: Any, day: Any) -> list[tuple[str, int]]:
    """Quotas under which every eligible expert of the demo accounts' rarest specialties is drawn: a demo
    expert is then sure to sit (the draw itself stays random, R46), the other seats from a specialty that none
    of them holds."""
    s = loader.session
    codes = sorted(set(s.scalars(select(ExpertSpecialty.specialty_code))))
    scope = draws.DrawInput(COMMITTEE, [(c, 1) for c in codes], day)
    found = draws.build_pool(s, tender, scope, DrawCap(), clock.now())
    holders: dict[str, set[int]] = defaultdict(set)
    for c in found.candidates:
        for code in c.specialties:
            holders[code].add(c.expert_id)
    accounts = set(s.scalars(select(Expert.id).where(Expert.user_id.is_not(None))))
    quotas: list[tuple[str, int]] = []
    used: set[int] = set()
    left = COMMITTEE
    mine = sorted(
        {code for code, ids in holders.items() if ids & accounts}, key=lambda c: (len(holders[c]), c)
    )
    for code in mine:
        ids = holders[code]
        if ids & used or len(ids) > left:
            continue
        quotas.append((code, len(ids)))
        used |= ids
        left -= len(ids)
        if not left:
            break
    if left:
        filler = next(
            code
            for code, ids in sorted(holders.items())
            if len(ids - used) >= left and not (ids & used) and code not in dict(quotas)
        )
        quotas.append((filler, left))
    return quotas


def load(loader: Any, settings: Settings | None = None) -> None:
    s = loader.session
    tender = _publish(loader)
    open_bids(loader, tender, _spec().agency_user)
    agent = loader.actor(_spec().agency_user)
    day = clock.to_cst(clock.now()).date()
    channel = LogChannel()
    draw = draws.request_draw(
        s,
        agent,
        tender.id,
        draws.DrawInput(COMMITTEE, _quotas(loader, tender, day), day, substitutes=0, confirm_hours=72),
        channel,
    )
    # the whole protocol (docs/expert-draw.md), as demo.county's demo_draw does it: the loader makes the
    # agency's and the monitors' random numbers on their behalf (in earnest each comes from its own browser)
    rng = random.Random(20261213)
    parties = (agent, loader.actor("monitor1"))
    values = {actor.user_id: rng.randbytes(32) for actor in parties}
    for actor in parties:
        draws.commit_contribution(s, actor, draw.id, hashlib.sha256(values[actor.user_id]).hexdigest())
    for actor in parties:
        draws.reveal_contribution(s, actor, draw.id, values[actor.user_id].hex(), channel)
    s.refresh(draw)
    for seat in [x for x in draw.seats if x.status == SeatStatus.notified]:
        expert = s.get(Expert, seat.expert_id)
        if expert is not None and expert.user_id is not None:  # the demo's expert accounts confirm
            user = next(u for u in loader.users.values() if u.id == expert.user_id)
            draws.respond(s, loader.actor(user.username), seat.id, True, channel)
    rooms = settings.evaluation_rooms if settings else Settings.evaluation_rooms  # the default rooms' names
    sessions.book(s, agent, tender.id, sessions.Booking(1, clock.now() + timedelta(minutes=1), 4), rooms)
    s.flush()
