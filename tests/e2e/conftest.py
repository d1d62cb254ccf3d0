"""Browser tests: the real app on loopback (SQLite, demo data) driven by Playwright in Debian's Chromium.
Screenshots are kept under test-artifacts/screenshots/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from cli.database import upgrade_database
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from core.signing import signing_key
from storage import open_store
from tests.support import missing_service, serving

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from demo import county as demo

    data = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'e2e.db'}",
        blob_dir=data / "blobs",
        secret_key=uuid.uuid4().hex,
        scheduler_interval=2,
        demo=True,
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    with transaction(make_sessionmaker(engine)) as session:
        demo.load(
            session, open_store(settings), data / "demo-keys", signing_key(settings.data_dir, settings.origin)
        )
    engine.dispose()
    with serving(settings) as url:
        yield url


@pytest.fixture(scope="session")
def demo_keys(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo key holders' key files (<username>.etkey.json, passphrase demo.DEMO_KEY_PASSPHRASE)."""
    folders = list(tmp_path_factory.getbasetemp().glob("e2e*/demo-keys"))
    assert folders, "the live server's demo wrote no key files"
    return folders[0]


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        missing_service(
            "Debian's chromium is not installed at /usr/bin/chromium (apt-get "
            "install chromium fonts-noto-cjk)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def pages_on(browser, base_url: str) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A factory of pages on `base_url`, each in a fresh context (lang="en" sets the English cookie). A
    Content-Security-Policy violation on any of them fails the test: the policy (web/security.py) would block
    the page's own script in every real browser too."""
    contexts = []
    violations: list[str] = []

    def watch(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    def make(lang: str = "zh"):  # type: ignore[no-untyped-def]
        ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="zh-CN")
        if lang == "en":
            ctx.add_cookies([{"name": "lang", "value": "en", "url": base_url}])
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        page.on("console", watch)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert violations == [], f"the page broke the Content-Security-Policy: {violations}"


@pytest.fixture
def new_page(browser, live_server):  # type: ignore[no-untyped-def]
    """Pages on the shared demo server."""
    with pages_on(browser, live_server) as make:
        yield make


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("networkidle")


# ---------------------------------------------------------------- helpers for the browser tests

# in the titles of tenders the browser tests create, so that "demo tender" lookups skip them
E2E_MARK = "（浏览器测试）"


def tr(msgid: str, **params: object) -> str:
    """The Chinese interface text of a msgid, as the pages show it (the default language): its rule codes as
    plain references (the text of their links, web.rule_refs)."""
    from web.rule_refs import translate_plain

    return translate_plain("zh", msgid, params or None)


def open_demo_tenders(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """Demo notices accepting bids, newest first, from the public JSON API (not those the tests created)."""
    r = page.request.get("/api/v1/notices?status=open&page_size=100")
    assert r.ok, r.status
    items = [t for t in r.json()["items"] if E2E_MARK not in t["title"]]
    assert len(items) >= 3, f"the demo should have several open tenders: {items}"
    return items


def assert_no_server_error(page) -> None:  # type: ignore[no-untyped-def]
    body = page.inner_text("body")
    assert "Internal Server Error" not in body
    assert page.locator("h1", has_text=tr("Error")).count() == 0, body[:500]


# demo accounts that can be named key holders (agency, monitor, centre), with their passwords
DEMO_HOLDERS = {
    "agency1": "Demo-2026-agency",
    "agency2": "Demo-2026-agency",
    "monitor1": "Demo-2026-monitor",
    "monitor2": "Demo-2026-monitor",
    "centre1": "Demo-2026-centre",
    "centre2": "Demo-2026-centre",
}


def register_keys_in_browser(new_page, tender_id: int) -> int:  # type: ignore[no-untyped-def]
    """Every demo key holder named on the tender makes a key pair in its browser and registers it (used by
    the agency's publication flow: publication needs every holder's key). Returns how many registered."""
    count = 0
    for username, password in DEMO_HOLDERS.items():
        page = new_page()
        login(page, username, password)
        response = page.goto(f"/keys/tenders/{tender_id}")
        if response is None or response.status != 200:
            continue
        saved = make_and_save_key(page, "a long browser passphrase")
        prove_saved_key(
            page, saved, "a long browser passphrase"
        )  # issue 12: the register button waits for it
        page.locator("#register-key:enabled").wait_for(timeout=60000)
        page.click("#register-key")
        page.wait_for_load_state("networkidle")
        assert page.locator("#registered-key-id").count() == 1, page.inner_text("body")[:500]
        count += 1
    return count


def make_and_save_key(page, passphrase: str) -> Path:  # type: ignore[no-untyped-def]
    """On a key holder's page: create a key pair in the browser and download its key file, as a person saves
    it. Returns the saved file's path."""
    page.fill("#pass1", passphrase)
    page.fill("#pass2", passphrase)
    page.click("#make-key")
    page.locator("#download-key:not([hidden])").wait_for(timeout=60000)
    with page.expect_download() as info:
        page.click("#download-key")
    download = info.value
    saved = Path(download.path()).parent / download.suggested_filename  # under the name the page gave it
    download.save_as(saved)
    return saved


def prove_saved_key(page, path: Path, passphrase: str) -> None:  # type: ignore[no-untyped-def]
    """Load a saved key file back and type its passphrase on the key holder's page, then press the check."""
    page.set_input_files("#proof-file", str(path))
    page.fill("#proof-pass", passphrase)
    page.click("#check-key")
