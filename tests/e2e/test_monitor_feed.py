"""A monitor watches the live audit feed: an action elsewhere (a failed login in another browser) appears at
the top of the feed without a reload, the alerts panel is there, and the entry's page checks its inclusion
proof in the browser (WebCrypto SHA-256) against the latest signed checkpoint."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import assert_no_server_error, login, shot, tr


def test_monitor_sees_new_entries_live_and_checks_a_proof(new_page):
    page = new_page()
    login(page, "monitor1", "Demo-2026-monitor")
    page.goto("/monitor/audit")
    assert_no_server_error(page)
    assert page.locator("h1").inner_text() == tr("Audit log")
    assert page.locator("#alerts h2").inner_text().startswith(tr("Alerts"))
    page.wait_for_selector("#live-status.live")  # the EventSource is connected
    rows_before = page.locator("#feed tbody tr[data-index]").count()

    # Someone else, elsewhere, fails to log in: the platform records it, the feed shows it live.
    stranger = new_page()
    name = f"e2e_feed_{uuid.uuid4().hex[:8]}"
    stranger.goto("/login")
    stranger.fill("#f-username", name)
    stranger.fill("#f-password", "not the password")
    stranger.click("form[action='/login'] button[type=submit]")
    stranger.wait_for_load_state("networkidle")

    row = page.locator("#feed tbody tr.new", has_text=name).first
    row.wait_for(timeout=15000)
    assert "auth.login.failed" in row.inner_text()
    # the address is beside the entry, for monitors only, never in its bytes
    assert "127.0.0.1" in row.inner_text()
    assert page.locator("#feed tbody tr[data-index]").count() > rows_before
    shot(page, "monitor_audit_feed_live")

    # The entry's page verifies its inclusion proof in the browser.
    row.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    assert_no_server_error(page)
    page.wait_for_selector("#proof[data-verified]", timeout=20000)
    if (
        page.locator("#proof").get_attribute("data-verified") != "yes"
    ):  # newer than the checkpoint: it is signed within seconds
        page.wait_for_timeout(3000)
        page.reload()
        page.wait_for_selector("#proof[data-verified]", timeout=20000)
    assert page.locator("#proof").get_attribute("data-verified") == "yes"
    status = page.locator("#proof-status").inner_text()
    assert status.startswith(
        tr(
            "Verified in your browser: this entry is leaf {index} of the tree of {size} "
            "entries whose root the platform signed."
        ).split("{")[0]
    )
    page.wait_for_selector("#proof[data-signature]", timeout=10000)
    assert page.locator("#proof").get_attribute("data-signature") in (
        "ok",
        "na",
    )  # "na": a browser without WebCrypto Ed25519
    # the address the monitor is shown is the one the entry committed to (checked before the signature)
    assert page.locator("#proof").get_attribute("data-address") == "yes"
    assert (
        tr("The network address shown is the one the entry committed to.")
        in page.locator("#proof-status").inner_text()
    )
    shot(page, "monitor_audit_entry_proof")


def test_a_filtered_feed_leaves_out_what_does_not_match(new_page):
    page = new_page()
    login(page, "monitor1", "Demo-2026-monitor")
    page.goto("/monitor/audit?tag=auth.login.failed")
    assert_no_server_error(page)
    page.wait_for_selector("#live-status.live")
    stranger = new_page()
    stranger.goto("/login")
    stranger.fill("#f-username", "monitor2")
    stranger.fill("#f-password", "Demo-2026-monitor")
    stranger.click(
        "form[action='/login'] button[type=submit]"
    )  # a successful login: not shown under this filter
    stranger.wait_for_load_state("networkidle")
    stranger.goto("/login")
    stranger.fill("#f-username", "nobody_e2e")
    stranger.fill("#f-password", "wrong")
    stranger.click("form[action='/login'] button[type=submit]")
    stranger.wait_for_load_state("networkidle")
    page.locator("#feed tbody tr.new", has_text="nobody_e2e").first.wait_for(timeout=15000)
    tags = page.locator("#feed tbody tr[data-index] code").all_inner_texts()
    assert tags and set(tags) == {"auth.login.failed"}
