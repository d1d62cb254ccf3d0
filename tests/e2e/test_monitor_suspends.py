"""A monitor suspends an open procedure on a supervisory instruction (E52), the public notice says so,
and the monitor resumes it. A suspension without a reason is refused."""

from __future__ import annotations

from tests.e2e.conftest import assert_no_server_error, login, open_demo_tenders, shot, tr


def _notice_state(page, tender_id: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page.goto(f"/tenders/{tender_id}")
    assert_no_server_error(page)
    warn = page.locator(".warn[role=status]")
    return page.locator(".notice-head .badge").inner_text().strip(), warn.inner_text() if warn.count() else ""


def test_monitor_suspends_and_resumes(new_page):
    page = new_page()
    login(page, "monitor1", "Demo-2026-monitor")
    # The oldest open demo tender; the bidder test takes the newest one.
    tender = open_demo_tenders(page)[-1]
    tender_id = tender["id"]

    page.goto("/monitor")
    assert_no_server_error(page)
    page.locator(f"a[href='/monitor/tenders/{tender_id}']").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/monitor/tenders/{tender_id}")
    assert page.locator("h1").inner_text().startswith(tender["title"])
    suspend_form = page.locator("form[action$='/suspend']")

    # Empty: the browser itself does not send the form (the reason is required).
    suspend_form.locator("button", has_text=tr("Suspend")).click()
    assert page.url.endswith(f"/monitor/tenders/{tender_id}")
    assert page.eval_on_selector("#f-reason", "e => e.validity.valueMissing")

    # Blank (spaces only): the server refuses it and says why, at the field.
    page.fill("#f-reason", "   ")
    suspend_form.locator("button", has_text=tr("Suspend")).click()
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)
    message = tr("Give the reason for the suspension.")
    field = page.locator("div.invalid", has=page.locator("#f-reason"))
    assert field.locator(".field-error").inner_text().strip() == message
    assert message in page.locator(".errors").inner_text()
    assert tr("status:published") in page.locator("h1 .badge").first.inner_text()
    shot(page, "monitor-suspend-error")

    # With a reason: suspended, and the public notice shows the banner.
    reason = "接到投诉，反映评分标准可能存在倾向性，暂停招标活动待核查。"
    page.fill("#f-reason", reason)
    page.locator("form[action$='/suspend'] button").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".flash").inner_text().strip() == tr(
        "The procedure is suspended. The agency and the bidders were notified."
    )
    assert page.locator("h1 .badge", has_text=tr("Suspended by a monitor")).count() == 1
    assert reason in page.locator("#trail").evaluate("e => e.parentElement.innerText")

    public = new_page()
    badge, banner = _notice_state(public, tender_id)
    assert badge == tr("status:suspended")
    assert tr("This procedure is suspended.") in banner
    assert (
        tr("The supervising authority has suspended it (E52). It resumes only after a further notice.")
        in banner
    )
    shot(public, "public-suspended")
    public.goto("/?status=open")
    assert tender["title"] not in public.locator("main").inner_text()

    # Resumed with a reason: open for bids again.
    page.reload()
    resume_form = page.locator("form[action$='/resume']")
    resume_form.locator("#f-reason").fill("经核查，投诉事项不成立，恢复招标活动。")
    resume_form.locator("button", has_text=tr("Resume")).click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".flash").inner_text().strip() == tr("The procedure is resumed.")
    assert tr("status:published") in page.locator("h1 .badge").first.inner_text()
    assert page.locator("form[action$='/suspend']").count() == 1
    shot(page, "monitor-resumed")

    badge, banner = _notice_state(public, tender_id)
    assert badge == tr("status:published")
    assert banner == ""
    shot(public, "public-resumed")
