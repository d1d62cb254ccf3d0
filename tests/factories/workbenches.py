"""The trading centre's records for the workbench tests (issue 16): an intake of the cast's project and the
centre's settings of rooms."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from core import clock
from tender.centre import intake

OPENING_ROOMS = ("Opening room 1", "Opening room 2", "Opening room 3")


def intake_input(w: SimpleNamespace, **changes) -> intake.IntakeInput:  # type: ignore[no-untyped-def]
    """The cast's project (cast(): purchaser_org, agency_org), registered at the centre."""
    now = clock.now()
    data = intake.IntakeInput(
        reference="JY-2026-0001",
        title="Furniture for the county school",
        purchaser_id=w.purchaser_org.id,
        agency_id=w.agency_org.id,
        category="goods",
        funding="fiscal",
        planned_publication=now + timedelta(days=2),
        planned_opening=now + timedelta(days=30),
        remarks="Budget approved.",
    )
    return dataclasses.replace(data, **changes)


def second_drawn_tender(r: SimpleNamespace, blobs, tmp_path) -> Any:  # type: ignore[no-untyped-def]
    """Another tender of room_world's agency, past its deadline with a drawn committee (the draw needs no
    opening): one that may book an evaluation room too."""
    from core.signing import signing_key
    from evaluation.committee import draws
    from tender import deadlines
    from tests.factories.bids import submit_bid
    from tests.factories.experts import contribute
    from tests.factories.tenders import move_to, publish_new

    db = r.db
    move_to(clock.now() - timedelta(days=30))
    t = publish_new(r, blobs, title="Second tender")
    signer = signing_key(tmp_path / "platform2", "etender.test")
    for bidder in (r.bidder, r.other_bidder, r.third_bidder):
        submit_bid(db, bidder, blobs, t, t.lots[0], signer)
    clock.reset()
    move_to(r.deadline + timedelta(minutes=2))
    deadlines.close_due_tenders(db)
    d = draws.request_draw(
        db,
        r.agency,
        t.id,
        draws.DrawInput(
            committee_size=5, quotas=[("A01", 3), ("B01", 2)], evaluation_date=r.eval_day, substitutes=0
        ),
        r.channel,
    )
    contribute(db, d, [r.agency, r.monitor], r.channel)
    return t
