"""A walk of the purchaser's and the trading centre's workbenches (issue 16) on the demo, at a desktop width
and at a 390 px phone width, with screenshots: login lands each on its workbench, nothing is wider than the
screen, the centre registers a project through the form and sees the rooms' week with the demo's bookings."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_no_server_error, login, shot

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing pushes the page wider than the window (a phone would have to scroll sideways)."""
    wide = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert wide <= 1, f"{page.url} is {wide}px wider than the window"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_purchaser_lands_on_its_workbench(new_page, width):
    page = new_page()
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    login(page, "purchaser1", "Demo-2026-purchaser")
    assert page.url.endswith("/purchaser")
    assert_no_server_error(page)
    assert page.locator("main h1").inner_text() == "招标人工作台"
    assert page.locator("section.card").count() >= 3  # the education bureau's demo tenders
    assert page.get_by_text("开标记录").first.is_visible()
    _fits(page)
    shot(page, f"workbench-purchaser-{width}")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_centre_registers_a_project_and_reads_the_rooms_week(new_page, width):
    page = new_page()
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    login(page, "centre1", "Demo-2026-centre")
    assert page.url.endswith("/centre")
    assert_no_server_error(page)
    assert page.get_by_text("JY-2026-0318").is_visible()  # the demo's intake
    _fits(page)
    shot(page, f"workbench-centre-{width}")
    # a project registered through the form; a missing title first: refused, what was typed kept
    reference = f"JY-E2E-{width}"
    page.fill("#f-reference", reference)
    page.select_option("#f-purchaser", index=1)
    page.select_option("#f-agency", index=1)
    page.select_option("#f-category", "works")
    page.select_option("#f-funding", "fiscal")
    page.fill("#f-title", "浏览器测试项目")
    page.click("#intake-form button.primary")
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)
    assert page.locator(".flash").is_visible()
    assert page.get_by_text(reference).is_visible()
    # the rooms' week: this week holds the demo's evaluation session
    page.goto("/centre/calendar")
    assert_no_server_error(page)
    bookings = page.locator(".calendar-days .booking" if width == "phone" else "#calendar .booking")
    assert bookings.count() >= 1
    _fits(page)
    shot(page, f"workbench-centre-calendar-{width}")
    page.click("text=下一周")
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)
    shot(page, f"workbench-centre-calendar-next-{width}")
