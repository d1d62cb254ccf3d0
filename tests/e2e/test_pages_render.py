"""Every main page renders for its role, without a server error, in Chinese, with the Chinese text drawn
in a CJK font (fonts-noto-cjk from Debian) rather than in boxes or a fallback."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_no_server_error, login, shot

PAGES = [
    ("notices", "/", None),
    ("login", "/login", None),
    ("agency", "/agency", ("agency1", "Demo-2026-agency")),
    ("bidder", "/bidder", ("bidder1", "Demo-2026-bidder")),
    ("monitor", "/monitor", ("monitor1", "Demo-2026-monitor")),
    ("admin", "/admin", ("admin", "Demo-2026-admin")),
    ("admin-organisations", "/admin/organisations", ("admin", "Demo-2026-admin")),
    ("admin-users", "/admin/users", ("admin", "Demo-2026-admin")),
]


def _platform_fonts(page, selector: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The fonts Chromium actually used to draw the text of an element, with their glyph counts."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, selector
    text = cdp.send("DOM.describeNode", {"nodeId": node, "depth": 1})["node"]
    child = next((c["nodeId"] for c in text.get("children", []) if c["nodeType"] == 3), node)
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": child})["fonts"]
    cdp.detach()
    return {f["familyName"]: f["glyphCount"] for f in fonts}


@pytest.mark.parametrize(("name", "path", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_in_chinese_with_a_cjk_font(new_page, name, path, who):
    page = new_page()
    if who:
        login(page, *who)
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    assert page.url.endswith(path), f"{path} redirected to {page.url}"
    assert_no_server_error(page)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    heading = page.locator("main h1").first.inner_text()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in heading), (
        f"the heading of {path} is not Chinese: {heading!r}"
    )
    page.evaluate("document.fonts.ready")
    shot(page, f"page-{name}")

    family = page.evaluate("getComputedStyle(document.querySelector('main h1')).fontFamily")
    assert "Noto Sans CJK SC" in family
    assert page.evaluate("""document.fonts.check('16px "Noto Sans CJK SC"', '招标公告')""")
    used = _platform_fonts(page, "main h1")
    assert any(f.startswith("Noto Sans CJK") for f in used), f"{path}: the heading is drawn with {used}"
    assert sum(n for f, n in used.items() if f.startswith("Noto Sans CJK")) >= sum(
        1 for ch in heading if "\u4e00" <= ch <= "\u9fff"
    )
