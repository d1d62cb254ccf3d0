"""Security headers on every response.

Key holders load their private key files into these pages and bidders seal bids in them, so a script injected
into a page could read a key or a bid before it is sealed. The Content-Security-Policy lets only the
platform's own scripts run (no inline script, no eval, nothing from another origin) and lets pages talk only
to the platform; the templates have no inline scripts or event handlers (tests/web/test_security_headers.py
checks). Inline style attributes remain allowed."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def add_security_headers(message: Any, scope: Any) -> None:
    """A before_send hook: every response, error pages and streams included, gets the headers."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
