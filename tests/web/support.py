"""Helpers shared by the web tests."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from litestar import Litestar
from litestar.testing import TestClient

from tests.factories.accounts import TEST_PASSWORD
from web.i18n import translate
from web.rule_refs import translate_linked


def login(client, username: str) -> str:
    """Log in as `username` (password TEST_PASSWORD) on a fresh cookie jar; returns the CSRF token to post
    forms with."""
    client.cookies.clear()
    client.get("/login")
    token = client.cookies.get("etender_csrf")
    r = client.post(
        "/login",
        data={"username": username, "password": TEST_PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client.cookies.get("etender_csrf")


def zh(msgid: str, **params) -> str:
    """What a Chinese page shows for a message: its HTML, rule codes as links to /rules (web.rule_refs)."""
    return str(translate_linked("zh", msgid, params or None))


def zh_text(msgid: str, **params) -> str:
    """A message in Chinese as plain text, its codes kept: the JSON API's message."""
    return translate("zh", msgid, params or None)


@contextmanager
def clients(app: Litestar, *usernames: str | None) -> Iterator[dict[str | None, TestClient]]:
    """One client per person (None: anonymous), each logged in on its own cookie jar."""
    with ExitStack() as stack:
        out = {}
        for name in usernames:
            c = stack.enter_context(TestClient(app=app))
            if name:
                login(c, name)
            out[name] = c
        yield out
