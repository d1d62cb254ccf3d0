"""Sessions (web/sessions.py): an unchanged session is not rewritten on every request; a changed one is
written at once; an unchanged one is written again (its expiry renewed) once RENEW_EVERY has passed."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.web.support import login
from web import sessions
from web.app import create_app


@pytest.fixture
def counted(settings, db, monkeypatch):
    """The app's test client, and the list of session ids written to the session store, in order."""
    app = create_app(settings)
    store = app.stores.get("sessions")
    writes: list[str] = []
    original = type(store).set

    async def counting_set(self, key, value, expires_in=None):  # type: ignore[no-untyped-def]
        if self is store:
            writes.append(key)
        return await original(self, key, value, expires_in=expires_in)

    monkeypatch.setattr(type(store), "set", counting_set)
    with TestClient(app=app) as client:
        yield client, writes


def test_unchanged_session_is_not_rewritten_and_a_changed_one_is(counted, make, db, monkeypatch):
    client, writes = counted
    org = make.org("bidder")
    make.user(org, "bidder", "monitor", username="carol")
    db.commit()
    csrf = login(client, "carol")
    assert len(writes) == 1  # the login wrote the new session
    sid = client.cookies.get("etender_session")
    for _ in range(3):
        r = client.get("/account")
        assert r.status_code == 200
        assert "etender_session" not in r.cookies  # no cookie resent either
    assert writes == [sid]
    # a changed session is written at once, under the same id
    r = client.post("/role", data={"role": "monitor", "_csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert writes == [sid, sid]
    assert client.get("/account").status_code == 200
    assert writes == [sid, sid]
    # the same role again changes nothing: no write
    client.post("/role", data={"role": "monitor", "_csrf_token": csrf}, follow_redirects=False)
    assert writes == [sid, sid]
    # sliding expiry: once RENEW_EVERY has passed, the unchanged session is written again (store and cookie)
    now = sessions._now()
    monkeypatch.setattr(sessions, "_now", lambda: now + sessions.RENEW_EVERY + 1)
    r = client.get("/account")
    assert r.status_code == 200 and r.cookies.get("etender_session") == sid
    assert writes == [sid, sid, sid]
    r = client.get("/account")
    assert writes == [sid, sid, sid]


def _stored(client, store, sid):  # type: ignore[no-untyped-def]
    """The store's value, read on the test client's own portal thread: anyio.run here would refuse to run
    when an earlier test in the worker left an event loop running in this thread."""
    with client.portal() as portal:
        return portal.call(store.get, sid)


def test_handlers_never_see_the_renewal_stamp_and_logout_still_ends_the_session(counted, make, db):
    client, writes = counted
    make.user(make.org("bidder"), "bidder", username="dave")
    db.commit()
    csrf = login(client, "dave")
    store = client.app.stores.get("sessions")
    sid = client.cookies.get("etender_session")
    assert sessions.RENEWED.encode() in _stored(client, store, sid)
    assert client.get("/account").status_code == 200
    r = client.post("/logout", data={"_csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert _stored(client, store, sid) is None
    assert client.get("/account", follow_redirects=False).status_code in (302, 303)
