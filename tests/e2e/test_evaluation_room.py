"""The sealed evaluation room in the browser: a drawn expert enters the room from their draws, signs the
declaration (a refusal keeps what was typed), checks in and opens a bid's PDF; the agency sees only the
session's progress (a count, no names) and cannot open the file. Screenshots in Chinese and English.

Runs its own server on its own SQLite database, the world built by the services as the service tests build
it (tests/factories/room.py): the tender opened and being evaluated, the committee confirmed, the session
booked. The server runs in this process, so the test clock (core.clock) moves it to the session's start."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from accounts.models import User
from cli.database import upgrade_database
from core.db import make_engine, make_sessionmaker
from core.settings import Settings
from evaluation.pool.models import Expert
from storage import open_store
from tests.e2e.conftest import assert_no_server_error, login, pages_on, shot, tr
from tests.factories.accounts import TEST_PASSWORD, Maker
from tests.factories.room import ROOMS, room_world
from tests.factories.tenders import move_to
from tests.support import serving


@pytest.fixture(scope="module")
def room_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    data = tmp_path_factory.mktemp("e2e-room")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'room.db'}",
        blob_dir=data / "blobs",
        secret_key=uuid.uuid4().hex,
        scheduler_interval=0,
        demo=False,
    )
    settings = replace(settings, evaluation_rooms=ROOMS)
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as s:
        w = room_world(s, Maker(s), open_store(settings), Path(data))
        seat, _ = w.members[0]
        out = SimpleNamespace(
            tender_id=w.tender.id,
            starts_at=w.starts_at,
            expert=s.get(User, s.get(Expert, seat.expert_id).user_id).username,
            expert_name=s.get(Expert, seat.expert_id).name,
            names=[s.get(Expert, x.expert_id).name for x, _ in w.members],
            agency=w.agency_user.username,
            monitor=w.monitor_user.username,
        )
        s.commit()
    with serving(settings) as url:
        out.url = url
        yield out
    engine.dispose()


@pytest.fixture
def page_for(browser, room_server):  # type: ignore[no-untyped-def]
    with pages_on(browser, room_server.url) as make:
        yield make


def test_an_expert_checks_in_signs_and_reads_a_pdf_and_the_agency_sees_progress_only(page_for, room_server):
    w = room_server
    move_to(w.starts_at + timedelta(minutes=2))  # the session has started (the server shares this clock)
    room = f"/expert/tenders/{w.tender_id}/room"

    expert = page_for()
    login(expert, w.expert, TEST_PASSWORD)
    expert.goto("/expert/draws")
    assert_no_server_error(expert)
    expert.locator(f"a[href='{room}']").click()
    expert.wait_for_url(f"**{room}")
    assert_no_server_error(expert)
    assert expert.locator("#bids").count() == 0 or expert.locator("a[data-file]").count() == 0
    shot(expert, "room-check-in-zh")

    # a signature that is not the expert's name is refused at the field, and the box stays ticked
    expert.check("#f-agree")
    expert.fill("#f-signed_name", "张三")
    expert.click("#check-in-button")
    expert.wait_for_load_state("networkidle")
    assert_no_server_error(expert)
    message = tr(
        "Type your full name exactly as the expert pool holds it (%(name)s) to sign.", name=w.expert_name
    )
    assert message in expert.locator(".errors").inner_text()
    assert expert.input_value("#f-signed_name") == "张三" and expert.is_checked("#f-agree")

    expert.fill("#f-signed_name", w.expert_name)
    expert.click("#check-in-button")
    expert.wait_for_load_state("networkidle")
    assert_no_server_error(expert)
    assert expert.locator(".flash").inner_text().strip() == tr(
        "You have checked in and signed the declaration."
    )
    assert expert.locator("#room-state").inner_text().strip() == tr("In session")
    links = expert.locator("a[data-file]")
    assert links.count() == 3, expert.inner_text("body")[:800]
    shot(expert, "room-bids-zh")

    href = links.first.get_attribute("href")
    assert href is not None
    with expert.context.expect_page() as opened:
        links.first.click()
    viewer = opened.value
    viewer.wait_for_load_state()
    r = expert.request.get(href)
    assert r.status == 200 and r.body().startswith(b"%PDF")
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("inline;")
    assert viewer.url.endswith(href)
    viewer.close()

    english = page_for("en")
    login(english, w.expert, TEST_PASSWORD)
    english.goto(room)
    assert_no_server_error(english)
    assert "Evaluation room" in english.inner_text("h1")
    shot(english, "room-bids-en")

    # the agency: progress only, a count and no names; the file is refused
    agency = page_for()
    login(agency, w.agency, TEST_PASSWORD)
    agency.goto(f"/agency/tenders/{w.tender_id}")
    agency.locator(f"a[href='/agency/tenders/{w.tender_id}/room']").click()
    agency.wait_for_url(f"**/agency/tenders/{w.tender_id}/room")
    assert_no_server_error(agency)
    assert agency.locator("[data-count='checked_in']").inner_text().strip() == "1"
    body = agency.inner_text("body")
    assert not any(name in body for name in w.names), "the agency must not see who sits on the committee"
    assert not re.search(r"Bidder (One|Two|Three) Ltd", body)
    shot(agency, "room-agency-progress-zh")
    assert agency.request.get(href, max_redirects=0).status == 403
    agency_en = page_for("en")
    login(agency_en, w.agency, TEST_PASSWORD)
    agency_en.goto(f"/agency/tenders/{w.tender_id}/room")
    assert_no_server_error(agency_en)
    shot(agency_en, "room-agency-progress-en")


def test_a_monitor_pauses_the_session_and_the_members_bids_close(page_for, room_server):
    w = room_server
    move_to(w.starts_at + timedelta(minutes=3))
    monitor = page_for()
    login(monitor, w.monitor, TEST_PASSWORD)
    monitor.goto(f"/monitor/tenders/{w.tender_id}")
    monitor.locator(f"a[href='/monitor/tenders/{w.tender_id}/room']").click()
    monitor.wait_for_url(f"**/monitor/tenders/{w.tender_id}/room")
    assert_no_server_error(monitor)
    monitor.fill("#f-reason", "2号摄像头故障，检修期间暂停评标")
    monitor.locator("form[action$='/room/pause'] button").click()
    monitor.wait_for_load_state("networkidle")
    assert_no_server_error(monitor)
    assert monitor.locator(".flash").inner_text().strip() == tr(
        "The session is paused: nobody reads the bids until it is resumed."
    )
    shot(monitor, "room-monitor-paused-zh")

    expert = page_for("en")
    login(expert, w.expert, TEST_PASSWORD)
    expert.goto(f"/expert/tenders/{w.tender_id}/room")
    assert_no_server_error(expert)
    assert expert.locator("#room-state").inner_text().strip() == "Paused by a monitor"
    assert expert.locator("a[data-file]").count() == 0
    shot(expert, "room-paused-en")

    monitor.fill("#f-reason", "摄像头已修复")
    monitor.locator("form[action$='/room/resume'] button").click()
    monitor.wait_for_load_state("networkidle")
    assert monitor.locator(".flash").inner_text().strip() == tr("The session is resumed.")
