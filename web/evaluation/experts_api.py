"""The expert pool over the JSON API (/api/v1/experts), for administrators only: the pool is never public.
Dates are ISO 8601 (YYYY-MM-DD, China Standard Time calendar days); errors are the API's usual JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, Router, get, post
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from sqlalchemy.orm import Session

from core.errors import N_, ValidationFailed
from core.identity import Actor
from evaluation.pool import experts as pool
from evaluation.pool import rules
from evaluation.pool.experts import ExpertInput, ExpertQuery
from evaluation.pool.models import Expert
from web.tender.api import ErrorResponse, validation_error_handler

TAG = "Expert pool"


class Employment(msgspec.Struct):
    org_code: str
    org_name: str
    position: str
    start: date | None
    end: Annotated[date | None, msgspec.Meta(description="null: still employed there")]


class Conflict(msgspec.Struct):
    kind: Annotated[str, msgspec.Meta(description="relative_employer | shareholding | other_interest (P12)")]
    org_code: str
    org_name: str
    start: date | None
    end: date | None
    note: str
    declared_at: datetime


class Unavailable(msgspec.Struct):
    start: date
    end: Annotated[date, msgspec.Meta(description="inclusive")]
    reason: str


class StatusChange(msgspec.Struct):
    status: str
    since: date
    until: date | None
    reason: str
    changed_at: datetime


class ExpertSummary(msgspec.Struct):
    id: int
    name: str
    title: str
    title_level: Annotated[str, msgspec.Meta(description="senior | associate_senior | intermediate | junior")]
    years: int
    specialties: list[str]
    employer_code: str
    employer_name: str
    region: str
    status: Annotated[str, msgspec.Meta(description="active | suspended | retired | penalised")]
    eligible: Annotated[
        bool, msgspec.Meta(description="Senior title and at least 8 years in the field (L37)")
    ]


class ExpertDetail(msgspec.Struct):
    id: int
    name: str
    id_number: str
    title: str
    title_level: str
    years: int
    specialties: list[str]
    employer_code: str
    employer_name: str
    region: str
    phone: str
    email: str
    status: str
    status_since: date | None
    status_until: date | None
    status_reason: str
    user_id: int | None
    employments: list[Employment]
    conflicts: list[Conflict]
    unavailable: list[Unavailable]
    status_history: list[StatusChange]


class ExpertList(msgspec.Struct):
    items: list[ExpertSummary]
    total: int
    page: int
    page_size: int
    pages: int


def summary(e: Expert) -> ExpertSummary:
    return ExpertSummary(
        e.id,
        e.name,
        e.title,
        e.title_level,
        e.years,
        e.specialty_codes,
        e.employer_code,
        e.employer_name,
        e.region,
        e.status,
        rules.eligible(e.title_level, e.years),
    )


def detail(e: Expert) -> ExpertDetail:
    return ExpertDetail(
        id=e.id,
        name=e.name,
        id_number=e.id_number or "",
        title=e.title,
        title_level=e.title_level,
        years=e.years,
        specialties=e.specialty_codes,
        employer_code=e.employer_code,
        employer_name=e.employer_name,
        region=e.region,
        phone=e.phone,
        email=e.email,
        status=e.status,
        status_since=e.status_since,
        status_until=e.status_until,
        status_reason=e.status_reason,
        user_id=e.user_id,
        employments=[Employment(j.org_code, j.org_name, j.position, j.start, j.end) for j in e.employments],
        conflicts=[
            Conflict(c.kind, c.org_code, c.org_name, c.start, c.end, c.note, c.declared_at)
            for c in e.conflicts
        ],
        unavailable=[Unavailable(p.start, p.end, p.reason) for p in e.unavailable],
        status_history=[
            StatusChange(c.status, c.since, c.until, c.reason, c.changed_at) for c in e.status_history
        ],
    )


ERRORS = {
    401: ResponseSpec(ErrorResponse, description="Not logged in (code login_required)"),
    403: ResponseSpec(ErrorResponse, description="Not an administrator (code role_required)"),
}


# GET and POST share this path: both are async (web/admin.py explains why a shared path takes no
# sync_to_thread handler).
@get("/", summary="Search the expert pool", responses=ERRORS)
async def list_experts(
    db: Session,
    actor: Actor,
    q: Annotated[str, Parameter(max_length=200, description="Name, identity number, employer or title")] = "",
    specialty: Annotated[
        str, Parameter(max_length=20, description="A catalogue code; its sub-specialties are included")
    ] = "",
    status: Annotated[
        str, Parameter(max_length=20, description="active, suspended, retired or penalised")
    ] = "",
    region: Annotated[str, Parameter(max_length=100)] = "",
    title_level: Annotated[str, Parameter(max_length=20)] = "",
    page: Annotated[int, Parameter(ge=1)] = 1,
    page_size: Annotated[int, Parameter(ge=1, le=pool.MAX_PAGE_SIZE)] = pool.PAGE_SIZE,
) -> ExpertList:
    def run() -> ExpertList:
        result = pool.search_experts(
            db, actor, ExpertQuery(q, specialty, status, region, title_level, page, page_size)
        )
        return ExpertList(
            [summary(e) for e in result.items], result.total, result.page, result.page_size, result.pages
        )

    return await anyio.to_thread.run_sync(run)


@get(
    "/{expert_id:int}",
    sync_to_thread=True,
    summary="Get an expert's record",
    responses={**ERRORS, 404: ResponseSpec(ErrorResponse, description="No such expert")},
)
def get_expert(db: Session, actor: Actor, expert_id: int) -> ExpertDetail:
    pool.require_admin(actor)
    return detail(pool.get_expert(db, actor, expert_id))


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except Exception as e:  # noqa: BLE001 - any undecodable body is the same refusal
        raise ValidationFailed.one("body_not_json", N_("The request body must be a JSON object.")) from e
    if not isinstance(body, dict):
        raise ValidationFailed.one("body_not_json", N_("The request body must be a JSON object."))
    return body


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return "" if value is None else str(value)


def _day(body: dict[str, Any], key: str) -> date | None:
    try:
        return date.fromisoformat(_str(body, key)) if body.get(key) else None
    except ValueError as e:
        raise ValidationFailed.one(
            "date_invalid", N_("The field %(name)s must be a date written YYYY-MM-DD."), key, name=key
        ) from e


@post(
    "/",
    summary="Register an expert",
    status_code=201,
    responses={
        **ERRORS,
        422: ResponseSpec(ErrorResponse, description="A field is not valid; each problem names it"),
    },
)
async def create_expert(request: Request, db: Session, actor: Actor) -> ExpertDetail:
    pool.require_admin(actor)  # before reading the body: a stranger learns nothing from its validation
    body = await _json(request)
    specialties = body.get("specialties") or []
    years = body.get("years")
    data = ExpertInput(
        name=_str(body, "name"),
        id_number=_str(body, "id_number"),
        title=_str(body, "title"),
        title_level=_str(body, "title_level"),
        years=years if isinstance(years, int) and not isinstance(years, bool) else None,
        specialties=[str(s) for s in specialties] if isinstance(specialties, list) else [],
        employer_code=_str(body, "employer_code"),
        employer_name=_str(body, "employer_name"),
        region=_str(body, "region"),
        phone=_str(body, "phone"),
        email=_str(body, "email"),
    )
    return await anyio.to_thread.run_sync(lambda: detail(pool.create_expert(db, actor, data)))


@post(
    "/{expert_id:int}/status",
    summary="Change an expert's status",
    status_code=200,
    responses={**ERRORS, 422: ResponseSpec(ErrorResponse, description="Not valid")},
)
async def change_status(request: Request, db: Session, actor: Actor, expert_id: int) -> ExpertDetail:
    pool.require_admin(actor)
    body = await _json(request)
    since, until = _day(body, "since"), _day(body, "until")
    return await anyio.to_thread.run_sync(
        lambda: detail(
            pool.set_status(db, actor, expert_id, _str(body, "status"), since, until, _str(body, "reason"))
        )
    )


experts_v1 = Router(
    "/api/v1/experts",
    route_handlers=[list_experts, get_expert, create_expert, change_status],
    tags=[TAG],
    exception_handlers={ValidationException: validation_error_handler},
)

ROUTES = [experts_v1]
