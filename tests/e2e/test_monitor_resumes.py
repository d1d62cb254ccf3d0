"""A monitor resumes a suspended procedure with a new bid deadline (issue 12, item 6): a deadline the law does
not allow is refused at the field with the earliest allowed date, the reason typed is kept, and an allowed
deadline resumes the procedure and the public notice says the deadline was set at the resumption, not
extended by a clarification. Screenshots in Chinese and English."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest

from cli.database import upgrade_database
from core import clock
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from storage import open_store
from tests.e2e.conftest import assert_no_server_error, login, pages_on, shot, tr
from tests.factories.accounts import TEST_PASSWORD, Maker
from tests.factories.tenders import published_tender
from tests.support import serving

REASON = "经核查，投诉事项不成立，恢复招标活动。"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """Its own server with one published tender (deadline 25 days ahead) and its supervising monitor."""
    data = tmp_path_factory.mktemp("e2e-resume")
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
        out.tender_id = w.tender.id
        out.monitor = w.monitor_user.username
        out.deadline = clock.as_utc(w.deadline)
    engine.dispose()
    with serving(settings) as url:
        out.url = url
        yield out


@pytest.fixture
def new_page(browser, world):  # type: ignore[no-untyped-def]
    with pages_on(browser, world.url) as make:
        yield make


def _local(moment) -> str:  # type: ignore[no-untyped-def]
    """A datetime-local field's value in China Standard Time."""
    return moment.astimezone(clock.CST).strftime("%Y-%m-%dT%H:%M")


def _resume(page, reason: str, deadline: str) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("form[action$='/resume']")
    form.locator("#f-reason").fill(reason)
    form.locator("#f-new_deadline").fill(deadline)
    form.locator("button.primary").click()
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)


def test_a_resume_deadline_is_checked_as_at_publication(new_page, world):
    page = new_page()
    login(page, world.monitor, TEST_PASSWORD)
    page.goto(f"/monitor/tenders/{world.tender_id}")
    page.fill("#f-reason", "接到投诉，暂停招标活动待核查。")
    page.locator("form[action$='/suspend'] button").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("form[action$='/resume']").count() == 1

    # Ten days from now is before the 20 days from the issue of documents the law asks (L24).
    too_soon = _local(clock.now() + timedelta(days=10))
    _resume(page, REASON, too_soon)
    field = page.locator("div.invalid", has=page.locator("#f-new_deadline"))
    errors = field.locator(".field-error").all_inner_texts()
    assert errors, page.inner_text("main")[:800]
    assert any(tr("Resume") not in e and "20" in e for e in errors), errors
    # nothing typed is lost: the reason and the refused deadline are still there
    assert page.locator("form[action$='/resume'] #f-reason").input_value() == REASON
    assert page.locator("#f-new_deadline").input_value() == too_soon
    assert page.locator("h1 .badge", has_text=tr("Suspended by a monitor")).count() == 1
    shot(page, "monitor-resume-deadline-refused")

    english = new_page("en")
    login(english, world.monitor, TEST_PASSWORD)
    english.goto(f"/monitor/tenders/{world.tender_id}")
    _resume(english, "Complaint unfounded; resuming.", too_soon)
    en_errors = english.locator("div.invalid .field-error").all_inner_texts()
    assert en_errors and all(e.isascii() for e in en_errors), en_errors
    shot(english, "monitor-resume-deadline-refused-en")

    # Five days after the old deadline: allowed, and the notice says where the new deadline comes from.
    allowed = world.deadline + timedelta(days=5)
    _resume(page, REASON, _local(allowed))
    assert page.locator(".flash").inner_text().strip() == tr("The procedure is resumed.")
    shot(page, "monitor-resumed-with-deadline")

    public = new_page()
    public.goto(f"/tenders/{world.tender_id}")
    assert_no_server_error(public)
    text = public.inner_text("main")
    assert allowed.astimezone(clock.CST).strftime("%Y-%m-%d %H:%M") in text, text[:1500]
    assert "恢复" in text and "澄清" not in text.split("投标截止")[1][:200], text[:1500]
    shot(public, "public-resumed-with-deadline")
