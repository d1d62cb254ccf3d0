"""Request-scoped dependencies: the unit of work (one transaction per request), the acting person,
the locale, and helpers to render pages."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import anyio
from litestar import Request
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from accounts import services as accounts
from core.errors import is_kept
from core.identity import Actor, anonymous
from web import i18n

SESSION_USER = "uid"
SESSION_ROLE = "role"
SESSION_EPOCH = "epoch"  # the user's session epoch at login (accounts.services.load_actor); absent: 0


def session_epoch(request: Request) -> int:
    value = request.session.get(SESSION_EPOCH, 0) if "session" in request.scope else 0
    return value if isinstance(value, int) else -1  # not a number: matches no epoch


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def forwarded_client(peer: str, forwarded: Sequence[str], trusted: tuple[str, ...]) -> str:
    """The client's address (E49 records it; login throttling and the same-address alert count by it).

    X-Forwarded-For is believed only from a configured proxy (ETENDER_TRUSTED_PROXIES, CIDRs; empty: nobody),
    and only as far as proxies we trust wrote it: each trusted proxy appends the address it received the
    request from, so the list is read from the right, and the first address that is not a trusted proxy is the
    client. Whatever lies left of it was written by the client itself and can say anything. An element that is
    not an address (junk the client sent, that a proxy passed on) ends the walk at the last hop we trust."""
    networks = _networks(trusted)
    current = _address(peer)
    if current is None or not any(current in n for n in networks):
        return peer
    hops = [h for value in forwarded for h in value.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not any(address in n for n in networks):
            break
    return str(current)


def client_ip(request: Request) -> str:
    peer = request.client.host if request.client else ""
    trusted = request.app.state.settings.trusted_proxies
    if not trusted:
        return peer
    return forwarded_client(peer, request.headers.getall("x-forwarded-for", []), trusted)


async def provide_db(state: State, request: Request) -> AsyncGenerator[Session, None]:
    """The framework owns the transaction: commit when the handler returns, roll back when it raises, except
    for a kept refusal (core.errors.DomainError.kept): committed, so that its record stays, then answered."""
    read_only = request.method in ("GET", "HEAD") and not request.route_handler.opt.get("writes", False)
    session: Session = (state.db_read if read_only else state.db)()

    def finish(commit: bool) -> None:
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    try:
        yield session
    except BaseException as e:
        await anyio.to_thread.run_sync(finish, is_kept(e))
        raise
    await anyio.to_thread.run_sync(finish, True)


async def provide_actor(request: Request, db: Session) -> Actor:
    """The acting person. Anonymous visitors (most of the public site's traffic) cost no database query."""
    ip = client_ip(request)
    uid = request.session.get(SESSION_USER) if "session" in request.scope else None
    actor = anonymous(ip)
    if uid:
        role = request.session.get(SESSION_ROLE)
        epoch = session_epoch(request)

        def load() -> Actor | None:
            return accounts.load_actor(db, int(uid), ip, role, epoch)

        found = await anyio.to_thread.run_sync(load)
        # an account removed or deactivated since login, or whose password changed since, acts as anonymous
        actor = found or actor
    request.state.actor = actor
    return actor


def locale_of(request: Request) -> str:
    return i18n.normalise(request.cookies.get("lang"))


def _(request: Request, message: str, **params: Any) -> str:
    return i18n.translate(locale_of(request), message, params or None)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=template, context=context, status_code=status_code)


def redirect(path: str, flash: str | None = None, request: Request | None = None) -> Redirect:
    if flash and request is not None:
        request.session["flash"] = flash
    return Redirect(path=path, status_code=303)


def safe_next(value: str | None) -> str:
    """Only local paths, so a login link cannot send a person to another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"
