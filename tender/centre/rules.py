"""The centre's rules as pure functions (issue 16): an intake's values, an opening booking's slot and the
clash of two bookings of one room. No database, no clock: the caller passes `now`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from core.errors import N_

CATEGORIES = ("works", "goods", "services")
# Policy: an opening is booked for 1 to 8 hours (the ceremony and the decryption window); 2 by default.
MIN_HOURS, MAX_HOURS, DEFAULT_HOURS = 1, 8, 2
# Policy: a calendar week runs Monday to Sunday, Beijing time.
WEEK = timedelta(days=7)

K = TypeVar("K")


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


def overlaps(a: Slot, b: Slot) -> bool:
    """Half-open intervals: a booking may start the moment the previous one ends."""
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def first_clash(wanted: Slot, booked: Iterable[tuple[Slot, K]]) -> tuple[Slot, K] | None:
    """The earliest booked slot of the room that `wanted` overlaps, with what it belongs to."""
    return next((b for b in sorted(booked, key=lambda b: b[0].starts_at) if overlaps(wanted, b[0])), None)


def intake_problems(
    reference: str,
    title: str,
    category: str,
    funding: str,
    fundings: Iterable[str],
    planned_publication: datetime | None,
    planned_opening: datetime | None,
) -> list[tuple[str, str, str]]:
    """(code, message, field) for each thing wrong with an intake's own values."""
    out = []
    if not reference.strip():
        out.append(("intake_reference_missing", N_("Enter the centre's project number."), "reference"))
    elif len(reference.strip()) > 40:
        out.append(
            ("intake_reference_long", N_("The project number has at most 40 characters."), "reference")
        )
    if not title.strip():
        out.append(("intake_title_missing", N_("Enter the project's title."), "title"))
    elif len(title.strip()) > 300:
        out.append(("intake_title_long", N_("The title has at most 300 characters."), "title"))
    if category not in CATEGORIES:
        out.append(("intake_category", N_("Choose works, goods or services."), "category"))
    if funding not in set(fundings):
        out.append(("intake_funding", N_("Choose where the project's money comes from."), "funding"))
    if planned_publication and planned_opening and planned_opening <= planned_publication:
        out.append(
            (
                "intake_dates_order",
                N_("The planned opening comes after the planned publication; change one of the dates."),
                "planned_opening",
            )
        )
    return out


def booking_problems(
    starts_at: datetime, hours: int, bid_deadline: datetime | None, now: datetime
) -> list[tuple[str, str, str]]:
    """(code, message, field) for each thing wrong with a wanted opening slot."""
    out = []
    if starts_at < now:
        out.append(
            (
                "opening_room_past",
                N_("The booking cannot start in the past; choose a later time."),
                "starts_at",
            )
        )
    if not MIN_HOURS <= hours <= MAX_HOURS:
        out.append(("opening_room_hours", N_("An opening is booked for 1 to 8 hours."), "hours"))
    elif bid_deadline is not None and not starts_at <= bid_deadline < starts_at + timedelta(hours=hours):
        # L34: the opening takes place at the bid deadline, so the room must be held then
        out.append(
            (
                "opening_room_deadline",
                N_(
                    "The opening takes place at the bid deadline (L34): book the room from the deadline or "
                    "a little before it."
                ),
                "starts_at",
            )
        )
    return out


def week_start(day: datetime) -> datetime:
    """The Monday 00:00 of the week holding `day` (a Beijing-time datetime)."""
    monday = day - timedelta(days=day.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)
