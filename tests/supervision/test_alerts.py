"""The monitors' alerts on refused attempts (supervision/alerts.py): counted over folded entries
(audit.refusals), the repeats not yet recorded included."""

from __future__ import annotations

from accounts.events import AccountTag
from audit import refused
from audit.events import RequestTag
from audit.refusals import FOLD_WINDOW, sweep
from core import clock
from core.disclosure import Fact
from core.identity import Actor
from supervision import alerts
from tender.events import TenderTag

MALLORY = Actor(user_id=9, username="mallory", role="bidder", organisation_id=None, ip="203.0.113.66")
VISITOR = Actor(user_id=None, username="", role=None, organisation_id=None, ip="198.51.100.23")


def _monitor(make, db) -> Actor:  # type: ignore[no-untyped-def]
    actor = make.actor(make.user(make.org("supervisor"), "monitor", username="watcher"))
    db.commit()
    return actor


def _of(kind: str, found: list[alerts.Alert]) -> list[alerts.Alert]:
    return [a for a in found if a.kind == kind]


def test_a_folded_refusal_counts_every_attempt_before_and_after_its_window_ends(db, make):
    monitor = _monitor(make, db)
    for _ in range(4):
        refused(
            db, AccountTag.access_refused, actor=MALLORY, subject="tender:3", details={"reason": "sealed"}
        )
    db.commit()
    [alert] = _of("sealed_access_refused", alerts.alerts(db, monitor))
    assert alert.count == 4  # the first entry, with the three repeats counted since
    clock.shift(FOLD_WINDOW)
    assert sweep(db) == 1
    db.commit()
    assert sum(a.count for a in _of("sealed_access_refused", alerts.alerts(db, monitor))) == 4


def test_repeated_bid_refusals_of_one_account_name_it_with_the_count(db, make):
    monitor = _monitor(make, db)

    def late(step: str) -> None:
        refused(
            db,
            TenderTag.bid_refused,
            actor=MALLORY,
            subject="tender:3",
            details={"reason": "bid_deadline_passed", "window": "bid_deadline", "step": step},
            confidential={"bid": 1},
            conceal_actor=True,
            withhold=Fact.participation,
        )

    late("begin")
    late("part")
    db.commit()
    assert _of("repeated_bid_refusals", alerts.alerts(db, monitor)) == []  # twice: not yet
    late("part")
    late("complete")
    db.commit()
    [alert] = _of("repeated_bid_refusals", alerts.alerts(db, monitor))
    assert (alert.count, alert.params, alert.subject) == (4, {"who": "mallory"}, "tender:3")


def test_refused_writes_alert_per_account_and_object_and_not_for_visitors(db, make):
    monitor = _monitor(make, db)
    for actor, subject in ((MALLORY, "bid:1"), (MALLORY, "bid:1"), (MALLORY, "tender:2"), (VISITOR, "bid:1")):
        refused(
            db,
            RequestTag.request_refused,
            actor=actor,
            subject=subject,
            details={"reason": "bid_not_found", "status": 404, "route": "/api/v1/bids/{bid_id}/abort"},
            withhold=Fact.refusals,
        )
    # a refusal for what was sent, not whose it is: no refused-write alert
    refused(
        db,
        RequestTag.request_refused,
        actor=MALLORY,
        subject="tender:5",
        details={"reason": "lot_invalid", "status": 422},
        withhold=Fact.refusals,
    )
    db.commit()
    found = {(a.subject, a.count) for a in _of("refused_writes", alerts.alerts(db, monitor))}
    assert found == {("bid:1", 2), ("tender:2", 1)}


def test_csrf_failures_alert_from_three_on(db, make):
    monitor = _monitor(make, db)
    for _ in range(2):
        refused(
            db,
            RequestTag.request_csrf_refused,
            actor=VISITOR,
            subject="route:/login",
            details={"reason": "csrf_failed"},
            withhold=Fact.refusals,
        )
    db.commit()
    assert _of("csrf_failures", alerts.alerts(db, monitor)) == []
    refused(
        db,
        RequestTag.request_csrf_refused,
        actor=VISITOR,
        subject="route:/logout",
        details={"reason": "csrf_failed"},
        withhold=Fact.refusals,
    )
    db.commit()
    [alert] = _of("csrf_failures", alerts.alerts(db, monitor))
    assert (alert.count, alert.params) == (3, {"by": "address", "who": VISITOR.ip})
