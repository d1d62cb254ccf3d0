"""The review's pages: a member's verdicts (bad input refused with what was typed kept, another member's never
shown), the chair's clarification request (a past deadline, another tender's bid refused) and closing (with
its confirmation), the bidder's answer page (an empty or second answer refused, no member's name shown)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from evaluation.pool.models import Expert
from evaluation.review import rules
from tests.factories.review import enter, sitting
from tests.factories.room import ROOMS, room_world
from tests.web.support import login, zh


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(settings, evaluation_rooms=ROOMS)


@pytest.fixture
def site(db, make, blobs, tmp_path, settings, client):  # type: ignore[no-untyped-def]
    from storage import open_store

    w = room_world(db, make, open_store(settings), tmp_path)
    sitting(w)
    w.names = [db.get(Expert, seat.expert_id).name for seat, _ in w.members]
    w.usernames = [actor.username for _, actor in w.members]
    db.commit()
    w.client = client
    return w


def url(site) -> str:  # type: ignore[no-untyped-def]
    return f"/expert/tenders/{site.tender.id}/room/review"


def test_a_member_saves_verdicts_bad_input_kept_and_nobody_else_sees_them(site, db):
    token = login(site.client, site.usernames[1])
    assert f'href="{url(site)}"' in site.client.get(f"/expert/tenders/{site.tender.id}/room").text
    page = site.client.get(url(site))
    assert page.status_code == 200 and zh("Qualification and compliance review") in page.text
    assert zh(rules.GROUNDS["not_qualified"]) in page.text and ">not_qualified<" not in page.text
    site.client.get("/lang/en?next=/")
    english = site.client.get(url(site)).text
    assert rules.GROUNDS["not_qualified"] in english and "Qualification and compliance review" in english
    assert not any(f">{key}<" in english for key in rules.GROUNDS)  # labels, never the keys
    site.client.get("/lang/zh?next=/")
    bid = site.bids[0]
    r = site.client.post(
        f"{url(site)}/bids/{bid}",
        data={
            "verdict-qualification-0": "fail",
            "ground-qualification-0": "",
            "reason-qualification-0": "Licence copy is illegible",
            "verdict-qualification-1": "fail",
            "ground-qualification-1": "not_qualified",
            "reason-qualification-1": "",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert zh("Choose the ground for rejecting (R51) from the list.") in r.text
    assert zh("Say why the bid fails this criterion; the reason goes into the report.") in r.text
    assert "Licence copy is illegible" in r.text  # what was typed is kept
    assert 'value="not_qualified" selected' in r.text
    r = site.client.post(
        f"{url(site)}/bids/{bid}",
        data={
            "verdict-qualification-0": "fail",
            "ground-qualification-0": "not_qualified",
            "reason-qualification-0": "Licence copy is illegible",
            "verdict-qualification-1": "pass",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = site.client.get(url(site)).text
    assert zh("Your verdicts are saved.") in page and "Licence copy is illegible" in page
    # independence: the chair and another member see nothing of it
    for other in (0, 2):
        login(site.client, site.usernames[other])
        assert "Licence copy is illegible" not in site.client.get(url(site)).text
    # the agency and a bidder have no review page; the progress API gives counts only
    login(site.client, site.agency_user.username)
    assert site.client.get(url(site)).status_code == 403
    api = site.client.get(f"/api/v1/notices/{site.tender.id}/evaluation/review").json()
    assert api == {"tender": site.tender.reference, "members_done": 0, "members_present": 5, "closed": False}


def test_a_member_who_left_is_refused_with_a_message_in_their_language(site, db):
    from evaluation.room import sessions

    sessions.leave(db, site.members[4][1], site.tender.id, "Taken ill", site.channel)
    db.commit()
    login(site.client, site.usernames[4])
    r = site.client.get(url(site))
    message = "The evaluation room is open only to the members of this tender's committee."
    assert r.status_code == 403 and zh(message) in r.text
    site.client.get("/lang/en?next=/")
    r = site.client.get(url(site))
    assert r.status_code == 403 and message.replace("'", "&#39;") in r.text


def test_the_chair_asks_the_bidder_who_answers_once_and_the_chair_closes(site, db):
    token = login(site.client, site.usernames[0])
    bid = site.bids[1]
    past = clock.to_cst(clock.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    r = site.client.post(
        f"{url(site)}/clarifications",
        data={
            "opened_bid": str(bid),
            "question": "Please confirm the unit price of item 3.",
            "deadline": past,
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 422 and zh("The deadline must be later than now.") in r.text
    assert "Please confirm the unit price of item 3." in r.text
    soon = clock.to_cst(clock.now() + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M")
    r = site.client.post(
        f"{url(site)}/clarifications",
        data={
            "opened_bid": str(10**6),
            "question": "Another tender's bid?",
            "deadline": soon,
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert zh("Choose one of the opened bids of this tender: a request goes only to its bidder.") in r.text
    r = site.client.post(
        f"{url(site)}/clarifications",
        data={
            "opened_bid": str(bid),
            "question": "Please confirm the unit price of item 3.",
            "deadline": soon,
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    # closing waits for the answer; without the confirmation box it is refused first
    r = site.client.post(f"{url(site)}/close", data={"_csrf_token": token}, follow_redirects=False)
    assert (
        r.status_code == 422 and zh("Tick the box to confirm that the committee closes the review.") in r.text
    )
    r = site.client.post(
        f"{url(site)}/close", data={"confirm": "1", "_csrf_token": token}, follow_redirects=False
    )
    assert (
        r.status_code == 409
        and zh("%(n)s of the present members have not yet entered a verdict on every bid and criterion.", n=5)
        in r.text
    )

    # the bidder's portal
    from evaluation.review.models import ClarificationRequest
    from tender.models import Bid, OpenedBid

    req = db.scalars(select(ClarificationRequest)).one()
    org = db.get(Bid, db.get(OpenedBid, bid).bid_id).organisation_id
    bidder = next(
        u
        for u in (site.bidder_user, site.other_bidder_user, site.third_bidder_user)
        if u.organisation_id == org
    )
    username = bidder.username
    db.commit()  # end the test's read: SQLite's writers wait for it
    btoken = login(site.client, username)
    tender_page = site.client.get(f"/bidder/tenders/{site.tender.id}").text
    assert f"/bidder/tenders/{site.tender.id}/clarification-requests" in tender_page
    page = site.client.get(f"/bidder/tenders/{site.tender.id}/clarification-requests").text
    assert "Please confirm the unit price of item 3." in page
    assert not any(name in page for name in site.names)  # the committee's request, no member named
    answer = f"/bidder/tenders/{site.tender.id}/clarification-requests/{req.id}/answer"
    r = site.client.post(
        answer, data={"answer": " ", "no_change": "1", "_csrf_token": btoken}, follow_redirects=False
    )
    assert r.status_code == 422 and zh("Write your answer to the committee's question.") in r.text
    r = site.client.post(
        answer,
        data={"answer": "Item 3 costs 1,200 yuan.", "no_change": "1", "_csrf_token": btoken},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = site.client.post(
        answer, data={"answer": "Second thoughts", "_csrf_token": btoken}, follow_redirects=False
    )
    assert r.status_code == 409
    assert (
        zh("Your company has answered this request already; an answer cannot be changed or added to.")
        in r.text
    )
    assert "Second thoughts" in r.text  # what was typed is shown, not lost
    # another bidder sees nothing and cannot answer it
    other = next(
        u
        for u in (site.bidder_user, site.other_bidder_user, site.third_bidder_user)
        if u.organisation_id != org
    )
    other_name = other.username
    db.commit()
    otoken = login(site.client, other_name)
    assert (
        "Please confirm"
        not in site.client.get(f"/bidder/tenders/{site.tender.id}/clarification-requests").text
    )
    assert (
        site.client.post(
            answer, data={"answer": "x", "_csrf_token": otoken}, follow_redirects=False
        ).status_code
        == 404
    )

    # everybody enters, the chair assesses and closes; the tally is shown
    enter(site)
    db.commit()
    token = login(site.client, site.usernames[0])
    page = site.client.get(url(site)).text
    assert "Item 3 costs 1,200 yuan." in page
    assess = f"{url(site)}/clarifications/{req.id}/assess"
    r = site.client.post(
        assess, data={"assessment": "disregarded", "reason": "", "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 422
    r = site.client.post(
        assess, data={"assessment": "accepted", "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    r = site.client.post(
        f"{url(site)}/close", data={"confirm": "1", "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    page = site.client.get(url(site)).text
    assert zh("The committee's decision") in page and zh("Valid") in page
    assert 'action="' + url(site) + "/bids/" not in page  # nothing to enter any more


def test_members_are_shown_an_abnormally_low_price_with_its_figures(site, db):
    from tests.factories.review import set_prices

    set_prices(site, [100_000_00, 98_000_00, 50_000_00])
    db.commit()
    login(site.client, site.usernames[2])
    page = site.client.get(url(site)).text
    assert zh("Abnormally low prices") in page and 'data-low="' + str(site.bids[2]) + '"' in page
    assert "50,000.00" in page and "99,000.00" in page  # the price and the mean of the others
    assert zh("Not yet: ask the bidder first") in page


def test_the_committee_is_shown_the_criteria_it_is_evenly_divided_on(site, db):
    from evaluation.room import sessions

    sessions.leave(db, site.members[4][1], site.tender.id, "Taken ill", site.channel)  # four present
    split = (False, "not_qualified", "Expired licence")
    first, q0 = site.bids[0], site.criteria[0]
    enter(
        site,
        lambda m, b, c: split if (b == first and c == q0 and m in (2, 3)) else (True, "", ""),
        [0, 1, 2, 3],
    )
    db.commit()
    login(site.client, site.usernames[0])
    page = site.client.get(url(site)).text
    assert zh("Criteria the committee is evenly divided on") in page and q0.text in page.split('id="ties"')[1]
    assert (
        zh(
            "The members are evenly divided on %(n)s criteria (shown below): discuss them; the review "
            "closes once a majority decides each one.",
            n=1,
        )
        in page
    )
    assert "Expired licence" not in page  # the chair entered a pass: the others' reasons stay theirs


def test_the_page_renders_every_section_in_both_languages_with_the_tenders_own_texts(site, db):
    # a criterion is the tender's text: a "%" in it is shown as typed (not taken for a placeholder)
    from evaluation.review import clarifications
    from tests.factories.review import set_prices

    site.tender.criteria = {**site.tender.criteria, "qualification": ["Price share 30% or more", "Licence"]}
    set_prices(site, [100_000_00, 98_000_00, 50_000_00])
    clarifications.send(
        db,
        site.chair,
        site.tender.id,
        clarifications.RequestInput(site.bids[2], "Explain the price.", clock.now() + timedelta(minutes=30)),
        site.channel,
    )
    enter(site, members=[0])
    db.commit()
    login(site.client, site.usernames[0])
    for lang in ("zh", "en"):
        site.client.get(f"/lang/{lang}?next=/")
        page = site.client.get(url(site))
        assert page.status_code == 200, lang
        assert "Price share 30% or more" in page.text and "Explain the price." in page.text
        assert 'id="low-prices"' in page.text and 'id="close"' in page.text
