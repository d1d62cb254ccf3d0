"""The marketplace end to end in a browser (issue 15): an intermediary applies and the centre approves it; a
project owner posts an optimal-price purchase, its browser making the key file the quotes are sealed to;
three intermediaries quote; after the selection time the owner adds its random number and opens the sealed
quotes with its key file; the selection runs; the selected intermediary enters the contract, the owner
confirms, accepts and rates; the directory shows the stars. Screenshots of every step."""

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
from marketplace.models import Entry, Purchase
from tests.e2e.conftest import assert_no_server_error, login, pages_on, shot, tr
from tests.factories.marketplace_browser import PASSWORD, walk_world
from tests.support import serving

KEY_PASSPHRASE = "owner-key-pass-2026"


@pytest.fixture(scope="module")
def market_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    data = tmp_path_factory.mktemp("e2e-marketplace")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'market.db'}",
        blob_dir=data / "blobs",
        secret_key=uuid.uuid4().hex,
        scheduler_interval=0,
        demo=False,
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    with transaction(make_sessionmaker(engine)) as session:
        w = walk_world(session)
    w.factory = make_sessionmaker(engine)
    w.tmp = data
    with serving(settings) as url:
        w.url = url
        yield w
    engine.dispose()
    clock.reset()


def local(delta: timedelta) -> str:
    return clock.to_cst(clock.now() + delta).strftime("%Y-%m-%dT%H:%M")


def submit(page, form: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"{form} button").first.click()
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)


