"""Numbers beyond the database's range and NUL characters give a 400 or 404 with the usual error body, never a
500 (web.bounds, web.app's data error handler): checked over every route of the app, generically."""

import re

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from tests.factories.tenders import published_tender
from tests.web.support import login
from web.bounds import int_query_names

TOO_BIG = str(2**63)
ROLES = [
    ("admin", "admin"),
    ("monitor", "monitor"),
    ("agency", "agency"),
    ("bidder", "bidder"),
    ("expert", "expert"),
    ("keyholder", "agency"),
]
PLACEHOLDER = re.compile(r"\{(\w+):(\w+)\}")


def _routes(app):
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                    yield route.path, method, handler


def _concrete(path: str, ints: str) -> str:
    return PLACEHOLDER.sub(lambda m: ints if m.group(2) == "int" else "x", path)


def _usual_body(path: str, r) -> None:
    if path.startswith("/api/"):
        body = r.json()["error"]
        assert body["code"] and body["message"], r.text
    else:
        assert "<html" in r.text.lower() and r.headers["content-type"].startswith("text/html"), r.text[:200]


@pytest.fixture
def people(db, make):
    cast = {}
    for name, kind in ROLES:
        cast[name] = make.user(
            make.org(kind) if name not in ("admin", "monitor", "expert") else None,
            name if name != "keyholder" else "agency",
            username=f"b-{name}",
        )
    db.commit()
    return cast


@pytest.mark.parametrize("number", [TOO_BIG, str(2**64 + 5), str(2**31), "-1", "9" * 5000])
def test_an_int_path_parameter_beyond_the_range_is_404_on_every_route(app, people, number):
    routes = [(p, m) for p, m, _ in _routes(app) if ":int}" in p]
    assert len(routes) > 40  # the issue counted 41 operations that failed
    pages = apis = 0
    with TestClient(app=app) as c:
        token = login(c, "b-admin")
        for path, method in routes:
            url = _concrete(path, number)
            r = c.request(method, url, headers={"x-csrftoken": token}, follow_redirects=False)
            assert r.status_code == 404, (method, url, r.status_code, r.text[:300])
            _usual_body(url, r)
            apis += url.startswith("/api/")
            pages += not url.startswith("/api/")
    assert pages and apis


@pytest.mark.parametrize("number", [TOO_BIG, "-" + TOO_BIG + "1", "9" * 5000])
def test_an_int_query_parameter_beyond_the_range_is_400(app, people, number):
    found = 0
    with TestClient(app=app) as c:
        login(c, "b-admin")
        for path, method, handler in _routes(app):
            if method != "GET":
                continue
            for name in int_query_names(handler):
                url = _concrete(path, "1")
                r = c.get(url, params={name: number}, follow_redirects=False)
                assert r.status_code == 400, (url, name, r.status_code, r.text[:300])
                _usual_body(url, r)
                if url.startswith("/api/"):
                    assert r.json()["error"]["code"] == "parameter_out_of_range"
                    assert r.json()["error"]["problems"][0]["field"] == name
                found += 1
    assert found >= 10


@pytest.mark.parametrize("value", [TOO_BIG, "-1", "-" + TOO_BIG + "0", "a\x00b"])
def test_no_query_parameter_of_any_get_route_gives_a_500_to_any_role(app, db, make, people, settings, value):
    from storage import open_store

    w = published_tender(db, make, open_store(settings))
    db.commit()
    tried = 0
    for username in [f"b-{n}" for n, _ in ROLES] + [None]:
        with TestClient(app=app, raise_server_exceptions=False) as c:
            if username:
                login(c, username)
            for path, method, handler in _routes(app):
                if method != "GET" or path.endswith("/stream"):
                    continue  # the event streams are long-lived; their int parameters are in int_query_names
                names = {k.split(":")[0] for k in handler.parsed_fn_signature.parameters} - {
                    "request",
                    "db",
                    "actor",
                    "state",
                    "scope",
                    "data",
                    *(m.group(1) for m in PLACEHOLDER.finditer(path)),
                }
                names |= int_query_names(handler)
                for name in names:
                    url = _concrete(path, str(w.tender.id))
                    r = c.get(url, params={name: value}, follow_redirects=False)
                    assert r.status_code < 500, (username, url, name, r.status_code, r.text[:300])
                    tried += 1
    assert tried > 50


@pytest.mark.parametrize(
    "url",
    [
        "/static/site.css%00",
        "/static/%00",
        "/tenders/1%00",
        "/api/v1/notices/1%00",
        "/api/v1/notices%00",
        "/%00",
    ],
)
def test_a_nul_in_the_path_is_404_with_the_usual_body(client, url):
    r = client.get(url)
    assert r.status_code == 404, r.text[:300]
    _usual_body(url, r)


def test_a_nul_in_the_query_is_400_with_the_usual_body(client):
    r = client.get("/api/v1/notices", params={"q": "a\x00b"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "parameter_invalid_character"
    r = client.get("/", params={"q": "a\x00b"})
    assert r.status_code == 400 and "参数 q 的值含有不允许的字符" in r.text


def test_numbers_within_the_range_still_work(client):
    assert client.get("/api/v1/notices", params={"page": "1"}).status_code == 200
    assert client.get(f"/api/v1/notices/{2**31 - 1}").status_code == 404
    assert client.get("/static/site.css").status_code == 200


def test_options_with_a_query_answers_on_every_route(app, people):
    """Litestar's generated OPTIONS handlers take no weak reference (schemathesis found a 500 on each of them
    for a logged-in session with any query string)."""
    paths = sorted({r.path for r in app.routes if isinstance(r, HTTPRoute)})
    with TestClient(app=app, raise_server_exceptions=False) as c:
        login(c, "b-bidder")
        for path in paths:
            url = _concrete(path, "1")
            r = c.options(url, params={"page": "1", "tender": str(2**63)}, follow_redirects=False)
            assert r.status_code < 500, (url, r.status_code, r.text[:300])
    assert len(paths) > 50
