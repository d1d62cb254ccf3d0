"""Rows of the authorisation matrix for the evaluation room's routes (issue 13, web/evaluation/room.py), and
the world they need.

tests/web/matrix.py adds ROWS to the matrix and calls extend_world(env, session, w) while building its world.
One tender of agency A, opened by its key holders and its ceremony closed (being evaluated), a committee of
five drawn from five experts of one specialty (the matrix's expert account among them, the only one who
confirmed), and a session booked in room 1 that has started, the matrix expert checked in: the expert reads,
nobody else does. On the published tender (before its deadline) every room route refuses."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from accounts.models import Organisation, User, actor_for
from accounts.notifications import LogChannel
from core import clock
from evaluation.committee import draws
from evaluation.committee.models import SeatStatus
from evaluation.pool.models import Expert, ExpertSpecialty, Specialty
from evaluation.room import sessions
from evaluation.room.models import EvaluationSession
from tender.models import OpenedBid, Opening
from tender.opening import ceremony
from tests.factories.bids import opening_world
from tests.factories.experts import contribute
from tests.web.matrix_support import E, Row, only

ROOM = "room_tender"
T = "/expert/tenders/{tender_id:int}/room"
A = "/agency/tenders/{tender_id:int}/room"
M = "/monitor/tenders/{tender_id:int}/room"
FILE = T + "/bids/{opened_bid_id:int}/files/{index:int}"
FILE_PARAMS = {"opened_bid_id": "room_opened_bid", "index": "room_file"}
NONE = only("forbidden")  # every logged-in role refused; anonymous sent to log in

ROWS: list[Any] = [
    # the expert's workbench: the committee's checked-in member only
    Row("GET", T, only("ok", "expert"), target=ROOM),
    Row("GET", T, NONE),
    Row("GET", T, E("notfound"), target="draft"),
    Row("POST", f"{T}/check-in", only("allowed", "expert"), target=ROOM, form={"signed_name": "x"}),
    Row("POST", f"{T}/check-in", NONE, form={"signed_name": "x"}),
    Row("POST", f"{T}/conflict", only("allowed", "expert"), target=ROOM, form={"note": ""}),
    Row("POST", f"{T}/leave", only("allowed", "expert"), target=ROOM, form={"reason": ""}),
    Row("POST", f"{T}/chair", only("allowed", "expert"), target=ROOM, form={"candidate": "none"}),
    # E33: the opened bids' files, to the checked-in member while the session is open; nobody else, ever
    Row("GET", FILE, only("ok", "expert"), target=ROOM, params=FILE_PARAMS),
    Row("GET", FILE, NONE, params=FILE_PARAMS),
    # the agency books its tender's session and sees the progress
    Row("GET", A, only("ok", "agencyA"), target=ROOM),
    Row("GET", A, only("ok", "agencyA")),
    Row("GET", A, E("notfound"), target="draft"),
    Row("POST", f"{A}/book", only("allowed", "agencyA"), target=ROOM, form={"room": "1", "starts_at": ""}),
    # monitors pause and resume
    Row("GET", M, only("ok", "monitor"), target=ROOM),
    Row("GET", M, only("ok", "monitor")),
    Row("POST", f"{M}/pause", only("allowed", "monitor"), target=ROOM, form={"reason": ""}),
    Row("POST", f"{M}/resume", only("allowed", "monitor"), target=ROOM, form={"reason": "Checked"}),
    # progress (counts, never names) for everyone once the tender is being evaluated
    Row("GET", "/api/v1/notices/{tender_id:int}/evaluation", E("ok"), target=ROOM),
    Row("GET", "/api/v1/notices/{tender_id:int}/evaluation", E("forbidden")),
]


def extend_world(env: Any, session: Any, w: SimpleNamespace) -> None:
    """Add the room's tender (session is open; the caller commits)."""
    blobs = env.app.state.blobs
    users = {role: session.get(User, uid) for role, (uid, _) in w.users.items()}
    org = {
        role: session.get(Organisation, users[role].organisation_id)
        for role in ("bidder1", "bidder2", "purchaser")
    }
    third_org, third = next(
        (o, u)
        for o, u in session.execute(
            select(Organisation, User)
            .join(User, User.organisation_id == Organisation.id)
            .where(Organisation.name == "Bidder Three Ltd")
        )
    )
    holders = [users[r].id for r in ("agencyA", "monitor", "centre")]
    t = opening_world(
        session,
        blobs,
        w,
        stage="opened",
        title=f"Room {w.title[-10:]}",
        holders=holders,
        agency_uid=users["agencyA"].id,
        purchaser_org=org["purchaser"],
        bidders=[(org["bidder1"], users["bidder1"]), (org["bidder2"], users["bidder2"]), (third_org, third)],
    ).tender
    agency = actor_for(users["agencyA"], "198.51.100.7")
    ceremony.close(session, agency, t.id)
    session.add(Specialty(code="M01", parent_code=None, name_zh="矩阵", name_en="Matrix", kind="goods"))
    session.flush()
    mine = session.get(Expert, w.expert_record)
    mine.specialties = [ExpertSpecialty(specialty_code="M01")]
    for i in range(4):
        other = Expert(name=f"Matrix Member {i}", id_number=f"MM{i}-{w.title[-10:]}", years=5)
        other.specialties = [ExpertSpecialty(specialty_code="M01")]
        session.add(other)
    session.flush()
    channel = LogChannel()
    day = clock.to_cst(clock.now()).date()
    draw = draws.request_draw(
        session,
        agency,
        t.id,
        draws.DrawInput(committee_size=5, quotas=[("M01", 5)], evaluation_date=day, substitutes=0),
        channel,
    )
    contribute(session, draw, [agency, actor_for(users["monitor"], "198.51.100.7")], channel)
    session.refresh(draw)
    expert = actor_for(users["expert"], "198.51.100.20")
    seat = next(s for s in draw.seats if s.expert_id == w.expert_record)
    assert seat.status == SeatStatus.notified
    draws.respond(session, expert, seat.id, True, channel)
    sessions.book(
        session, agency, t.id, sessions.Booking(1, clock.now() + timedelta(minutes=5), 4), ("Room 1",)
    )
    # the session has started: moved back directly (a booking cannot start in the past)
    booked = session.scalars(select(EvaluationSession).where(EvaluationSession.tender_id == t.id)).one()
    booked.starts_at = clock.now() - timedelta(minutes=10)
    session.flush()
    sessions.check_in(session, expert, t.id, sessions.CheckIn("Matrix Expert", True))
    w.room_tender = t.id
    w.room_opened_bid = session.scalar(
        select(OpenedBid.id)
        .join(Opening, Opening.id == OpenedBid.opening_id)
        .where(Opening.tender_id == t.id)
    )
    w.room_file = 0
    w.no_seat = 10**9  # an id no seat and no draw has (the draw rows of tests/web/matrix.py)
