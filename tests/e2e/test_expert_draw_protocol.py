"""The draw's random numbers in two browsers (etender-draw-2, docs/expert-draw.md "The protocol"): the
agency requests a draw, the monitor adds its number on its tender page and closes the page, the agency adds
its own (its browser reveals at once, since every fingerprint is in), and the monitor's page, opened again
later in the same browser, reveals from what that browser kept: the committee is drawn, and its record
verifies. In Chinese and in English, with screenshots of each step. And a number lost by a browser: the page
says so, the agency abandons the draw with a reason, and both parties' pages keep showing it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from cli.database import upgrade_database
from core import clock
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from evaluation.committee import draw as pure
from evaluation.committee import draws
from evaluation.committee.models import Draw, DrawStatus
from tests.e2e.conftest import assert_no_server_error, login, pages_on, shot, tr
from tests.factories.draw_browser import PASSWORD, SPECIALTY, _world, add_number
from tests.support import serving

LANGS = ["zh", "en"]


@pytest.fixture(scope="module")
def protocol_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    data = tmp_path_factory.mktemp("e2e-draw-protocol")
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
        w = _world(session, tenders=len(LANGS) + 1)  # the last one for the abandoned draw
    w.factory = make_sessionmaker(engine)
    with serving(settings) as url:
        w.url = url
        yield w
    engine.dispose()


def text(lang: str, msgid: str, **params: object) -> str:
    return tr(msgid, **params) if lang == "zh" else (msgid % params if params else msgid)


@pytest.mark.parametrize("lang", LANGS)
def test_two_browsers_add_their_numbers_and_the_committee_is_drawn(browser, protocol_server, lang):
    w = protocol_server
    tender_id = w.tender_ids[LANGS.index(lang)]
    with pages_on(browser, w.url) as page_for:
        agency = page_for(lang)
        login(agency, "draw-agency", PASSWORD)
        agency.goto(f"/agency/tenders/{tender_id}/draw")
        agency.fill("#f-evaluation_date", (clock.to_cst(clock.now()) + timedelta(days=3)).date().isoformat())
        agency.select_option("#f-quota_specialty_0", SPECIALTY)
        agency.fill("#f-quota_seats_0", "5")
        agency.fill("#f-substitutes", "2")
        agency.locator("form[action$='/draw/request'] button").click()
        agency.wait_for_load_state("networkidle")
        assert_no_server_error(agency)
        assert agency.locator("#draw-commit").is_visible()
        assert agency.locator("td[data-count='seats']").count() == 0  # nothing is drawn yet
        shot(agency, f"draw-protocol-1-requested-{lang}")

        # the monitor, in its own browser, adds its number on its tender page, then closes the page
        monitor = page_for(lang)
        login(monitor, "draw-monitor", PASSWORD)
        monitor.goto(f"/monitor/tenders/{tender_id}#draw")
        assert_no_server_error(monitor)
        add_number(monitor)
        monitor.locator("#draw-status").filter(
            has_text=text(
                lang,
                "Your fingerprint is in. Waiting for the other side's fingerprint; this page checks every "
                "few seconds.",
            )
        ).wait_for(timeout=30_000)
        monitor.locator("#draw").scroll_into_view_if_needed()
        shot(monitor, f"draw-protocol-2-monitor-waiting-{lang}")
        monitor_browser = monitor.context
        monitor.close()

        # the agency adds its own: every fingerprint is in, so its browser shows its number at once
        agency.reload()
        add_number(agency)
        agency.locator("#draw-status").filter(
            has_text=text(
                lang,
                "Your number is shown. The committee is drawn as soon as the other side has shown its "
                "number.",
            )
        ).wait_for(timeout=30_000)
        shot(agency, f"draw-protocol-3-agency-shown-{lang}")
        with w.factory() as s:
            d = s.scalars(select(Draw).where(Draw.tender_id == tender_id)).one()
            assert d.status == DrawStatus.collecting
            assert [c.value is not None for c in d.contributions] == [True, False]  # agency: yes, monitor: no

        # later, the monitor opens its page again in the same browser: it shows the number it kept
        again = monitor_browser.new_page()
        again.goto(f"/monitor/tenders/{tender_id}#draw")
        again.locator("#draw").filter(
            has_text=text(lang, "Every number was in: the committee was drawn.")
        ).wait_for(timeout=30_000)
        assert_no_server_error(again)
        again.locator("#draw").scroll_into_view_if_needed()
        shot(again, f"draw-protocol-4-monitor-drawn-{lang}")

        # the agency's page notices and shows the seats
        agency.locator("td[data-count='seats']").wait_for(timeout=30_000)
        assert int(agency.locator("td[data-count='seats']").inner_text()) == 5
        body = agency.inner_text("body")
        assert "抽取专家" not in body, "the agency must not see who was drawn"
        shot(agency, f"draw-protocol-5-agency-seats-{lang}")

    with w.factory() as s:
        d = s.scalars(select(Draw).where(Draw.tender_id == tender_id)).one()
        assert d.status == DrawStatus.drawn and len(d.seats) == 7
        doc = draws.build_record(s, d)
        assert pure.schema_problems(doc) == [] and pure.verify(doc) == []
        assert [c["party"].split(":")[0] for c in doc["contributions"]] == ["agency", "monitor"]


def request_on(page, tender_id: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/agency/tenders/{tender_id}/draw")
    page.fill("#f-evaluation_date", (clock.to_cst(clock.now()) + timedelta(days=3)).date().isoformat())
    page.select_option("#f-quota_specialty_0", SPECIALTY)
    page.fill("#f-quota_seats_0", "5")
    page.fill("#f-substitutes", "2")
    page.locator("form[action$='/draw/request'] button").click()
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)


def test_a_lost_number_is_said_plainly_and_the_abandoned_draw_stays_visible(browser, protocol_server):
    w = protocol_server
    tender_id = w.tender_ids[-1]
    with pages_on(browser, w.url) as page_for:
        agency = page_for()
        login(agency, "draw-agency", PASSWORD)
        request_on(agency, tender_id)
        add_number(agency)
        agency.evaluate("localStorage.clear()")  # another browser, or its data cleared
        agency.reload()
        lost = tr(
            "This browser does not hold the number your organisation committed to (another browser, or its "
            "data was cleared). The draw cannot go on with it: the agency may abandon this draw and request "
            "a new one."
        )
        agency.locator("#draw-status").filter(has_text=lost).wait_for(timeout=30_000)
        agency.locator("#abandon summary").click()
        agency.fill("#f-reason", "本机浏览器数据被清除，随机数丢失")
        shot(agency, "draw-protocol-6-lost-number-zh")
        agency.locator("#abandon button").click()
        agency.wait_for_load_state("networkidle")
        assert_no_server_error(agency)
        assert agency.locator(".flash").inner_text().strip() == tr(
            "The draw is abandoned; the monitors were told. You may request a new draw."
        )
        assert "本机浏览器数据被清除" in agency.locator("#earlier-draws").inner_text()
        assert agency.locator("#f-committee_size").count() == 1  # a new draw may be requested
        shot(agency, "draw-protocol-7-abandoned-zh")

        monitor = page_for()
        login(monitor, "draw-monitor", PASSWORD)
        monitor.goto(f"/monitor/tenders/{tender_id}#draw")
        assert "本机浏览器数据被清除" in monitor.locator("#draw").inner_text()
        assert monitor.locator("#draw-commit").count() == 0  # nothing to add to an abandoned draw
        monitor.locator("#draw").scroll_into_view_if_needed()
        shot(monitor, "draw-protocol-8-monitor-sees-abandoned-zh")
    with w.factory() as s:
        d = s.scalars(select(Draw).where(Draw.tender_id == tender_id)).one()
        assert d.status == DrawStatus.abandoned
