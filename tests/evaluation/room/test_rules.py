"""The room's pure rules: bookings that overlap, the session's state, who may read the bids, the chair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.room import rules
from evaluation.room.rules import Slot, State

T0 = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)


def slot(start_h: float, hours: float) -> Slot:
    return Slot(T0 + timedelta(hours=start_h), T0 + timedelta(hours=start_h + hours))


@pytest.mark.parametrize(
    ("a", "b", "clash"),
    [
        (slot(0, 4), slot(4, 4), False),  # back to back: the next starts when the first ends
        (slot(0, 4), slot(3.99, 1), True),
        (slot(0, 4), slot(-1, 1), False),
        (slot(0, 4), slot(-1, 1.01), True),
        (slot(0, 4), slot(1, 1), True),  # inside
        (slot(1, 1), slot(0, 4), True),  # around
    ],
)
def test_a_room_holds_one_session_at_a_time(a, b, clash):
    assert rules.overlaps(a, b) is clash and rules.overlaps(b, a) is clash
    assert (rules.clash(a, [b]) == b) is clash


def test_clash_names_the_earliest_overlapping_booking():
    booked = [slot(5, 2), slot(2, 2), slot(9, 1)]
    assert rules.clash(slot(3, 3), booked) == slot(2, 2)
    assert rules.clash(slot(7, 2), booked) is None


@given(st.floats(-48, 48), st.floats(0.1, 12), st.floats(-48, 48), st.floats(0.1, 12))
def test_overlap_is_symmetric_and_matches_the_intervals(s1, h1, s2, h2):
    a, b = slot(s1, h1), slot(s2, h2)
    assert rules.overlaps(a, b) == rules.overlaps(b, a) == (max(s1, s2) < min(s1 + h1, s2 + h2))


def test_booking_problems():
    assert rules.booking_problems(T0, 4, T0) == []
    codes = [c for c, _, _ in rules.booking_problems(T0 - timedelta(minutes=1), 13, T0)]
    assert codes == ["room_start_past", "room_hours_range"]
    assert [c for c, _, _ in rules.booking_problems(T0, 0, T0)] == ["room_hours_range"]


def test_the_state_follows_the_clock_and_the_pause():
    assert rules.state(T0, False, T0 - timedelta(minutes=31)) is State.booked
    assert rules.state(T0, False, T0 - timedelta(minutes=30)) is State.check_in
    assert rules.state(T0, False, T0) is State.open
    assert rules.state(T0, True, T0 + timedelta(hours=1)) is State.paused
    assert rules.state(T0, True, T0 - timedelta(hours=2)) is State.paused
    assert not rules.may_check_in(T0, T0 - timedelta(minutes=31)) and rules.may_check_in(T0, T0)


def test_only_a_present_member_reads_while_the_session_is_open():
    ok = dict(member=True, present=True, evaluating=True, session_state=State.open)
    assert rules.read_refusal(**ok) is None
    assert rules.read_refusal(**{**ok, "member": False}) == "room_not_member"
    assert rules.read_refusal(**{**ok, "present": False}) == "room_not_checked_in"
    assert rules.read_refusal(**{**ok, "session_state": State.paused}) == "room_paused"
    assert rules.read_refusal(**{**ok, "session_state": State.check_in}) == "room_not_started"
    assert rules.read_refusal(**{**ok, "session_state": None}) == "room_no_session"
    assert rules.read_refusal(**{**ok, "evaluating": False}) == "room_not_evaluating"


@given(
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, *State]),
)
def test_nobody_reads_unless_every_condition_holds(member, present, evaluating, state):
    allowed = (
        rules.read_refusal(member=member, present=present, evaluating=evaluating, session_state=state) is None
    )
    assert allowed == (member and present and evaluating and state is State.open)


def test_the_chair_needs_the_votes_of_more_than_half_of_the_present_members():
    present = frozenset({1, 2, 3, 4, 5})
    assert rules.elected({1: 2, 2: 2}, present) is None
    assert rules.elected({1: 2, 2: 2, 3: 2}, present) == 2
    # four present: two votes are not a majority, three are
    four = frozenset({1, 2, 3, 4})
    assert rules.elected({1: 3, 2: 3}, four) is None
    assert rules.elected({1: 3, 2: 3, 4: 3}, four) == 3
    # a vote of a member who left, or for one, does not count
    assert rules.elected({1: 2, 2: 2, 9: 2}, present) is None
    assert rules.elected({1: 9, 2: 9, 3: 9}, present) is None
    assert rules.elected({}, present) is None


def test_the_purchasers_representative_may_not_chair():
    present = frozenset({1, 2, 3})
    assert rules.elected({1: 3, 2: 3, 3: 3}, present, representatives=frozenset({3})) is None
    assert not rules.may_chair(3, frozenset({3})) and rules.may_chair(1, frozenset({3}))


def test_the_declaration_is_signed_over_its_version_and_words():
    assert rules.declaration_sha256("2026-12") == rules.declaration_sha256("2026-12")
    assert rules.declaration_sha256("2026-12") != rules.declaration_sha256("2027-01")
    assert len(rules.DECLARATION) == 3 and "near relative of a bidder" in rules.DECLARATION[0]
