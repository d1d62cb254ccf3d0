"""A committee of five evaluates three bids end to end in the browser (issue 13): the chair checks in and is
elected, reviews every bid pass/fail, asks a bidder for a clarification that the bidder answers in its portal,
assesses the answer and closes the review; the chair scores with the sheet's autosave and submits; a member
whose score is far from the others' confirms the flagged score with a reason; the chair closes the scoring
and the ranking, generates the report; every member is told, makes a signing key in their own browser
(WebCrypto) and signs, one with a written dissent; the tender moves to evaluated. The agency and the
purchaser follow the progress in counts, never a score or a name; the monitor reads the report. Screenshots
in Chinese and English.

The other four members' check-ins, verdicts and sheets are entered through the services (they are not the
subject; the same pages as the chair's), on the server's own database between the browser's steps. The
server runs in this process, so the test clock (core.clock) moves it too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.orm import Session

from accounts.models import User
from cli.database import upgrade_database
from core import clock
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from evaluation.pool.models import Expert
from evaluation.report import signing
from evaluation.review import review
from evaluation.room import reading, sessions
from evaluation.scoring import sheets
from storage import open_store
from tender.models import Tender
from tests.e2e.conftest import assert_no_server_error, login, pages_on, shot, tr
from tests.factories.accounts import TEST_PASSWORD, Maker
from tests.factories.room import ROOMS, room_world
from tests.factories.tenders import move_to
from tests.support import serving

# Technical proposal (subjective, 40 points) and after-sales service (objective, 20 points: every member
# must give the same) for the three bids in reading order. Member 1 gives the first bid 38 on the technical
# proposal: 18 above the others' mean, more than OUTLIER_PERCENT (30 %) of its 40 points, so it is flagged.
USUAL = ([20, 15], [20, 12], [20, 10])
HIGH = ([38, 15], [20, 12], [20, 10])


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    data = tmp_path_factory.mktemp("e2e-flow")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'flow.db'}",
        blob_dir=data / "blobs",
        secret_key=uuid.uuid4().hex,
        scheduler_interval=0,
        demo=False,
    )
    settings = replace(settings, evaluation_rooms=ROOMS)
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    with factory() as s:
        w = room_world(s, Maker(s), open_store(settings), Path(data))
        move_to(w.starts_at + timedelta(minutes=1))
        experts = [s.get_one(Expert, seat.expert_id) for seat, _ in w.members]
        for (_, actor), expert in list(zip(w.members, experts, strict=True))[1:]:
            sessions.check_in(s, actor, w.tender.id, sessions.CheckIn(expert.name, True))
        out = SimpleNamespace(
            factory=factory,
            tender_id=w.tender.id,
            starts_at=w.starts_at,
            seat_ids=[seat.id for seat, _ in w.members],
            actors=[actor for _, actor in w.members],
            usernames=[s.get_one(User, e.user_id).username for e in experts],
            names=[e.name for e in experts],
            bidder=w.bidder_user.username,
            bidder_name=w.bidder_org.name,
            agency=w.agency_user.username,
            purchaser=w.purchaser_user.username,
            monitor=w.monitor_user.username,
            reference=w.tender.reference,
        )
        s.commit()
    with serving(settings) as url:
        out.url = url
        yield out
    engine.dispose()


@contextmanager
def services(w: SimpleNamespace) -> Iterator[Session]:
    """One unit of work on the server's database, for the members who are not the subject."""
    with transaction(w.factory) as s:
        yield s


@pytest.fixture
def page_for(browser, flow):  # type: ignore[no-untyped-def]
    with pages_on(browser, flow.url) as make:
        yield make


def _flash(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator(".flash").inner_text().strip()


def _post(page, action: str) -> None:  # type: ignore[no-untyped-def]
    """Press the submit button of the form posting to `action` (PRG: wait for the page it lands on)."""
    page.locator(f"form[action$='{action}'] button").click()
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)


