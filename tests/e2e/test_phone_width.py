"""The public list, a notice and the bidder's pages at a 390 px phone width (issue 16), on the demo, in
Chinese and in English: nothing is wider than the screen (a table scrolls inside its own box), the deadline
and the status of each notice are on screen, and each page is saved as a screenshot."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_no_server_error, login, open_demo_tenders, shot

PHONE = {"width": 390, "height": 844}


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    wide = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert wide <= 1, f"{page.url} is {wide}px wider than the window"


def _on_screen(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """The element's box lies within the window's width (not pushed off to the right)."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, (selector, box)


def _lang(page, lang: str) -> None:  # type: ignore[no-untyped-def]
    page.context.add_cookies([{"name": "lang", "value": lang, "url": page.url}])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_public_list_and_a_notice_fit_a_phone(new_page, lang):
    page = new_page()
    page.set_viewport_size(PHONE)
    page.goto("/")
    _lang(page, lang)
    page.goto("/")
    assert_no_server_error(page)
    _fits(page)
    for column in ("td.ref", "td.title", "td[data-label]:nth-child(6)", "td[data-label]:nth-child(7)"):
        _on_screen(page, f".notice-table tbody tr:first-child {column}")  # the deadline and the status too
    shot(page, f"phone-{lang}-notices")
    tender = open_demo_tenders(page)[0]
    page.goto(f"/tenders/{tender['id']}")
    assert_no_server_error(page)
    _fits(page)
    _on_screen(page, "main h1")
    shot(page, f"phone-{lang}-notice")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_bidders_pages_fit_a_phone(new_page, lang):
    page = new_page()
    page.set_viewport_size(PHONE)
    login(page, "bidder1", "Demo-2026-bidder")
    _lang(page, lang)
    page.goto("/bidder")
    assert_no_server_error(page)
    _fits(page)
    shot(page, f"phone-{lang}-bidder")
    links = page.eval_on_selector_all(
        "main a[href^='/bidder/tenders/']",
        "els => [...new Set(els.map(e => e.getAttribute('href').split('#')[0]))]",
    )
    links = [h for h in links if re.fullmatch(r"/bidder/tenders/\d+", h)]
    assert links, "the demo bidder takes part in tenders"
    for i, href in enumerate(links[:3]):
        for suffix in ("", "/bids"):  # the tender's page, and its bids with their receipts
            page.goto(href + suffix)
            assert_no_server_error(page)
            _fits(page)
            shot(page, f"phone-{lang}-bidder-tender-{i}{suffix.replace('/', '-')}")
