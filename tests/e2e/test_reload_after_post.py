"""A refused form, reloaded, reads its page again and posts nothing (issue 16: reloading never repeats an
action): the centre's intake form refused for its missing title shows what was typed; the browser's history
holds the workbench's address, not the POST's, so Reload is a GET of /centre."""

from __future__ import annotations

from tests.e2e.conftest import assert_no_server_error, login, shot


def test_reloading_a_refused_form_posts_nothing(new_page):
    page = new_page()
    login(page, "centre1", "Demo-2026-centre")
    page.fill("#f-reference", "JY-E2E-RELOAD")
    page.select_option("#f-purchaser", index=1)
    page.select_option("#f-agency", index=1)
    page.select_option("#f-category", "works")
    page.select_option("#f-funding", "fiscal")
    page.fill("#f-title", "")
    page.eval_on_selector("#f-title", "e => e.removeAttribute('required')")  # the server refuses it too
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#intake-form button.primary")
    page.wait_for_load_state("networkidle")
    assert posted.value.status == 422
    assert_no_server_error(page)
    assert page.input_value("#f-reference") == "JY-E2E-RELOAD"  # nothing typed is lost
    assert page.url.endswith("/centre")  # the history holds the page, not the POST
    shot(page, "reload-after-refusal")
    methods: list[str] = []
    page.on("request", lambda r: methods.append(r.method) if r.is_navigation_request() else None)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert methods == ["GET"]
    assert_no_server_error(page)
    assert page.input_value("#f-reference") == ""  # the page read afresh: the refused post was not sent again