def test_apply_post_quote_select_accept_and_rate(browser, market_server):  # type: ignore[no-untyped-def]
    w = market_server
    with pages_on(browser, w.url) as page_for:
        # 1. an intermediary applies
        new = page_for()
        login(new, "mc-new", PASSWORD)
        new.goto("/intermediary/entry")
        new.check("input[name=services][value=testing]")
        new.fill("#f-licence", "91130200MA0NEW001X")
        new.fill("#f-quals", "检验检测机构资质认定（CMA） | 甲级 | 2030-12-31")
        new.fill("#f-staff", "王五 | 注册检测师 | JC-0009")
        new.fill("#f-credit", "信用中国 2026-12 报告")
        for name in ("independent_legal_person", "no_violation_3y", "internal_rules"):
            new.check(f"input[name={name}]")
        new.fill("#f-commit", "赵六")
        submit(new, "form[action='/intermediary/entry/submit']")
        shot(new, "market-1-applied")
        # 2. the centre approves it
        admin = page_for()
        login(admin, "mc-admin", PASSWORD)
        with w.factory() as s:
            entry_id = s.scalars(select(Entry.id).order_by(Entry.id.desc())).first()
        admin.goto(f"/admin/marketplace/entries/{entry_id}")
        shot(admin, "market-2-review")
        submit(admin, f"form[action='/admin/marketplace/entries/{entry_id}/approve']")
        with w.factory() as s:
            assert s.get(Entry, entry_id).status == "approved"
        # 3. the owner posts an optimal-price purchase; its browser makes the purchase key
        owner = page_for()
        login(owner, "mc-owner", PASSWORD)
        owner.goto("/owner/purchases")
        owner.select_option("#f-service", "testing")
        owner.fill("#f-project", "某河道治理工程水质检测（浏览器测试）")
        owner.fill("#f-ceiling", "500000")
        owner.select_option("#f-method", "optimal")
        owner.fill("#f-deadline", local(timedelta(hours=1)))
        owner.fill("#f-selection", local(timedelta(hours=2)))
        owner.fill("#f-key-pass", KEY_PASSPHRASE)
        with owner.expect_download() as got:
            owner.click("#make-quote-key")
        key_file = w.tmp / "purchase-key.json"
        got.value.save_as(str(key_file))
        owner.wait_for_function("document.getElementById('f-quote-key').value.length === 43")
        assert tr(
            "The key file is saved to your downloads. Keep it and its passphrase: without them the quotes "
            "cannot be opened and the purchase fails."
        ) in owner.inner_text("#quote-key-status")
        shot(owner, "market-3-post")
        owner.locator("form[action='/owner/purchases/new'] button.primary").click()
        owner.wait_for_load_state("networkidle")
        assert_no_server_error(owner)
        with w.factory() as s:
            pid = s.scalars(select(Purchase.id).order_by(Purchase.id.desc())).first()
            assert s.get(Purchase, pid).quote_key
        # 4. three intermediaries quote
        for username, quote in (("mc-firm1", "480000"), ("mc-firm2", "455000"), ("mc-new", "470000")):
            firm = new if username == "mc-new" else page_for()
            if username != "mc-new":
                login(firm, username, PASSWORD)
            firm.goto("/intermediary/purchases")
            firm.fill(f"#f-quote-{pid}", quote)
            submit(firm, f"form[action='/intermediary/purchases/{pid}/sign-up']")
            assert (
                tr(
                    "Your quote is sealed (fingerprint %(sha)s); nobody can read it before the selection "
                    "time.",
                    sha="",
                )[:6]
                in firm.content()
            )
        shot(new, "market-4-quoted")
        # before the deadline the owner sees no name, count or quote
        owner.goto(f"/owner/purchases/{pid}")
        for secret in ("480,000", "455,000", "冀东检测"):
            assert secret not in owner.content()
        # 5. after the selection time: close, add the number, open the quotes with the key file
        clock.shift(timedelta(hours=2, minutes=1))
        owner.goto(f"/owner/purchases/{pid}")
        submit(owner, f"form[action='/owner/purchases/{pid}/close']")
        owner.click("#make-number")
        owner.wait_for_load_state("networkidle")
        submit(owner, "#reveal-form")
        assert "455,000" not in owner.content()  # still sealed until the key is given
        shot(owner, "market-5-open-quotes")
        owner.set_input_files("#f-key-file-pick", str(key_file))
        owner.wait_for_function("document.getElementById('f-key-file').value.length > 100")
        owner.fill("#f-key-passphrase", KEY_PASSPHRASE)
        submit(owner, "#release-form")
        with w.factory() as s:
            p = s.get(Purchase, pid)
            assert p.status == "selected" and p.chosen_org_id is not None
            chosen_user = {"冀东检测有限公司": "mc-firm1", "唐山水质检测中心": "mc-firm2"}.get(
                s.get(
                    __import__("accounts.models", fromlist=["Organisation"]).Organisation, p.chosen_org_id
                ).name,
                "mc-new",
            )
        owner.goto(f"/marketplace/purchases/{pid}")
        assert "455,000" in owner.content() and "480,000" in owner.content()
        shot(owner, "market-6-selected")
        # 6. contract, acceptance, rating
        chosen = page_for()
        login(chosen, chosen_user, PASSWORD)
        chosen.goto(f"/marketplace/purchases/{pid}")
        chosen.fill("#f-number", "HT-2026-0101")
        chosen.fill("#f-amount", "460000")
        chosen.set_input_files(
            "#f-contract-file",
            {
                "name": "检测服务合同.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.7 signed contract",
            },
        )
        submit(chosen, f"form[action='/marketplace/purchases/{pid}/contract']")
        assert chosen.locator("#contract-file").is_visible()
        owner.goto(f"/marketplace/purchases/{pid}")
        submit(owner, f"form[action='/marketplace/purchases/{pid}/contract/confirm']")
        # the intermediary uploads its service result; then the owner accepts it
        chosen.goto(f"/marketplace/purchases/{pid}")
        chosen.set_input_files(
            "#f-result-file",
            {
                "name": "水质检测报告.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.7 the test report",
            },
        )
        submit(chosen, "#result-form")
        assert chosen.locator("#result-file").inner_text() == "水质检测报告.pdf"
        shot(chosen, "market-6b-result-uploaded")
        owner.goto(f"/marketplace/purchases/{pid}")
        owner.locator(f"form[action='/owner/purchases/{pid}/acceptance'] button[value=accepted]").click()
        owner.wait_for_load_state("networkidle")
        for k in ("quality", "timeliness", "attitude", "fees", "conduct"):
            owner.select_option(f"#f-{k}", "5")
        submit(owner, f"form[action='/marketplace/purchases/{pid}/rating']")
        shot(owner, "market-7-rated")
        owner.goto("/marketplace")
        assert "★★★★★" in owner.content()
        shot(owner, "market-8-directory")
        owner.click("#directory a[href$='/credit']")
        owner.wait_for_load_state("networkidle")
        assert_no_server_error(owner)
        shot(owner, "market-9-credit")
