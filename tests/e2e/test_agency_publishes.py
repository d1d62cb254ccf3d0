"""An agency officer drafts a tender in the browser (a refused form keeps what was typed), uploads its
document, publishes it, and the public notice shows it in Chinese and in English."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from core.clock import CST
from tests.e2e.conftest import E2E_MARK, assert_no_server_error, login, register_keys_in_browser, shot, tr

TITLE = f"某某县第二中学实验室设备采购{E2E_MARK}"
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M")


def _fill_form(page, ceiling: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    now = datetime.now(CST)
    issue_start = datetime.combine((now + timedelta(days=1)).date(), datetime.min.time(), CST).replace(hour=9)
    values = {
        "title": TITLE,
        "contact_name": "李明",
        "contact_phone": "0571-88886666",
        "lots.0.name": "物理、化学实验室设备",
        "lots.0.estimated_price": "1000000",
        "lots.0.price_ceiling": ceiling,
        "lots.0.bid_security": "20000",
        "criteria.factors.0.name": "技术方案",
        "criteria.factors.0.points": "40",
        "criteria.factors.1.name": "售后服务",
        "criteria.factors.1.points": "30",
        "criteria.price.points": "30",
        "doc_issue_start": _local(issue_start),
        "doc_issue_end": _local(issue_start + timedelta(days=7)),
        "bid_deadline": _local(
            datetime.combine((now + timedelta(days=25)).date(), datetime.min.time(), CST).replace(
                hour=9, minute=30
            )
        ),
        "opening_place": "某某县公共资源交易中心开标一室",
        "key_threshold": "2",
    }
    for name, value in values.items():
        page.fill(f"[id='f-{name}']", value)
    page.select_option("#f-purchaser_id", label="某某县教育局")
    page.select_option("#f-category", "goods")
    page.select_option("#f-evaluation_method", "comprehensive")
    page.fill(
        "[id='f-criteria.qualification']",
        "具有独立承担民事责任的能力\n具有良好的商业信誉和健全的财务会计制度",
    )
    page.select_option("[id='f-criteria.factors.0.kind']", "subjective")
    page.select_option("[id='f-criteria.factors.1.kind']", "objective")
    boxes = page.locator("input[name=key_holder_ids]")
    assert boxes.count() >= 3
    for i in range(3):
        boxes.nth(i).check()
    return values


def _save(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("form button.primary[name=action][value=save]").click()
    page.wait_for_load_state("networkidle")


def test_agency_drafts_uploads_and_publishes(new_page, tmp_path):
    page = new_page()
    login(page, "agency1", "Demo-2026-agency")
    page.goto("/agency/tenders/new")
    assert_no_server_error(page)

    # A price ceiling that is not an amount: the form comes back with the error at that field and keeps
    # everything typed.
    values = _fill_form(page, ceiling="abc")
    _save(page)
    assert page.url.endswith("/agency/tenders/new")
    ceiling_cell = page.locator("td", has=page.locator("[id='f-lots.0.price_ceiling']"))
    assert "invalid" in (ceiling_cell.get_attribute("class") or "")
    expected = tr("Lot %(n)s: the price ceiling is not an amount in yuan, e.g. 1200000.00", n=1)
    assert ceiling_cell.locator(".field-error").inner_text().strip() == expected
    assert page.locator(".errors a[href='#f-lots.0.price_ceiling']").inner_text().strip() == expected
    for name, value in values.items():
        assert page.input_value(f"[id='f-{name}']") == (value if name != "lots.0.price_ceiling" else "abc"), (
            name
        )
    assert page.locator("#f-purchaser_id option:checked").inner_text() == "某某县教育局"
    assert page.input_value("#f-category") == "goods"
    assert page.input_value("[id='f-criteria.factors.0.kind']") == "subjective"
    assert "具有良好的商业信誉" in page.input_value("[id='f-criteria.qualification']")
    assert page.locator("input[name=key_holder_ids]:checked").count() == 3
    shot(page, "agency-form-error")

    # Fixed: the draft is saved and the workspace opens.
    page.fill("[id='f-lots.0.price_ceiling']", "1100000")
    _save(page)
    m = re.search(r"/agency/tenders/(\d+)$", page.url)
    assert m, page.url
    tender_id = int(m.group(1))
    assert page.locator(".flash").inner_text().strip() == tr("The draft tender was saved.")
    assert page.locator("h1").inner_text().startswith(TITLE)
    assert tr("status:draft") in page.locator("h1 .badge").inner_text()
    assert "1,100,000.00" in page.locator("section.card").first.inner_text()
    shot(page, "agency-draft")

    # The tender document, then publication.
    pdf = tmp_path / "招标文件.pdf"
    pdf.write_bytes(MINIMAL_PDF)
    page.set_input_files("#f-document", str(pdf))
    page.locator("form[action$='/documents'] button", has_text=tr("Upload")).click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#f-documents td", has_text="招标文件.pdf").count() == 1
    # issue 3: the three named key holders register their browser-made public keys before publication
    assert register_keys_in_browser(new_page, tender_id) == 3
    page.reload()
    assert page.locator("#publish li").count() == 0, page.locator("#publish").inner_text()
    page.locator("form[action$='/publish'] button").click()
    page.wait_for_load_state("networkidle")
    # issue 16: publishing starts the legal clock, so the page says what follows and asks first
    assert page.locator("h1").inner_text().strip() == tr("Publish the tender notice?")
    shot(page, "publish-confirm")
    page.locator("#confirm button").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".flash").inner_text().strip() == tr("The tender notice was published.")
    assert tr("status:published") in page.locator("h1 .badge").inner_text()

    # The public notice, seen by anyone, in Chinese and in English.
    public = new_page()
    public.goto(f"/tenders/{tender_id}")
    assert_no_server_error(public)
    assert public.locator("h1").inner_text().strip() == TITLE
    assert public.locator(".notice-head .badge").inner_text().strip() == tr("status:published") == "招标中"
    assert public.get_by_text("某某县公共资源交易中心开标一室").count() == 1
    # the issue period starts tomorrow: the document is listed with the period's dates, without a link yet
    assert public.locator("#documents li", has_text="招标文件.pdf").count() == 1
    assert public.locator("a[href^='/documents/']", has_text="招标文件.pdf").count() == 0
    issue_start = values["doc_issue_start"].replace("T", " ")
    assert issue_start in public.locator("#documents-when").inner_text()
    shot(public, "public-notice-zh")

    english = new_page(lang="en")
    english.goto(f"/tenders/{tender_id}")
    assert_no_server_error(english)
    assert english.locator("html").get_attribute("lang") == "en"
    assert english.locator("h1").inner_text().strip() == TITLE
    badge = english.locator(".notice-head .badge").inner_text().strip()
    assert badge and "status:" not in badge and badge != "招标中"
    assert english.get_by_role("heading", name="Lots").count() == 1
    shot(english, "public-notice-en")
