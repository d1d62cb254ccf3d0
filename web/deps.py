"""Request-scoped dependencies: the unit of work (one transaction per request), the acting person,
the locale, and helpers to render pages."""

from __future__ import annotations

from collections.abc import AsyncGenerator
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


def client_ip(request: Request) -> str:
    # Behind the trading centre's proxy the address comes from X-Forwarded-For, trusted only when the
    # direct peer is the proxy on loopback.
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded and peer in ("127.0.0.1", "::1"):
        return forwarded.split(",")[0].strip()
    return peer


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
