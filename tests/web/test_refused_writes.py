"""Every refused write is recorded, for every route, in one place (web/app.py): after the request's rollback,
folded (audit.refusals), withheld from the public (Fact.refusals), and shown to monitors as alerts."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import TestClient
from sqlalchemy import func, select

from audit.log import AuditConfidential, AuditEntry
from audit.refusals import FOLD_WINDOW, RefusalFold, sweep
from core import clock
from storage import open_store
from supervision import alerts
from tender.models import Bid
from tests.factories.bids import ensure_registered
from tests.factories.tenders import published_tender
from tests.web.support import login, zh
from web.app import create_app

ROUTE = "/api/v1/bids/{bid_id}/abort"


def _world(db, make, settings):  # type: ignore[no-untyped-def]
    w = published_tender(db, make, open_store(settings))
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    monitor = make.user(make.org("supervisor"), "monitor", username="watcher")
    w.monitor_actor = make.actor(monitor)
    db.commit()
    w.tender_id, w.lot1_id = w.tender.id, w.lot1.id
    w.bidder_name, w.other_name = w.bidder_user.username, w.other_bidder_user.username
    w.other_id = w.other_bidder_user.id
    db.rollback()
    return w


def _refusals(db, tag: str = "request.refused") -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    db.expire_all()
    found = list(db.scalars(select(AuditEntry).where(AuditEntry.tag == tag).order_by(AuditEntry.index)))
    db.rollback()
    return found


def _started_bid(client: TestClient, w) -> int:  # type: ignore[no-untyped-def]
    csrf = login(client, w.bidder_name)
    r = client.post(
        f"/api/v1/tenders/{w.tender_id}/bids",
        json={"lot_id": w.lot1_id, "size": 1000},
        headers={"x-csrftoken": csrf},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["bid"])


def test_attempts_on_another_companys_bid_are_recorded_once_with_their_count_and_alerted(db, make, settings):
    w = _world(db, make, settings)
    with TestClient(app=create_app(settings)) as client:
        bid = _started_bid(client, w)
        csrf = login(client, w.other_name)
        for _ in range(25):
            r = client.post(f"/api/v1/bids/{bid}/abort", headers={"x-csrftoken": csrf})
            assert r.status_code == 404, r.text
        # a read refused is no attempt to change anything: not recorded
        assert client.get(f"/api/v1/bids/{bid}/parts").status_code == 404
        [entry] = _refusals(db)
        # E21: a bidder's attempt on a bid names the person, the bid only in the committed confidential part
        subject = f"user:{w.other_id}"
        assert (entry.actor, entry.subject, entry.withheld) == (w.other_name, subject, "refusals")
        secret = db.get(AuditConfidential, entry.index)
        assert secret.data == {"object": f"bid:{bid}"} and secret.disclosed_at is None
        assert entry.details["route"] == ROUTE and entry.details["status"] == 404
        assert entry.details["method"] == "POST" and entry.details["reason"] == "bid_not_found"
        assert db.scalar(select(RefusalFold.count)) == 24
        assert db.get(Bid, bid).status == "uploading"  # nothing of the refused request was kept
        db.rollback()
        # the public sees that something was recorded, nothing more
        items = client.get("/api/v1/audit/entries", params={"start": 0, "end": 100}).json()["entries"]
        assert {"index": entry.index, "leaf_hash": entry.leaf_hash.hex(), "withheld": True} in items
        # the monitors: one alert for the account and the bid with all 25 attempts, and the bid refusals
        found = {a.kind: a for a in alerts.alerts(db, w.monitor_actor)}
        assert found["refused_writes"].count == 25 and found["refused_writes"].params["actor"] == w.other_name
        assert found["repeated_bid_refusals"].count == 25
        db.rollback()
        login(client, "watcher")
        page = client.get("/monitor/audit").text
        text = zh(
            "%(actor)s (%(organisation)s) was refused %(n)s times when trying to change %(subject)s: it is "
            "not theirs, or not theirs to change.",
            actor=w.other_name,
            organisation=found["refused_writes"].params["organisation"],
            n=25,
            subject=f"bid:{bid}",
        )
        assert text in page
        assert (
            zh(
                "%(n)s bid attempts of the account %(who)s were refused (the latest on %(subject)s).",
                n=25,
                who=w.other_name,
                subject=f"bid:{bid}",
            )
            in page
        )


def test_the_count_is_recorded_when_the_window_ends(db, make, settings):
    w = _world(db, make, settings)
    with TestClient(app=create_app(settings)) as client:
        bid = _started_bid(client, w)
        csrf = login(client, w.other_name)
        for _ in range(4):
            assert client.post(f"/api/v1/bids/{bid}/abort", headers={"x-csrftoken": csrf}).status_code == 404
    clock.shift(FOLD_WINDOW + timedelta(seconds=1))
    assert sweep(db) == 1
    db.commit()
    first, summary = _refusals(db)
    assert summary.details["repeated"] == 3 and summary.details["folded_into"] == first.index
    assert summary.actor == w.other_name and summary.subject == first.subject
    assert db.scalar(select(func.count()).select_from(RefusalFold)) == 0
    db.rollback()


def test_a_refusal_the_service_records_itself_is_not_recorded_again(db, make, settings):
    w = _world(db, make, settings)
    with TestClient(app=create_app(settings)) as client:
        bid = _started_bid(client, w)
        csrf = login(client, w.bidder_name)
        clock.shift(timedelta(days=60))  # after the deadline: refused, recorded and kept by the service
        r = client.post(f"/api/v1/bids/{bid}/withdraw", headers={"x-csrftoken": csrf})
        assert r.status_code == 409, r.text
    assert _refusals(db) == []
    assert [e.details["reason"] for e in _refusals(db, "tender.bid.refused")] == ["bid_deadline_passed"]
