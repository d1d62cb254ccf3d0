"""The evaluation session on both backends: booking (overlap refused, also when two bookings race), check-in
with its declaration, a conflict or a leave replaced by the next substitute, the chair's election, a monitor's
pause, and who reads the opened bids."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from evaluation.committee import draws
from evaluation.committee.models import Seat, SeatStatus
from evaluation.pool.models import Expert
from evaluation.room import reading, sessions
from evaluation.room.models import EvaluationRoom, EvaluationSession
from tests.factories.experts import contribute
from tests.factories.room import ROOMS, check_in_all, room_world, start
from tests.factories.tenders import move_to


def name_of(r, seat: Seat) -> str:  # type: ignore[no-untyped-def]
    return r.db.get(Expert, seat.expert_id).name


def tags(db, tag: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry).where(AuditEntry.tag == tag).order_by(AuditEntry.index)))


# ---------------------------------------------------------------- booking


def test_the_agency_books_and_a_room_holds_one_session_at_a_time(r, db, make, blobs, tmp_path):
    assert r.session.room.name == "Room A" and clock.as_utc(r.session.ends_at) == r.starts_at + timedelta(
        hours=4
    )
    entry = tags(db, "evaluation.room.booked")[0]
    assert "Room A" not in str(entry.details) and "confidential_digest" in entry.details  # where: not public
    # a second tender of the same agency, its committee drawn, wants room 1 at an overlapping time
    other = _second_tender(r, db, blobs, tmp_path)
    with pytest.raises(Conflict) as e:
        sessions.book(db, r.agency, other.id, sessions.Booking(1, r.starts_at + timedelta(hours=3), 2), ROOMS)
    assert e.value.problems[0].code == "room_taken" and e.value.problems[0].params["room"] == "Room A"
    # back to back is fine, and so is another room at the same time
    sessions.book(db, r.agency, other.id, sessions.Booking(2, r.starts_at, 2), ROOMS)
    sessions.book(db, r.agency, other.id, sessions.Booking(1, r.starts_at + timedelta(hours=4), 2), ROOMS)
    assert db.scalar(select(func.count()).select_from(EvaluationSession)) == 2


def _second_tender(r, db, blobs, tmp_path):  # type: ignore[no-untyped-def]
    """Another tender of r's agency with a drawn committee (the draw needs no opening)."""
    from core.signing import signing_key
    from tender import deadlines
    from tests.factories.bids import submit_bid
    from tests.factories.tenders import publish_new

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


def test_booking_is_the_tenders_agencys_and_needs_the_committee(db, make, blobs, tmp_path):
    w = room_world(db, make, blobs, tmp_path, book=False)
    with pytest.raises(Forbidden):
        sessions.book(db, w.other_agency, w.tender.id, sessions.Booking(1, w.starts_at, 4), ROOMS)
    with pytest.raises(ValidationFailed) as e:
        sessions.book(
            db, w.agency, w.tender.id, sessions.Booking(4, clock.now() - timedelta(hours=1), 13), ROOMS
        )
    assert [p.code for p in e.value.problems] == ["room_start_past", "room_hours_range", "room_unknown"]
    s = sessions.book(db, w.agency, w.tender.id, sessions.Booking(3, w.starts_at, 4), ROOMS)
    # moved before check-in opens; not after
    later = w.starts_at + timedelta(days=1)
    assert sessions.book(db, w.agency, w.tender.id, sessions.Booking(2, later, 4), ROOMS).id == s.id
    assert s.room.name == "Room B"
    move_to(later - timedelta(minutes=20))
    with pytest.raises(Conflict) as e2:
        sessions.book(db, w.agency, w.tender.id, sessions.Booking(1, later + timedelta(hours=1), 4), ROOMS)
    assert e2.value.problems[0].code == "room_session_started"


# ---------------------------------------------------------------- check-in


def test_a_confirmed_member_checks_in_and_signs_with_time_and_address(r, db):
    seat, actor = r.members[0]
    with pytest.raises(Conflict) as early:
        sessions.check_in(db, actor, r.tender.id, sessions.CheckIn(name_of(r, seat), True))
    assert early.value.problems[0].code == "room_check_in_not_open"
    move_to(r.starts_at - timedelta(minutes=30))
    with pytest.raises(ValidationFailed) as bad:
        sessions.check_in(db, actor, r.tender.id, sessions.CheckIn("Someone Else", False))
    assert [p.code for p in bad.value.problems] == ["room_declaration_unsigned", "room_signature_mismatch"]
    a = sessions.check_in(db, actor, r.tender.id, sessions.CheckIn(" " + name_of(r, seat), True))
    assert a.address == "198.51.100.7" and abs(clock.now() - clock.as_utc(a.checked_in_at)) < timedelta(
        seconds=5
    )
    assert len(a.declaration_sha256) == 64
    with pytest.raises(Conflict):
        sessions.check_in(db, actor, r.tender.id, sessions.CheckIn(name_of(r, seat), True))
    entry = tags(db, "evaluation.room.checked_in")[0]
    assert entry.ip != "198.51.100.7" and entry.actor_user_id is None  # L37: who checked in is concealed
    # another expert, not on the committee, is refused
    outsider = next(
        x.actor for eid, x in r.expert_actors.items() if eid not in {s.expert_id for s in r.draw.seats}
    )
    with pytest.raises(Forbidden):
        sessions.check_in(db, outsider, r.tender.id, sessions.CheckIn("x", True))
    with pytest.raises(Forbidden):
        sessions.workbench(db, r.purchaser, r.tender.id)


