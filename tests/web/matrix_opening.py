"""Rows of the authorisation matrix for issue 3's opening routes, and the world they need.

tests/web/matrix.py adds ROWS to the matrix and calls extend_world(env, session, w) while
building its world (before the commit), so rows may name attributes set here in `params` or `target`.

Three tenders of agency A, each with counted bids of bidder1, bidder2 and a third company (key holders:
agencyA, monitor, centre; policy quorum):
    early    published, the deadline 25 days ahead: every opening route refuses (E27), the record does not
             exist
    opening  the deadline passed, the ceremony waits for the key holders' parts; bidder2 raised an objection
    opened   every bid decrypted and the record published: the record is public

The cells and the Row come from tests/web/matrix_support.py, like the matrix's own; the tenders from
tests/factories/bids.py (opening_world)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from accounts.models import Organisation, User, actor_for
from tender.opening import ceremony
from tests.factories.accounts import user
from tests.factories.bids import opening_world
from tests.web.matrix_support import E, Row, only

BASE = "/tenders/{tender_id:int}/opening"
WATCHERS = (
    "agencyA",
    "bidder1",
    "bidder2",
    "monitor",
    "admin",
    "centre",
)  # before the record: participants only
HOLDERS = ("agencyA", "monitor", "centre")
EARLY, OPENING, OPENED = "opening_early", "opening_live", "opening_done"
NO_PARTS = {"bids": []}
STREAM = {"max_idle": "0"}

ROWS: list[Any] = [
    # the ceremony page: everyone, the public seeing its public state only before the record (issue 16); its
    # live stream: participants before the record, everyone after it
    Row("GET", BASE, E("ok"), target=EARLY),
    Row("GET", BASE, E("ok"), target=OPENING),
    Row("GET", BASE, E("ok"), target=OPENED),
    Row("GET", f"{BASE}/stream", only("ok", *WATCHERS), target=EARLY, query=STREAM),
    Row("GET", f"{BASE}/stream", only("ok", *WATCHERS), target=OPENING, query=STREAM),
    Row("GET", f"{BASE}/stream", E("ok"), target=OPENED, query=STREAM),
    # E27: before the opening time nothing about a sealed bid is served and no part is taken, from anyone
    Row("GET", f"{BASE}/headers", only("forbidden"), target=EARLY),
    Row("GET", f"{BASE}/headers", only("ok", *HOLDERS), target=OPENING),
    Row("POST", f"{BASE}/parts", only("forbidden"), target=EARLY, json=NO_PARTS, keeps_world=True),
    Row("POST", f"{BASE}/parts", only("allowed", *HOLDERS), target=OPENING, json=NO_PARTS, keeps_world=True),
    # bidders with a counted bid check in and object; the agency answers and closes
    Row("POST", f"{BASE}/check-in", only("allowed", "bidder1", "bidder2"), target=EARLY, form={}),
    Row("POST", f"{BASE}/check-in", only("allowed", "bidder1", "bidder2"), target=OPENING, form={}),
    Row(
        "POST",
        f"{BASE}/objections",
        only("allowed", "bidder1", "bidder2"),
        target=OPENING,
        form={"text": "The opening started late."},
    ),
    Row(
        "POST",
        f"{BASE}/objections/{{objection_id:int}}/answer",
        only("allowed", "agencyA"),
        target=OPENING,
        params={"objection_id": "opening_objection"},
        form={"answer": "It started at the deadline by the server clock."},
    ),
    Row("POST", f"{BASE}/close", only("allowed", "agencyA"), target=OPENING, form={}),
    Row("POST", f"{BASE}/close", only("allowed", "agencyA"), target=OPENED, form={}),
    # the record (E32): not there before the deadline, refused until published, public after
    Row("GET", f"{BASE}/record.json", E("notfound"), target=EARLY),
    Row("GET", f"{BASE}/record.json", E("allowed"), target=OPENING),
    Row("GET", f"{BASE}/record.json", E("ok"), target=OPENED),
    Row("GET", f"{BASE}/record.pdf", E("notfound"), target=EARLY),
    Row("GET", f"{BASE}/record.pdf", E("allowed"), target=OPENING),
    Row("GET", f"{BASE}/record.pdf", E("ok"), target=OPENED),
]


def extend_world(env: Any, session: Any, w: SimpleNamespace) -> None:
    """Add what these rows need to the world (session is open; the caller commits)."""
    blobs = env.app.state.blobs
    users = {role: session.get(User, uid) for role, (uid, _) in w.users.items()}
    import random

    from core import credit_code

    third_org = Organisation(
        credit_code=credit_code.generate(random.Random(w.title)), name="Bidder Three Ltd", kind="bidder"
    )
    session.add(third_org)
    session.flush()
    third = user(session, third_org, "bidder", username=f"bidder3-{w.title[-10:]}", full_name="bidder3")
    org = {
        role: session.get(Organisation, users[role].organisation_id)
        for role in ("bidder1", "bidder2", "purchaser")
    }
    bidders = [(org["bidder1"], users["bidder1"]), (org["bidder2"], users["bidder2"]), (third_org, third)]
    holders = [users[r].id for r in HOLDERS]
    common = dict(
        holders=holders, agency_uid=users["agencyA"].id, purchaser_org=org["purchaser"], bidders=bidders
    )
    token = w.title[-10:]
    w.opening_early = opening_world(
        session, blobs, w, stage="early", title=f"Opening early {token}", **common
    ).tender.id
    w.opening_live = opening_world(
        session, blobs, w, stage="opening", title=f"Opening live {token}", **common
    ).tender.id
    w.opening_done = opening_world(
        session, blobs, w, stage="opened", title=f"Opening done {token}", **common
    ).tender.id
    objection = ceremony.raise_objection(
        session,
        actor_for(users["bidder2"], "198.51.100.9"),
        w.opening_live,
        "The clock in the room was fast.",
    )
    w.opening_objection = objection.id
