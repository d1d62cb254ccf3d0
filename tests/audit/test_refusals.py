"""Refused attempts are recorded without flooding the log (audit.refusals): the first at once, the repeats
within the window counted and summed up in one more entry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from audit import feed, refused
from audit.events import RequestTag
from audit.log import AuditEntry
from audit.refusals import FOLD_WINDOW, RefusalFold, sweep
from audit.tasks import fold_refusals
from audit.verify import verify_chain
from core import clock
from core.disclosure import Fact
from core.identity import Actor
from tender.events import TenderTag

MALLORY = Actor(user_id=9, username="mallory", role="bidder", organisation_id=4, ip="203.0.113.66")
VISITOR = Actor(user_id=None, username="", role=None, organisation_id=None, ip="198.51.100.23")


def _refuse(db, actor=MALLORY, subject="bid:12", reason="bid_not_found"):  # type: ignore[no-untyped-def]
    return refused(
        db,
        RequestTag.request_refused,
        actor=actor,
        subject=subject,
        details={"reason": reason, "status": 404},
        withhold=Fact.refusals,
    )


def _entries(db, tag=RequestTag.request_refused):  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry).where(AuditEntry.tag == tag.value).order_by(AuditEntry.index)))


def _total(entries) -> int:  # type: ignore[no-untyped-def]
    """The attempts the entries stand for: a first one 1, a summary its count of repeats."""
    return sum(int((e.details or {}).get("repeated", 1)) for e in entries)


def test_a_thousand_refused_attempts_make_a_bounded_number_of_entries_with_the_right_count(db):
    start = clock.now()
    for i in range(1000):
        # one attempt every 3 seconds: 50 minutes, five windows of 10 minutes
        clock.freeze(start + timedelta(seconds=3 * i))
        _refuse(db)
        db.commit()
    clock.freeze(start + timedelta(seconds=3 * 1000) + FOLD_WINDOW)
    assert sweep(db) == 1
    db.commit()
    entries = _entries(db)
    # per window of 10 minutes (200 attempts): the first, then one entry for the other 199
    assert len(entries) == 10
    print(f"1000 refused attempts, one every 3 s: {len(entries)} entries, {_total(entries)} attempts counted")
    assert _total(entries) == 1000
    summary = [e for e in entries if "repeated" in e.details]
    assert summary and all(e.details["folded_into"] < e.index for e in summary)
    assert all(e.details["first_at"] <= e.details["last_at"] for e in summary)
    assert db.scalar(select(func.count()).select_from(RefusalFold)) == 0
    assert verify_chain(db).ok


def test_the_first_refusal_is_recorded_at_once_and_repeats_only_counted(db):
    first = _refuse(db)
    db.commit()
    assert first is not None and first.details["reason"] == "bid_not_found"
    assert [_refuse(db) for _ in range(5)] == [None] * 5
    db.commit()
    assert len(_entries(db)) == 1
    fold = db.scalars(select(RefusalFold)).one()
    assert (fold.count, fold.first_index) == (5, first.index)


def test_the_next_refusal_after_the_window_records_the_count_and_starts_again(db):
    _refuse(db)
    _refuse(db)
    _refuse(db)
    db.commit()
    clock.shift(FOLD_WINDOW + timedelta(seconds=1))
    again = _refuse(db)
    db.commit()
    entries = _entries(db)
    assert len(entries) == 3 and again is not None and entries[-1].index == again.index
    assert entries[1].details["repeated"] == 2 and entries[1].details["folded_into"] == entries[0].index
    assert entries[1].actor == "mallory" and entries[1].withheld == Fact.refusals.value


def test_one_actor_one_kind_one_fold(db):
    _refuse(db)
    _refuse(db, subject="bid:13")  # another object
    _refuse(db, reason="forbidden")  # another reason
    _refuse(db, actor=VISITOR)  # an anonymous visitor: by address
    _refuse(db, actor=Actor(user_id=None, username="", role=None, organisation_id=None, ip="198.51.100.24"))
    db.commit()
    assert len(_entries(db)) == 5
    _refuse(db, actor=VISITOR)
    db.commit()
    assert len(_entries(db)) == 5


def test_the_sweep_records_only_ended_windows_with_repeats_and_is_safe_twice(db, settings):
    from core import tasks

    tasks.configure(settings)
    _refuse(db)
    _refuse(db)
    _refuse(db, subject="bid:13")  # no repeat: nothing to sum up
    db.commit()
    assert fold_refusals() == 0  # the window has not ended
    clock.shift(FOLD_WINDOW)
    assert fold_refusals() == 1
    assert fold_refusals() == 0
    db.expire_all()
    assert _total(_entries(db)) == 3 and len(_entries(db)) == 3


def test_a_concealed_withheld_refusal_stays_so_in_its_summary(db):
    for _ in range(3):
        refused(
            db,
            TenderTag.bid_refused,
            actor=MALLORY,
            subject="tender:3",
            details={"reason": "bid_deadline_passed", "window": "bid_deadline"},
            confidential={"bid": 5},
            conceal_actor=True,
            withhold=Fact.participation,
        )
    db.commit()
    clock.shift(FOLD_WINDOW)
    assert sweep(db) == 1
    db.commit()
    entries = _entries(db, TenderTag.bid_refused)
    assert [e.details.get("repeated") for e in entries] == [None, 2]
    assert all(e.actor == "(confidential)" and e.withheld == "participation" for e in entries)
    assert all(set(i) == {"index", "leaf_hash", "withheld"} for i in feed.entries(db, 0, 10))


def test_refusals_are_never_public_and_monitors_read_them(db):
    _refuse(db)
    db.commit()
    monitor = Actor(user_id=1, username="m", role="monitor", organisation_id=1, roles=frozenset({"monitor"}))
    assert feed.entries(db, 0, 10)[0]["withheld"] is True
    shown = feed.entries(db, 0, 10, monitor)[0]
    assert shown["decoded"]["actor"] == "mallory" and shown["address"]["ip"] == MALLORY.ip
