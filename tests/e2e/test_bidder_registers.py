"""The public notice list and its search, an anonymous document download (E20), and a bidder registering
for a lot once: a second registration for the same lot is refused."""

from __future__ import annotations

from tests.e2e.conftest import assert_no_server_error, login, open_demo_tenders, shot, tr


def test_public_list_and_search(new_page):
    page = new_page()
    page.goto("/")
    assert_no_server_error(page)
    rows = page.locator("table.notice-table tbody tr")
    assert rows.count() >= 5
    assert page.locator("table.notice-table .badge", has_text=tr("status:published")).count() >= 3

    wanted = open_demo_tenders(page)[1]["title"]
    others = [t["title"] for t in open_demo_tenders(page) if t["title"] != wanted]
    part = wanted[3:9]  # e.g. "人民医院医疗" of 某某县人民医院医疗设备采购
    assert all(part not in t for t in others), "pick a part of the title that only this tender has"
    page.fill("#f-q", part)
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "q=" in page.url
    titles = page.locator("table.notice-table tbody tr td:nth-child(2)").all_inner_texts()
    assert wanted in titles
    assert all(part in t for t in titles), titles
    assert page.input_value("#f-q") == part
    shot(page, "public-list")

    page.fill("#f-q", "不存在的项目名称XYZ")
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("table.notice-table").count() == 0
    assert page.get_by_text(tr("No notice matches your search.")).count() == 1


def test_anonymous_download_needs_no_login(new_page, tmp_path):
    page = new_page()
    tender = open_demo_tenders(page)[0]
    page.goto(f"/tenders/{tender['id']}")
    assert page.locator("a[href^='/login']").count() >= 1, "the visitor is not logged in"
    link = page.locator("a[href^='/documents/']").first
    name = link.inner_text().strip()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == name
    saved = tmp_path / "doc"
    download.save_as(saved)
    data = saved.read_bytes()
    assert data[:4] in (b"%PDF", b"PK\x03\x04"), data[:16]
    assert "/login" not in page.url


def test_bidder_registers_once_per_lot(new_page):
    page = new_page()
    login(page, "bidder1", "Demo-2026-bidder")
    assert page.locator("a[href='/bidder']").count() == 1, "bidder1 is logged in"

    # An open demo tender bidder1 has not registered for: its lot rows still offer the registration form.
    tender_id = None
    for t in open_demo_tenders(page):
        page.goto(f"/bidder/tenders/{t['id']}")
        if page.locator("form[action$='/register']").count() and page.get_by_text("已于").count() == 0:
            tender_id = t["id"]
            break
    assert tender_id, "no open demo tender without a registration of bidder1"
    assert_no_server_error(page)

    row = page.locator("table tr", has=page.locator("form[action$='/register']")).first
    lot_name = row.locator("td").nth(1).inner_text().split("\n")[0].strip()
    lot_label = row.locator("td").first.inner_text().strip()
    number = next(n for n in range(1, 10) if tr("Lot %(n)s", n=n) == lot_label)

    # A second tab keeps the form open, as if the person had the page open twice.
    stale = page.context.new_page()
    stale.goto(f"/bidder/tenders/{tender_id}")

    row.locator("input[name=contact_name]").fill("马超")
    row.locator("input[name=contact_phone]").fill("13800138000")
    row.locator("button", has_text=tr("Register for lot %(n)s", n=number)).click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".flash").inner_text().strip() == tr("Your company is registered for the lot.")
    row = page.locator("table tbody tr", has_text=lot_name)
    assert "已于" in row.inner_text() and "报名" in row.inner_text()
    assert "马超 13800138000" in row.inner_text()
    assert row.locator("form").count() == 0, "no second registration form for the same lot"
    shot(page, "bidder-registered")

    # The stale form of the other tab: the second registration is refused, with the reason at the lot.
    stale_row = stale.locator("table tbody tr", has_text=lot_name)
    stale_row.locator("input[name=contact_name]").fill("马超")
    stale_row.locator("input[name=contact_phone]").fill("13800138000")
    stale_row.locator("form[action$='/register'] button").click()
    stale.wait_for_load_state("networkidle")
    assert_no_server_error(stale)
    message = tr("Your company is already registered for lot %(number)s.", number=number)
    assert stale.locator("#f-lot_id .field-error").inner_text().strip() == message
    assert stale.locator(".errors").inner_text().count(message) == 1

    # The public notice tells the company (and only it) that it registered.
    page.goto(f"/tenders/{tender_id}")
    assert lot_name in page.locator("section.mine").inner_text()
