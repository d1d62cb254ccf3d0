"""Helpers shared by the web tests."""

from tests.factories.accounts import TEST_PASSWORD
from web.i18n import translate


def login(client, username: str) -> str:
    """Log in as `username` (password TEST_PASSWORD) on a fresh cookie jar; returns the CSRF token to post forms with."""
    client.cookies.clear()
    client.get("/login")
    token = client.cookies.get("etender_csrf")
    r = client.post("/login", data={"username": username, "password": TEST_PASSWORD, "_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client.cookies.get("etender_csrf")


def zh(msgid: str, **params) -> str:
    """What the Chinese interface shows for a message."""
    return translate("zh", msgid, params or None)
