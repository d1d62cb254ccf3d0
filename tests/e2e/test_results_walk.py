"""The whole results procedure in Chromium (issue 14), from a signed evaluation report: the agency publishes
the winning candidates from its tender's page, a bidder that is not no. 1 raises an objection in the bidder
portal (the procedure is suspended), the agency answers it (the procedure resumes), the purchaser cannot award
while the publicity runs; once it has run its course the purchaser confirms the award, the agency records the
contract, and the anonymous public reads the result notice, in Chinese and in English. Screenshots of each
step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from award.models import Publicity
from core import clock
from core.db import make_engine, make_sessionmaker
from tender.models import Tender
from tests.e2e.conftest import login, pages_on, shot, tr
from tests.factories.accounts import TEST_PASSWORD
from tests.factories.publicity import signed_world
from tests.factories.tenders import move_to
from tests.support import serving

OBJECTION = "第一中标候选人的类似项目业绩与投标文件所附合同金额不符，请予以核查。"
ANSWER = "经核查，合同金额以合同原件为准，业绩真实有效，异议不成立。"


def _read(settings, tender_id: int) -> tuple[str, Publicity | None]:  # type: ignore[no-untyped-def]
    """The tender's status and publicity as the server committed them (a session of its own)."""
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as s:
            status = s.scalar(select(Tender.status).where(Tender.id == tender_id))
            pub = s.scalar(select(Publicity).where(Publicity.tender_id == tender_id))
            if pub is not None:
                s.expunge(pub)
            return str(status), pub
    finally:
        engine.dispose()


def test_from_the_signed_report_to_the_public_result(browser, db, make, tmp_path, settings):  # type: ignore[no-untyped-def]
    from storage import open_store

    w = signed_world(db, make, open_store(settings), tmp_path)
    db.commit()
    t = w.tender
    users = {u.organisation_id: u for u in (w.bidder_user, w.other_bidder_user, w.third_bidder_user)}
    contract = tmp_path / "合同.pdf"
    contract.write_bytes(b"%PDF-1.7\n% the signed contract\n%%EOF\n")
    with serving(settings) as url, pages_on(browser, url) as new_page:
        # the agency publishes the candidates from the signed report, through its tender's page
        agency = new_page()
        login(agency, w.agency_user.username, TEST_PASSWORD)
        agency.goto(f"/agency/tenders/{t.id}")
        shot(agency, "results-1-agency-tender-evaluated")
        agency.click("#publicity a.button")
        agency.wait_for_selector("#publish")
        shot(agency, "results-2-agency-before-publishing")
        agency.click("#publish button[type=submit]")
        agency.wait_for_selector("#candidates")
        assert tr(
            "The winning candidates are published; bidders and monitors are told."
        ) in agency.inner_text("body")
        shot(agency, "results-3-agency-published")
        status, pub = _read(settings, t.id)
        assert status == "publicity" and pub is not None
        first = pub.candidates[0]["organisation_id"]

        # the public reads the publicity, with how to object
        public = new_page()
        public.goto(f"/tenders/{t.id}/publicity")
        assert tr("Publicity of the winning candidates") in public.inner_text("h1")
        assert pub.candidates[0]["name"] in public.inner_text("body")
        shot(public, "results-4-public-publicity")

        # a bidder other than no. 1 objects in the bidder portal: the procedure is suspended (R54)
        objector = next(u for org, u in users.items() if org != first)
        bidder = new_page()
        login(bidder, objector.username, TEST_PASSWORD)
        bidder.goto(f"/bidder/tenders/{t.id}/results")
        bidder.fill("#f-objection", OBJECTION)
        bidder.click("form[action$='/results/objections'] button[type=submit]")
        bidder.wait_for_load_state("networkidle")
        assert OBJECTION in bidder.inner_text("#objections")
        shot(bidder, "results-5-bidder-objection-raised")
        assert _read(settings, t.id)[0] == "suspended"
        # the public learns that an objection awaits its answer, never who raised it nor what it says
        public.reload()
        assert OBJECTION not in public.inner_text("body") and public.locator("#open-objections.soon").count()

        # the agency answers it from its publicity page: the procedure resumes
        agency.goto(f"/agency/tenders/{t.id}/publicity")
        assert OBJECTION in agency.inner_text("#objections")
        shot(agency, "results-6-agency-objection-to-answer")
        agency.locator("#objections textarea[name=answer]").fill(ANSWER)
        agency.click("#objections form button[type=submit]")
        agency.wait_for_load_state("networkidle")
        assert ANSWER in agency.inner_text("#objections")
        shot(agency, "results-7-agency-objection-answered")
        assert _read(settings, t.id)[0] == "publicity"
        bidder.reload()
        assert ANSWER in bidder.inner_text("#objections")
        shot(bidder, "results-8-bidder-reads-the-answer")

        # no award while the publicity runs (R54)
        purchaser = new_page()
        login(purchaser, w.purchaser_user.username, TEST_PASSWORD)
        purchaser.goto(f"/award/tenders/{t.id}")
        assert purchaser.locator("#confirm-award").count() == 0
        shot(purchaser, "results-9-purchaser-during-publicity")

        # once it has run its course the purchaser awards to no. 1 (R55)
        move_to(pub.ends_at + timedelta(minutes=1))
        purchaser.goto(f"/award/tenders/{t.id}")
        purchaser.click("#confirm-award button")
        purchaser.wait_for_selector("#confirm")
        purchaser.click("#confirm button.primary")
        purchaser.wait_for_selector("#notices")
        assert tr("Award notice") in purchaser.inner_text("#notices")
        shot(purchaser, "results-10-purchaser-awarded")

        # the agency records the contract with its signed file (L46), its bond 5% (R58)
        agency.goto(f"/award/tenders/{t.id}")
        amount = agency.input_value("#f-amount")
        agency.fill("#f-performance_bond", f"{float(amount) / 20:.2f}")
        agency.fill("#f-signed_on", clock.to_cst(clock.now()).date().isoformat())  # the server's today
        agency.set_input_files("#f-file", str(contract))
        agency.click("#contract-form button")
        agency.wait_for_selector("#confirm")
        agency.click("#confirm button.primary")
        agency.wait_for_selector("#contract")
        assert "合同.pdf" in agency.inner_text("#contract")
        shot(agency, "results-11-agency-contract-recorded")
        assert _read(settings, t.id)[0] == "awarded"

        # the anonymous public reads the result notice, in Chinese and in English
        public.goto(f"/tenders/{t.id}/result")
        assert pub.candidates[0]["name"] in public.inner_text("#winner")
        assert tr("Awarded on") in public.inner_text("#result")
        shot(public, "results-12-public-result")
        english = new_page("en")
        english.goto(f"/tenders/{t.id}/result")
        assert "Result announcement" in english.inner_text("h1")
        assert pub.candidates[0]["name"] in english.inner_text("#winner")
        assert "Awarded on" in english.inner_text("#result")
        shot(english, "results-13-public-result-en")
