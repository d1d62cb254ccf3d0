"""The centre's intake (进场登记) and opening-room bookings on both backends: who may register, the number
unique, the agency links its draft; a room holds one opening at a time, and a double booking is refused
naming the booking it clashes with (the tender, to those who may know of it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tender.centre import intake, rooms
from tender.centre.models import OpeningBooking
from tests.factories.accounts import cast
from tests.factories.tenders import draft_tender, publish_new
from tests.factories.workbenches import OPENING_ROOMS, intake_input


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    return cast(db, make)


def entries(db, tag):  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry).where(AuditEntry.tag == tag)))


def test_the_centre_registers_a_project_and_its_words_stay_out_of_the_public_entry(w, db):
    row = intake.register(db, w.centre, intake_input(w))
    assert row.reference == "JY-2026-0001" and row.tender_id is None
    (entry,) = entries(db, "centre.intake.registered")
    assert "Furniture" not in str(entry.details) and "confidential_digest" in entry.details
    assert [i.id for i in intake.intakes(db, w.centre)] == [row.id]
    assert [i.id for i in intake.intakes(db, w.agency)] == [row.id]  # its agency
    assert [i.id for i in intake.intakes(db, w.purchaser)] == [row.id]  # its purchaser
    assert intake.intakes(db, w.other_agency) == []  # another agency sees none of it


@pytest.mark.parametrize("who", ["agency", "purchaser", "monitor", "bidder"])
def test_only_the_centre_registers(w, db, who):
    with pytest.raises(Forbidden):
        intake.register(db, getattr(w, who), intake_input(w))


def test_a_refused_intake_says_what_is_wrong(w, db):
    intake.register(db, w.centre, intake_input(w))
    with pytest.raises(ValidationFailed) as e:
        intake.register(db, w.centre, intake_input(w, title="", agency_id=w.purchaser_org.id))
    codes = {p.code for p in e.value.problems}
    assert codes == {"intake_title_missing", "intake_agency", "intake_reference_taken"}


def test_the_agency_links_its_draft_to_the_intake_once(w, db, blobs):
    row = intake.register(db, w.centre, intake_input(w))
    other = intake.register(db, w.centre, intake_input(w, reference="JY-2026-0002"))
    draft = draft_tender(w, blobs)
    tender, choices = intake.linkable(db, w.agency, draft.id)
    assert {c.id for c in choices} == {row.id, other.id}
    intake.link_draft(db, w.agency, draft.id, row.id)
    assert intake.intake_of(db, draft.id).id == row.id
    with pytest.raises(Conflict) as e:
        intake.link_draft(db, w.agency, draft.id, other.id)
    assert e.value.problems[0].code == "intake_tender_linked"
    second = draft_tender(w, blobs, title="Second draft")
    with pytest.raises(Conflict) as e:
        intake.link_draft(db, w.agency, second.id, row.id)
    assert e.value.problems[0].code == "intake_linked"
    assert len(entries(db, "centre.intake.linked")) == 1


def test_another_agency_cannot_link_and_an_intake_of_another_purchaser_is_refused(w, db, make, blobs):
    draft = draft_tender(w, blobs)
    with pytest.raises(NotFound):  # a draft exists only for its agency
        intake.link_draft(db, w.other_agency, draft.id, 1)
    elsewhere = make.org("purchaser", "Another bureau")
    row = intake.register(db, w.centre, intake_input(w, purchaser_id=elsewhere.id))
    with pytest.raises(Conflict) as e:
        intake.link_draft(db, w.agency, draft.id, row.id)
    assert e.value.problems[0].code == "intake_other_purchaser"


# ---------------------------------------------------------------- opening rooms


def book(db, actor, tender, room=1, delta=timedelta(0), hours=2):  # type: ignore[no-untyped-def]
    data = rooms.OpeningBookingInput(room, clock.as_utc(tender.bid_deadline) + delta, hours)
    return rooms.book_opening(db, actor, tender.id, data, OPENING_ROOMS)


def test_the_agency_books_its_drafts_opening_and_the_notice_names_the_room(w, db, blobs):
    draft = draft_tender(w, blobs, opening_place="")
    booking = book(db, w.agency, draft, room=2, delta=-timedelta(minutes=30))
    assert booking.room.name == "Opening room 2" and draft.opening_place == "Opening room 2"
    (entry,) = entries(db, "centre.opening_room.booked")
    assert entry.withheld == "draft"  # part of the draft until its publication
    book(db, w.agency, draft, room=3)  # moved: one booking per tender
    assert db.scalar(select(OpeningBooking.room_id).where(OpeningBooking.tender_id == draft.id)) is not None
    assert len(list(db.scalars(select(OpeningBooking)))) == 1 and draft.opening_place == "Opening room 3"


def test_a_double_booking_is_refused_naming_the_clashing_tender(w, db, blobs):
    first = publish_new(w, blobs, title="Desks for the school")
    book(db, w.centre, first)
    second = draft_tender(
        w, blobs, title="Second tender", bid_deadline=first.bid_deadline + timedelta(hours=1)
    )
    with pytest.raises(Conflict) as e:
        book(db, w.agency, second)  # 1 hour after the first opening, which holds the room for 2
    (problem,) = e.value.problems
    assert problem.code == "room_double_booked"
    assert problem.params["tender"] == f"{first.reference} Desks for the school"
    assert problem.params["room"] == "Opening room 1"
    assert problem.params["start"] == clock.to_cst(first.bid_deadline).strftime("%Y-%m-%d %H:%M")
    # another room at the same time, or the same room once the first is over, is fine
    book(db, w.agency, second, room=2)
    third = draft_tender(w, blobs, title="Third tender", bid_deadline=first.bid_deadline + timedelta(hours=2))
    book(db, w.agency, third, room=1)  # back to back


def test_a_clash_with_another_agencys_draft_names_no_tender(w, db, make, blobs):
    theirs = draft_tender(w, blobs, title="A confidential draft")
    book(db, w.agency, theirs)
    w2 = cast(db, make)
    mine = draft_tender(w2, blobs, bid_deadline=theirs.bid_deadline)
    with pytest.raises(Conflict) as e:
        book(db, w2.agency, mine)
    (problem,) = e.value.problems
    assert problem.code == "room_double_booked" and "tender" not in problem.params  # Fact.draft
    # the centre, which keeps the rooms, is told whose booking it is
    with pytest.raises(Conflict) as e:
        book(db, w.centre, mine)
    assert "A confidential draft" in e.value.problems[0].params["tender"]


def test_no_booking_after_the_deadline_nor_by_a_stranger(w, db, blobs):
    tender = publish_new(w, blobs)
    with pytest.raises(Forbidden):
        book(db, w.other_agency, tender)
    with pytest.raises(Forbidden):
        book(db, w.bidder, tender)
    with pytest.raises(ValidationFailed) as e:
        book(db, w.agency, tender, delta=timedelta(minutes=5))
    assert e.value.problems[0].code == "opening_room_deadline"
    from tests.factories.tenders import move_to

    move_to(tender.bid_deadline + timedelta(minutes=1))
    with pytest.raises(Conflict) as e:
        book(db, w.centre, tender)
    assert e.value.problems[0].code == "opening_room_closed"
