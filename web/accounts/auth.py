"""Login, logout, language, role switching and the notification inbox."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlparse

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from accounts import services as accounts
from accounts.services import LoginPolicy
from core.errors import DomainError
from core.identity import Actor
from web.deps import SESSION_EPOCH, SESSION_ROLE, SESSION_USER, client_ip, page, redirect, safe_next
from web.forms import submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _rotate_session(request: Request) -> None:
    """A new session id at login, so that an id planted before login is worthless (session fixation)."""
    request.clear_session()
    request.cookies.pop("etender_session", None)


@get("/login", sync_to_thread=False)
def login_form(request: Request, next: str | None = None) -> Template:
    return page(request, "login.html", form={"username": ""}, next=safe_next(next), errors=[])


@post("/login", sync_to_thread=True)
def login(request: Request, db: Session, data: Form) -> Template | Redirect:
    username = str(data.get("username", ""))
    policy = LoginPolicy.from_settings(request.app.state.settings)
    nxt = safe_next(str(data.get("next", "")))

    # A refused login is kept (its attempt and audit entry, for throttling and for the monitors, E49): the
    # refusal is marked kept, and the request's transaction commits it with the page that answers it.
    def refused(e: DomainError) -> Template:
        return page(
            request,
            "login.html",
            status_code=e.status,
            form={"username": username},
            next=nxt,
            errors=e.problems,
        )

    return submit(
        db,
        lambda: accounts.authenticate(
            db, username, str(data.get("password", "")), client_ip(request), policy
        ),
        done=lambda user: _logged_in(request, user, nxt),
        refused=refused,
    )


def _logged_in(request: Request, user: Any, nxt: str) -> Redirect:
    _rotate_session(request)
    request.set_session(
        {
            SESSION_USER: user.id,
            SESSION_ROLE: sorted(user.roles)[0] if user.roles else None,
            SESSION_EPOCH: user.session_epoch,
        }
    )
    return redirect(nxt if nxt != "/" else home_for(user.roles))


def home_for(roles: list[str]) -> str:
    for role, path in (
        ("admin", "/admin"),
        ("agency", "/agency"),
        ("monitor", "/monitor"),
        ("bidder", "/bidder"),
        ("purchaser", "/purchaser"),  # issue 16: the purchaser's and the centre's own workbenches
        ("centre", "/centre"),
    ):
        if role in roles:
            return path
    return "/"


@post("/logout", sync_to_thread=True)
def logout(request: Request, db: Session, actor: Actor) -> Redirect:
    accounts.logout(db, actor)
    request.clear_session()
    return redirect("/")


@get("/lang/{code:str}", sync_to_thread=False)
def switch_language(request: Request, code: str, next: str | None = None) -> Redirect:
    response = Redirect(
        path=safe_next(next or urlparse(request.headers.get("referer", "")).path), status_code=303
    )
    response.set_cookie(
        "lang", "en" if code == "en" else "zh", max_age=365 * 24 * 3600, samesite="lax", httponly=True
    )
    return response


@post("/role", sync_to_thread=False)
def switch_role(request: Request, actor: Actor, data: Form) -> Redirect:
    role = str(data.get("role", ""))
    if role in actor.roles:
        request.session[SESSION_ROLE] = role
    return redirect(home_for([role]) if role in actor.roles else "/")


@get("/notifications", sync_to_thread=True, opt={"writes": True})
def notifications(request: Request, db: Session, actor: Actor) -> Template:
    items = accounts.notifications(db, actor)
    accounts.mark_read(db, actor)
    return page(request, "notifications.html", items=items)


@get("/account", sync_to_thread=False)
def account(request: Request, actor: Actor) -> Template:
    if actor.anonymous:
        return redirect("/login?next=/account")  # type: ignore[return-value]
    return page(request, "account.html", errors=[], done=False)


@post("/account/password", sync_to_thread=True)
def change_password(request: Request, db: Session, actor: Actor, data: Form) -> Template:
    policy = LoginPolicy.from_settings(request.app.state.settings)
    return submit(
        db,
        lambda: accounts.change_password(
            db, actor, str(data.get("current", "")), str(data.get("new", "")), policy
        ),
        done=lambda epoch: _password_changed(request, epoch),
        refused=lambda e: page(request, "account.html", status_code=e.status, errors=e.problems, done=False),
    )


def _password_changed(request: Request, epoch: int) -> Template:
    # the change ended every session of the user (a new epoch); this one goes on under the new epoch
    request.session[SESSION_EPOCH] = epoch
    return page(request, "account.html", errors=[], done=True)


ROUTES = [login_form, login, logout, switch_language, switch_role, notifications, account, change_password]
