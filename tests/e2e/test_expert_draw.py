"""The committee draw in the browser: the agency requests a draw after the bid deadline (a refused request
keeps its values), the agency and the monitor each add a random number from their own browser (commit, then
reveal: web/static/js/draw-contribution.js), a drawn expert confirms, another declines and the next substitute
is called and sees the seat; the agency sees only counts. tests/e2e/test_expert_draw_protocol.py walks the
numbers' exchange itself, in Chinese and English.

Runs its own server on its own small SQLite database (a tender past its deadline and seven experts with
accounts in one specialty), so that the test knows who was drawn without relying on the demo's pool."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from accounts.models import User
from cli.database import upgrade_database
from core import clock
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from evaluation.committee.models import Seat, SeatStatus
from evaluation.pool.models import Expert
from tests.e2e.conftest import assert_no_server_error, login, pages_on, shot, tr
from tests.factories.draw_browser import PASSWORD, SPECIALTY, _world, add_number
from tests.support import serving


@pytest.fixture(scope="module")
def draw_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    data = tmp_path_factory.mktemp("e2e-draw")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'draw.db'}",
        blob_dir=data / "blobs",
        secret_key=uuid.uuid4().hex,
        scheduler_interval=0,
        demo=False,
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    with transaction(make_sessionmaker(engine)) as session:
        w = _world(session)
    w.factory = make_sessionmaker(engine)
    with serving(settings) as url:
        w.url = url
        yield w
    engine.dispose()


@pytest.fixture
def page_for(browser, draw_server):  # type: ignore[no-untyped-def]
    with pages_on(browser, draw_server.url) as make:
        yield make


def seats(w: SimpleNamespace) -> list[tuple[Seat, str]]:
    with w.factory() as s:
        rows = s.execute(
            select(Seat, User.username)
            .join(Expert, Expert.id == Seat.expert_id)
            .join(User, User.id == Expert.user_id)
            .order_by(Seat.position)
        ).all()
        return [(seat, username) for seat, username in rows]


def count(page, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator(f"td[data-count='{name}']").inner_text().strip())


def test_request_a_draw_confirm_and_decline_calls_a_substitute(page_for, draw_server):
    w = draw_server
    agency = page_for()
    login(agency, "draw-agency", PASSWORD)
    agency.goto(f"/agency/tenders/{w.tender_id}")
    assert_no_server_error(agency)
    agency.locator(f"a[href='/agency/tenders/{w.tender_id}/draw']").click()
    # the click starts a navigation: wait for the draw page itself, not for the idle page it leaves
    agency.wait_for_url(f"**/agency/tenders/{w.tender_id}/draw", timeout=30_000)
    agency.wait_for_load_state("networkidle")
    day = (clock.to_cst(clock.now()) + timedelta(days=3)).date().isoformat()

    # an even committee is refused by the server, at the field, and the form keeps what was typed
    agency.fill("#f-committee_size", "5")
    agency.evaluate("document.querySelector('#f-committee_size').removeAttribute('step')")
    agency.fill("#f-committee_size", "6")
    agency.fill("#f-substitutes", "2")
    agency.fill("#f-evaluation_date", day)
    agency.select_option("#f-quota_specialty_0", SPECIALTY)
    agency.fill("#f-quota_seats_0", "6")
    agency.fill("#f-regions", "Far county")
    agency.locator("form[action$='/draw/request'] button").click()
    agency.wait_for_load_state("networkidle")
    assert_no_server_error(agency)
    message = tr("The committee needs an odd number of members, at least 5; %(size)s is not allowed.", size=6)
    assert message in agency.locator(".errors").inner_text()
    assert agency.input_value("#f-regions") == "Far county" and agency.input_value("#f-quota_seats_0") == "6"
    shot(agency, "draw-request-refused")

    agency.fill("#f-committee_size", "5")
    agency.fill("#f-quota_seats_0", "5")
    agency.locator("form[action$='/draw/request'] button").click()
    agency.wait_for_load_state("networkidle")
    assert_no_server_error(agency)
    assert agency.locator(".flash").inner_text().strip() == tr(
        "The draw is requested. The committee is drawn as soon as your organisation and the monitors have "
        "each added a random number."
    )
    # the agency's and the monitors' numbers, each from its own browser
    monitor = page_for()
    login(monitor, "draw-monitor", PASSWORD)
    add_number(agency)
    monitor.goto(f"/monitor/tenders/{w.tender_id}#draw")
    add_number(monitor)
    agency.locator("td[data-count='seats']").wait_for(timeout=30_000)  # the page reloads once drawn
    assert (
        count(agency, "seats"),
        count(agency, "confirmed"),
        count(agency, "awaiting"),
        count(agency, "substitutes"),
    ) == (5, 0, 5, 2)
    body = agency.inner_text("body")
    assert not re.search(r"抽取专家\d", body), "the agency must not see who was drawn"
    shot(agency, "draw-seat-counts")

    drawn = seats(w)
    members = [(s, u) for s, u in drawn if s.status == SeatStatus.notified]
    standby = [(s, u) for s, u in drawn if s.status == SeatStatus.standby]
    assert len(members) == 5 and len(standby) == 2

    # a member confirms
    first_seat, first_user = members[0]
    expert = page_for()
    login(expert, first_user, PASSWORD)
    expert.goto("/expert/draws")
    assert_no_server_error(expert)
    assert "E2E-DRAW-001" in expert.inner_text("body")
    expert.locator(f"form[action='/expert/seats/{first_seat.id}/confirm'] button").click()
    expert.wait_for_load_state("networkidle")
    assert expert.locator(".flash").inner_text().strip() == tr("Thank you: your seat is confirmed.")
    shot(expert, "draw-expert-confirmed")

    # another declines: the first substitute in rank order is called
    second_seat, second_user = members[1]
    other = page_for()
    login(other, second_user, PASSWORD)
    other.goto("/expert/draws")
    other.locator(f"form[action='/expert/seats/{second_seat.id}/decline'] button").click()
    other.wait_for_load_state("networkidle")
    assert other.locator("h1").inner_text().strip() == tr("Decline this committee seat?")
    other.locator("#confirm button").click()
    other.wait_for_load_state("networkidle")
    assert other.locator(".flash").inner_text().strip() == tr(
        "You declined; the next substitute has been asked."
    )

    sub_seat, sub_user = standby[0]
    substitute = page_for()
    login(substitute, sub_user, PASSWORD)
    substitute.goto("/expert/draws")
    assert_no_server_error(substitute)
    assert substitute.locator(f"form[action='/expert/seats/{sub_seat.id}/confirm']").count() == 1
    shot(substitute, "draw-substitute-called")

    agency.reload()
    assert (
        count(agency, "confirmed"),
        count(agency, "awaiting"),
        count(agency, "vacant"),
        count(agency, "substitutes"),
    ) == (1, 4, 0, 1)
