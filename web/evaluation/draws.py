"""The committee draw: the agency's request form and seat counts, the parties' contributions (committed and
revealed by web/static/js/draw-contribution.js in each party's own browser, from the agency's draw page and
the monitor's tender page), abandoning a draw, the expert's draws with confirm, decline and declare a
conflict, and the public draw record under /api/v1."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from accounts.notifications import Channel
from core.errors import N_, DomainError, NotAuthenticated, Problem
from core.identity import Actor
from evaluation.committee import draws
from evaluation.committee.avoidance import DrawCap
from web import confirm
from web.deps import locale_of, page, redirect
from web.forms import submit
from web.problems import problems_json

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
JSONBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.JSON)]
QUOTA_ROWS = 5


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _channel(request: Request) -> Channel:
    return request.app.state.channel  # type: ignore[no-any-return]


def _cap(request: Request) -> DrawCap:
    settings = request.app.state.settings
    return DrawCap(max_draws=settings.draw_cap_max, period_days=settings.draw_cap_days)


# ---------------------------------------------------------------- the agency


def blank_form() -> dict[str, Any]:
    return {
        "committee_size": "5",
        "representative": "",
        "substitutes": "3",
        "evaluation_date": "",
        "confirm_hours": "24",
        "regions": "",
        "exclude_local": "",
        "public_entropy": "",
        "quotas": [{"specialty": "", "seats": ""} for _ in range(QUOTA_ROWS)],
    }


def read_form(data: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {k: _text(data, k) for k in blank_form() if k != "quotas"}
    form["quotas"] = [
        {"specialty": _text(data, f"quota_specialty_{i}"), "seats": _text(data, f"quota_seats_{i}")}
        for i in range(QUOTA_ROWS)
    ]
    return form


def _int(form: dict[str, Any], name: str, problems: list[Problem]) -> int:
    try:
        return int(form[name])
    except ValueError:
        problems.append(Problem("not_a_number", N_("Enter a whole number."), name))
        return 0


def parse_form(form: dict[str, Any]) -> tuple[draws.DrawInput, list[Problem]]:
    """The request as far as it could be read, and a Problem for each field that could not be."""
    problems: list[Problem] = []
    size = _int(form, "committee_size", problems)
    substitutes = _int(form, "substitutes", problems)
    hours = _int(form, "confirm_hours", problems)
    quotas: list[tuple[str, int]] = []
    for i, row in enumerate(form["quotas"]):
        if not row["specialty"] and not row["seats"]:
            continue
        try:
            seats = int(row["seats"])
        except ValueError:
            problems.append(
                Problem(
                    "not_a_number",
                    N_("Enter the number of seats for each chosen specialty."),
                    f"quota_seats_{i}",
                )
            )
            continue
        quotas.append((row["specialty"], seats))
    try:
        day = date.fromisoformat(form["evaluation_date"])
    except ValueError:
        problems.append(
            Problem("draw_evaluation_date", N_("Enter the evaluation date as YYYY-MM-DD."), "evaluation_date")
        )
        day = date.min
    entropy: bytes | None = None
    if form["public_entropy"]:
        try:
            entropy = bytes.fromhex(form["public_entropy"])
        except ValueError:
            problems.append(
                Problem(
                    "draw_entropy_hex",
                    N_("Public entropy is written in hexadecimal (0-9, a-f)."),
                    "public_entropy",
                )
            )
    regions = [r.strip() for r in form["regions"].replace("，", ",").split(",") if r.strip()]
    return draws.DrawInput(
        committee_size=size,
        quotas=quotas,
        evaluation_date=day,
        substitutes=substitutes,
        representative_seats=1 if form["representative"] else 0,
        regions=regions,
        exclude_local=bool(form["exclude_local"]),
        confirm_hours=hours,
        public_entropy=entropy,
    ), problems


def _quota_field(p: Problem) -> Problem:
    return p if p.field != "quotas" else Problem(p.code, p.message, "quota_specialty_0", p.params, p.rule)


def _draw_page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: dict[str, Any] | None = None,
    errors: list[Problem] | None = None,
    status_code: int = 200,
    abandon_reason: str = "",
) -> Template:
    tender, draw_row = draws.tender_draw(db, actor, tender_id)
    errors = [_quota_field(p) for p in errors or []]
    return page(
        request,
        "agency/draw.html",
        status_code=status_code,
        tender=tender,
        draw=draw_row,
        cv=draws.contribution_view(db, actor, draw_row.id) if draw_row else None,
        earlier=draws.earlier_draws(db, tender_id),
        abandon_reason=abandon_reason,
        counts=draws.counts(draw_row) if draw_row else None,
        form=form or blank_form(),
        errors=errors,
        error_fields={p.field for p in errors if p.field},
        specialties=draws.specialty_choices(db),
        min_size=draws.minimum_size(tender),
        open_for_draw=draws.open_for_draw(tender),
    )


@get("/agency/tenders/{tender_id:int}/draw", sync_to_thread=True)
def draw_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _draw_page(request, db, actor, tender_id)


@post("/agency/tenders/{tender_id:int}/draw/request", sync_to_thread=True)
def request_draw(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    draws.tender_draw(db, actor, tender_id)  # 403/404 before reading the form
    form = read_form(data)
    parsed, problems = parse_form(form)
    return submit(
        # an unfillable quota is refused naming it, and the savepoint keeps nothing of the draw
        db,
        lambda: draws.request_draw(db, actor, tender_id, parsed, _channel(request), _cap(request)),
        problems=problems,
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}/draw",
            flash=N_(
                "The draw is requested. The committee is drawn as soon as your organisation and the "
                "monitors have each added a random number."
            ),
            request=request,
        ),
        refused=lambda e: _draw_page(request, db, actor, tender_id, form, e.problems, e.status),
    )


@post("/agency/tenders/{tender_id:int}/draw/{draw_id:int}/abandon", sync_to_thread=True)
def abandon_draw(
    request: Request, db: Session, actor: Actor, tender_id: int, draw_id: int, data: Form
) -> Template | Redirect:
    reason = _text(data, "reason")
    return submit(
        db,
        lambda: draws.abandon_draw(db, actor, draw_id, reason, _channel(request)),
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}/draw",
            flash=N_("The draw is abandoned; the monitors were told. You may request a new draw."),
            request=request,
        ),
        refused=lambda e: _draw_page(
            request, db, actor, tender_id, errors=e.problems, status_code=e.status, abandon_reason=reason
        ),
    )


# ------------------------------------------------------------ the parties' contributions (JSON for the JS)


def _problems(request: Request, e: DomainError) -> Response[Any]:
    status = 401 if isinstance(e, NotAuthenticated) else e.status
    return Response(
        problems_json(locale_of(request), e.problems), status_code=status, media_type=MediaType.JSON
    )


# the page's script reads refusals as JSON (the app's handler would answer with a page)
JSON_REFUSALS: Any = {DomainError: _problems}


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "") if isinstance(data, dict) else ""
    return value if isinstance(value, str) else ""


@get("/draws/{draw_id:int}/contributions", sync_to_thread=True, exception_handlers=JSON_REFUSALS)
def contributions(db: Session, actor: Actor, draw_id: int) -> dict[str, Any]:
    return draws.contribution_view(db, actor, draw_id).to_json()


@post("/draws/{draw_id:int}/contributions/commit", sync_to_thread=True, exception_handlers=JSON_REFUSALS)
def commit_contribution(db: Session, actor: Actor, draw_id: int, data: JSONBody) -> dict[str, Any]:
    mine = draws.commit_contribution(db, actor, draw_id, _field(data, "commitment"))
    return {"party": mine.party, "commitment": mine.commitment}


@post("/draws/{draw_id:int}/contributions/reveal", sync_to_thread=True, exception_handlers=JSON_REFUSALS)
def reveal_contribution(
    request: Request, db: Session, actor: Actor, draw_id: int, data: JSONBody
) -> dict[str, Any]:
    draw_row = draws.reveal_contribution(db, actor, draw_id, _field(data, "value"), _channel(request))
    return {"status": draw_row.status}


# ---------------------------------------------------------------- the expert


def _expert_page(
    request: Request,
    db: Session,
    actor: Actor,
    errors: list[Problem] | None = None,
    status_code: int = 200,
    failed: int = 0,
    note: str = "",
) -> Template:
    return page(
        request,
        "expert/draws.html",
        status_code=status_code,
        seats=draws.my_seats(db, actor),
        errors=errors or [],
        failed=failed,
        note=note,
    )


@get("/expert/draws", sync_to_thread=True)
def my_draws(request: Request, db: Session, actor: Actor) -> Template:
    return _expert_page(request, db, actor)


def _answer(request: Request, db: Session, actor: Actor, seat_id: int, accept: bool) -> Template | Redirect:
    if accept:
        message = N_("Thank you: your seat is confirmed.")
    else:
        message = N_("You declined; the next substitute has been asked.")
    return submit(
        db,
        lambda: draws.respond(db, actor, seat_id, accept, _channel(request)),
        done=lambda _: redirect("/expert/draws", flash=message, request=request),
        refused=lambda e: _expert_page(request, db, actor, e.problems, e.status, failed=seat_id),
    )


@post("/expert/seats/{seat_id:int}/confirm", sync_to_thread=True)
def confirm_seat(request: Request, db: Session, actor: Actor, seat_id: int) -> Template | Redirect:
    return _answer(request, db, actor, seat_id, True)


@post("/expert/seats/{seat_id:int}/decline", sync_to_thread=True)
def decline_seat(
    request: Request, db: Session, actor: Actor, seat_id: int, data: Form
) -> Template | Redirect:
    mine = next((m for m in draws.my_seats(db, actor) if m.seat.id == seat_id), None)
    if mine is not None and mine.seat.status == "notified" and not confirm.confirmed(data):
        return confirm.ask(
            request,
            title=N_("Decline this committee seat?"),
            subject=f"{mine.tender.reference} {mine.tender.title}",
            consequences=[
                N_("The seat goes at once to the next substitute, who is asked in your place."),
                N_("You cannot take the seat back afterwards."),
            ],
            action=f"/expert/seats/{seat_id}/decline",
            confirm_label=N_("Decline the seat"),
            back="/expert/draws",
            danger=True,
        )
    return _answer(request, db, actor, seat_id, False)


@post("/expert/seats/{seat_id:int}/conflict", sync_to_thread=True)
def declare_conflict(
    request: Request, db: Session, actor: Actor, seat_id: int, data: Form
) -> Template | Redirect:
    note = _text(data, "note")
    return submit(
        db,
        lambda: draws.declare_conflict(db, actor, seat_id, note, _channel(request)),
        done=lambda _: redirect(
            "/expert/draws",
            flash=N_("Your conflict is recorded and your seat goes to a substitute (R46, R48)."),
            request=request,
        ),
        refused=lambda e: _expert_page(
            request, db, actor, _on_note(e.problems, seat_id), e.status, failed=seat_id, note=note
        ),
    )


def _on_note(problems: list[Problem], seat_id: int) -> list[Problem]:
    """The seat's note input on a page of several seats is "note-<seat id>"."""
    return [
        Problem(p.code, p.message, f"note-{seat_id}" if p.field else None, p.params, p.rule) for p in problems
    ]


# ---------------------------------------------------------------- the public record


@get("/api/v1/draws/{draw_id:int}/record", sync_to_thread=True)
def draw_record(db: Session, draw_id: int) -> dict[str, Any]:
    # read-only (no write lock for a public GET): the scheduler's sweep publishes the record once the tender
    # is final
    return draws.public_record(db, draw_id, publish=False)


ROUTES: list[Any] = [
    draw_page,
    request_draw,
    abandon_draw,
    contributions,
    commit_contribution,
    reveal_contribution,
    my_draws,
    confirm_seat,
    decline_seat,
    declare_conflict,
    draw_record,
]
