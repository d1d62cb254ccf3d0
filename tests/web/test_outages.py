"""An S3 outage answered clearly (issue 17): a person gets a 503 in their language saying what to do, with
Retry-After, within seconds, where they used to wait 6 to 12 s for a bare 500; the API answers in its usual
error body. Nothing is recorded for the request that failed."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

from litestar.testing import TestClient
from sqlalchemy import func, select

from tests.factories.tenders import published_tender
from web.app import create_app


def _dead_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def _without_s3(settings):  # type: ignore[no-untyped-def]
    return replace(
        settings, blob_store="s3", s3_endpoint=_dead_endpoint(), s3_access_key="t", s3_secret_key="t"
    )


def test_a_document_download_during_an_outage_is_a_503_page_that_says_what_to_do(db, make, blobs, settings):
    from audit.log import AuditEntry

    w = published_tender(db, make, blobs)
    db.commit()
    doc_id = w.doc.id
    downloads = (
        select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == "tender.document.downloaded")
    )
    entries = db.scalar(downloads)
    db.rollback()  # no transaction left open (SQLite's is a write lock) while the app serves
    with TestClient(app=create_app(_without_s3(settings))) as c:
        started = time.monotonic()
        r = c.get(f"/documents/{doc_id}")
        took = time.monotonic() - started
        assert r.status_code == 503 and took < 5, (r.status_code, took)
        assert r.headers["retry-after"] == "30"
        assert "文件存储暂时无法响应" in r.text, r.text[:1500]
        c.cookies.set("lang", "en")
        r = c.get(f"/documents/{doc_id}")
        assert r.status_code == 503 and "Try again in a minute" in r.text
    db.expire_all()
    assert db.scalar(downloads) == entries  # no download recorded


def test_the_monitors_are_alerted_to_an_outage_with_its_count(db, make, blobs, settings):
    """Issue 17: an outage that kept people from the store is recorded (one folded entry, never public) and
    shown to the monitors as an alert with the number of requests it turned away."""
    from audit.log import AuditEntry
    from supervision import alerts

    w = published_tender(db, make, blobs)
    db.commit()
    doc_id, monitor = w.doc.id, w.monitor
    db.rollback()
    with TestClient(app=create_app(_without_s3(settings))) as c:
        for _ in range(3):
            assert c.get(f"/documents/{doc_id}").status_code == 503
        assert c.get("/api/v1/audit/entries").status_code == 200
        public = c.get("/api/v1/audit/entries").json()["entries"]
    db.expire_all()
    tags = list(db.scalars(select(AuditEntry.tag).where(AuditEntry.tag == "request.unavailable")))
    assert len(tags) == 1  # folded: the first at once, the repeats counted
    found = [a for a in alerts.alerts(db, monitor) if a.kind == "service_outages"]
    assert len(found) == 1 and found[0].count == 3 and found[0].params["service"] == "blob_store"
    assert not any("request.unavailable" in str(e) for e in public)  # withheld from the public


def test_the_api_answers_503_with_its_error_body(db, make, blobs, settings):
    from tests.factories.bids import ensure_registered
    from tests.web.support import login

    w = published_tender(db, make, blobs)
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    db.commit()
    username, tender_id, lot_id = w.bidder_user.username, w.tender.id, w.lot1.id
    db.rollback()
    with TestClient(app=create_app(_without_s3(settings))) as c:
        token = login(c, username)
        r = c.post(
            f"/api/v1/tenders/{tender_id}/lots/{lot_id}/bids/sealed",
            content=b"x" * 100,
            headers={"x-csrftoken": token, "content-type": "application/octet-stream"},
        )
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "blob_store_unavailable"
        assert r.headers["retry-after"] == "30"


def test_a_database_that_is_not_answering_is_a_503_that_says_what_to_do(settings, db):
    """A PostgreSQL server that went away (a port where nothing listens): the page and the API answer 503 in
    the reader's language with Retry-After, within seconds."""
    dead = f"postgresql://postgres@{_dead_endpoint()}/etender"
    with TestClient(app=create_app(replace(settings, database_url=dead)), raise_server_exceptions=False) as c:
        started = time.monotonic()
        r = c.get("/")
        assert r.status_code == 503 and time.monotonic() - started < 5, (r.status_code, r.text[:500])
        assert "平台数据库暂时无法响应" in r.text and r.headers["retry-after"] == "30"
        r = c.get("/api/v1/notices")
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
