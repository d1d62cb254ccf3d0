"""The scoring pages and the autosave endpoint: cells saved as typed (refused ones named, in Chinese, the rest
kept), the page reloading what was saved, nobody seeing another member's scores before all have submitted,
the submission's confirmation, the summary with the member's flags, and the chair closing both steps."""

from __future__ import annotations

import pytest

from evaluation.scoring import sheets
from tests.factories.room import ROOMS, room_world
from tests.factories.scoring import fill, scoring_world
from tests.web.support import login, zh


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(settings, evaluation_rooms=ROOMS)


@pytest.fixture
def site(db, make, blobs, tmp_path, settings, client):  # type: ignore[no-untyped-def]
    from storage import open_store

    w = scoring_world(room_world(db, make, open_store(settings), tmp_path))
    w.usernames = [actor.username for _, actor in w.members]
    db.commit()
    w.client = client
    return w


def _api(w) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/expert/tenders/{w.tender.id}/scoring/sheet"


def _page(w) -> str:  # type: ignore[no-untyped-def]
    return f"/expert/tenders/{w.tender.id}/room/scoring"


def test_autosave_keeps_the_valid_cells_and_names_the_refused_ones(site):
    w = site
    b1, b2, _ = w.bids
    token = login(w.client, w.usernames[1])
    body = {
        "entries": [
            {"bid": b1, "factor": 0, "value": "33.5"},
            {"bid": b1, "factor": 1, "value": "abc"},
            {"bid": b2, "factor": 1, "value": 21},
        ]
    }
    r = w.client.post(_api(w), json=body, headers={"x-csrftoken": token})
    assert r.status_code == 422
    doc = r.json()
    assert doc["saved"] == [sheets.field_name(b1, 0)]
    fields = {p["field"]: p["message"] for p in doc["error"]["problems"]}
    assert fields[sheets.field_name(b1, 1)] == zh(
        "Enter the score for %(factor)s as a number, for example 7.5.", factor="After-sales service"
    )
    assert fields[sheets.field_name(b2, 1)] == zh(
        "A score for %(factor)s is from 0 to %(points)s points.", factor="After-sales service", points="20.00"
    )
    # the same save again: idempotent; the page (a closed browser opened again) shows what was saved
    again = w.client.post(_api(w), json={"entries": body["entries"][:1]}, headers={"x-csrftoken": token})
    assert again.status_code == 200 and again.json()["saved"] == [sheets.field_name(b1, 0)]
    page = w.client.get(_page(w)).text
    assert f'name="{sheets.field_name(b1, 0)}"' in page and 'value="33.50"' in page
    assert "/static/js/scoring-autosave.js" in page
    assert f'href="{_page(w)}"' in w.client.get(f"/expert/tenders/{w.tender.id}/room").text  # from the room
    assert w.client.get(_api(w)).json()["values"] == {sheets.field_name(b1, 0): "33.50"}
    # a body that is not a list of cells
    bad = w.client.post(_api(w), json={"entries": [{"bid": "x"}]}, headers={"x-csrftoken": token})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "scoring_body"
    # the form without script: a refused cell keeps what was typed
    form = {sheets.field_name(b2, 0): "50", "_csrf_token": token}
    r = w.client.post(_page(w) + "/sheet", data=form, follow_redirects=False)
    assert r.status_code == 422 and 'value="50"' in r.text


def test_nobody_sees_another_members_scores_before_all_have_submitted(site, db):
    w = site
    b1 = w.bids[0]
    _, first = w.members[0]
    fill(w, first, {b: ["37.25", "18.5"] for b in w.bids})
    sheets.submit(db, first, w.tender.id)
    db.commit()
    login(w.client, w.usernames[1])
    page = w.client.get(_page(w)).text
    assert "37.25" not in page and "18.50" not in page
    assert w.client.get(_api(w)).json()["values"] == {}
    assert (
        zh("You see only your own sheet. Nobody sees any scores until every present member has submitted.")
        in page
    )
    assert 'id="members-finished">1 / 5' in page
    progress = f"/api/v1/notices/{w.tender.id}/evaluation/scoring"
    for username in (w.agency_user.username, w.monitor_user.username):
        login(w.client, username)
        assert w.client.get(progress).json() == {"tender": w.tender.reference, "submitted": 1, "members": 5}
        assert w.client.get(_page(w)).status_code == 403
        assert w.client.get(_api(w)).status_code == 403
        assert "37.25" not in w.client.get(f"/agency/tenders/{w.tender.id}/room").text
    assert b1


