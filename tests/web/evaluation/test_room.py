"""The evaluation room's pages: the expert checks in (a refusal keeps what was typed), reads a bid's PDF
inline with safe headers; the agency books (an overlap refused at the field) and sees counts, never names;
the monitor pauses and the member's bids close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from evaluation.pool.models import Expert
from tests.factories.room import ROOMS, room_world, start
from tests.web.support import login, zh


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(settings, evaluation_rooms=ROOMS)


@pytest.fixture
def site(db, make, blobs, tmp_path, settings, client):  # type: ignore[no-untyped-def]
    # the app's blob store is the settings' one: the world's bids must be sealed into it
    from storage import open_store

    w = room_world(db, make, open_store(settings), tmp_path)
    w.names = {seat.id: db.get(Expert, seat.expert_id).name for seat, _ in w.members}
    w.usernames = {seat.id: actor.username for seat, actor in w.members}
    assert w.agency_user.username and w.monitor_user.username and w.tender.reference
    db.commit()
    w.client = client
    return w


def room(site) -> str:  # type: ignore[no-untyped-def]
    return f"/expert/tenders/{site.tender.id}/room"


def test_the_expert_checks_in_signs_and_reads_a_pdf(site):
    seat, _ = site.members[0]
    start(site)
    token = login(site.client, site.usernames[seat.id])
    page = site.client.get(room(site)).text
    assert zh("Check in and sign the declaration") in page and zh(site_decl()) in page
    assert "/files/" not in page  # no bids before check-in
    r = site.client.post(
        room(site) + "/check-in",
        data={"signed_name": "Wrong Name", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 422 and 'value="Wrong Name"' in r.text
    assert zh("Tick the box to sign the declaration, or declare a conflict instead.") in r.text
    r = site.client.post(
        room(site) + "/check-in",
        data={"signed_name": site.names[seat.id], "agree": "1", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = site.client.get(room(site)).text
    assert zh("You have checked in and signed the declaration.") in page
    assert "Bidder One Ltd" in page and zh("Evaluation method and criteria") in page
    link = page.split('href="' + room(site) + "/bids/")[1].split('"')[0]
    got = site.client.get(room(site) + "/bids/" + link)
    assert got.status_code == 200 and got.content == b"%PDF technical proposal"
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("inline; filename=")
    assert got.headers["x-content-type-options"] == "nosniff" and "no-store" in got.headers["cache-control"]
    # no enum values or ids on the page
    assert "room_" not in page and "check_in" not in page.replace("check-in", "")


def site_decl() -> str:
    from evaluation.room.rules import DECLARATION

    return DECLARATION[0]


def test_the_agency_books_sees_an_overlap_refused_and_only_counts(site):
    token = login(site.client, site.agency_user.username)
    page = site.client.get(f"/agency/tenders/{site.tender.id}").text
    assert f"/agency/tenders/{site.tender.id}/room" in page
    page = site.client.get(f"/agency/tenders/{site.tender.id}/room").text
    assert "Room A" in page and 'data-count="checked_in">0<' in page
    for name in site.names.values():
        assert name not in page
    # moving the session onto a booking of its own room by another tender is refused; here: a bad length
    when = clock.to_cst(site.starts_at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = site.client.post(
        f"/agency/tenders/{site.tender.id}/room/book",
        data={"room": "2", "starts_at": when, "hours": "13", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 422 and zh("A session is booked for 1 to 12 hours.") in r.text
    assert f'value="{when}"' in r.text and '<option value="2" selected' in r.text
    r = site.client.post(
        f"/agency/tenders/{site.tender.id}/room/book",
        data={"room": "2", "starts_at": when, "hours": "3", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = site.client.get(f"/agency/tenders/{site.tender.id}/room").text
    assert "Room B" in page and zh("The evaluation session is booked.") in page


def test_the_monitor_pauses_and_the_members_bids_close(site, db):
    start(site)
    seat, _ = site.members[0]
    token = login(site.client, site.usernames[seat.id])
    site.client.post(
        room(site) + "/check-in",
        data={"signed_name": site.names[seat.id], "agree": "1", "_csrf_token": token},
    )
    token = login(site.client, site.monitor_user.username)
    assert (
        f"/monitor/tenders/{site.tender.id}/room"
        in site.client.get(f"/monitor/tenders/{site.tender.id}").text
    )
    page = site.client.get(f"/monitor/tenders/{site.tender.id}/room").text
    assert site.names[seat.id] in page  # monitors supervise the committee (Fact.committee_names)
    r = site.client.post(
        f"/monitor/tenders/{site.tender.id}/room/pause", data={"reason": "", "_csrf_token": token}
    )
    assert r.status_code == 422
    r = site.client.post(
        f"/monitor/tenders/{site.tender.id}/room/pause",
        data={"reason": "Camera 2 is down", "_csrf_token": token},
    )
    assert zh("The session is paused: nobody reads the bids until it is resumed.") in r.text
    login(site.client, site.usernames[seat.id])
    page = site.client.get(room(site)).text
    assert zh("A monitor has paused the session: nobody reads the bids until it is resumed.") in page
    assert "/files/" not in page
    api = site.client.get(f"/api/v1/notices/{site.tender.id}/evaluation").json()
    assert api["state"] == "paused" and api["checked_in"] == 1 and "names" not in api


def test_progress_is_public_once_evaluating_without_names_or_place(site):
    site.client.cookies.clear()
    doc = site.client.get(f"/api/v1/notices/{site.tender.id}/evaluation").json()
    assert doc == {
        "tender": site.tender.reference,
        "booked": True,
        "state": "booked",
        "seats": 5,
        "checked_in": 0,
        "chair_elected": False,
        "steps_done": 0,
        "steps_total": 3,
    }


def test_a_conflict_at_check_in_hands_the_seat_to_the_next_substitute(site, db):
    from evaluation.committee.models import Seat

    start(site)
    seat, _ = site.members[0]
    token = login(site.client, site.usernames[seat.id])
    r = site.client.post(room(site) + "/conflict", data={"note": "", "_csrf_token": token})
    assert r.status_code == 422 and zh("I cannot sign: I have a conflict") in r.text
    r = site.client.post(
        room(site) + "/conflict",
        data={"note": "My sister works for Bidder Two Ltd", "_csrf_token": token},
    )
    assert zh("Your conflict is recorded and your seat goes to the next substitute.") in r.text
    db.expire_all()
    called = db.scalars(select(Seat).where(Seat.replaces_seat_id == seat.id)).one()
    username = site.expert_actors[called.expert_id].user.username
    db.commit()
    login(site.client, username)
    draws_page = site.client.get("/expert/draws").text
    assert zh("Confirm") in draws_page
    page = site.client.get(room(site)).text
    assert zh("Confirm your seat on the page of your draws first; then you can check in here.") in page
