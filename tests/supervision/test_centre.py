"""The centre's week of rooms and its witnessing (supervision.centre), and what the purchaser's and the
bidder's workbenches show (supervision.workbenches), on both backends, on the evaluation room's world: a
tender being evaluated, its committee confirmed, its session booked in room 1 an hour ahead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from evaluation.room import sessions
from supervision import centre, workbenches
from tender.centre import rooms
from tests.factories.room import ROOMS, room_world
from tests.factories.tenders import draft_tender
from tests.factories.workbenches import OPENING_ROOMS, second_drawn_tender


@pytest.fixture
def r(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    return room_world(db, make, blobs, tmp_path)


def test_the_week_shows_both_kinds_of_room_with_their_tenders(r, db, blobs):
    day = clock.to_cst(r.starts_at).date()
    week = centre.week(db, r.centre, day, OPENING_ROOMS, ROOMS)
    assert [(row.kind, row.name) for row in week.rooms] == [
        *[("opening", n) for n in OPENING_ROOMS],
        *[("evaluation", n) for n in ROOMS],
    ]
    room_a = week.rooms[3]
    found = [e for entries in room_a.days for e in entries]
    assert [(e.kind, e.reference) for e in found] == [("evaluation", r.tender.reference)]
    assert week.days[0].weekday() == 0 and week.days[clock.to_cst(r.starts_at).weekday()] == day
    # an opening booked in the week of its deadline shows in its room on its day
    draft = draft_tender(r, blobs, title="Library shelves")
    rooms.book_opening(
        db,
        r.agency,
        draft.id,
        rooms.OpeningBookingInput(1, clock.as_utc(draft.bid_deadline), 2),
        OPENING_ROOMS,
    )
    later = centre.week(db, r.centre, clock.to_cst(draft.bid_deadline).date(), OPENING_ROOMS, ROOMS)
    opening = [e for entries in later.rooms[0].days for e in entries]
    assert {(e.kind, e.title) for e in opening} == {
        ("opening", "Library shelves")
    }  # past midnight: both days


@pytest.mark.parametrize("who", ["agency", "purchaser", "monitor", "bidder", "expert"])
def test_only_the_centre_reads_the_rooms_calendar(r, db, who):
    with pytest.raises(Forbidden):
        centre.week(db, getattr(r, who), clock.to_cst(r.starts_at).date(), OPENING_ROOMS, ROOMS)


def test_an_evaluation_double_booking_names_the_clashing_tender_to_its_agency(r, db, blobs, tmp_path):
    other = second_drawn_tender(r, blobs, tmp_path)
    with pytest.raises(Conflict) as e:
        sessions.book(db, r.agency, other.id, sessions.Booking(1, r.starts_at + timedelta(hours=1), 2), ROOMS)
    (problem,) = e.value.problems
    assert problem.code == "room_taken" and problem.params["room"] == "Room A"
    assert problem.params["tender"] == f"{r.tender.reference} {r.tender.title}"  # its own agency's session


def test_the_centre_witnesses_the_opening_and_the_session(r, db):
    with pytest.raises(Forbidden):  # witnessing is the centre staff's
        centre.witness(db, r.monitor, r.tender.id, centre.WitnessInput("opening", clock.now()))
    row = centre.witness(
        db, r.centre, r.tender.id, centre.WitnessInput("opening", clock.now(), "All in order.")
    )
    assert row.witness_name == r.centre_user.full_name
    with pytest.raises(ValidationFailed) as e:  # the session has not begun: check-in opens 30 minutes ahead
        centre.witness(db, r.centre, r.tender.id, centre.WitnessInput("evaluation", clock.now()))
    assert e.value.problems[0].code == "witness_before_start"
    with pytest.raises(ValidationFailed) as e:
        centre.witness(
            db, r.centre, r.tender.id, centre.WitnessInput("opening", clock.now() + timedelta(hours=1))
        )
    assert e.value.problems[0].code == "witness_future"
    from tests.factories.room import start

    start(r)
    centre.witness(db, r.centre, r.tender.id, centre.WitnessInput("evaluation", clock.now(), "Room sealed."))
    tags = list(db.scalars(select(AuditEntry).where(AuditEntry.tag == "centre.witness.recorded")))
    assert len(tags) == 2
    assert "All in order." in str(tags[0].details)  # the opening is public (L35)
    assert "Room sealed." not in str(tags[1].details)  # when the committee sat: Fact.evaluation_session
    # the evaluation's witnessing is for who may see the session; the opening's for everyone
    assert [w.kind for w in centre.witnesses(db, r.monitor, r.tender)] == ["opening", "evaluation"]
    assert [w.kind for w in centre.witnesses(db, r.anon, r.tender)] == ["opening"]
    assert [w.kind for w in centre.witnesses(db, r.bidder, r.tender)] == ["opening"]
    assert [i.tender.id for i in centre.witnessable(db, r.centre)] == [r.tender.id]


def test_no_witnessing_before_the_opening(r, db, blobs):
    tender = draft_tender(r, blobs)
    from tender import drafting

    drafting.publish(db, r.agency, tender.id)
    with pytest.raises(Conflict) as e:
        centre.witness(db, r.centre, tender.id, centre.WitnessInput("opening", clock.now()))
    assert e.value.problems[0].code == "witness_no_opening"


# ---------------------------------------------------------- the purchaser's and the bidder's workbenches


def test_the_purchaser_follows_its_tender_by_counts_never_names(r, db, blobs):
    draft = draft_tender(r, blobs, title="A draft of ours")
    rows = workbenches.purchaser_tenders(db, r.purchaser)
    assert [o.tender.id for o in rows] == [draft.id, r.tender.id]  # its drafts too, the newest first
    evaluating = rows[1]
    assert evaluating.opening_record and evaluating.progress is not None
    assert evaluating.progress.seats == 5 and evaluating.progress.room == "Room A"  # Fact.evaluation_session
    assert evaluating.results == []  # nothing final yet: no report to read (L37)
    assert [d.filename for d in evaluating.documents] == ["tender-documents.pdf"]
    assert rows[0].progress is None and not rows[0].opening_record
    with pytest.raises(Forbidden):
        workbenches.purchaser_tenders(db, r.agency)


def test_the_bidder_sees_its_own_bid_and_the_opening_record(r, db):
    outcomes = workbenches.bidder_outcomes(db, r.bidder)
    o = outcomes[r.tender.id]
    assert o.bids == [(1, "submitted")] and o.opening_record
    assert o.progress is not None and o.progress.room == ""  # where the committee sits: not the bidder's
