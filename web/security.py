"""Security headers on every response.

Key holders load their private key files into these pages and bidders seal bids in them, so a script injected
into a page could read a key or a bid before it is sealed. The Content-Security-Policy lets only the
platform's own scripts run (no inline script, no eval, nothing from another origin) and lets pages talk only
to the platform; the templates have no inline scripts or event handlers (tests/web/test_security_headers.py
checks). Inline style attributes remain allowed."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.datastructures.cookie import Cookie
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.utils.scope.state import ScopeState

from web.deps import SESSION_USER

SESSION_COOKIE = "etender_session"

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection, Request
    from litestar.handlers import BaseRouteHandler
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


def is_private(scope: Any) -> bool:
    """A response for a logged-in person (their pages, their receipts, the API's answers about their bids),
    or one a handler marks private (opt={"private": True}). Its session says so, before or after the handler;
    where no session was loaded (a path no route matches) the session cookie does: anonymous visitors have
    none (web.sessions creates a session only when there is something to keep)."""
    session = scope.get("session")
    if isinstance(session, dict) and session.get(SESSION_USER):
        return True
    if "session" not in scope and any(
        name == b"cookie" and SESSION_COOKIE.encode() + b"=" in value
        for name, value in scope.get("headers", ())
    ):
        return True
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get("private"))


async def add_security_headers(message: Any, scope: Any) -> None:
    """A before_send hook: every response, error pages and streams included, gets the headers.

    A private response is also `Cache-Control: no-store` (unless its handler chose a Cache-Control itself): a
    shared cache, a proxy or the browser's back button on a shared computer must not keep a bidder's receipt
    or a key holder's page. Anonymous public pages set none and stay cacheable as before (the public list's
    own micro-cache, web.cache, serves only anonymous visitors)."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if "Cache-Control" not in headers and is_private(scope):
            headers["Cache-Control"] = "no-store"


# ---------------------------------------------------------------- CSRF tokens bound to the session

CSRF_COOKIE = "etender_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
CSRF_SEED = "_csrf"  # session key: the random value this session's tokens are bound to
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NONCE_HEX = 64


def _mac(secret: str, nonce: str, seed: str) -> str:
    return hmac.new(secret.encode(), f"{nonce}|{seed}".encode(), hashlib.sha256).hexdigest()


