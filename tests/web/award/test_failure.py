"""The award's other paths on its pages: the purchaser ends the award on a ground and finds no candidate can
be awarded (each after a confirmation; a missing note refused, the choice kept), the agency re-tenders the
failed tender in one action and the two tenders' pages link each other; the monitors' alerts name an overdue
contract and refunds, in both languages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from award.decision import rules, services
from tests.factories.award import award_world, past
from tests.factories.tenders import move_to
from tests.web.support import login, zh


@pytest.fixture
def site(db, make, tmp_path, settings, client):  # type: ignore[no-untyped-def]
    from storage import open_store

    w = award_world(db, make, open_store(settings), tmp_path)
    past(w)
    db.commit()
    w.client = client
    return w


def post(c, path, data, token):  # type: ignore[no-untyped-def]
    return c.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


def test_declined_awards_an_impossible_award_and_the_retender(site):
    c, t = site.client, site.tender
    url = f"/award/tenders/{t.id}"
    token = login(c, site.purchaser_user.username)
    assert post(c, url + "/confirm", {"rank": "1", "confirmed": "1"}, token).status_code == 303
    r = post(c, url + "/decline", {"ground": "declined", "note": ""}, token)
    assert (
        r.status_code == 422
        and zh("Say in a few words what happened: the ground is recorded with your words.") in r.text
    )
    assert re.search(r'<option value="declined"\s+selected', r.text)
    r = post(c, url + "/decline", {"ground": "declined", "note": "书面放弃"}, token)
    assert r.status_code == 200 and zh("End the award on this ground?") in r.text
    assert (
        post(
            c, url + "/decline", {"ground": "declined", "note": "书面放弃", "confirmed": "1"}, token
        ).status_code
        == 303
    )
    page = c.get(url).text
    assert zh("Candidate no. %(rank)s declined the award (R55).", rank=1) in page and "书面放弃" in page
    assert post(c, url + "/confirm", {"rank": "2", "confirmed": "1"}, token).status_code == 303
    post(c, url + "/decline", {"ground": "cannot_perform", "note": "无法履约", "confirmed": "1"}, token)
    r = post(c, url + "/impossible", {"note": "两名候选人均不能中标"}, token)
    assert r.status_code == 200 and zh("Find that no candidate can be awarded?") in r.text
    assert (
        post(c, url + "/impossible", {"note": "两名候选人均不能中标", "confirmed": "1"}, token).status_code
        == 303
    )
    page = c.get(f"/tenders/{t.id}/result").text
    assert zh(services.IMPOSSIBLE_REASON) in page and zh("Awards that ended") in page
    # the agency tenders it again in one action
    token = login(c, site.agency_user.username)
    assert zh("Tender again") in c.get(url).text
    r = post(c, url + "/retender", {"reason": ""}, token)
    assert r.status_code == 422 and zh("Choose why the tender failed.") in r.text
    r = post(c, url + "/retender", {"reason": "award_impossible"}, token)
    assert r.status_code == 200 and zh("Tender this again?") in r.text
    r = post(c, url + "/retender", {"reason": "award_impossible", "confirmed": "1"}, token)
    assert r.status_code == 303 and r.headers["location"].startswith("/agency/tenders/")
    new_id = int(r.headers["location"].rsplit("/", 1)[1])
    draft = c.get(f"/agency/tenders/{new_id}").text
    assert (
        f'href="/award/tenders/{t.id}"' in draft
        and zh("This tender is tendered again after a failed tender.") in draft
    )
    old = c.get(url).text
    assert f'href="/agency/tenders/{new_id}"' in old and 'id="retender"' not in old  # done once
    c.cookies.set("lang", "en")
    assert "This tender re-tenders" in c.get(f"/award/tenders/{new_id}").text


def test_the_monitors_see_an_overdue_contract(site):
    c, t = site.client, site.tender
    token = login(c, site.purchaser_user.username)
    assert (
        post(c, f"/award/tenders/{t.id}/confirm", {"rank": "1", "confirmed": "1"}, token).status_code == 303
    )
    # the notice's own statement (the test's session stays out of the database while the app writes: SQLite)
    number = re.search(r"<td>(ET-[0-9-]+-A\d+-001)</td>", c.get(f"/award/tenders/{t.id}").text).group(1)
    statement = c.get(f"/api/v1/award/notices/{number}").json()["statement"]
    notice_at = datetime.fromisoformat(statement["issued_at"].replace("Z", "+00:00"))
    move_to(rules.days_deadline(notice_at, rules.CONTRACT_DAYS) + timedelta(minutes=1))
    login(c, site.monitor_user.username)
    page = c.get("/monitor/audit").text
    due = statement["contract_deadline"]
    assert due == rules.contract_deadline(notice_at).isoformat()
    assert (
        zh(
            "%(subject)s: no contract is recorded though the award notice was issued more than 30 days ago "
            "(due by %(due)s, L46).",
            subject=t.reference,
            due=due,
        )
        in page
    )
    c.cookies.set("lang", "en")
    assert f"{t.reference}: no contract is recorded" in c.get("/monitor/audit").text
