"""A key holder registers its public key in the browser only after showing that its key file is saved (issue
12): it creates a key pair, downloads the key file, cannot register before loading it back, is told plainly
what is wrong with another key file, a wrong passphrase or a file that is no key file, and registers once the
saved file and its passphrase check out. Nothing typed is lost on the way. Screenshots are kept (zh)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from cli.database import upgrade_database
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from tender import drafting, keyfiles
from tests.e2e.conftest import (
    assert_no_server_error,
    login,
    make_and_save_key,
    pages_on,
    prove_saved_key,
    shot,
    tr,
)
from tests.factories.accounts import TEST_PASSWORD, Maker, cast
from tests.factories.tenders import tender_input
from tests.support import serving

PASSPHRASE = "my saved key passphrase"


@pytest.fixture(scope="module")
def holders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """Its own server with one draft tender whose three key holders (agency, monitor, centre) have no key
    yet."""
    data = tmp_path_factory.mktemp("e2e-keyholder")
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
        w = cast(s, Maker(s))
        t = drafting.create_tender(s, w.agency, tender_input(w, title="密钥登记浏览器测试（浏览器测试）"))
        out.tender_id = t.id
        out.users = {k: getattr(w, f"{k}_user").username for k in ("agency", "monitor", "centre")}
    engine.dispose()
    with serving(settings) as url:
        out.url = url
        yield out


@pytest.fixture
def new_page(browser, holders):  # type: ignore[no-untyped-def]
    with pages_on(browser, holders.url) as make:
        yield make


def _wait_status(page, msgid: str, lang: str = "zh") -> None:  # type: ignore[no-untyped-def]
    text = tr(msgid) if lang == "zh" else msgid
    page.locator("#proof-status", has_text=text).wait_for(timeout=60000)


def test_a_key_is_registered_only_after_its_saved_file_is_loaded_back(new_page, holders, tmp_path):
    page = new_page()
    login(page, holders.users["monitor"], TEST_PASSWORD)
    page.goto(f"/keys/tenders/{holders.tender_id}")
    assert_no_server_error(page)
    assert page.locator("#registered-key-id").count() == 0
    assert page.locator("#register-key").is_disabled()

    # 1. create and save (download) the key file
    saved = make_and_save_key(page, PASSPHRASE)
    doc = json.loads(saved.read_text())
    public_key = page.input_value("#f-public_key")
    assert public_key == doc["public_key"]
    assert page.locator("#keygen-status").inner_text().strip() == tr(
        "Your key file is ready. Download it and keep it with its passphrase; then load the downloaded "
        "file below to show that it is saved, and register the public key."
    )

    # 2. registering without loading the file back is not possible: the button is disabled, and a submission
    #    forced by script is stopped with the reason
    assert page.locator("#register-key").is_disabled()
    page.evaluate("document.getElementById('register-form').requestSubmit()")
    _wait_status(
        page,
        "Before registering, load the key file you saved, type its passphrase and press “Check key file”: "
        "a key that was never saved could not open the bids.",
    )
    assert page.url.endswith(f"/keys/tenders/{holders.tender_id}")
    page.click("#check-key")  # the check without a file says what is missing
    _wait_status(page, "Choose the key file you saved.")

    # 3. another key file (one of the holder's older files, say), a wrong passphrase, a file that is no key
    #    file
    _, other = keyfiles.new_key_file(PASSPHRASE, "an older key")
    other_path = tmp_path / "older.etkey.json"
    other_path.write_text(json.dumps(other))
    prove_saved_key(page, other_path, PASSPHRASE)
    _wait_status(
        page,
        "This key file does not hold the private key of the public key to be registered: choose the file you "
        "saved for this key pair.",
    )
    assert page.locator("#register-key").is_disabled()
    shot(page, "keyholder-other-key-file-zh")

    prove_saved_key(page, saved, "not my passphrase")
    _wait_status(page, "The passphrase does not open this key file.")
    assert page.locator("#register-key").is_disabled()

    not_a_key = tmp_path / "notes.json"
    not_a_key.write_text('{"note": "this is not a key file"}')
    prove_saved_key(page, not_a_key, PASSPHRASE)
    _wait_status(page, "This is not a key file made by the platform or `etender keys new`.")
    assert page.locator("#register-key").is_disabled()
    # nothing entered was lost on the way
    assert page.input_value("#f-public_key") == public_key and page.input_value("#proof-pass") == PASSPHRASE

    # 4. the saved file and its passphrase: checked, then registered
    prove_saved_key(page, saved, PASSPHRASE)
    _wait_status(
        page,
        "The key file opens with your passphrase and holds the private key of this "
        "public key: you can register it now.",
    )
    assert page.locator("#register-key").is_enabled()
    shot(page, "keyholder-key-file-checked-zh")
    # editing the public key afterwards takes the permission back
    page.fill("#f-public_key", public_key + "x")
    _wait_status(page, "The public key has changed: load its key file again before registering.")
    assert page.locator("#register-key").is_disabled()
    page.fill("#f-public_key", public_key)
    prove_saved_key(page, saved, PASSPHRASE)
    page.locator("#register-key:enabled").wait_for(timeout=60000)
    page.click("#register-key")
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)
    assert page.locator(".flash").inner_text().strip() == tr(
        "Your public key is registered. Keep your key file and passphrase safe: you need them at the opening."
    )
    assert page.locator("#registered-key-id").inner_text().strip() == doc["key_id"]
    shot(page, "keyholder-key-registered-zh")


def test_the_proof_speaks_english_too(new_page, holders):
    page = new_page(lang="en")
    login(page, holders.users["centre"], TEST_PASSWORD)
    page.goto(f"/keys/tenders/{holders.tender_id}")
    assert_no_server_error(page)
    assert page.locator("#key-proof legend").inner_text().strip() == "Show that your key file is saved"
    page.click("#check-key")
    _wait_status(
        page,
        "There is no public key to check yet: create a key pair above or "
        "paste the public key of your key file.",
        lang="en",
    )
    saved = make_and_save_key(page, PASSPHRASE)
    prove_saved_key(page, saved, "wrong passphrase!")
    _wait_status(page, "The passphrase does not open this key file.", lang="en")
    assert page.locator("#register-key").is_disabled()
