"""Cache-Control: no-store on a logged-in person's responses and on receipts; anonymous public pages
unchanged."""

from litestar.testing import TestClient

from core.signing import signing_key
from storage import open_store
from tests.factories.bids import submit_bid
from tests.factories.tenders import published_tender
from tests.web.support import login


def _world(db, make, settings):
    blobs = open_store(settings)
    w = published_tender(db, make, blobs)
    bid = submit_bid(db, w.bidder, blobs, w.tender, w.lot1, signing_key(settings.data_dir, settings.origin))
    db.commit()
    return {
        "tender": w.tender.id,
        "bid": bid.id,
        "bidder": w.bidder_user.username,
        "agency": w.agency_user.username,
    }


def test_a_logged_in_person_responses_are_not_stored(app, db, make, settings):
    ids = _world(db, make, settings)
    with TestClient(app=app) as c:
        login(c, ids["bidder"])
        for url in (
            "/account",
            "/bidder",
            f"/bidder/tenders/{ids['tender']}",
            f"/bidder/bids/{ids['bid']}/receipt",
            f"/api/v1/bids/{ids['bid']}/receipt",
            f"/api/v1/bids/{ids['bid']}/parts",
            "/",
            f"/tenders/{ids['tender']}",
            "/no-such-page",
            "/api/v1/notices",
        ):
            r = c.get(url)
            assert r.status_code in (200, 404), (url, r.status_code)
            assert r.headers.get("cache-control") == "no-store", url
        r = c.get("/lang/en?next=/", follow_redirects=False)  # redirects too
        assert r.headers.get("cache-control") == "no-store"


def test_anonymous_public_pages_keep_their_caching(client, db, make, settings):
    ids = _world(db, make, settings)
    for url in (
        "/",
        f"/tenders/{ids['tender']}",
        "/api/v1/notices",
        f"/api/v1/notices/{ids['tender']}",
        "/static/site.css",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "no-store" not in r.headers.get("cache-control", ""), url


def test_a_receipt_is_never_stored_even_without_a_session(client, db, make, settings):
    ids = _world(db, make, settings)
    r = client.get(
        f"/api/v1/bids/{ids['bid']}/receipt"
    )  # refused: not logged in; the refusal is not stored either
    assert r.status_code in (401, 403, 404) and r.headers.get("cache-control") == "no-store"
