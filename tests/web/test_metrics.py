"""/metrics for operators (issue 17): requests by route template and status, and the platform's figures,
only for a scrape with the configured token (a 404 to everyone else, and when no token is set); figures are
aggregates that never count the bids of a tender still open for bids."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from core import tasks
from tests.factories.bids import reach_deadline, world
from tests.factories.tenders import published_tender
from web.app import create_app

TOKEN = "scrape-secret-for-tests"


@pytest.fixture
def scrape(settings, db):  # type: ignore[no-untyped-def]
    """A client of an app with a metrics token, and a function that scrapes it."""
    app = create_app(replace(settings, metrics_token=TOKEN))
    with TestClient(app=app) as client:

        def get() -> str:
            r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith("text/plain")
            return r.text

        client.scrape = get  # type: ignore[attr-defined]
        yield client
    tasks.configure(settings)


def _value(text: str, series: str) -> float | None:
    found = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
    return float(found.group(1)) if found else None


def test_without_the_token_there_is_nothing_to_see(client, scrape):
    assert client.get("/metrics").status_code == 404  # no token configured at all
    assert scrape.get("/metrics").status_code == 404
    assert scrape.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert scrape.get("/metrics", headers={"Authorization": TOKEN}).status_code == 404


def test_requests_are_counted_by_route_template_and_status(scrape, db, make, blobs):
    w = published_tender(db, make, blobs)
    db.commit()
    tender_id = w.tender.id
    db.rollback()
    ok = (
        'etender_requests_total{app_name="etender",method="GET",path="/tenders/{tender_id}",'
        'status_code="200"}'
    )
    missing = ok.replace('"200"', '"404"')
    # the counters are the process's (other tests' apps count too): compare before and after
    before = scrape.scrape()
    for _ in range(3):
        assert scrape.get(f"/tenders/{tender_id}").status_code == 200
    assert scrape.get("/tenders/999999").status_code == 404
    text = scrape.scrape()
    assert (_value(text, ok) or 0) - (_value(before, ok) or 0) == 3, text[:3000]
    assert (_value(text, missing) or 0) - (_value(before, missing) or 0) == 1
    assert f'/tenders/{tender_id}"' not in text  # one series per route, never per tender
    assert "etender_request_duration_seconds_bucket" in text


def test_figures_count_only_closed_tenders_and_report_the_log(scrape, db, make, blobs):
    w = world(db, make, blobs, n_bids=3)
    db.rollback()
    before = scrape.scrape()
    assert _value(before, 'etender_bids{status="submitted"}') is None  # bids exist, bidding still open
    assert not re.search(r"^etender_bids\{", before, re.M)  # not even a zero per status
    reach_deadline(db, w)
    db.rollback()
    after = scrape.scrape()
    assert _value(after, 'etender_bids{status="submitted"}') == 3, after[-3000:]
    assert _value(after, 'etender_openings{status="awaiting_parts"}') == 1
    assert _value(after, 'etender_opening_bids{status="pending"}') == 3
    assert "# TYPE etender_task_queue_depth gauge" in after  # declared; no value without a broker
    assert _value(after, "etender_task_queue_depth") is None


@pytest.mark.parametrize(
    "broker,port", [("amqp://guest:guest@127.0.0.1:5672//", 5672), ("redis://127.0.0.1:6379/12", 6379)]
)
def test_the_queue_depth_is_read_from_the_broker(settings, db, broker, port):
    import socket

    from tests.support import missing_service

    with socket.socket() as s:
        s.settimeout(0.5)
        if s.connect_ex(("127.0.0.1", port)) != 0:
            missing_service(f"no broker on 127.0.0.1:{port}")
    app = create_app(replace(settings, metrics_token=TOKEN, broker_url=broker))
    try:
        with TestClient(app=app) as client:
            r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            depth = _value(r.text, "etender_task_queue_depth")
            assert depth is not None and depth >= 0, r.text[-1500:]
    finally:
        tasks.configure(settings)
