"""The micro-cache of the anonymous public notice list."""

from dataclasses import replace

import pytest
from litestar.testing import TestClient
from sqlalchemy import update

from tender.models import Tender
from tests.factories.accounts import TEST_PASSWORD
from tests.factories.tenders import published_tender
from web.app import create_app


@pytest.fixture
def world(db, make, blobs):
    w = published_tender(db, make, blobs)
    db.commit()
    return w


def _client(settings, ttl):
    return TestClient(app=create_app(replace(settings, public_cache_seconds=ttl)))


def _rename(db, tender_id, title):
    db.execute(update(Tender).where(Tender.id == tender_id).values(title=title))
    db.commit()


def test_anonymous_list_is_served_from_the_cache_within_its_ttl(settings, db, world):
    with _client(settings, 60) as client:
        first = client.get("/")
        assert world.tender.title in first.text
        _rename(db, world.tender.id, "Renamed behind the cache")
        assert client.get("/").text == first.text  # same rendering within the ttl
        assert "Renamed behind the cache" in client.get("/?page=1").text  # another query is another entry
        api = client.get("/api/v1/notices").json()
        assert api["items"][0]["title"] == "Renamed behind the cache"


def test_without_cache_every_request_sees_the_change(settings, db, world):
    with _client(settings, 0) as client:
        client.get("/")
        _rename(db, world.tender.id, "Renamed")
        assert "Renamed" in client.get("/").text


def test_logged_in_people_are_never_served_from_the_cache(settings, db, make, world):
    make.user(make.org("bidder"), "bidder", username="cachebidder")
    db.commit()
    with _client(settings, 60) as client:
        client.get("/")  # fills the anonymous entry
        client.get("/login")
        token = client.cookies.get("etender_csrf")
        client.post(
            "/login", data={"username": "cachebidder", "password": TEST_PASSWORD, "_csrf_token": token}
        )
        page = client.get("/")
        assert "cachebidder" in page.text  # the header names the person: not the anonymous rendering


def test_an_expired_entry_is_refreshed_by_one_request_while_others_get_the_old_one(monkeypatch):
    from web import cache as cache_module

    clock = [100.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    c = cache_module.PublicCache(ttl=2)
    key = ("page", "zh", "/", "[]")
    assert c.get(key) is None
    c.put(key, b"v1")
    assert c.get(key) == b"v1"
    clock[0] += 3  # expired
    assert c.get(key) is None  # this request renders
    assert c.get(key) == b"v1"  # the others meanwhile get the old rendering
    c.put(key, b"v2")
    assert c.get(key) == b"v2"
    clock[0] += 3
    assert c.get(key) is None
    clock[0] += cache_module.REFRESH_TIMEOUT + 1  # the renderer failed and never put(): try again
    assert c.get(key) is None
