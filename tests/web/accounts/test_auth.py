"""Login and the account page: throttling without locks, password strength, other sessions ended on a
change."""

from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from accounts import services as accounts
from accounts.events import AccountTag
from audit.log import AuditEntry
from core import clock
from core.errors import ValidationFailed
from tests.factories.accounts import TEST_PASSWORD
from tests.web.support import login, zh

NEW_PASSWORD = "quartz lantern umbrella"


@pytest.fixture
def alice(make, db):
    user = make.user(make.org("bidder"), "bidder", username="alice")
    db.commit()
    return user


def post_login(client, password: str):  # type: ignore[no-untyped-def]
    client.get("/login")
    token = client.cookies.get("etender_csrf")
    return client.post(
        "/login",
        data={"username": "alice", "password": password, "_csrf_token": token},
        follow_redirects=False,
    )


def change(client, token: str, current: str, new: str):  # type: ignore[no-untyped-def]
    return client.post("/account/password", data={"current": current, "new": new, "_csrf_token": token})


def later(seconds: float) -> None:
    clock.freeze(clock.now() + timedelta(seconds=seconds))


def test_a_strangers_failures_from_another_address_do_not_stop_the_owner(client, alice, db):
    clock.freeze(clock.now())
    for _ in range(10):  # a competitor, from its own address, as fast as it is let
        wait = accounts.throttle(db, "alice", "203.0.113.66", accounts.LoginPolicy().window).wait(
            accounts.LoginPolicy(), clock.now()
        )
        later(max(wait.total_seconds(), 0))
        with pytest.raises(ValidationFailed):
            accounts.authenticate(db, "alice", "a wrong guess", "203.0.113.66")
        db.commit()
    assert post_login(client, TEST_PASSWORD).status_code == 303


def test_repeated_failures_from_one_address_get_growing_delays_answered_at_once(client, alice, db):
    clock.freeze(clock.now())
    for _ in range(5):
        assert post_login(client, "wrong").status_code == 422
    r = post_login(client, TEST_PASSWORD)
    assert r.status_code == 429
    assert (
        zh("Too many failed attempts from your address. Wait %(seconds)s seconds and try again.", seconds=1)
        in r.text
    )
    later(1)
    assert post_login(client, "wrong").status_code == 422
    r = post_login(client, TEST_PASSWORD)
    assert r.status_code == 429
    assert (
        zh("Too many failed attempts from your address. Wait %(seconds)s seconds and try again.", seconds=2)
        in r.text
    )
    later(2)
    assert post_login(client, TEST_PASSWORD).status_code == 303
    throttled = db.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == AccountTag.auth_login_throttled)
    )
    assert throttled == 2  # kept although refused (E49)


def test_a_guessable_new_password_is_refused_saying_why(client, alice):
    token = login(client, "alice")
    r = change(client, token, TEST_PASSWORD, "aaaaaaaaaa")
    assert r.status_code == 422
    assert zh("This password is too easy to guess; choose a longer or less usual one.") in r.text
    assert zh('Repeats like "aaa" are easy to guess.') in r.text
    assert "像“aaa”这样的重复字符很容易被猜到" in r.text


def test_the_current_password_is_refused_as_the_new_one(client, alice):
    token = login(client, "alice")
    r = change(client, token, TEST_PASSWORD, TEST_PASSWORD)
    assert r.status_code == 422
    assert zh("The new password must differ from the current one.") in r.text


def test_a_change_logs_out_the_other_sessions_and_keeps_this_one(app, alice):
    with TestClient(app=app) as here, TestClient(app=app) as elsewhere:
        token = login(here, "alice")
        login(elsewhere, "alice")
        assert elsewhere.get("/account", follow_redirects=False).status_code == 200
        r = change(here, token, TEST_PASSWORD, NEW_PASSWORD)
        assert r.status_code == 200
        assert zh("Your password was changed. Your other sessions were logged out.") in r.text
        assert here.get("/account", follow_redirects=False).status_code == 200
        r = elsewhere.get("/account", follow_redirects=False)
        assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")
        assert post_login(elsewhere, NEW_PASSWORD).status_code == 303


def test_the_current_password_check_is_throttled_and_audited(client, alice, db):
    clock.freeze(clock.now())
    token = login(client, "alice")
    for _ in range(5):
        assert change(client, token, "a wrong guess", NEW_PASSWORD).status_code == 422
    r = change(client, token, TEST_PASSWORD, NEW_PASSWORD)
    assert r.status_code == 429
    assert (
        zh("Too many failed attempts from your address. Wait %(seconds)s seconds and try again.", seconds=1)
        in r.text
    )
    reasons = db.scalars(
        select(AuditEntry.details)
        .where(AuditEntry.tag == AccountTag.user_password_change_refused)
        .order_by(AuditEntry.index)
    ).all()
    assert [d["reason"] for d in reasons] == ["current_wrong"] * 5 + ["throttled"]
    db.rollback()  # ends the test's read, which on SQLite would hold the app's write off
    later(1)
    assert change(client, token, TEST_PASSWORD, NEW_PASSWORD).status_code == 200
