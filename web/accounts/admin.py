"""Administration: organisations and user accounts. The services in tender.accounts check the admin role
and validate; these handlers parse forms, call one service, and render or redirect."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from accounts import services as accounts
from accounts.models import Organisation, User
from accounts.services import OrgInput, UserInput
from core.errors import N_, NotFound, Problem
from core.identity import ROLE_ORG_KIND, Actor, OrgKind, Role
from tender import access
from web.deps import SESSION_EPOCH, _, locale_of, page, redirect
from web.forms import submit
from web.i18n import gettext

# Each path has exactly one handler: Litestar 2.25 registers again the handlers already on a path when
# another one joins it, and wraps a sync_to_thread handler a second time (it then returns a coroutine).
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

PAGE_SIZE = 50
ORG_FIELDS = ("credit_code", "name", "kind", "region", "legal_representative", "contact_phone", "address")
USER_FIELDS = ("username", "full_name", "organisation_id", "email", "phone")
KINDS = [k.value for k in OrgKind]
ROLES = [r.value for r in Role]

# core.credit_code explains a bad code in English sentences; these patterns give each its msgid so that the
# person reads the reason in their own language.
_CREDIT_CODE_REASONS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^it must have 18 characters, it has (?P<n>\d+)$"),
        N_("it must have 18 characters, it has %(n)s"),
    ),
    (
        re.compile(r"^it contains characters not allowed in a credit code: (?P<chars>.+)$"),
        N_(
            "it contains characters not allowed in a credit code: %(chars)s (the letters "
            "I, O, Z, S and V are never used)"
        ),
    ),
    (
        re.compile(r"^characters 3 to 8 \(the administrative division code\) must be digits$"),
        N_("characters 3 to 8 (the administrative division code) must be digits"),
    ),
    (
        re.compile(r"^the check character is wrong \(expected (?P<expected>\w)\): the code was mistyped$"),
        N_(
            "the check character (the 18th) does not match the first 17 characters: a character was "
            "mistyped; compare with the business licence"
        ),
    ),
]


def _localised(request: Request, problems: list[Problem]) -> list[Problem]:
    """Translate the parameters that are themselves words: the credit code's reason and role names."""
    locale = locale_of(request)
    out = []
    for p in problems:
        params = dict(p.params)
        why = params.get("why")
        if p.code == "credit_code_invalid" and isinstance(why, str):
            for pattern, msgid in _CREDIT_CODE_REASONS:
                m = pattern.match(why)
                if m:
                    params["why"] = _(request, msgid, **m.groupdict()) if m.groupdict() else _(request, msgid)
                    break
        if isinstance(params.get("role"), str) and params["role"] in ROLES:
            params["role"] = gettext(locale, "role:" + params["role"])
        out.append(replace(p, params=params))
    return out


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value)


def _texts(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if str(v).strip()]


def _checked(data: dict[str, Any], key: str) -> bool:
    return _text(data, key) in ("on", "true", "1", "yes")


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _paged(items: list[Any], page: int) -> tuple[list[Any], int, int]:
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(1, page), pages)
    return items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], page, pages


def _page_no(request: Request) -> int:
    return _int_or_none(request.query_params.get("page", "1")) or 1


def _pick(rows: list[Any], row_id: int, code: str, message: str) -> Any:
    for row in rows:
        if row.id == row_id:
            return row
    raise NotFound.one(code, message)


# ---------------------------------------------------------------- overview


@get("/admin", sync_to_thread=True)
def overview(request: Request, db: Session, actor: Actor) -> Template:
    orgs = accounts.list_organisations(db, actor)
    users = accounts.list_users(db, actor)
    by_kind = Counter(o.kind for o in orgs)
    by_role = Counter(r for u in users if u.active for r in (u.roles or []))
    return page(
        request,
        "admin/index.html",
        kinds=KINDS,
        roles=ROLES,
        org_counts=by_kind,
        inactive_orgs=sum(1 for o in orgs if not o.active),
        role_counts=by_role,
        user_total=len(users),
        inactive_users=sum(1 for u in users if not u.active),
        org_total=len(orgs),
    )


# ---------------------------------------------------------------- organisations


