"""The expert's own pages: their record in the pool, and the conflicts and unavailable days they declare
themselves. The draw's pages (invitations, confirmations) join this portal from the draw's own module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core.errors import N_, DomainError, Problem, ValidationFailed
from core.identity import Actor
from evaluation.pool import catalogue, rules
from evaluation.pool import experts as pool
from web.deps import page, redirect
from web.evaluation.experts_admin import (
    DATE_MESSAGES,
    SUBFORMS,
    Form,
    _date,
    _text,
    conflict_input,
    date_problems,
    localised,
)
from web.forms import submit


def _profile(
    request: Request,
    db: Session,
    actor: Actor,
    failed: str = "",
    values: dict[str, str] | None = None,
    errors: list[Problem] | None = None,
    status_code: int = 200,
) -> Template:
    expert = pool.expert_of(db, actor)
    return page(
        request,
        "expert/profile.html",
        status_code=status_code,
        expert=expert,
        names={s.code: s for s in catalogue.all_specialties(db)},
        failed=failed,
        values=values or {},
        errors=errors or [],
        status_labels=rules.STATUS_LABELS,
        level_labels=rules.LEVEL_LABELS,
        conflict_kinds=rules.CONFLICT_KINDS,
        conflict_labels=rules.CONFLICT_LABELS,
    )


@get("/expert/profile", sync_to_thread=True)
def profile(request: Request, db: Session, actor: Actor) -> Template:
    return _profile(request, db, actor)


def _own_id(db: Session, actor: Actor) -> int:
    expert = pool.expert_of(db, actor)
    if expert is None:
        raise ValidationFailed.one(
            "expert_not_linked",
            N_(
                "Your account is not linked to an expert in the pool. Ask the trading "
                "centre's administrator to link it."
            ),
        )
    return expert.id


def _values(data: dict[str, Any], name: str) -> dict[str, str]:
    return {f: _text(data, f) for f in SUBFORMS[name]}


def _again(
    request: Request, db: Session, actor: Actor, failed: str, values: dict[str, str]
) -> Callable[[DomainError], Template]:
    """The profile again, with what was typed into the refused form and why it was refused."""
    return lambda e: _profile(request, db, actor, failed, values, localised(request, e.problems), e.status)


@post("/expert/profile/conflicts", sync_to_thread=True)
def declare_conflict(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    expert_id = _own_id(db, actor)
    values = _values(data, "conflict")
    return submit(
        db,
        lambda: pool.declare_conflict(db, actor, expert_id, conflict_input(values)),
        problems=date_problems(values, {k: DATE_MESSAGES[k] for k in ("start", "end")}),
        done=lambda _: redirect(
            "/expert/profile#conflicts", flash=N_("The declared interest was recorded."), request=request
        ),
        refused=_again(request, db, actor, "conflict", values),
    )


@post("/expert/profile/unavailable", sync_to_thread=True)
def declare_unavailable(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    expert_id = _own_id(db, actor)
    values = _values(data, "unavailable")
    return submit(
        db,
        lambda: pool.add_unavailability(
            db, actor, expert_id, _date(values["start"]), _date(values["end"]), values["reason"]
        ),
        problems=date_problems(values, {k: DATE_MESSAGES[k] for k in ("start", "end")}),
        done=lambda _: redirect(
            "/expert/profile#unavailable", flash=N_("The unavailable days were recorded."), request=request
        ),
        refused=_again(request, db, actor, "unavailable", values),
    )


ROUTES = [profile, declare_conflict, declare_unavailable]
