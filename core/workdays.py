"""Working days (工作日) on China's official holiday calendar, for the deadlines counted in working days
(R60: a complaint's acceptance within 3 working days; R61: its decision within 30 working days; G87-72's
publication of contracts within 2 working days).

The calendar is the State Council's yearly notice as kept by the `chinese-calendar` package: public holidays
are not working days and the weekend days moved to make up for them (调休) are. The State Council publishes
a year's calendar late in the year before; for a year the installed package does not cover yet, Monday to
Friday are working days, and `covered()` says so, so that a page can say the deadline is provisional."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar

from core.clock import CST


def covered(day: date) -> bool:
    """Whether the official calendar for the day's year is known (else weekdays stand in for it)."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not cover yet: weekdays
        return day.weekday() < 5


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after `start` (start itself not counted, as a period "within n working days" of
    an event starts the next day). n = 0 gives `start`."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def workday_deadline(event: datetime, n: int) -> datetime:
    """The end (24:00 Beijing time) of the n-th working day after the event, as an aware datetime: the
    moment a deadline of "n working days" from the event passes."""
    last = add_workdays(event.astimezone(CST).date(), n)
    return datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=CST)


def workdays_between(start: date, end: date) -> int:
    """How many working days lie after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_workday(day):
            count += 1
    return count