def issue_csrf_token(secret: str, seed: str) -> str:
    """A token for the session whose seed is `seed` ("" for a visitor without a session: the login form)."""
    nonce = secrets.token_hex(_NONCE_HEX // 2)
    return nonce + _mac(secret, nonce, seed)


def csrf_token_valid(secret: str, token: str, seed: str | None) -> bool:
    """Signed by us and for this session. `seed` None (a session that holds data but no seed, written before
    tokens were bound) never validates: the next page it loads binds it."""
    if seed is None or len(token) != _NONCE_HEX * 2:
        return False
    # compared as bytes: compare_digest refuses str with non-ASCII characters (a form field can hold any)
    return hmac.compare_digest(token[_NONCE_HEX:].encode(), _mac(secret, token[:_NONCE_HEX], seed).encode())


def _session_seed(scope: Any, create: bool) -> str | None:
    """The seed of the request's session: "" when it holds nothing; with `create`, a session that holds
    something gets one (it is then stored with it by the session middleware, which wraps this one)."""
    session = scope.get("session")
    if not isinstance(session, dict) or not session:
        return ""
    seed = session.get(CSRF_SEED)
    if isinstance(seed, str) and seed:
        return seed
    if not create:
        return None
    session[CSRF_SEED] = secrets.token_hex(16)
    return str(session[CSRF_SEED])


class SessionCSRFMiddleware:
    """Double-submit CSRF protection (the token in the `etender_csrf` cookie, echoed in the `_csrf_token` form
    field or the `x-csrftoken` header, as Litestar's CSRFMiddleware does), with tokens bound to the session.

    Litestar's tokens are only signed: a token from any session, the attacker's own included, passes with any
    other, so an attacker who can plant a cookie (a sibling subdomain, a network on plain HTTP) can post as
    the victim. Here the signature covers a random seed kept in the server-side session, so a token works only
    for the session it was issued to. A visitor without a session gets tokens bound to the empty seed (the
    login form); when a response leaves the session holding something new (a login, a logout) the cookie is
    re-issued for the new binding in that same response. Runs inside the session middleware."""

    def __init__(self, app: ASGIApp, secret: str, secure: bool) -> None:
        self.app, self.secret, self.secure = app, secret, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        state = ScopeState.from_scope(scope)
        seed = _session_seed(scope, create=False)
        if request.method in SAFE_METHODS:
            state.csrf_token = (
                cookie
                if csrf_token_valid(self.secret, cookie, seed)
                else issue_csrf_token(self.secret, seed or "")
            )
        else:
            sent = request.headers.get(CSRF_HEADER)
            if not sent and request.content_type[0] in (
                RequestEncodingType.URL_ENCODED,
                RequestEncodingType.MULTI_PART,
            ):
                sent = (await request.form()).get(CSRF_FIELD)
            if not (
                isinstance(sent, str)
                and hmac.compare_digest(sent.encode(), cookie.encode())
                and csrf_token_valid(self.secret, sent, seed)
            ):
                raise PermissionDeniedException("CSRF token verification failed")
            state.csrf_token = sent

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                bound = _session_seed(scope, create=True) or ""
                token = state.csrf_token if isinstance(state.csrf_token, str) else ""
                if not csrf_token_valid(self.secret, token, bound):
                    token = issue_csrf_token(self.secret, bound)
                if token != cookie:
                    headers = MutableScopeHeaders.from_message(message)
                    cookie_out = Cookie(
                        key=CSRF_COOKIE,
                        value=token,
                        path="/",
                        secure=self.secure,
                        httponly=False,
                        samesite="lax",
                    )
                    headers.add("set-cookie", cookie_out.to_header(header=""))
            await send(message)

        await self.app(scope, receive, send_wrapper)


# ---------------------------------------------------------------- GETs that record, reached from another site


class CrossSiteRecording(PermissionDeniedException):
    """A GET that records something about the person (opt={"records": N_("what it records")}) reached by a
    navigation from another site: not performed; web.app answers with a page that asks to confirm."""

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(detail="cross-site request to a recording route")


def _host_of(url: str) -> str | None:
    return urlsplit(url).netloc.lower() or None


def is_cross_site(headers: Any, own_host: str) -> bool:
    """Whether the browser says the request was started by another site.

    Sec-Fetch-Site (every current browser sends it) is authoritative: only "same-origin" and "none" (typed,
    bookmarked, opened from outside a browser page) count as the person's own; "same-site" is a sibling
    subdomain, another site to us. Without it (an old browser, a program) an Origin or Referer of another
    origin marks it; a request with neither is taken as the person's own (a program, `curl`: not something
    another site can make a browser do without one of those headers in a browser that has Sec-Fetch-Site).
    Hosts are compared, not schemes: behind a proxy that ends TLS the app sees http while the page was
    https."""
    site = headers.get("sec-fetch-site")
    if site:
        return site.lower() not in ("same-origin", "none")
    for name in ("origin", "referer"):
        value = headers.get(name)
        if value and value != "null":
            return _host_of(value) != own_host.lower()
        if value == "null":
            return True  # an opaque origin: a sandboxed frame, a data: page, a privacy-minded redirect
    return False


def same_site_for_recording(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """An app-wide guard. A link on another site made a key holder's browser ask for the bids' headers before
    the opening (audited: an early attempt at the bids), or a bidder's browser download a document (recorded
    as the company's download), SameSite=Lax letting the navigation carry the session. Such GETs are performed
    only when the person started them here; from elsewhere they get a page that says what would be recorded
    and offers a link on this site to go on (a same-origin navigation, which then records)."""
    action = handler.opt.get("records")
    if action and connection.scope.get("method") in ("GET", "HEAD"):
        if is_cross_site(connection.headers, connection.url.netloc):
            raise CrossSiteRecording(str(action))