def test_a_conflict_at_check_in_calls_the_next_substitute_who_confirms_and_checks_in(r, db):
    move_to(r.starts_at - timedelta(minutes=10))
    seat, actor = r.members[0]
    with pytest.raises(ValidationFailed):
        sessions.declare_conflict(db, actor, r.tender.id, "  ", r.channel)
    sessions.declare_conflict(db, actor, r.tender.id, "My brother manages Bidder One Ltd.", r.channel)
    db.refresh(seat)
    assert seat.status == SeatStatus.conflict
    called = db.scalars(select(Seat).where(Seat.replaces_seat_id == seat.id)).one()
    assert called.status == SeatStatus.notified and called.specialty == seat.specialty
    sub = r.expert_actors[called.expert_id].actor
    with pytest.raises(Conflict) as e:
        sessions.check_in(db, sub, r.tender.id, sessions.CheckIn(name_of(r, called), True))
    assert e.value.problems[0].code == "room_seat_not_confirmed"
    draws.respond(db, sub, called.id, True, r.channel)
    sessions.check_in(db, sub, r.tender.id, sessions.CheckIn(name_of(r, called), True))
    # the member who stepped down no longer enters
    with pytest.raises(Conflict):
        sessions.check_in(db, actor, r.tender.id, sessions.CheckIn(name_of(r, seat), True))


def test_a_member_who_leaves_is_recorded_and_replaced(r, db, blobs):
    start(r)
    check_in_all(r)
    seat, actor = r.members[1]
    with pytest.raises(ValidationFailed):
        sessions.leave(db, actor, r.tender.id, "", r.channel)
    a = sessions.leave(db, actor, r.tender.id, "Taken ill", r.channel)
    assert a.status == "left" and a.leave_reason == "Taken ill" and a.left_at is not None
    db.refresh(seat)
    assert seat.status == SeatStatus.declined
    called = db.scalars(select(Seat).where(Seat.replaces_seat_id == seat.id)).one()
    assert called.status == SeatStatus.notified
    _, p = sessions.progress(db, r.agency, r.tender.id)
    assert p.checked_in == 4 and p.seats == 5
    with pytest.raises(Forbidden) as e:
        reading.read_bid_file(db, actor, blobs, r.tender.id, 1, 0)
    assert e.value.problems[0].code == "room_not_member"


# ---------------------------------------------------------------- the chair


def test_the_present_members_elect_a_chair_by_majority(r, db):
    start(r)
    check_in_all(r, 4)
    (s0, a0), (s1, a1), (s2, a2), (s3, a3) = r.members[:4]
    outside = r.members[4]
    with pytest.raises(Conflict):
        sessions.vote_chair(db, outside[1], r.tender.id, s0.id)  # not checked in
    with pytest.raises(ValidationFailed):
        sessions.vote_chair(db, a0, r.tender.id, outside[0].id)  # not present
    sessions.vote_chair(db, a0, r.tender.id, s1.id)
    sessions.vote_chair(db, a1, r.tender.id, s1.id)
    assert sessions.vote_chair(db, a1, r.tender.id, s2.id).chair_seat_id is None  # changed vote
    sessions.vote_chair(db, a1, r.tender.id, s1.id)
    sess = sessions.vote_chair(db, a2, r.tender.id, s1.id)  # 3 of 4 present
    assert sess.chair_seat_id == s1.id
    with pytest.raises(Conflict):
        sessions.vote_chair(db, a3, r.tender.id, s0.id)
    assert len(tags(db, "evaluation.room.chair.elected")) == 1
    view = sessions.workbench(db, a0, r.tender.id)
    assert view.chair == name_of(r, s1) and len(view.present) == 4
    # the chair leaves: the committee elects again
    sessions.leave(db, a1, r.tender.id, "Called away", r.channel)
    db.refresh(sess)
    assert sess.chair_seat_id is None
    sessions.vote_chair(db, a0, r.tender.id, s2.id)
    assert sessions.vote_chair(db, a3, r.tender.id, s2.id).chair_seat_id == s2.id  # 2 of the 3 present
    # the new chair steps down from the draw's own page: the chair is vacant and elected again
    draws.declare_conflict(db, a2, s2.id, "A former employer bids", r.channel)
    assert not sessions.progress(db, r.agency, r.tender.id)[1].chair_elected
    sessions.vote_chair(db, a0, r.tender.id, s3.id)
    assert sessions.vote_chair(db, a3, r.tender.id, s3.id).chair_seat_id == s3.id


# ---------------------------------------------------------------- reading, pausing


