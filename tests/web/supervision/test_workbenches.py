"""The workbenches' pages (issue 16) as each role, in both languages, on the evaluation room's world: the
purchaser's, the centre's (intake, the rooms' week with a double booking refused, witnessing), the bidder's
bids and outcome, the agency's link to the intake, and where login lands each role."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from core import clock
from evaluation.pool.models import Expert
from storage import open_store
from tender.centre.models import ProjectIntake, WitnessRecord
from tests.factories.accounts import TEST_PASSWORD
from tests.factories.room import ROOMS, room_world, start
from tests.factories.tenders import draft_tender, move_to
from tests.web.support import login, zh


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return replace(settings, evaluation_rooms=ROOMS)  # the world's rooms (tests/factories/room.py)


@pytest.fixture
def blobs(settings):  # type: ignore[no-untyped-def]
    return open_store(settings)  # the app's store: the world's bids are sealed into it


@pytest.fixture
def r(db, make, blobs, tmp_path, client):  # type: ignore[no-untyped-def]
    w = room_world(db, make, blobs, tmp_path)
    # the pages are requested on the app's own sessions: the test's ends each read with a commit that keeps
    # its objects loaded, so that reading them again opens no transaction (SQLite would lock
    # the app out)
    db.expire_on_commit = False
    db.commit()
    return w


def as_(client: TestClient, user, lang: str) -> str:  # type: ignore[no-untyped-def]
    token = login(client, user.username)
    client.cookies.set("lang", lang)
    return token


@pytest.mark.parametrize(("lang", "heading"), [("zh", "招标人工作台"), ("en", "Purchaser workbench")])
def test_the_purchaser_sees_its_tenders_course_without_names_or_scores(r, client, lang, heading):
    as_(client, r.purchaser_user, lang)
    page = client.get("/purchaser")
    assert page.status_code == 200 and heading in page.text
    assert r.tender.title in page.text and "tender-documents.pdf" in page.text
    assert f"/tenders/{r.tender.id}/opening" in page.text  # the record is published
    assert (
        "Room A" in page.text and 'data-count="checked_in">0</span> / 5' in page.text
    )  # the session, by counts (Fact.evaluation_progress)
    names = [e.name for e in r.db.scalars(select(Expert))]
    r.db.commit()
    assert not any(n in page.text for n in names)  # L37: nobody's name before the result is final
    assert ("尚无结果" if lang == "zh" else "No result yet") in page.text


def test_login_lands_the_purchaser_and_the_centre_on_their_workbenches(r, client):
    for user, home in ((r.purchaser_user, "/purchaser"), (r.centre_user, "/centre")):
        client.cookies.clear()
        client.get("/login")
        token = client.cookies.get("etender_csrf")
        got = client.post(
            "/login",
            data={"username": user.username, "password": TEST_PASSWORD, "_csrf_token": token},
            follow_redirects=False,
        )
        assert got.headers["location"] == home


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_centre_registers_a_project_and_a_refused_form_keeps_what_was_typed(r, client, db, lang):
    token = as_(client, r.centre_user, lang)
    page = client.get("/centre")
    assert page.status_code == 200 and ("交易中心工作台" if lang == "zh" else "Centre workbench") in page.text
    assert "/admin/expert-calls" in page.text and "/centre/calendar" in page.text
    form = {
        "reference": "JY-2026-0101",
        "title": "County road lighting",
        "purchaser_id": str(r.purchaser_org.id),
        "agency_id": str(r.agency_org.id),
        "category": "works",
        "funding": "fiscal",
        "planned_publication": "2027-01-04T09:00",
        "planned_opening": "2026-12-20T09:00",  # before the publication: refused
        "remarks": "",
        "_csrf_token": token,
    }
    refused = client.post("/centre/intakes", data=form)
    assert refused.status_code == 422 and 'value="County road lighting"' in refused.text
    expected = zh("The planned opening comes after the planned publication; change one of the dates.")
    assert (expected if lang == "zh" else "The planned opening comes after") in refused.text
    done = client.post(
        "/centre/intakes", data={**form, "planned_opening": "2027-02-01T09:00"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert db.scalar(select(ProjectIntake.reference)) == "JY-2026-0101"
    db.commit()
    listed = client.get("/centre")
    assert "JY-2026-0101" in listed.text and ("工程" if lang == "zh" else "Works") in listed.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_calendar_shows_the_week_and_refuses_a_double_booking_naming_it(r, client, db, blobs, lang):
    draft = draft_tender(r, blobs, title="Library shelves")
    other = draft_tender(
        r, blobs, title="Lab benches", bid_deadline=draft.bid_deadline + timedelta(minutes=30)
    )
    db.commit()
    token = as_(client, r.centre_user, lang)
    week = client.get("/centre/calendar", params={"week": clock.to_cst(r.starts_at).date().isoformat()})
    assert week.status_code == 200 and r.tender.reference in week.text
    when = clock.to_cst(draft.bid_deadline).strftime("%Y-%m-%dT%H:%M")
    booked = client.post(
        "/centre/calendar/openings",
        data={"tender_id": str(draft.id), "room": "1", "starts_at": when, "hours": "2", "_csrf_token": token},
        follow_redirects=False,
    )
    assert booked.status_code == 303
    assert "Library shelves" in client.get(booked.headers["location"]).text
    clash_at = clock.to_cst(other.bid_deadline).strftime("%Y-%m-%dT%H:%M")
    clash = client.post(
        "/centre/calendar/openings",
        data={
            "tender_id": str(other.id),
            "room": "1",
            "starts_at": clash_at,
            "hours": "2",
            "_csrf_token": token,
        },
    )
    assert clash.status_code == 409
    named = f"{draft.reference} Library shelves"
    assert named in clash.text and ("已被" if lang == "zh" else "is already booked for") in clash.text
    assert f'value="{clash_at}"' in clash.text  # what was typed is kept


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_centre_witnesses_and_the_opening_page_and_monitor_show_it(r, client, db, lang):
    move_to(clock.now() + timedelta(minutes=10))  # ten minutes into the opening's day
    token = as_(client, r.centre_user, lang)
    at = clock.to_cst(clock.now()).strftime("%Y-%m-%dT%H:%M")
    done = client.post(
        f"/centre/tenders/{r.tender.id}/witness",
        data={"kind": "opening", "witnessed_at": at, "remarks": "Seals intact", "_csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert db.scalar(select(WitnessRecord.remarks)) == "Seals intact"
    db.commit()  # end the test's read: SQLite lets the app write again
    client.cookies.clear()
    client.cookies.set("lang", lang)
    public = client.get(f"/tenders/{r.tender.id}/opening")
    assert r.centre_user.full_name in public.text and "Seals intact" in public.text
    as_(client, r.monitor_user, lang)
    assert "Seals intact" in client.get(f"/monitor/tenders/{r.tender.id}").text
    # a witnessing of the session before it begins is refused with the reason, the time kept
    token = as_(client, r.centre_user, lang)
    refused = client.post(
        f"/centre/tenders/{r.tender.id}/witness",
        data={"kind": "evaluation", "witnessed_at": at, "remarks": "", "_csrf_token": token},
    )
    assert (
        refused.status_code == 422
        and ("当时尚未开始" if lang == "zh" else "It had not started then") in refused.text
    )


@pytest.mark.parametrize(("lang", "word"), [("zh", "开标记录"), ("en", "The opening record")])
def test_the_bidder_sees_its_bid_and_after_the_opening_the_record(r, client, lang, word):
    as_(client, r.bidder_user, lang)
    page = client.get("/bidder")
    assert page.status_code == 200 and word in page.text
    assert f"/tenders/{r.tender.id}/opening" in page.text
    assert zh("Submitted") in page.text if lang == "zh" else "Submitted" in page.text


def test_the_centre_takes_the_experts_phone_answers(r, client):
    as_(client, r.centre_user, "en")
    assert client.get("/admin/expert-calls").status_code == 200


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_agency_links_its_draft_to_the_intake(r, client, db, blobs, lang):
    from tender.centre import intake
    from tests.factories.workbenches import intake_input

    draft = draft_tender(r, blobs)
    row = intake.register(db, r.centre, intake_input(r))
    db.commit()
    token = as_(client, r.agency_user, lang)
    page = client.get(f"/agency/tenders/{draft.id}/intake")
    assert page.status_code == 200 and row.reference in page.text
    done = client.post(
        f"/agency/tenders/{draft.id}/intake/link",
        data={"intake_id": str(row.id), "_csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert row.reference in client.get(f"/agency/tenders/{draft.id}/intake").text
    as_(client, r.other_agency_user, lang)
    assert (
        client.get(f"/agency/tenders/{draft.id}/intake").status_code == 404
    )  # a draft exists for its agency


def test_the_session_witnessing_shows_to_the_monitor_not_to_the_public(r, client, db):
    start(r)
    db.commit()
    token = as_(client, r.centre_user, "en")
    at = clock.to_cst(clock.now()).strftime("%Y-%m-%dT%H:%M")
    client.post(
        f"/centre/tenders/{r.tender.id}/witness",
        data={"kind": "evaluation", "witnessed_at": at, "remarks": "Phones handed in", "_csrf_token": token},
    )
    as_(client, r.monitor_user, "en")
    assert "Phones handed in" in client.get(f"/monitor/tenders/{r.tender.id}").text
    client.cookies.clear()
    assert "Phones handed in" not in client.get(f"/tenders/{r.tender.id}/opening").text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_agency_books_its_opening_room_and_a_clash_is_named(r, client, db, blobs, lang):
    first = draft_tender(r, blobs, title="Library shelves")
    second = draft_tender(
        r, blobs, title="Lab benches", bid_deadline=first.bid_deadline + timedelta(minutes=30)
    )
    db.commit()
    token = as_(client, r.agency_user, lang)
    page = client.get(f"/agency/tenders/{first.id}/opening-room")
    assert page.status_code == 200 and ("开标室" if lang == "zh" else "Opening room") in page.text
    when = clock.to_cst(first.bid_deadline).strftime("%Y-%m-%dT%H:%M")
    done = client.post(
        f"/agency/tenders/{first.id}/opening-room/book",
        data={"room": "1", "starts_at": when, "hours": "2", "_csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert (
        "1号开标室" in client.get(done.headers["location"]).text
    )  # the booked room, by its name in the settings
    clash_at = clock.to_cst(second.bid_deadline).strftime("%Y-%m-%dT%H:%M")
    clash = client.post(
        f"/agency/tenders/{second.id}/opening-room/book",
        data={"room": "1", "starts_at": clash_at, "hours": "2", "_csrf_token": token},
    )
    assert clash.status_code == 409 and f"{first.reference} Library shelves" in clash.text  # its own draft
