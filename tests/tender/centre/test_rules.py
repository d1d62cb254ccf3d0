"""The centre's pure rules (tender.centre.rules): overlapping slots, the first clash, an intake's values, an
opening booking's slot and the calendar's week."""

from datetime import UTC, datetime, timedelta

from core import clock
from tender.centre import rules

T0 = datetime(2026, 12, 9, 1, 30, tzinfo=UTC)  # 09:30 Beijing time, a Wednesday


def slot(start_h: float, hours: float) -> rules.Slot:
    return rules.Slot(T0 + timedelta(hours=start_h), T0 + timedelta(hours=start_h + hours))


def test_back_to_back_slots_do_not_overlap_but_any_shared_minute_does():
    assert not rules.overlaps(slot(0, 2), slot(2, 1))
    assert rules.overlaps(slot(0, 2), slot(1.99, 1))
    assert rules.overlaps(slot(0, 4), slot(1, 1))  # inside


def test_the_first_clash_is_the_earliest_overlapping_booking_with_its_owner():
    booked = [(slot(3, 2), "later"), (slot(0, 2), "earlier"), (slot(6, 1), "apart")]
    assert rules.first_clash(slot(1, 3), booked) == (slot(0, 2), "earlier")
    assert rules.first_clash(slot(2, 1), booked) is None


def test_an_intake_needs_its_number_title_category_funding_and_dates_in_order():
    codes = [
        c
        for c, _, _ in rules.intake_problems(" ", "", "food", "gold", ["fiscal"], T0 + timedelta(days=2), T0)
    ]
    assert codes == [
        "intake_reference_missing",
        "intake_title_missing",
        "intake_category",
        "intake_funding",
        "intake_dates_order",
    ]
    assert (
        rules.intake_problems("JY-1", "School", "goods", "fiscal", ["fiscal"], T0, T0 + timedelta(days=20))
        == []
    )


def test_an_opening_booking_holds_the_bid_deadline_and_is_of_one_to_eight_hours():
    deadline = T0 + timedelta(days=3)
    now = T0
    assert rules.booking_problems(deadline, 2, deadline, now) == []
    assert rules.booking_problems(deadline - timedelta(minutes=30), 2, deadline, now) == []
    assert [c for c, _, _ in rules.booking_problems(deadline + timedelta(minutes=1), 2, deadline, now)] == [
        "opening_room_deadline"  # L34: the opening is at the deadline
    ]
    assert [c for c, _, _ in rules.booking_problems(deadline, 9, deadline, now)] == ["opening_room_hours"]
    assert [c for c, _, _ in rules.booking_problems(now - timedelta(hours=1), 2, None, now)] == [
        "opening_room_past"
    ]


def test_the_week_starts_on_monday_at_midnight_beijing_time():
    wednesday = clock.to_cst(T0)
    monday = rules.week_start(wednesday)
    assert monday.weekday() == 0 and (monday.hour, monday.minute) == (0, 0)
    assert monday.date().isoformat() == "2026-12-07"
