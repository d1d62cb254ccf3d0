"""Unit and property tests for tender/lifecycle.py, the tender state machine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tender.lifecycle import (
    ACTIVE,
    FINAL,
    Event,
    IllegalTransition,
    State,
    Status,
    allowed_events,
    transition,
)

HAPPY_PATH = [
    (Event.publish, Status.published),
    (Event.close_bidding, Status.bidding_closed),
    (Event.start_opening, Status.opening),
    (Event.start_evaluation, Status.evaluating),
    (Event.sign_report, Status.evaluated),
    (Event.publish_candidates, Status.publicity),
    (Event.award, Status.awarded),
]


def run(*events: Event, start: Status = Status.draft) -> State:
    state = State(start)
    for event in events:
        state = transition(state, event)
    return state


def test_happy_path_draft_to_awarded():
    state = State(Status.draft)
    for event, expected in HAPPY_PATH:
        state = transition(state, event)
        assert state == State(expected)
    assert state.status in FINAL


def test_transition_does_not_mutate_the_given_state():
    state = State(Status.draft)
    transition(state, Event.publish)
    assert state == State(Status.draft)


def test_active_and_final_partition():
    assert {
        Status.published,
        Status.bidding_closed,
        Status.opening,
        Status.evaluating,
        Status.evaluated,
        Status.publicity,
    } == ACTIVE
    assert {Status.awarded, Status.failed, Status.cancelled} == FINAL
    assert not ACTIVE & FINAL
    assert Status.draft not in ACTIVE | FINAL
    assert Status.suspended not in ACTIVE | FINAL


# --- failure paths (R44/L28: fewer than 3 bids; L42/P27: all bids rejected) ---------------------------------


@pytest.mark.parametrize(
    "status",
    # R55 (issue 14): after the publicity no candidate may be awardable
    [Status.bidding_closed, Status.opening, Status.evaluating, Status.evaluated, Status.publicity],
)
def test_fail_from_closing_opening_or_evaluation(status):
    assert transition(State(status), Event.fail) == State(Status.failed)


@pytest.mark.parametrize("status", [Status.draft, Status.published, Status.suspended])
def test_fail_not_allowed_elsewhere(status):
    state = State(status, resume_to=Status.opening if status is Status.suspended else None)
    with pytest.raises(IllegalTransition):
        transition(state, Event.fail)


def test_fewer_than_3_bids_path():
    assert run(Event.publish, Event.close_bidding, Event.fail) == State(Status.failed)


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (Status.draft, Event.close_bidding),
        (Status.draft, Event.award),
        (Status.published, Event.publish),
        (Status.published, Event.start_opening),  # opening only once bidding has closed (L34)
        (Status.bidding_closed, Event.start_evaluation),
        (Status.opening, Event.publish_candidates),
        (Status.evaluating, Event.award),  # award only after the publicity period (R54)
        (Status.evaluating, Event.publish_candidates),  # the candidates come from the signed report (R53)
        (Status.evaluated, Event.sign_report),
        (Status.opening, Event.sign_report),
        (Status.publicity, Event.publish_candidates),
        (Status.draft, Event.resume),
        (Status.draft, Event.suspend),  # nothing under way yet
    ],
)
def test_illegal_transitions_raise(status, event):
    state = State(status)
    with pytest.raises(IllegalTransition) as info:
        transition(state, event)
    assert info.value.state == state
    assert info.value.event is event
    assert event.value in str(info.value) and status.value in str(info.value)


# --- suspend / resume (E52, R22, R54) -----------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(ACTIVE))
def test_suspend_and_resume_returns_to_previous_status(status):
    suspended = transition(State(status), Event.suspend)
    assert suspended == State(Status.suspended, resume_to=status)
    assert transition(suspended, Event.resume) == State(status)


def test_resumed_procedure_continues_where_it_stopped():
    state = run(
        Event.publish,
        Event.close_bidding,
        Event.start_opening,
        Event.suspend,
        Event.resume,
        Event.start_evaluation,
    )
    assert state == State(Status.evaluating)


def test_suspended_accepts_only_resume_and_cancel():
    suspended = State(Status.suspended, resume_to=Status.evaluating)
    assert set(allowed_events(suspended)) == {Event.resume, Event.cancel}
    for event in (Event.suspend, Event.sign_report, Event.publish_candidates, Event.fail, Event.award):
        with pytest.raises(IllegalTransition):
            transition(suspended, event)


def test_resume_without_a_previous_status_is_refused():
    with pytest.raises(IllegalTransition):
        transition(State(Status.suspended), Event.resume)


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.suspended])
def test_resume_only_from_suspended(status):
    with pytest.raises(IllegalTransition):
        transition(State(status), Event.resume)


@pytest.mark.parametrize("status", [Status.draft, *sorted(FINAL)])
def test_suspend_only_when_active(status):
    with pytest.raises(IllegalTransition):
        transition(State(status), Event.suspend)


# --- cancel -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.draft, *sorted(ACTIVE)])
def test_cancel_from_draft_and_active(status):
    assert transition(State(status), Event.cancel) == State(Status.cancelled)


def test_cancel_while_suspended():
    suspended = State(Status.suspended, resume_to=Status.publicity)
    assert transition(suspended, Event.cancel) == State(Status.cancelled)


@pytest.mark.parametrize("status", sorted(FINAL))
def test_cancel_refused_once_final(status):
    with pytest.raises(IllegalTransition):
        transition(State(status), Event.cancel)


# --- final states -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(FINAL))
@pytest.mark.parametrize("event", list(Event))
def test_final_states_accept_no_event(status, event):
    with pytest.raises(IllegalTransition):
        transition(State(status), event)


@pytest.mark.parametrize("status", sorted(FINAL))
def test_final_states_allow_nothing(status):
    assert allowed_events(State(status)) == []


# --- allowed_events -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State(Status.draft), {Event.publish, Event.cancel}),
        (State(Status.published), {Event.close_bidding, Event.suspend, Event.cancel}),
        (State(Status.bidding_closed), {Event.start_opening, Event.fail, Event.suspend, Event.cancel}),
        (State(Status.opening), {Event.start_evaluation, Event.fail, Event.suspend, Event.cancel}),
        (State(Status.evaluating), {Event.sign_report, Event.fail, Event.suspend, Event.cancel}),
        (State(Status.evaluated), {Event.publish_candidates, Event.fail, Event.suspend, Event.cancel}),
        (State(Status.publicity), {Event.award, Event.fail, Event.suspend, Event.cancel}),
        (State(Status.suspended, resume_to=Status.published), {Event.resume, Event.cancel}),
    ],
)
def test_allowed_events_per_status(state, expected):
    events = allowed_events(state)
    assert set(events) == expected
    assert len(events) == len(set(events))
    assert events == [e for e in Event if e in expected]  # in Event order, stable for the interface


# --- properties ---------------------------------------------------------------------------------------------

events = st.lists(st.sampled_from(list(Event)), max_size=40)


def _reachable_walk(sequence):
    """Apply the events in turn, skipping the illegal ones; yield every state visited."""
    state = State(Status.draft)
    yield state
    for event in sequence:
        try:
            state = transition(state, event)
        except IllegalTransition:
            continue
        yield state


def _assert_well_formed(state: State) -> None:
    assert isinstance(state.status, Status)
    if state.status is Status.suspended:
        assert state.resume_to in ACTIVE
    else:
        assert state.resume_to is None


@given(events)
def test_property_every_reached_state_is_well_formed(sequence):
    for state in _reachable_walk(sequence):
        _assert_well_formed(state)


@given(events)
def test_property_final_states_are_absorbing(sequence):
    final_seen = None
    for state in _reachable_walk(sequence):
        if final_seen is not None:
            assert state == final_seen
        elif state.status in FINAL:
            final_seen = state


@given(events)
def test_property_illegal_events_leave_no_trace(sequence):
    # An event that raises must not be counted: the state before and after a refused event is the same.
    state = State(Status.draft)
    for event in sequence:
        before = state
        try:
            state = transition(state, event)
        except IllegalTransition:
            assert state == before


@given(events)
def test_property_allowed_events_is_exactly_what_does_not_raise(sequence):
    for state in _reachable_walk(sequence):
        allowed = set(allowed_events(state))
        for event in Event:
            try:
                transition(state, event)
            except IllegalTransition:
                assert event not in allowed
            else:
                assert event in allowed


@given(events)
def test_property_only_publicity_leads_to_awarded(sequence):
    previous = None
    for state in _reachable_walk(sequence):
        if state.status is Status.awarded:
            assert previous == State(Status.publicity)
        previous = state


states = st.one_of(
    st.sampled_from([State(s) for s in Status if s is not Status.suspended]),
    st.sampled_from(sorted(ACTIVE)).map(lambda s: State(Status.suspended, resume_to=s)),
)


@given(states, st.sampled_from(list(Event)))
def test_property_transition_from_any_valid_state_gives_a_valid_state(state, event):
    try:
        new = transition(state, event)
    except IllegalTransition:
        assert event not in allowed_events(state)
        return
    _assert_well_formed(new)
    assert event in allowed_events(state)
    if state.status in FINAL:
        pytest.fail(f"{event} was accepted in final state {state}")
