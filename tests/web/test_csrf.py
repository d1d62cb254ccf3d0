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


# ---------------------------------------------------------------- failed checks are recorded (E49), folded


def _csrf_refusals(db):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from audit.log import AuditEntry

    db.expire_all()
    found = list(
        db.scalars(
            select(AuditEntry).where(AuditEntry.tag == "request.csrf.refused").order_by(AuditEntry.index)
        )
    )
    db.rollback()
    return found


def test_failed_checks_are_recorded_once_with_their_count_and_alerted(app, make, db):

    from audit.refusals import FOLD_WINDOW, sweep
    from core import clock
    from supervision import alerts
    from tests.web.support import zh

    _people(make, db)
    monitor = make.actor(make.user(make.org("supervisor"), "monitor", username="watcher"))
    db.commit()
    with TestClient(app=app) as victim, TestClient(app=app) as attacker:
        login(victim, "alice")
        stolen = login(attacker, "mallory")
        victim.cookies.set("etender_csrf", stolen)
        for _ in range(12):
            assert victim.post("/logout", data={"_csrf_token": stolen}).status_code == 403
    [entry] = _csrf_refusals(db)
    # alice is a bidder: the entry is about her, what she was refused in its confidential part (E21)
    assert (entry.actor, entry.subject, entry.withheld) == (
        "alice",
        f"user:{entry.actor_user_id}",
        "refusals",
    )
    details = {k: v for k, v in entry.details.items() if k != "confidential_digest"}
    assert details == {"method": "POST", "route": "/logout", "reason": "csrf_failed", "status": 403}
    assert entry.address == "testclient" and "testclient" not in entry.entry_bytes.decode()
    [alert] = [a for a in alerts.alerts(db, monitor) if a.kind == "csrf_failures"]
    assert (alert.count, alert.params) == (12, {"by": "account", "who": "alice"})
    db.rollback()
    with TestClient(app=app) as c:
        login(c, "watcher")
        page = c.get("/monitor/audit").text
    text = (
        "%(n)s requests of the account %(who)s failed the form check: sent from another site, or from a "
        "form kept open too long."
    )
    assert zh(text, n=12, who="alice") in page
    clock.shift(FOLD_WINDOW)
    assert sweep(db) == 1
    db.commit()
    first, summary = _csrf_refusals(db)
    assert (summary.details["repeated"], summary.details["folded_into"]) == (11, first.index)


def test_an_anonymous_failed_check_is_recorded_by_address(app, make, db):
    from supervision import alerts

    monitor = make.actor(make.user(make.org("supervisor"), "monitor", username="watcher"))
    db.commit()
    with TestClient(app=app) as c:
        for _ in range(3):  # a login form posted without its token
            assert c.post("/login", data={"username": "x", "password": "y"}).status_code == 403
    [entry] = _csrf_refusals(db)
    assert (entry.actor, entry.actor_user_id, entry.ip) == ("anonymous", None, "testclient")
    [alert] = [a for a in alerts.alerts(db, monitor) if a.kind == "csrf_failures"]
    assert (alert.count, alert.params) == (3, {"by": "address", "who": "testclient"})
    db.rollback()
