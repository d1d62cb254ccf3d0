"""GETs that record something (a download, an early attempt at the bids' headers) are not performed when
another site started them (web.security.same_site_for_recording): a page asks to confirm, nothing is
recorded."""

import re

import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import func, select

from audit.log import AuditEntry
from storage import open_store
from tender.models import Download
from tests.factories.accounts import cast
from tests.factories.bids import opening_world
from tests.factories.tenders import published_tender
from tests.web.support import login
from web.security import is_cross_site

OWN = "http://testserver.local"
HOST = "testserver.local"
FROM_ELSEWHERE = [
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
    {"referer": "https://evil.example/page"},
    {"origin": "https://evil.example"},
    {"origin": "null"},
]
OWN_ACCORD = [
    {},
    {"sec-fetch-site": "same-origin"},
    {"sec-fetch-site": "none"},
    {"referer": OWN + "/tenders/1"},
    {"sec-fetch-site": "same-origin", "referer": "https://evil.example/"},  # Sec-Fetch-Site decides
    {"origin": "https://testserver.local"},
]  # the page was https, the proxy spoke http to us


@pytest.mark.parametrize("headers", FROM_ELSEWHERE)
def test_requests_another_site_started(headers):
    assert is_cross_site(headers, HOST)


@pytest.mark.parametrize("headers", OWN_ACCORD)
def test_requests_the_person_started(headers):
    assert not is_cross_site(headers, HOST)


def _downloads(db, doc_id):
    db.expire_all()
    n = db.scalar(select(func.count()).select_from(Download).where(Download.document_id == doc_id))
    db.rollback()
    return n


@pytest.mark.parametrize("headers", FROM_ELSEWHERE)
def test_a_download_from_another_site_asks_to_confirm_and_records_nothing(
    client, db, make, settings, headers
):
    w = published_tender(db, make, open_store(settings))
    db.commit()
    doc_id, bidder = w.doc.id, w.bidder_user.username
    login(client, bidder)
    r = client.get(f"/documents/{doc_id}", headers=headers)
    assert r.status_code == 403 and r.headers["cache-control"] == "no-store"
    assert "您是从其他网站来到此处的" in r.text and "下载了该招标文件" in r.text
    assert f'href="/documents/{doc_id}"' in r.text  # the way on, from this site
    assert _downloads(db, doc_id) == 0
    # the link on the page: a same-origin navigation, recorded
    r = client.get(
        f"/documents/{doc_id}",
        headers={"sec-fetch-site": "same-origin", "referer": f"{OWN}/documents/{doc_id}"},
    )
    assert r.status_code == 200
    assert _downloads(db, doc_id) == 1


def test_opening_headers_from_another_site_record_no_early_attempt(client, db, make):
    w = cast(db, make)
    blobs = client.app.state.blobs
    made = opening_world(
        db,
        blobs,
        w,
        stage="early",
        title="Opening early",
        holders=w.holders,
        agency_uid=w.agency_user.id,
        purchaser_org=w.purchaser_org,
        bidders=[(w.bidder_org, w.bidder_user), (w.other_bidder_org, w.other_bidder_user)],
    )
    db.commit()
    tender_id = made.tender.id
    login(client, w.agency_user.username)  # one of the key holders (w.holders)

    def refused():
        db.expire_all()
        n = db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == "access.refused"))
        db.rollback()
        return n

    before = refused()
    r = client.get(f"/tenders/{tender_id}/opening/headers", headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403 and "请求读取密封投标文件的文件头" in r.text
    assert refused() == before  # no early attempt is put on the key holder's record
    r = client.get(f"/tenders/{tender_id}/opening/headers", headers={"sec-fetch-site": "same-origin"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "opening_not_yet"
    assert refused() == before + 1  # asked from the opening page itself: the early attempt is audited


def test_every_get_that_records_is_marked(app):
    """The GET routes that write (opt writes) either record something about the person and are marked
    (opt records) or are listed here with the reason they need not be."""
    unattributed = {
        "/tenders/{tender_id:int}/key-bundle.json": "signs the bundle on the first fetch, whoever asks",
        "/api/v1/audit/checkpoint": "signs a checkpoint of the log: nobody's act",
        "/api/v1/notices/{tender_id:int}/evaluation/report.json": "signs a checkpoint covering the report's "
        "entries: nobody's act",
        "/notifications": "marks the person's own notifications read; they are shown on the page it opens",
    }
    writing = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for h in route.route_handlers:
                if "GET" in h.http_methods and h.opt.get("writes"):
                    writing[route.path] = h.opt.get("records")
    assert {p for p, records in writing.items() if not records} == set(unattributed)
    assert {p for p, records in writing.items() if records} >= {
        "/documents/{document_id:int}",
        "/tenders/{tender_id:int}/opening/headers",
    }
    assert all(re.match(r"^[a-z]", r) for r in writing.values() if r)
