"""The evaluation room's rules as pure functions: bookings that clash, when a session is open, who may read
the opened bids, and the chair's election. No database, no clock: the caller passes `now`."""

from __future__ import annotations

import enum
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import N_

# Policy: a session is booked for 1 to 12 hours (a working day and an evening at most); 4 by default.
MIN_HOURS, MAX_HOURS, DEFAULT_HOURS = 1, 12, 4
# Policy: members may check in from half an hour before the session starts.
CHECK_IN_EARLY = timedelta(minutes=30)

# The integrity and avoidance declaration every member signs at check-in: the avoidance grounds of rules.md
# §3.3 (P12; GR9's 3-year look-back; R46), confidentiality (L37, P8; E33) and independence (G87 art. 55, 62).
DECLARATION = (
    N_(
        "I declare that I have no tie that obliges me to step aside from this evaluation: I am not a near "
        "relative of a bidder or of its principals; I do not work for the purchaser's authority or for the "
        "supervising department; I have no economic interest in any bidder; I have never been penalised, "
        "administratively or criminally, for conduct in tendering; and in the last three years I have not "
        "been an employee, director or controlling shareholder of any bidder."
    ),
    N_(
        "I will evaluate honestly and independently, by the tender documents' criteria alone; I will not "
        "consult anyone on subjective factors, accept anything from a bidder or contact one outside the "
        "platform."
    ),
    N_(
        "I will keep the committee's membership, the bids and the evaluation confidential until the result "
        "is final, and if I find a conflict during the evaluation I will declare it at once and step down."
    ),
)


def declaration_sha256(version: str) -> str:
    """What a signature is over: the declaration's version and its (English) words."""
    return hashlib.sha256("\n".join((version, *DECLARATION)).encode()).hexdigest()


# ---------------------------------------------------------------- bookings


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


def overlaps(a: Slot, b: Slot) -> bool:
    """Half-open intervals: a session may start the moment the previous one ends."""
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def clash(wanted: Slot, booked: Iterable[Slot]) -> Slot | None:
    """The first booked slot of the room that `wanted` overlaps (a room holds one session at a time)."""
    return next((b for b in sorted(booked, key=lambda s: s.starts_at) if overlaps(wanted, b)), None)


def booking_problems(starts_at: datetime, hours: int, now: datetime) -> list[tuple[str, str, str]]:
    """(code, message, field) for each thing wrong with a wanted slot."""
    out = []
    if starts_at < now:
        out.append(
            ("room_start_past", N_("The session cannot start in the past; choose a later time."), "starts_at")
        )
    if not MIN_HOURS <= hours <= MAX_HOURS:
        out.append(
            (
                "room_hours_range",
                N_("A session is booked for 1 to 12 hours."),
                "hours",
            )
        )
    return out


# ---------------------------------------------------------------- the session's state


class State(enum.StrEnum):
    booked = "booked"  # before check-in opens
    check_in = "check_in"  # check-in is open, the session has not started
    open = "open"  # started: checked-in members read the bids
    paused = "paused"  # a monitor paused it: nobody reads


def state(starts_at: datetime, paused: bool, now: datetime) -> State:
    if paused:
        return State.paused
    if now >= starts_at:
        return State.open
    if now >= starts_at - CHECK_IN_EARLY:
        return State.check_in
    return State.booked


def may_check_in(starts_at: datetime, now: datetime) -> bool:
    return now >= starts_at - CHECK_IN_EARLY


# ---------------------------------------------------------------- reading the bids


def read_refusal(*, member: bool, present: bool, evaluating: bool, session_state: State | None) -> str | None:
    """Why a reader may not read the opened bids now (a code), or None when they may. E33: evaluation happens
    in a confidential environment: only the tender's committee members, checked in, while the session is
    open (a paused session reads nothing: E52)."""
    if not member:
        return "room_not_member"
    if session_state is None:
        return "room_no_session"
    if not evaluating:
        return "room_not_evaluating"
    if not present:
        return "room_not_checked_in"
    if session_state is State.paused:
        return "room_paused"
    if session_state is not State.open:
        return "room_not_started"
    return None


# ---------------------------------------------------------------- the chair


def may_chair(seat_id: int, representatives: frozenset[int]) -> bool:
    # G87 art. 45: the purchaser's representative may not be the chair
    return seat_id not in representatives


def elected(
    votes: Mapping[int, int], present: frozenset[int], representatives: frozenset[int] = frozenset()
) -> int | None:
    """The chair once one candidate has the votes of more than half of the present members (G87 art. 45: the
    committee elects its chair; policy: an absolute majority of those checked in). Votes of members who left
    and votes for members who left or may not chair do not count. `votes`: voter seat -> candidate seat."""
    counted = Counter(
        candidate
        for voter, candidate in votes.items()
        if voter in present and candidate in present and may_chair(candidate, representatives)
    )
    if not counted:
        return None
    candidate, n = counted.most_common(1)[0]
    return candidate if n * 2 > len(present) else None