def test_submit_summary_flags_and_the_chair_closes_both_steps(site, db):
    w = site
    b1, b2, b3 = w.bids
    usual = {b1: [30, 15], b2: [25, 12], b3: [20, 10]}
    for _, actor in w.members[:4]:
        fill(w, actor, usual)
        sheets.submit(db, actor, w.tender.id)
    fill(w, w.members[4][1], {b1: [5, 15], b2: [25, 12], b3: [20, 10]})  # abnormally low on b1
    db.commit()
    token = login(w.client, w.usernames[4])
    r = w.client.post(_page(w) + "/submit", data={"_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 422 and zh("Tick the box to confirm that your scores are final.") in r.text
    r = w.client.post(
        _page(w) + "/submit", data={"confirm": "1", "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    page = w.client.get(_page(w)).text
    assert (
        zh("Summary of the scores") in page
        and zh("Correct my score") in page
        and zh("Confirm my score") in page
    )
    assert "high" not in page and 'low"' not in page.replace('"low"', "")
    form = {"bid": str(b1), "factor": "0", "reason": "", "_csrf_token": token}
    r = w.client.post(_page(w) + "/flags/confirm", data=form, follow_redirects=False)
    assert r.status_code == 422 and zh("Give the reason.") in r.text
    form["reason"] = "The proposal misses the delivery plan"
    r = w.client.post(_page(w) + "/flags/confirm", data=form, follow_redirects=False)
    assert r.status_code == 303
    chair = login(w.client, w.usernames[0])
    r = w.client.post(_page(w) + "/close", data={"_csrf_token": chair}, follow_redirects=False)
    assert r.status_code == 303
    r = w.client.post(
        f"/expert/tenders/{w.tender.id}/room/ranking/close",
        data={"candidates": "5", "_csrf_token": chair},
        follow_redirects=False,
    )
    assert r.status_code == 422 and zh("The committee recommends 1 to 3 candidates.") in r.text
    r = w.client.post(
        f"/expert/tenders/{w.tender.id}/room/ranking/close",
        data={"candidates": "2", "_csrf_token": chair},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = w.client.get(_page(w)).text
    assert zh("Candidate no. %(n)s", n=2) in page and zh("Candidate no. %(n)s", n=3) not in page
    assert "Bidder One Ltd" in page


def _tender_get_routes(app, tender_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Every GET route of the app whose only path parameter is the tender (or that has none), but the live
    streams (server-sent events never end; they carry audit entries, which hold no score: test_sheets)."""
    from litestar.routes import HTTPRoute

    out = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/static", "/schema")):
            continue
        if "GET" not in {m for h in route.route_handlers for m in h.http_methods}:
            continue
        path = route.path.replace("{tender_id:int}", str(tender_id))
        if "{" not in path and not path.endswith("/stream"):
            out.append(path)
    return sorted(out)


def test_no_get_route_shows_a_members_scores_to_anyone_else_before_all_have_submitted(site, db):
    w = site
    marker, draft = "13.37", "12.34"
    fill(w, w.members[0][1], {b: [marker, "11.11"] for b in w.bids})
    sheets.submit(db, w.members[0][1], w.tender.id)
    fill(w, w.members[1][1], {w.bids[0]: [draft]})  # a draft, not submitted
    db.commit()
    paths = _tender_get_routes(w.client.app, w.tender.id)
    assert _page(w) in paths and f"/api/v1/notices/{w.tender.id}/evaluation/scoring" in paths
    # the check finds what it looks for: each member sees their own
    login(w.client, w.usernames[0])
    assert marker in w.client.get(_page(w)).text
    login(w.client, w.usernames[1])
    assert draft in w.client.get(_page(w)).text
    readers = [
        w.usernames[2],  # another member
        w.agency_user.username,
        w.purchaser_user.username,
        w.monitor_user.username,
        w.admin_user.username,
        w.bidder_user.username,
        None,  # the public
    ]
    leaks = []
    for username in readers:
        w.client.cookies.clear()
        if username is not None:
            login(w.client, username)
        for path in paths:
            text = w.client.get(path, follow_redirects=False).text
            if marker in text or draft in text or "11.11" in text:
                leaks.append(f"{username or 'anonymous'} GET {path}")
    assert not leaks, "\n".join(leaks)