def test_only_present_members_read_while_open_and_every_read_is_audited(r, db, blobs):
    move_to(r.starts_at - timedelta(minutes=5))
    check_in_all(r, 2)
    (s0, a0), (s1, a1) = r.members[:2]
    view = reading.room(db, a0, r.tender.id)
    assert view.read_refusal == "room_not_started" and view.bids == []
    start(r)
    view = reading.room(db, a0, r.tender.id)
    assert view.read_refusal is None and len(view.bids) == 3 and view.criteria.factors
    ob = view.bids[0]["opened_bid"]
    got = reading.read_bid_file(db, a0, blobs, r.tender.id, ob, 0)
    assert got.body.read() == b"%PDF technical proposal" and got.media_type == "application/pdf"
    entry = tags(db, "evaluation.room.bid_file.read")[0]
    assert (
        entry.details["opened_bid"] == ob
        and entry.details["file"] == 0
        and len(entry.details["sha256"]) == 64
    )
    # not checked in, not on the committee, the agency, the purchaser, a monitor: refused
    for actor in (r.members[3][1], r.agency, r.purchaser, r.monitor, r.bidder, r.admin):
        with pytest.raises(Forbidden):
            reading.read_bid_file(db, actor, blobs, r.tender.id, ob, 0)
    # another tender's opened bid under this tender's room: not found
    with pytest.raises(Exception) as nf:
        reading.read_bid_file(db, a0, blobs, r.tender.id, ob + 1000, 0)
    assert getattr(nf.value, "status", None) == 404
    # a monitor pauses: nobody reads; resumes: reading again
    with pytest.raises(Forbidden):
        sessions.pause(db, r.agency, r.tender.id, "x")
    with pytest.raises(ValidationFailed):
        sessions.pause(db, r.monitor, r.tender.id, " ")
    sessions.pause(db, r.monitor, r.tender.id, "Noise from the next room; checking the recording")
    with pytest.raises(Forbidden) as paused:
        reading.read_bid_file(db, a1, blobs, r.tender.id, ob, 0)
    assert paused.value.problems[0].code == "room_paused"
    with pytest.raises(Conflict):
        sessions.pause(db, r.monitor, r.tender.id, "again")
    sessions.resume(db, r.monitor, r.tender.id, "Checked")
    assert reading.read_bid_file(db, a1, blobs, r.tender.id, ob, 0).size == len(b"%PDF technical proposal")
    assert len(tags(db, "evaluation.room.bid_file.read")) == 2
    view = sessions.monitor_view(db, r.monitor, r.tender.id)
    assert len(view.present) == 2 and view.session.pauses[0].resume_reason == "Checked"


def test_progress_shows_counts_to_the_parties_and_never_names(r, db):
    start(r)
    check_in_all(r, 3)
    for actor in (r.agency, r.purchaser, r.bidder, r.anon):
        tender, p = sessions.progress(db, actor, r.tender.id)
        assert p.booked and p.checked_in == 3 and p.seats == 5
        assert not hasattr(p, "present")
    assert sessions.progress(db, r.agency, r.tender.id)[1].room == "Room A"
    assert (
        sessions.progress(db, r.anon, r.tender.id)[1].room == ""
    )  # where the committee sits: its parties only


# ---------------------------------------------------------------- two bookings at once (PostgreSQL locks)


def test_two_agencies_booking_one_room_at_once_get_one_booking(factory, engine, make, db, blobs, tmp_path):
    """Two units of work book overlapping sessions of room 1 for two tenders at the same moment: the room's
    row lock makes the second wait for the first and then see it, so exactly one booking is made."""
    w = room_world(db, make, blobs, tmp_path, book=False)
    other = _second_tender(w, db, blobs, tmp_path)
    db.add(EvaluationRoom(number=1, name="Room A"))  # the room exists: its row lock decides, not its creation
    db.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def book(tender_id: int) -> None:
        with factory() as s:
            try:
                barrier.wait(5)
                sessions.book(s, w.agency, tender_id, sessions.Booking(1, w.starts_at, 4), ROOMS)
                s.commit()
                outcomes.append("booked")
            except Conflict as e:
                s.rollback()
                outcomes.append(e.problems[0].code)

    threads = [threading.Thread(target=book, args=(t,)) for t in (w.tender.id, other.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["booked", "room_taken"]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(EvaluationSession)) == 1


def test_a_sealed_file_that_changed_is_not_shown_and_the_refusal_is_kept(r, db, blobs):
    from tender.models import Bid, OpenedBid

    start(r)
    check_in_all(r, 1)
    _, a0 = r.members[0]
    ob = db.scalars(select(OpenedBid).order_by(OpenedBid.id)).first()
    bid = db.get(Bid, ob.bid_id)
    other = db.scalars(select(Bid).where(Bid.id != bid.id, Bid.tender_id == r.tender.id)).first()
    bid.blob_key = other.blob_key  # the store now answers with another bidder's sealed file
    db.flush()
    with pytest.raises(Conflict) as e:
        reading.read_bid_file(db, a0, blobs, r.tender.id, ob.id, 0)
    assert e.value.kept and e.value.problems[0].code == "room_sealed_file_changed"
    assert tags(db, "evaluation.room.read.refused") and not tags(db, "evaluation.room.bid_file.read")
