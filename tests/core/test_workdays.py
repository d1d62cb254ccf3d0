"""Working days on the official calendar: the 2026 National Day holiday and its make-up Saturday."""

from __future__ import annotations

from datetime import date, datetime

from core import workdays
from core.clock import CST


def test_national_day_holiday_is_not_a_working_day_and_its_make_up_saturday_is() -> None:
    assert not workdays.is_workday(date(2026, 10, 1))  # Thursday, National Day
    assert not workdays.is_workday(date(2026, 10, 7))  # Wednesday, still the holiday
    assert workdays.is_workday(date(2026, 10, 10))  # Saturday, worked instead (调休)
    assert not workdays.is_workday(date(2026, 10, 11))  # an ordinary Sunday


def test_three_working_days_from_the_eve_of_national_day_skip_the_holiday() -> None:
    # Wednesday 30 September: the 1st working day after it is Thursday 8 October, the 3rd Saturday 10 October
    assert workdays.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert workdays.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert workdays.add_workdays(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert workdays.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_a_deadline_ends_at_midnight_beijing_time_after_its_last_working_day() -> None:
    raised = datetime(2026, 9, 30, 15, 0, tzinfo=CST)
    assert workdays.workday_deadline(raised, 3) == datetime(2026, 10, 11, 0, 0, tzinfo=CST)


def test_a_year_the_calendar_does_not_cover_falls_back_to_weekdays_and_says_so() -> None:
    far = date(2099, 3, 2)  # a Monday
    assert not workdays.covered(far)
    assert workdays.covered(date(2026, 5, 1))
    assert workdays.is_workday(far)
    assert not workdays.is_workday(date(2099, 3, 1))  # Sunday
    assert workdays.add_workdays(date(2099, 2, 27), 1) == far  # Friday → Monday