def _org_form(data: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {f: _text(data, f) for f in ORG_FIELDS}
    form["active"] = _checked(data, "active")
    return form


def _org_form_of(org: Organisation | None) -> dict[str, Any]:
    if org is None:
        return {**{f: "" for f in ORG_FIELDS}, "active": True}
    return {**{f: getattr(org, f) or "" for f in ORG_FIELDS}, "active": org.active}


def _org_input(form: dict[str, Any]) -> OrgInput:
    return OrgInput(**{f: form[f] for f in ORG_FIELDS}, active=form["active"])


def _org_page(
    request: Request, form: dict[str, Any], org_id: int | None, errors: list[Problem], status_code: int
) -> Template:
    return page(
        request,
        "admin/organisation_form.html",
        status_code=status_code,
        form=form,
        org_id=org_id,
        kinds=KINDS,
        errors=errors,
    )


@get("/admin/organisations", sync_to_thread=True)
def organisations(request: Request, db: Session, actor: Actor, kind: str = "", q: str = "") -> Template:
    rows = accounts.list_organisations(db, actor)
    users = accounts.list_users(db, actor)
    if kind:
        rows = [o for o in rows if o.kind == kind]
    needle = q.strip().lower()
    if needle:
        rows = [
            o
            for o in rows
            if needle in o.name.lower()
            or needle in o.credit_code.lower()
            or needle in (o.region or "").lower()
        ]
    items, current, pages = _paged(rows, _page_no(request))
    user_counts = Counter(u.organisation_id for u in users)
    return page(
        request,
        "admin/organisations.html",
        items=items,
        total=len(rows),
        page_no=current,
        pages=pages,
        kinds=KINDS,
        kind=kind,
        q=q,
        user_counts=user_counts,
    )


@get("/admin/organisations/new", sync_to_thread=False)
def organisation_new(request: Request, actor: Actor, kind: str = "") -> Template:
    access.require_role(actor, Role.admin)
    form = _org_form_of(None)
    form["kind"] = kind if kind in KINDS else ""
    return page(request, "admin/organisation_form.html", form=form, org_id=None, kinds=KINDS, errors=[])


@post("/admin/organisations/create", sync_to_thread=True)
def organisation_create(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    form = _org_form(data)
    return submit(
        db,
        lambda: accounts.create_organisation(db, actor, _org_input(form)),
        done=lambda _: redirect(
            "/admin/organisations", flash=N_("The organisation was registered."), request=request
        ),
        refused=lambda e: _org_page(request, form, None, _localised(request, e.problems), e.status),
    )


@get("/admin/organisations/{org_id:int}/edit", sync_to_thread=True)
def organisation_edit(request: Request, db: Session, actor: Actor, org_id: int) -> Template:
    org = _pick(accounts.list_organisations(db, actor), org_id, "org_not_found", N_("No such organisation."))
    return page(
        request, "admin/organisation_form.html", form=_org_form_of(org), org_id=org.id, kinds=KINDS, errors=[]
    )


@post("/admin/organisations/{org_id:int}", sync_to_thread=True)
def organisation_update(
    request: Request, db: Session, actor: Actor, org_id: int, data: Form
) -> Template | Redirect:
    form = _org_form(data)
    return submit(
        db,
        lambda: accounts.update_organisation(db, actor, org_id, _org_input(form)),
        done=lambda _: redirect(
            "/admin/organisations", flash=N_("The organisation was saved."), request=request
        ),
        refused=lambda e: _org_page(request, form, org_id, _localised(request, e.problems), e.status),
    )


# ---------------------------------------------------------------- users


def _user_form(data: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {f: _text(data, f) for f in USER_FIELDS}
    form["roles"] = _texts(data, "roles")
    form["active"] = _checked(data, "active")
    return form


def _user_form_of(user: User | None) -> dict[str, Any]:
    if user is None:
        return {**{f: "" for f in USER_FIELDS}, "roles": [], "active": True}
    form: dict[str, Any] = {f: getattr(user, f) or "" for f in USER_FIELDS}
    form["organisation_id"] = str(user.organisation_id or "")
    form["roles"] = list(user.roles or [])
    form["active"] = user.active
    return form


def _user_input(form: dict[str, Any], password: str) -> UserInput:
    return UserInput(
        username=form["username"],
        full_name=form["full_name"],
        organisation_id=_int_or_none(form["organisation_id"]),
        roles=form["roles"],
        email=form["email"],
        phone=form["phone"],
        password=password,
        active=form["active"],
    )


def _role_fits() -> dict[str, list[str | None]]:
    """For the hint beside each role: which kinds of organisation its holder may belong to."""
    return {
        r.value: sorted((k.value if k else None for k in kinds), key=lambda k: k or "")
        for r, kinds in ROLE_ORG_KIND.items()
    }


def _user_page(
    request: Request,
    orgs: list[Organisation],
    form: dict[str, Any],
    user_id: int | None,
    errors: list[Problem],
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "admin/user_form.html",
        status_code=status_code,
        form=form,
        user_id=user_id,
        errors=errors,
        organisations=orgs,
        roles=ROLES,
        role_fits=_role_fits(),
    )


@get("/admin/users", sync_to_thread=True)
def users(
    request: Request, db: Session, actor: Actor, q: str = "", role: str = "", org: str = ""
) -> Template:
    rows = accounts.list_users(db, actor)
    if role:
        rows = [u for u in rows if role in (u.roles or [])]
    org_id = _int_or_none(org)
    if org_id is not None:
        rows = [u for u in rows if u.organisation_id == org_id]
    needle = q.strip().lower()
    if needle:
        rows = [
            u
            for u in rows
            if needle in u.username.lower()
            or needle in u.full_name.lower()
            or needle in (u.organisation.name.lower() if u.organisation else "")
        ]
    items, current, pages = _paged(rows, _page_no(request))
    return page(
        request,
        "admin/users.html",
        items=items,
        total=len(rows),
        page_no=current,
        pages=pages,
        roles=ROLES,
        role=role,
        q=q,
        org=org,
    )


@get("/admin/users/new", sync_to_thread=True)
def user_new(request: Request, db: Session, actor: Actor, org: str = "") -> Template:
    orgs = accounts.list_organisations(db, actor)
    form = _user_form_of(None)
    form["organisation_id"] = org if _int_or_none(org) is not None else ""
    return _user_page(request, orgs, form, None, [])


@post("/admin/users/create", sync_to_thread=True)
def user_create(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    form = _user_form(data)
    return submit(
        db,
        lambda: accounts.create_user(db, actor, _user_input(form, _text(data, "password"))),
        done=lambda _: redirect("/admin/users", flash=N_("The user account was created."), request=request),
        refused=lambda e: _user_page(
            request,
            accounts.list_organisations(db, actor),
            form,
            None,
            _localised(request, e.problems),
            e.status,
        ),
    )


@get("/admin/users/{user_id:int}/edit", sync_to_thread=True)
def user_edit(request: Request, db: Session, actor: Actor, user_id: int) -> Template:
    user = _pick(accounts.list_users(db, actor), user_id, "user_not_found", N_("No such user."))
    return _user_page(request, accounts.list_organisations(db, actor), _user_form_of(user), user.id, [])


@post("/admin/users/{user_id:int}", sync_to_thread=True)
def user_update(request: Request, db: Session, actor: Actor, user_id: int, data: Form) -> Template | Redirect:
    form = _user_form(data)
    return submit(
        db,
        lambda: accounts.update_user(db, actor, user_id, _user_input(form, _text(data, "password"))),
        done=lambda user: _user_saved(request, actor, user),
        refused=lambda e: _user_page(
            request,
            accounts.list_organisations(db, actor),
            form,
            user_id,
            _localised(request, e.problems),
            e.status,
        ),
    )


def _user_saved(request: Request, actor: Actor, user: User) -> Redirect:
    # a new password ends the user's sessions (a new epoch); an administrator who set their own stays logged
    # in here
    if user.id == actor.user_id:
        request.session[SESSION_EPOCH] = user.session_epoch
    return redirect("/admin/users", flash=N_("The user account was saved."), request=request)


ROUTES = [
    overview,
    organisations,
    organisation_new,
    organisation_create,
    organisation_edit,
    organisation_update,
    users,
    user_new,
    user_create,
    user_edit,
    user_update,
]
