"""Walks of the account protections of issue 12, item 8, as a bidder meets them in Chromium: wrong passwords
slow logins down with a message that says how long to wait (no lock a stranger could set off), a weak or
reused new password is refused with the reason, a changed password ends the other sessions, and a link on
another site that would record a download under the bidder's name first asks. Screenshots in Chinese and
English."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from cli.database import upgrade_database
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from storage import open_store
from tests.e2e.conftest import assert_no_server_error, login, pages_on, shot, tr
from tests.factories.accounts import TEST_PASSWORD, Maker
from tests.factories.tenders import published_tender
from tests.support import serving

NEW_PASSWORD = "Quiet-harbour-lanterns-2026"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    data = tmp_path_factory.mktemp("e2e-accounts")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'e2e.db'}",
        blob_dir=data / "blobs",
        secret_key=uuid.uuid4().hex,
        scheduler_interval=60,
        demo=False,
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    out = SimpleNamespace()
    with transaction(make_sessionmaker(engine)) as s:
        w = published_tender(s, Maker(s), open_store(settings))
        out.bidder = w.bidder_user.username
        out.other = w.other_bidder_user.username
        out.third = w.third_bidder_user.username
        out.tender_id = w.tender.id
        out.document_id = w.doc.id
    engine.dispose()
    with serving(settings) as url:
        out.url = url
        yield out


@pytest.fixture
def new_page(browser, world):  # type: ignore[no-untyped-def]
    with pages_on(browser, world.url) as make:
        yield make


def _try_login(page, username: str, password: str) -> str:  # type: ignore[no-untyped-def]
    login(page, username, password)
    assert_no_server_error(page)
    errors = page.locator(".errors")
    return errors.inner_text() if errors.count() else ""


def test_wrong_passwords_slow_logins_down_without_a_lock(new_page, world):
    page = new_page()
    first = _try_login(page, world.bidder, "not-the-password")
    assert tr("The user name or password is wrong.") in first
    assert page.locator("#f-username").input_value() == world.bidder  # kept; the password is not
    waits = []
    for _ in range(6):
        text = _try_login(page, world.bidder, "still-not-it")
        found = re.search(r"(\d+)", text) if "秒" in text else None
        if found:
            waits.append(int(found.group(1)))
    assert waits, "repeated failures never asked to wait"
    shot(page, "login-throttled")
    english = new_page("en")
    text = _try_login(english, world.bidder, "still-not-it")
    assert "Wait" in text or "wrong" in text, text
    shot(english, "login-throttled-en")


def test_a_weak_or_reused_password_is_refused_and_a_change_ends_other_sessions(new_page, world):
    # another account than the throttled one above (the throttle is by account and address together)
    mine, elsewhere = new_page(), new_page()
    for page in (mine, elsewhere):
        assert _try_login(page, world.third, TEST_PASSWORD) == ""
    mine.goto("/account")

    def change(current: str, new: str) -> str:
        mine.fill("#f-current", current)
        mine.fill("#f-new", new)
        if mine.locator("#f-new2").count():
            mine.fill("#f-new2", new)
        mine.locator("form[action='/account/password'] button").click()
        mine.wait_for_load_state("networkidle")
        assert_no_server_error(mine)
        errors = mine.locator(".errors")
        return errors.inner_text() if errors.count() else ""

    weak = change(TEST_PASSWORD, "password1234")
    assert weak, "a weak password was accepted"
    shot(mine, "password-weak-refused")
    reused = change(TEST_PASSWORD, TEST_PASSWORD)
    assert reused and reused != weak, reused
    shot(mine, "password-reused-refused")
    assert change(TEST_PASSWORD, NEW_PASSWORD) == ""
    assert mine.locator(".flash").count() == 1
    shot(mine, "password-changed")

    elsewhere.goto("/account")
    assert "/login" in elsewhere.url, "the other session is still logged in after the change"
    assert _try_login(elsewhere, world.third, NEW_PASSWORD) == ""


def test_a_link_on_another_site_asks_before_recording_a_download(new_page, world):
    page = new_page()
    assert _try_login(page, world.other, TEST_PASSWORD) == ""
    target = f"{world.url}/documents/{world.document_id}"
    # a page of no site of ours (a blank page: an opaque origin) in the same browser links to the download
    page = page.context.new_page()
    page.set_content(f'<a id="lure" href="{target}">招标文件</a>')
    page.click("#lure")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == tr("You came here from another site")
    assert tr("downloaded this tender document") in page.inner_text("main")
    shot(page, "cross-site-download-confirm")
    with page.expect_download() as info:
        page.locator("a.button", has_text=tr("Go on")).click()
    assert info.value.suggested_filename.endswith(".pdf")
