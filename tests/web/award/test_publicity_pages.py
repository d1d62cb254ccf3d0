"""The results' pages as each role, in both languages: the agency publishes from the signed report, the public
reads the candidates from the notice (never who objected), a bidder objects and complains (bad input refused
with what was typed kept), the purchaser answers, the monitor accepts and decides, and the remedy shows."""

from __future__ import annotations

import pytest

from tests.factories.publicity import signed_world
from tests.factories.room import ROOMS
from tests.web.support import login, zh


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(settings, evaluation_rooms=ROOMS)


@pytest.fixture
def site(db, make, tmp_path, settings, client):  # type: ignore[no-untyped-def]
    from storage import open_store

    w = signed_world(db, make, open_store(settings), tmp_path)
    db.commit()
    w.client = client
    return w


def _en(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("lang", "en")


def test_publish_object_answer_complain_decide(site, db):
    c, t = site.client, site.tender
    # the agency's page: what to publish, by when
    token = login(c, site.agency_user.username)
    assert f'href="/agency/tenders/{t.id}/publicity"' in c.get(f"/agency/tenders/{t.id}").text
    page = c.get(f"/agency/tenders/{t.id}/publicity").text
    assert zh("Publish the winning candidates") in page and "/rules#R54" in page and "(R54)" not in page
    r = c.post(
        f"/agency/tenders/{t.id}/publicity/publish", data={"_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    # publishing twice is refused on the page, with the reason
    r = c.post(
        f"/agency/tenders/{t.id}/publicity/publish", data={"_csrf_token": token}, follow_redirects=False
    )
    assert (
        r.status_code == 409
        and zh("The candidates are published once the evaluation report is signed, and only then (R54).")
        in r.text
    )
    # the public page, reached from the notice, in Chinese and English
    c.cookies.clear()
    notice = c.get(f"/tenders/{t.id}").text
    assert f'href="/tenders/{t.id}/publicity"' in notice
    page = c.get(f"/tenders/{t.id}/publicity").text
    assert "Bidder One Ltd" in page and zh("How to object") in page and 'id="ends-at"' in page
    assert "award." not in page and "new_candidate" not in page
    _en(c)
    page = c.get(f"/tenders/{t.id}/publicity").text
    assert "Publicity of the winning candidates" in page and "How to object" in page
    # a bidder objects: empty refused, text kept on the second try's refusal
    token = login(c, site.third_bidder_user.username)
    assert f'href="/bidder/tenders/{t.id}/results"' in c.get(f"/bidder/tenders/{t.id}").text
    page = c.get(f"/bidder/tenders/{t.id}/results").text
    assert zh("Raise the objection") in page
    r = c.post(
        f"/bidder/tenders/{t.id}/results/objections",
        data={"text": " ", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 422 and zh("Write your objection and its grounds.") in r.text
    r = c.post(
        f"/bidder/tenders/{t.id}/results/objections",
        data={"text": "第一名的业绩证明不实。", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    # the public sees the count and the deadline, never who objected
    c.cookies.clear()
    page = c.get(f"/tenders/{t.id}/publicity").text
    assert "Bidder Three Ltd" not in page and "第一名的业绩证明不实" not in page
    assert 'id="open-objections" class' not in page and "soon" in page
    # a complaint before the answer: refused with the reason, what was typed kept
    token = login(c, site.third_bidder_user.username)
    r = c.post(
        f"/bidder/tenders/{t.id}/results/complaints",
        data={"matter": "result", "known_on": "not a date", "text": "答复不成立。", "_csrf_token": token},
        follow_redirects=False,
    )
    assert (
        r.status_code == 422
        and "答复不成立。" in r.text
        and zh("Give the day you learned the facts, as YYYY-MM-DD.") in r.text
    )
    from core import clock

    today = clock.to_cst(clock.now()).date().isoformat()
    r = c.post(
        f"/bidder/tenders/{t.id}/results/complaints",
        data={"matter": "result", "known_on": today, "text": "答复不成立。", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 409 and "答复不成立。" in r.text
    assert (
        zh(
            "On this matter an objection must come first (%(matter_rule)s, R60): raise it with the purchaser "
            "or its agency, and complain once it is answered or its answer is overdue.",
            matter_rule="R54",
        )
        in r.text
    )
    # the purchaser answers (empty refused first)
    token = login(c, site.purchaser_user.username)
    page = c.get(f"/agency/tenders/{t.id}/publicity").text
    assert "Bidder Three Ltd" in page and "第一名的业绩证明不实" in page
    oid = int(page.split('id="objection-')[1].split('"')[0])
    url = f"/agency/tenders/{t.id}/publicity/objections/{oid}/answer"
    r = c.post(url, data={"answer": "", "_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 422 and zh("Write the answer.") in r.text
    r = c.post(url, data={"answer": "业绩证明真实有效。", "_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    # now the complaint goes through
    token = login(c, site.third_bidder_user.username)
    page = c.get(f"/bidder/tenders/{t.id}/results").text
    assert "业绩证明真实有效。" in page
    r = c.post(
        f"/bidder/tenders/{t.id}/results/complaints",
        data={
            "matter": "result",
            "objection_id": str(oid),
            "known_on": today,
            "text": "答复不成立。",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    cid = int(r.headers["location"].split("#complaint-")[1])
    # the monitor: the list, acceptance (no choice refused), the decision with a new candidate
    token = login(c, site.monitor_user.username)
    assert 'href="/monitor/complaints"' in c.get("/monitor").text
    page = c.get("/monitor/complaints").text
    assert "Bidder Three Ltd" in page and t.reference in page
    r = c.post(
        f"/monitor/complaints/{cid}/acceptance",
        data={"note": "", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 422 and zh("Choose whether the complaint is accepted.") in r.text
    r = c.post(
        f"/monitor/complaints/{cid}/acceptance",
        data={"accept": "yes", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = c.get(f"/monitor/complaints/{cid}").text
    assert zh("Case to be decided by") in page
    first = page.split('name="dropped_bid"')[1].split('<option value="')[2].split('"')[0]
    r = c.post(
        f"/monitor/complaints/{cid}/decision",
        data={"outcome": "upheld", "remedy": "new_candidate", "reasons": "", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 422 and zh("Write the reasons of the decision; the parties read them.") in r.text
    r = c.post(
        f"/monitor/complaints/{cid}/decision",
        data={
            "outcome": "upheld",
            "remedy": "new_candidate",
            "dropped_bid": first,
            "reasons": "第一名业绩造假。",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    _en(c)
    page = c.get(f"/monitor/complaints/{cid}").text
    assert "Upheld" in page and "A new candidate" in page
    c.cookies.clear()
    page = c.get(f"/tenders/{t.id}/publicity").text
    assert page.count('id="candidate-') == 1  # the report's second candidate moves up; no third ranked


@pytest.mark.parametrize("who", ["bidder_user", "agency_user", "monitor_user"])
def test_the_pages_refuse_the_wrong_roles(site, who):
    c, t = site.client, site.tender
    login(c, getattr(site, who).username)
    pages = {
        "bidder_user": [f"/agency/tenders/{t.id}/publicity", "/monitor/complaints"],
        "agency_user": [f"/bidder/tenders/{t.id}/results", "/monitor/complaints"],
        "monitor_user": [f"/bidder/tenders/{t.id}/results", f"/agency/tenders/{t.id}/publicity"],
    }[who]
    for path in pages:
        assert c.get(path, follow_redirects=False).status_code == 403, path
    # nothing is published yet: the public page does not exist for the public
    c.cookies.clear()
    assert c.get(f"/tenders/{t.id}/publicity").status_code == 404


def test_an_overdue_answer_shows_among_the_monitors_alerts(site, db):
    from datetime import timedelta

    from award.publicity import objections, publicity
    from tests.factories.tenders import move_to

    publicity.publish(db, site.agency, site.tender.id)
    obj = objections.raise_objection(db, site.third_bidder, site.tender.id, "异议")
    db.commit()
    move_to(obj.answer_due + timedelta(minutes=1))
    c = site.client
    login(c, site.monitor_user.username)
    page = c.get("/monitor/audit").text
    assert site.tender.reference + "：对评标结果的异议应于" in page
    _en(c)
    page = c.get("/monitor/audit").text
    assert f"{site.tender.reference}: an objection on the result was due to be answered by" in page