def test_a_committee_of_five_reviews_scores_ranks_and_signs_three_bids(page_for, flow):
    w = flow
    move_to(w.starts_at + timedelta(minutes=2))  # the session has started (the server shares this clock)
    t = w.tender_id
    room = f"/expert/tenders/{t}/room"

    # ---- check-in and the chair's election: member 0 in the browser, two others' votes by the service
    chair = page_for()
    login(chair, w.usernames[0], TEST_PASSWORD)
    chair.goto(room)
    assert_no_server_error(chair)
    chair.check("#f-agree")
    chair.fill("#f-signed_name", w.names[0])
    chair.click("#check-in-button")
    chair.wait_for_load_state("networkidle")
    assert_no_server_error(chair)
    assert _flash(chair) == tr("You have checked in and signed the declaration.")
    with services(w) as s:
        for actor in w.actors[1:3]:
            sessions.vote_chair(s, actor, t, w.seat_ids[0])
    chair.reload()
    chair.locator(f"#chair input[name=candidate][value='{w.seat_ids[0]}']").check()
    _post(chair, "/room/chair")
    assert chair.locator("#chair-name").inner_text().strip() == w.names[0]
    shot(chair, "flow-room-chair-zh")

    # ---- the review: the four others pass every criterion by the service, the chair in the browser
    with services(w) as s:
        bids = [b["opened_bid"] for b in reading.opened_bids(s, t)]
        criteria = review.criteria_for(s.get_one(Tender, t))
        for actor in w.actors[1:]:
            for b in bids:
                entries = [review.VerdictInput(c.kind, c.index, True, "", "") for c in criteria]
                review.save_verdicts(s, actor, t, b, entries)
    assert len(bids) == 3

    chair.locator("#review-link").click()
    chair.wait_for_url(f"**{room}/review")
    assert_no_server_error(chair)
    for b in bids:
        radios = chair.locator(f"#bid-{b} input[type=radio][value=pass]")
        assert radios.count() == len(criteria)
        for i in range(radios.count()):
            radios.nth(i).check()
        _post(chair, f"/review/bids/{b}")
        assert _flash(chair) == tr("Your verdicts are saved.")
    assert chair.locator("[data-count='members_done']").inner_text().strip() == "5"

    # the chair asks Bidder One, in the committee's name, with a deadline within the session
    due = clock.to_cst(clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    chair.select_option("#f-opened_bid", label=f"{tr('Lot %(n)s', n=1)} · {w.bidder_name}")
    question = "请说明投标文件第12页所列课桌的板材厚度（18毫米或25毫米）。"
    chair.fill("#f-question", question)
    chair.fill("#f-deadline", due)
    _post(chair, "/review/clarifications")
    assert _flash(chair) == tr("The request is sent to the bidder in the committee's name.")
    shot(chair, "flow-review-request-sent-zh")
    # an unanswered request keeps the review open
    assert chair.locator("#close button").is_disabled()

    # ---- the bidder answers in its portal: the request carries no member's name
    bidder = page_for()
    login(bidder, w.bidder, TEST_PASSWORD)
    bidder.goto(f"/bidder/tenders/{t}")
    assert_no_server_error(bidder)
    bidder.locator("#clarification-requests-link").click()
    bidder.wait_for_url(f"**/bidder/tenders/{t}/clarification-requests")
    assert_no_server_error(bidder)
    assert question in bidder.locator(".question").inner_text()
    body = bidder.inner_text("body")
    assert not any(name in body for name in w.names), "the bidder must not see who sits on the committee"
    shot(bidder, "flow-bidder-request-zh")
    bidder.locator("textarea[name=answer]").fill("板材厚度为25毫米，与投标文件技术参数表一致。")
    bidder.check("input[name=no_change]")
    _post(bidder, "/answer")
    assert _flash(bidder) == tr("Your answer is sent to the evaluation committee.")
    shot(bidder, "flow-bidder-answered-zh")
    bidder_en = page_for("en")
    login(bidder_en, w.bidder, TEST_PASSWORD)
    bidder_en.goto(f"/bidder/tenders/{t}/clarification-requests")
    assert_no_server_error(bidder_en)
    shot(bidder_en, "flow-bidder-answered-en")

    # ---- the chair assesses the answer and closes the review
    chair.reload()
    assert "25毫米" in chair.locator("#clarifications").inner_text()
    chair.locator("#clarifications input[name=assessment][value=accepted]").check()
    _post(chair, "/assess")
    assert _flash(chair) == tr("The committee's assessment of the answer is recorded.")
    assert chair.locator("#close button").is_enabled()
    chair.locator("#close input[name=confirm]").check()
    _post(chair, "/review/close")
    assert _flash(chair) == tr("The review is closed: the valid bids go on to scoring.")
    valid = tr("Valid")
    assert [chair.locator(f"#tally h3[data-bid='{b}'] .badge").inner_text() for b in bids] == [valid] * 3
    shot(chair, "flow-review-closed-zh")

    # ---- scoring: the chair types the sheet and the page saves it by itself
    chair.goto(room)  # the closed review's page has no link onward: back to the room, as a member would
    chair.locator("#scoring-link").click()
    chair.wait_for_url(f"**{room}/scoring")
    assert_no_server_error(chair)
    cells = chair.locator("#scoring-sheet input[data-bid]")
    assert cells.count() == 6
    with chair.expect_response(
        lambda r: r.url.endswith(f"/api/v1/expert/tenders/{t}/scoring/sheet") and r.request.method == "POST",
        timeout=20000,
    ) as saved:
        for b, values in zip(bids, USUAL, strict=True):
            for i, value in enumerate(values):
                chair.fill(f"input[data-bid='{b}'][data-factor='{i}']", str(value))
    assert saved.value.status == 200
    # on a slow machine the six cells may go in more than one save: wait until the server holds them all
    # (a reload with cells still queued would stop at the page's "leave with unsaved changes?" prompt)
    api = f"/api/v1/expert/tenders/{t}/scoring/sheet"
    for _ in range(40):
        held = [v for v in chair.request.get(api).json()["values"].values() if v not in ("", None)]
        if len(held) == 6:
            break
        chair.wait_for_timeout(500)
    assert len(held) == 6, held
    saved_at = tr("Saved at %(time)s", time="|").split("|")[0].strip()  # the words before the time
    chair.locator("#autosave-status", has_text=saved_at).wait_for()
    chair.reload()  # what was saved comes back from the server
    assert chair.input_value(f"input[data-bid='{bids[0]}'][data-factor='0']") == "20.00"
    assert chair.input_value(f"input[data-bid='{bids[2]}'][data-factor='1']") == "10.00"
    shot(chair, "flow-scoring-sheet-zh")

    # the four others' sheets by the service; member 1's high score on the first bid will be flagged
    with services(w) as s:
        for m, actor in enumerate(w.actors[1:], start=1):
            sheet = HIGH if m == 1 else USUAL
            typed = [
                sheets.EntryIn(b, i, v) for b, vs in zip(bids, sheet, strict=True) for i, v in enumerate(vs)
            ]
            assert not sheets.save(s, actor, t, typed).problems
            sheets.submit(s, actor, t)

    chair.check("#submit-sheet input[name=confirm]")
    _post(chair, "/scoring/submit")
    assert _flash(chair) == tr(
        "Your sheet is submitted. The summary is shown once every member has submitted."
    )
    assert chair.locator("#members-finished").inner_text().strip() == "5 / 5"
    assert chair.locator("#summary").count() == 1
    assert tr("None of your scores is flagged.") in chair.locator("#flags").inner_text()
    assert tr("Flags not resolved: %(n)s", n=1) in chair.locator("#flags").inner_text()
    shot(chair, "flow-scoring-summary-zh")

    # ---- member 1 confirms the flagged score with a reason
    member = page_for()
    login(member, w.usernames[1], TEST_PASSWORD)
    member.goto(f"{room}/scoring")
    assert_no_server_error(member)
    flag = member.locator("#flags .flag")
    assert flag.count() == 1
    assert (
        tr(
            "Your score %(score)s is abnormally high: the other members' mean is %(others_mean)s (more than "
            "%(allowed)s apart). Confirm it with your reason or correct it.",
            score="38.00",
            others_mean="20.00",
            allowed="12.00",
        )
        in flag.inner_text()
    ), flag.inner_text()
    shot(member, "flow-scoring-flag-zh")
    reason = "该投标人的技术方案明显优于其他投标人，给出高分有充分依据。"
    member.locator("form[action$='/flags/confirm'] input[name=reason]").fill(reason)
    _post(member, "/flags/confirm")
    assert _flash(member) == tr("Your score is confirmed with your reason.")
    assert tr("Confirmed: %(reason)s", reason=reason) in member.locator("#flags").inner_text()
    member_en = page_for("en")
    login(member_en, w.usernames[1], TEST_PASSWORD)
    member_en.goto(f"{room}/scoring")
    assert_no_server_error(member_en)
    shot(member_en, "flow-scoring-flag-confirmed-en")

    # ---- the chair closes the scoring, then the ranking
    chair.reload()
    assert tr("Flags not resolved: %(n)s", n=0) in chair.locator("#flags").inner_text()
    chair.check("#close-scoring input[type=checkbox]")
    _post(chair, "/scoring/close")
    assert _flash(chair) == tr("The scoring is closed; the ranking is next.")
    ranking_form = chair.locator("form[action$='/room/ranking/close']")
    ranking_form.locator("input[type=checkbox]:not([name])").check()
    _post(chair, "/room/ranking/close")
    assert _flash(chair) == tr("The ranking is closed; the report is next.")
    rows = chair.locator("#ranking tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").first.inner_text().strip() for i in range(3)] == ["1", "2", "3"]
    # the first bid has the highest technical and after-sales scores
    assert w.bidder_name in rows.first.inner_text()
    assert tr("Candidate no. %(n)s", n=1) in rows.first.inner_text()
    shot(chair, "flow-ranking-zh")
    chair_en = page_for("en")
    login(chair_en, w.usernames[0], TEST_PASSWORD)
    chair_en.goto(f"{room}/scoring")
    assert_no_server_error(chair_en)
    assert "Ranking and candidates" in chair_en.locator("#ranking").inner_text()
    shot(chair_en, "flow-ranking-en")

    # ---- the report: the chair generates it, every member is told and signs in their own browser
    report_url = f"{room}/report"
    chair.goto(report_url)
    assert_no_server_error(chair)
    _post(chair, "/room/report/generate")
    assert _flash(chair) == tr("The evaluation report is generated; every member signs it now.")
    with services(w) as s:
        report = signing.report_of(s, sessions.session_of(s, t))
        assert report is not None
        deadline = clock.to_cst(report.deadline).strftime("%Y-%m-%d %H:%M")
    told = tr(
        "%(reference)s: the evaluation report is generated and waits for your signature; sign it by "
        "%(deadline)s (China Standard Time), or you are deemed to agree with it",
        reference=w.reference,
        deadline=deadline,
    )
    # every section of the PDF is on the page for the committee
    doc = chair.locator("#report-document")
    assert doc.locator("#report-sheets .sheet").count() == 5
    assert "25毫米" in doc.locator("#report-clarifications").inner_text()
    assert reason in doc.locator("#report-flags").inner_text()
    assert doc.locator("#report-summary tbody tr").count() == 3
    assert doc.locator("#report-prices tbody tr").count() == 3
    assert doc.locator("#ranking tbody tr").count() == 3
    assert tr("Candidate no. %(n)s", n=1) in doc.locator("#report-candidates").inner_text()
    shot(chair, "flow-report-generated-zh")

    dissent = "本人认为第一名投标人的售后服务方案评分偏高，保留意见。"
    for m in range(5):
        page = chair if m == 0 else page_for()
        if m:
            login(page, w.usernames[m], TEST_PASSWORD)
        page.goto("/notifications")
        assert told in page.inner_text("body"), "the member is told the report waits for their signature"
        if m == 1:
            shot(page, "flow-report-notified-zh")
        page.goto(report_url)
        assert_no_server_error(page)
        with page.expect_navigation():
            page.click("#make-key")  # an Ed25519 key made by WebCrypto, kept in this browser
        page.wait_for_load_state("networkidle")
        assert _flash(page) == tr(
            "Your signing key is registered for your seat; sign the report with it in this browser."
        )
        if m == 2:
            page.fill("#f-dissent", dissent)
        with page.expect_navigation():
            page.click("#sign-report")
        page.wait_for_load_state("networkidle")
        assert_no_server_error(page)
        assert _flash(page) == tr("Your signature is recorded."), page.inner_text("body")[:500]
    chair.goto(report_url)
    assert tr("Report signed %(n)s/%(m)s", n=5, m=5) in chair.locator("#report-progress").inner_text()
    assert dissent in chair.locator("#report-members").inner_text()
    shot(chair, "flow-report-signed-zh")
    with services(w) as s:
        assert s.get_one(Tender, t).status == "evaluated"
    chair_en.goto(report_url)
    assert_no_server_error(chair_en)
    shot(chair_en, "flow-report-signed-en")

    # ---- the tender is evaluated; the agency and the purchaser see counts only, the monitor the report
    for username, name in ((w.agency, "agency"), (w.purchaser, "purchaser")):
        other = page_for()
        login(other, username, TEST_PASSWORD)
        other.goto(f"/tenders/{t}")
        assert tr("status:evaluated") in other.inner_text("body")
        other.locator("#evaluation-progress-link a").click()
        other.wait_for_url(f"**/tenders/{t}/evaluation/report")
        assert_no_server_error(other)
        body = other.inner_text("body")
        assert not any(n in body for n in w.names), f"the {name} must not see the committee's names"
        assert other.locator("#report-document").count() == 0, f"the {name} must not see the scores"
        assert "38.00" not in body and "20.00" not in body
        steps_table = other.locator("#steps-progress")
        assert steps_table.locator("[data-count='finished-review']").inner_text() == "5"
        assert steps_table.locator("[data-count='finished-scoring']").inner_text() == "5"
        assert steps_table.locator("[data-count='signed']").inner_text() == "5"
        shot(other, f"flow-report-{name}-zh")
    monitor = page_for()
    login(monitor, w.monitor, TEST_PASSWORD)
    monitor.goto(f"/tenders/{t}/evaluation/report")
    assert_no_server_error(monitor)
    assert monitor.locator("#report-document #report-sheets .sheet").count() == 5
    assert dissent in monitor.inner_text("body")
    shot(monitor, "flow-report-monitor-zh")
