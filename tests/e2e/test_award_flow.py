"""The award in Chromium (issue 14): after the publicity the purchaser confirms the award through its
confirmation page, the agency records the contract with its signed file, the public reads the result notice
and the published contract; screenshots of each step."""

from __future__ import annotations

from core import clock
from tests.e2e.conftest import pages_on, shot, tr
from tests.factories.accounts import TEST_PASSWORD
from tests.factories.award import award_world, past
from tests.support import serving


def _login(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#f-username", username)
    page.fill("#f-password", TEST_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_the_award_the_contract_and_the_public_result(browser, db, make, tmp_path, settings):  # type: ignore[no-untyped-def]
    from storage import open_store

    w = award_world(db, make, open_store(settings), tmp_path)
    past(w)
    db.commit()
    t = w.tender
    contract = tmp_path / "合同.pdf"
    contract.write_bytes(b"%PDF-1.7\n% the signed contract\n%%EOF\n")
    with serving(settings) as url, pages_on(browser, url) as new_page:
        page = new_page()
        _login(page, w.purchaser_user.username)
        page.goto(f"/award/tenders/{t.id}")
        shot(page, "award-1-purchaser-before")
        page.click("#confirm-award button")
        page.wait_for_selector("#confirm")
        assert tr("Award the tender to this candidate?") in page.inner_text("h1")
        page.click("#confirm button.primary")
        page.wait_for_selector("#notices")
        assert tr("Award notice") in page.inner_text("#notices")
        shot(page, "award-2-purchaser-awarded")
        agency = new_page()
        _login(agency, w.agency_user.username)
        agency.goto(f"/award/tenders/{t.id}")
        amount = agency.input_value("#f-amount")
        agency.fill("#f-performance_bond", f"{float(amount) / 20:.2f}")
        agency.fill("#f-signed_on", clock.to_cst(clock.now()).date().isoformat())  # the server's today
        agency.set_input_files("#f-file", str(contract))
        agency.click("#contract-form button")
        agency.wait_for_selector("#confirm")
        shot(agency, "award-3-agency-contract-confirm")
        agency.click("#confirm button.primary")
        agency.wait_for_selector("#contract")
        assert "合同.pdf" in agency.inner_text("#contract")
        shot(agency, "award-4-agency-contract-recorded")
        public = new_page()
        public.goto(f"/tenders/{t.id}/result")
        assert w.bidder_org.name in public.inner_text("#winner")
        shot(public, "award-5-public-result")
        public.click("#contract-link")
        public.wait_for_selector("#contract")
        shot(public, "award-6-public-contract")
        english = new_page("en")
        english.goto(f"/tenders/{t.id}/result")
        assert "Result announcement" in english.inner_text("h1")
