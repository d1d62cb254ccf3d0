"""CSRF tokens are bound to the session (web.security.SessionCSRFMiddleware)."""

from litestar.testing import TestClient

from tests.web.support import login


def _people(make, db) -> None:
    org = make.org("bidder")
    make.user(org, "bidder", username="alice")
    make.user(make.org("bidder"), "bidder", username="mallory")
    db.commit()


def test_a_token_from_another_session_is_refused(app, make, db):
    _people(make, db)
    with TestClient(app=app) as victim, TestClient(app=app) as attacker:
        login(victim, "alice")
        stolen = login(attacker, "mallory")  # the attacker's own, valid, signed token
        # planted as the victim's cookie (a sibling subdomain can) and echoed in the form: refused
        victim.cookies.set("etender_csrf", stolen)
        r = victim.post("/logout", data={"_csrf_token": stolen}, follow_redirects=False)
        assert r.status_code == 403
        r = victim.post("/logout", headers={"x-csrftoken": stolen}, follow_redirects=False)
        assert r.status_code == 403
        assert victim.get("/account", follow_redirects=False).status_code == 200  # still logged in


def test_the_session_own_token_is_accepted(app, make, db):
    _people(make, db)
    with TestClient(app=app) as c:
        token = login(c, "alice")
        assert c.post("/logout", data={"_csrf_token": token}, follow_redirects=False).status_code == 303


def test_the_login_token_stops_working_once_logged_in_and_a_new_one_is_given(app, make, db):
    _people(make, db)
    with TestClient(app=app) as c:
        c.get("/login")
        before = c.cookies.get("etender_csrf")
        after = login(c, "alice")
        assert after and after != before
        c.cookies.set("etender_csrf", before)
        assert c.post("/logout", data={"_csrf_token": before}, follow_redirects=False).status_code == 403


def test_logout_rebinds_the_token_to_no_session(app, make, db):
    _people(make, db)
    with TestClient(app=app) as c:
        token = login(c, "alice")
        r = c.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
        anonymous = r.cookies.get("etender_csrf")
        assert anonymous and anonymous != token
        # the login form after logout works with the new token, not the old one
        r = c.post("/login", data={"username": "alice", "password": "x", "_csrf_token": token})
        assert r.status_code == 403


def test_a_page_keeps_the_same_token_while_the_session_lasts(app, make, db):
    _people(make, db)
    with TestClient(app=app) as c:
        token = login(c, "alice")
        r = c.get("/account")
        assert f'value="{token}"' in r.text
        assert "etender_csrf" not in r.headers.get("set-cookie", "")


def test_a_token_with_other_characters_is_refused_not_an_error(app, make, db):
    _people(make, db)
    with TestClient(app=app) as c:
        login(c, "alice")
        odd = "令" * 128
        r = c.post("/logout", data={"_csrf_token": odd}, follow_redirects=False)
        assert r.status_code == 403
