"""Sealed-bid submission in the browser (issue 3, E26/E27): a bidder seals a bid on the sealing page, uploads
it straight away (in parts, resumable) and lands on the signed receipt; the receipt verifies with the
platform's key and matches the sealed file; the bid shows on the My bids page. Screenshots are kept."""

from __future__ import annotations

import hashlib

from core.signing import VerifierKey
from tender import receipts
from tests.e2e.conftest import assert_no_server_error, login, open_demo_tenders, shot, tr


def _tender_with_upload_form(page) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A demo tender accepting bids where bidder1's company is registered: (tender id, lot id)."""
    for tender in open_demo_tenders(page):
        page.goto(f"/bidder/tenders/{tender['id']}/bids")
        forms = page.locator("form.bid-upload")
        if forms.count():
            return tender["id"], int(forms.first.get_attribute("data-lot") or 0)
    raise AssertionError("no demo tender accepts a bid from bidder1")


def test_bidder_seals_uploads_and_sees_the_receipt(new_page, tmp_path):
    page = new_page()
    login(page, "bidder1", "Demo-2026-bidder")
    tender_id, lot_id = _tender_with_upload_form(page)
    shot(page, "bidder-my-bids-before")
    page.goto(f"/bidder/tenders/{tender_id}/seal")
    assert_no_server_error(page)
    page.select_option("#f-lot", str(lot_id))
    page.set_input_files(
        "#f-technical",
        files=[{"name": "技术标.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 tech " * 40_000}],
    )
    page.set_input_files(
        "#f-commercial",
        files=[{"name": "商务标.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 price"}],
    )
    page.fill("#f-price", "2345678.90")
    page.fill("#f-duration", "180")
    page.fill("#f-quality", "合格")
    page.click("#seal-button")
    page.locator("#upload-sealed:not([hidden])").wait_for(timeout=60000)
    with page.expect_download() as info:  # the bidder keeps a copy
        page.click("#download-sealed")
    sealed = tmp_path / "bid.sealed"
    info.value.save_as(sealed)
    with page.expect_navigation(url="**/bidder/bids/*/receipt", timeout=60000):
        page.click("#upload-sealed")
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)
    assert page.locator("h1").inner_text().strip() == tr("Bid receipt")
    data = sealed.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    assert sha in page.inner_text("body")
    shot(page, "bidder-bid-receipt")

    bid_id = int(page.url.rstrip("/").split("/")[-2])
    doc = page.request.get(f"/api/v1/bids/{bid_id}/receipt").json()
    key = page.request.get("/api/v1/audit/key").json()
    body = receipts.verify_receipt(doc, [VerifierKey.parse(k["verifier_key"]) for k in key["keys"]])
    assert (
        body["sha256"] == sha
        and body["size"] == len(data)
        and body["lot"]["id"] == lot_id
        and body["tender"]["id"] == tender_id
    )

    page.goto(f"/bidder/tenders/{tender_id}/bids")
    row = page.locator(f"tr[data-bid='{bid_id}']")
    assert row.get_attribute("data-status") == "submitted"
    assert tr("Submitted: this bid counts") in row.inner_text()
    shot(page, "bidder-my-bids-after")
