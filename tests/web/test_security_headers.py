"""Every response carries the security headers, and no template relies on what the policy forbids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.security import CONTENT_SECURITY_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


@pytest.mark.parametrize("path", ["/", "/login", "/notices", "/api/v1/audit/key", "/no-such-page"])
def test_every_response_carries_the_policy(client, path):  # type: ignore[no-untyped-def]
    r = client.get(path, follow_redirects=False)
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert (
        "unsafe-inline" not in r.headers["content-security-policy"].split("script-src", 1)[1].split(";", 1)[0]
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


def test_templates_have_no_inline_scripts_or_event_handlers():
    # a JSON data block (type="application/json") is not run, so the policy does not concern it
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if inline_script.search(text) or handler.search(text):
            offenders.append(str(template.relative_to(TEMPLATES)))
    assert offenders == [], f"inline script or event handler (blocked by the CSP) in {offenders}"
