"""A page that answers a POST names the page the form lives on, and its script puts that page in the history
in place of the POST (web.templating._page_after_post, web/static/js/after-post.js): a reload then reads the
page and never posts the action again (issue 16)."""

import re

from litestar.testing import TestClient

META = re.compile(r'<meta name="etender-page" content="([^"]*)">')


def _refused_login(c: TestClient, **headers: str):  # type: ignore[no-untyped-def]
    c.get("/login?next=/agency")
    token = c.cookies.get("etender_csrf")
    return c.post(
        "/login",
        data={"username": "nobody", "password": "not the password", "_csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def test_a_refused_form_names_the_page_it_was_posted_from(app):
    with TestClient(app=app) as c:
        r = _refused_login(c, referer="http://testserver.local/login?next=/agency")
        assert r.status_code in (401, 422), r.status_code
        assert META.findall(r.text) == ["/login?next=/agency"]
        assert '<script src="/static/js/after-post.js"></script>' in r.text
        # the language switch goes to that page too, not to the POST's URL (which has no page to read)
        assert "/lang/en?next=/login%3Fnext%3D/agency" in r.text


def test_a_referer_of_another_site_is_not_followed(app):
    with TestClient(app=app) as c:
        r = _refused_login(c, referer="https://elsewhere.example/login?next=/agency")
        assert META.findall(r.text) == ["/login"]
        r = _refused_login(c)  # no Referer at all (a program): the posted path
        assert META.findall(r.text) == ["/login"]


def test_a_page_read_with_get_has_no_such_step(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert not META.findall(r.text) and "after-post.js" not in r.text


def test_the_script_replaces_the_history_entry_with_the_named_page():
    from pathlib import Path

    import web

    script = (Path(web.__file__).parent / "static/js/after-post.js").read_text(encoding="utf-8")
    assert 'meta[name="etender-page"]' in script and 'history.replaceState(null, ""' in script
