"""Rows of the authorisation matrix for the qualification and compliance review (issue 13,
web/evaluation/review.py and web/tender/clarification_requests.py), and what they add to the room's world.

tests/web/matrix.py adds ROWS to the matrix and calls extend_world(env, session, w) after the room's
(tests/web/matrix_room.py): on the room's tender the matrix expert, the only member checked in, is elected
chair, saves one verdict whose reason is REVIEW_MARKER (tests/web/evaluation/test_review_independence.py
walks every GET route looking for it) and sends bidder1's company a clarification request. Only the checked-in
member reaches the review; only the bidder asked reaches its request."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from accounts.models import User, actor_for
from accounts.notifications import LogChannel
from core import clock
from evaluation.review import clarifications, review
from evaluation.room import sessions
from tender.models import Bid, OpenedBid, Tender
from tests.web.matrix_room import ROOM
from tests.web.matrix_support import E, Row, only

R = "/expert/tenders/{tender_id:int}/room/review"
B = "/bidder/tenders/{tender_id:int}/clarification-requests"
BID = {"opened_bid_id": "room_opened_bid"}
REQUEST = {"request_id": "review_request"}
NONE = only("forbidden")
REVIEW_MARKER = "REVIEW-VERDICT-MARKER-51c0"

ROWS: list[Any] = [
    # the member's review: the committee's checked-in member only, never anyone else (independence: E33)
    Row("GET", R, only("ok", "expert"), target=ROOM),
    Row("GET", R, NONE),
    Row("GET", R, E("notfound"), target="draft"),
    Row(
        "POST",
        f"{R}/bids/{{opened_bid_id:int}}",
        only("allowed", "expert"),
        target=ROOM,
        params=BID,
        form={"verdict-qualification-0": "fail"},
    ),
    Row("POST", f"{R}/close", only("allowed", "expert"), target=ROOM, form={}),
    Row("POST", f"{R}/clarifications", only("allowed", "expert"), target=ROOM, form={"question": ""}),
    Row(
        "POST",
        f"{R}/clarifications/{{request_id:int}}/assess",
        only("allowed", "expert"),
        target=ROOM,
        params=REQUEST,
        form={},
    ),
    # the review's progress: counts, for everyone once the tender is being evaluated
    Row("GET", "/api/v1/notices/{tender_id:int}/evaluation/review", E("ok"), target=ROOM),
    Row("GET", "/api/v1/notices/{tender_id:int}/evaluation/review", E("forbidden")),
    # the bidder's requests: each company sees its own (none on the published tender)
    Row("GET", B, only("ok", "bidder1", "bidder2"), target=ROOM),
    Row("GET", B, only("ok", "bidder1", "bidder2")),
    Row("GET", B, E("forbidden", anonymous="login", bidder1="notfound", bidder2="notfound"), target="draft"),
    Row(
        "POST",
        f"{B}/{{request_id:int}}/answer",
        E("forbidden", anonymous="login", bidder1="allowed", bidder2="notfound"),
        target=ROOM,
        params=REQUEST,
        form={"answer": ""},
    ),
]


def extend_world(env: Any, session: Any, w: SimpleNamespace) -> None:
    """After matrix_room.extend_world (the caller commits)."""
    users = {role: session.get(User, uid) for role, (uid, _) in w.users.items()}
    expert = actor_for(users["expert"], "198.51.100.20")
    t = w.room_tender
    me = sessions.workbench(session, expert, t).seat
    assert me is not None
    sessions.vote_chair(session, expert, t, me.id)  # the only member present: elected by their own vote
    theirs = session.scalar(
        select(OpenedBid.id)
        .join(Bid, Bid.id == OpenedBid.bid_id)
        .where(Bid.tender_id == t, Bid.organisation_id == users["bidder1"].organisation_id)
    )
    assert theirs is not None
    criterion = review.criteria_for(session.get(Tender, t))[0]
    review.save_verdicts(
        session,
        expert,
        t,
        theirs,
        [review.VerdictInput(criterion.kind, criterion.index, False, "not_qualified", REVIEW_MARKER)],
    )
    request = clarifications.send(
        session,
        expert,
        t,
        clarifications.RequestInput(theirs, "Explain item 3.", clock.now() + timedelta(minutes=30)),
        LogChannel(),
    )
    w.review_request = request.id
    w.review_marker = REVIEW_MARKER
