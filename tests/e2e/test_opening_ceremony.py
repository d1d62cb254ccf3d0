"""The opening ceremony in the browser (issue 3): a tender reaches its deadline on a live server (the server's
own deadline sweep starts the opening), two key holders load their key files in the browser, unwrap their
parts locally and submit them; a bidder and a monitor watch the record appear live. Screenshots are kept."""

from __future__ import annotations

import json
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
from tender import drafting, keyfiles, keyholders
from tests.e2e.conftest import assert_no_server_error, login, pages_on, shot, tr
from tests.factories.accounts import TEST_PASSWORD, Maker, cast
from tests.factories.bids import seal_bid
from tests.factories.tenders import PDF, tender_input
from tests.support import serving

PASSPHRASE = "an opening passphrase"


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """Its own server (scheduler every second), with a tender whose deadline is a few seconds away and three
    bids."""
    data = tmp_path_factory.mktemp("e2e-opening")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'e2e.db'}",
        blob_dir=data / "blobs",
        secret_key=uuid.uuid4().hex,
        scheduler_interval=1,
        demo=False,
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    blobs = open_store(settings)
    out = SimpleNamespace(key_files={})
    with transaction(make_sessionmaker(engine)) as s:
        w = cast(s, Maker(s))
        t = drafting.create_tender(s, w.agency, tender_input(w, title="开标仪式浏览器测试（浏览器测试）"))
        drafting.add_document(
            s, w.agency, blobs, t.id, drafting.FileInput("tender-documents.pdf", [PDF]), max_bytes=1 << 20
        )
        for user, actor in (
            (w.agency_user, w.agency),
            (w.monitor_user, w.monitor),
            (w.centre_user, w.centre),
        ):
            private, doc = keyfiles.new_key_file(PASSPHRASE, user.username)
            keyholders.register_key(s, actor, t.id, doc["public_key"])
            out.key_files[user.username] = doc
        drafting.publish(s, w.agency, t.id)
        s.flush()
        s.refresh(t)
        for org, user in (
            (w.bidder_org, w.bidder_user),
            (w.other_bidder_org, w.other_bidder_user),
            (w.third_bidder_org, w.third_bidder_user),
        ):
            seal_bid(s, blobs, t, org, user, t.lots[0], total_yuan=880_000 + org.id)
        t.bid_deadline = clock.now() + timedelta(seconds=4)  # the server's own sweep starts the opening
        out.tender_id = t.id
        out.users = {k: getattr(w, f"{k}_user").username for k in ("agency", "monitor", "centre", "bidder")}
    engine.dispose()
    with serving(settings) as url:
        out.url = url
        yield out


@pytest.fixture
def new_page(browser, ceremony):  # type: ignore[no-untyped-def]
    """Pages on this module's own server (the shared demo server's new_page points elsewhere)."""
    with pages_on(browser, ceremony.url) as make:
        yield make


def _holder_submits(page, c: SimpleNamespace, who: str) -> None:  # type: ignore[no-untyped-def]
    login(page, c.users[who], TEST_PASSWORD)
    page.goto(f"/tenders/{c.tender_id}/opening")
    assert_no_server_error(page)
    page.locator("#key-panel").wait_for()
    page.set_input_files(
        "#key-file",
        files=[
            {
                "name": f"{who}.etkey.json",
                "mimeType": "application/json",
                "buffer": json.dumps(c.key_files[c.users[who]]).encode(),
            }
        ],
    )
    page.fill("#key-passphrase", PASSPHRASE)
    page.click("#unwrap-submit")
    done = tr("Parts accepted: %(accepted)s. Refused: %(refused)s.", accepted="6", refused="0")
    page.locator("#key-status", has_text=done).wait_for(timeout=60000)
    shot(page, f"opening-{who}-submitted")


def test_two_holders_open_in_the_browser_and_the_record_appears_live(ceremony, new_page):
    c = ceremony
    watchers = {}
    for who in ("bidder", "monitor"):
        page = new_page()
        login(page, c.users[who], TEST_PASSWORD)
        page.goto(f"/tenders/{c.tender_id}/opening")
        assert_no_server_error(page)
        watchers[who] = page
    # the deadline passes; the pages see the opening start by themselves (the stream reloads them)
    for page in watchers.values():
        page.locator("#opening-status").wait_for(timeout=30000)
        assert "Bidder One Ltd" not in page.inner_text("body")  # who bid is not shown before the record
    shot(watchers["bidder"], "opening-bidder-waiting")
    page = watchers["bidder"]
    page.click("#check-in")
    page.wait_for_load_state("networkidle")
    assert tr("Your company is checked in.") in page.inner_text("body")
    for who in ("agency", "centre"):
        _holder_submits(new_page(), c, who)
    for who, page in watchers.items():
        page.locator("#record").wait_for(timeout=60000)
        text = page.inner_text("#record")
        assert "Bidder One Ltd" in text and "Bidder Two Ltd" in text and tr("Opened") in text
        assert len(page.inner_text("#record-sha256")) == 64
        shot(page, f"opening-record-live-{who}")
    pdf = watchers["monitor"].request.get(f"{c.url}/tenders/{c.tender_id}/opening/record.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
