"""Answers taken by phone: drawn experts without an account are written to by e-mail when the pool has their
address; the centre's administrators record a call (when, whom they spoke with, what was said) and the answer
counts as the expert's: confirmed, or declined and handed to the next substitute; bad records are refused with
what is wrong; nobody else sees the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from evaluation.committee import draws, phone
from evaluation.committee.models import PhoneAnswer, Seat, SeatStatus
from evaluation.events import EvaluationTag
from tests.factories.experts import drawn


@pytest.fixture
def d(w):  # type: ignore[no-untyped-def]
    """A committee drawn from experts without accounts (the civil ones, with an e-mail address each)."""
    for i, expert in enumerate(w.civil + w.power):
        expert.user_id, expert.phone = None, f"1380013{i:04d}"
        expert.email = f"expert{i}@example.cn" if expert in w.civil else ""
    w.db.flush()
    w.admin = w.make.actor(w.admin_user)
    w.draw = drawn(
        w,
        draws.DrawInput(
            committee_size=5, quotas=[("A", 3), ("B", 2)], evaluation_date=w.eval_day, substitutes=3
        ),
    )
    w.db.flush()
    return w


def notified(d) -> list[Seat]:  # type: ignore[no-untyped-def]
    return [s for s in d.draw.seats if s.status == SeatStatus.notified]


def call(
    accepted: bool | None = True, minutes_ago: int = 0, spoke_with: str = "本人", note: str = "同意参加"
):  # type: ignore[no-untyped-def]
    return phone.PhoneCall(accepted, clock.now() - timedelta(minutes=minutes_ago), spoke_with, note)


def test_experts_without_an_account_are_written_to_at_their_address(d):
    d.db.commit()  # messages leave after the commit
    sent = {m.email for m in d.channel.sent}
    civil_seats = [s for s in notified(d) if s.specialty.startswith("A")]
    assert (
        len(civil_seats) == 3
        and {
            f"expert{d.civil.index(e)}@example.cn"
            for e in d.civil
            if any(s.expert_id == e.id for s in civil_seats)
        }
        <= sent
    )
    to_experts = [m for m in d.channel.sent if m.email.startswith("expert")]
    assert to_experts and all(
        m.user_id == 0 and "%(" not in m.text() and "评标委员会" in m.text() for m in to_experts
    )


def test_the_centre_sees_the_waiting_seats_with_phone_numbers_and_nobody_else_does(d):
    waiting = phone.awaiting(d.db, d.admin)
    assert {a.seat.id for a in waiting} == {s.id for s in notified(d)}
    assert all(a.phone.startswith("1380013") and not a.has_account for a in waiting)
    for other in (d.agency, d.monitor, d.bidder):
        with pytest.raises(Forbidden):
            phone.awaiting(d.db, other)


def test_an_accepted_call_confirms_the_seat_and_is_audited_without_what_was_said(d):
    seat = notified(d)[0]
    phone.record_answer(d.db, d.admin, seat.id, call(), d.channel)
    assert seat.status == SeatStatus.confirmed
    row = d.db.scalars(select(PhoneAnswer).where(PhoneAnswer.seat_id == seat.id)).one()
    assert (row.spoke_with, row.note, row.accepted, row.recorded_by) == (
        "本人",
        "同意参加",
        True,
        d.admin_user.id,
    )
    entry = d.db.scalars(
        select(AuditEntry).where(AuditEntry.tag == EvaluationTag.seat_phone_answer_recorded.value)
    ).one()
    assert entry.details["seat"] == seat.id and "同意参加" not in str(entry.details)
    confirmed = d.db.scalars(
        select(AuditEntry).where(AuditEntry.tag == EvaluationTag.seat_confirmed.value)
    ).one()
    assert confirmed.details["by_phone"] == row.id
    with pytest.raises(Conflict) as e:  # answered: a second call changes nothing
        phone.record_answer(d.db, d.admin, seat.id, call(False), d.channel)
    assert e.value.problems[0].code == "phone_seat_answered"


def test_a_declined_call_hands_the_seat_to_the_next_substitute(d):
    # the draw is random: its substitutes may all serve other quotas, so decline a seat one of them can take
    standby = {s.specialty for s in d.draw.seats if s.status == SeatStatus.standby}
    seat = next(s for s in notified(d) if s.specialty in standby)
    before = len(notified(d))
    phone.record_answer(d.db, d.admin, seat.id, call(False, note="出差，不能参加"), d.channel)
    d.db.refresh(d.draw)
    assert seat.status == SeatStatus.declined and len(notified(d)) == before  # a substitute was asked


@pytest.mark.parametrize(
    (
        "accepted",
        "minutes",
        "spoke_with",
        "note",
        "code",
    ),  # minutes: the call's time from now (the test clock)
    [
        (None, None, "", "", "phone_answer_missing"),
        (True, 60, "本人", "好", "phone_time_future"),
        (True, -1, "本人", "好", "phone_time_before_draw"),
        (True, 0, " ", "好", "phone_spoke_with_missing"),
        (True, 0, "本人", "", "phone_note_missing"),
    ],
)
def test_a_bad_record_is_refused_with_what_is_wrong(d, accepted, minutes, spoke_with, note, code):
    seat = notified(d)[0]
    at = None if minutes is None else clock.now() + timedelta(minutes=minutes)
    with pytest.raises(ValidationFailed) as e:
        phone.record_answer(
            d.db, d.admin, seat.id, phone.PhoneCall(accepted, at, spoke_with, note), d.channel
        )
    assert code in {p.code for p in e.value.problems}
    assert seat.status == SeatStatus.notified


def test_a_call_older_than_a_day_is_refused(d):
    seat = notified(d)[0]
    problems = phone.call_problems(call(minutes_ago=25 * 60), None, clock.now())
    assert [p.code for p in problems] == ["phone_time_old"] and seat.status == SeatStatus.notified


def test_only_administrators_record_calls(d):
    seat = notified(d)[0]
    with pytest.raises(Forbidden):
        phone.record_answer(d.db, d.agency, seat.id, call(), d.channel)
