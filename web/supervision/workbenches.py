"""Workbenches for the roles that had none (issue 16): the purchaser's (/purchaser: its tenders through the
procedure) and the trading centre staff's (/centre: project intake, the rooms' week, witnessing, the experts'
phone confirmations), and the agency's link from its draft to the centre's intake. Thin handlers: parse, call
one service of tender.centre or supervision, render or redirect (PRG); a refused form comes back with what was
typed and why."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from accounts.access import require_login
from core import clock
from core.errors import N_, Problem
from core.identity import Actor
from supervision import centre, workbenches
from tender import access
from tender.centre import intake, rooms
from tender.centre import rules as centre_rules
from tender.centre.models import Funding
from tender.lifecycle import Status
from web.deps import page, redirect
from web.evaluation.room import STATE_LABELS
from web.forms import FormState, submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

FUNDING_LABELS = {
    Funding.fiscal: N_("State budget funds"),
    Funding.state_owned: N_("State-owned enterprise funds"),
    Funding.mixed: N_("Partly state funds"),
    Funding.private: N_("No state funds"),
}
CATEGORY_LABELS = {"works": N_("Works"), "goods": N_("Goods"), "services": N_("Services")}
KIND_LABELS = {"opening": N_("Opening room"), "evaluation": N_("Evaluation room")}  # the calendar's rows
WITNESS_LABELS = {"opening": N_("bid opening"), "evaluation": N_("evaluation session")}  # what was witnessed


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return "" if value is None else str(value)


def _when(value: str, field: str, problems: list[Problem], required: bool = False) -> datetime | None:
    """A datetime-local field in Beijing time; a problem when it is not one (or missing and required)."""
    if not value.strip():
        if required:
            problems.append(Problem("time_missing", N_("Enter a date and time (Beijing time)."), field))
        return None
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=clock.CST)
    except ValueError:
        problems.append(Problem("time_invalid", N_("Enter a date and time (Beijing time)."), field))
        return None


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _settings(request: Request) -> Any:
    return request.app.state.settings


# ---------------------------------------------------------------- the purchaser (招标人)


@get("/purchaser", sync_to_thread=True)
def purchaser_home(request: Request, db: Session, actor: Actor) -> Template:
    rows = workbenches.purchaser_tenders(db, actor)
    return page(request, "purchaser/index.html", rows=rows, state_labels=STATE_LABELS, now=clock.now())


# ---------------------------------------------------------------- the centre (交易中心人员)

INTAKE_FIELDS = (
    "reference",
    "title",
    "purchaser_id",
    "agency_id",
    "category",
    "funding",
    "planned_publication",
    "planned_opening",
    "remarks",
)


def _centre(
    request: Request, db: Session, actor: Actor, form: FormState | None = None, status_code: int = 200
) -> Template:
    intake.require_centre(actor)
    form = form or FormState()
    rows = intake.intakes(db, actor)
    return page(
        request,
        "centre/index.html",
        status_code=status_code,
        intakes=rows,
        linked=intake.linked_tenders(db, rows),
        witnessable=centre.witnessable(db, actor),
        purchasers=intake.organisations(db, "purchaser"),
        agencies=intake.organisations(db, "agency"),
        fundings=FUNDING_LABELS,
        categories=CATEGORY_LABELS,
        kinds=WITNESS_LABELS,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        now=clock.now(),
    )


@get("/centre", sync_to_thread=True)
def centre_home(request: Request, db: Session, actor: Actor) -> Template:
    return _centre(request, db, actor)


@post("/centre/intakes", sync_to_thread=True)
def register_intake(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    intake.require_centre(actor)
    values = {k: _text(data, k) for k in INTAKE_FIELDS}
    problems: list[Problem] = []
    parsed = intake.IntakeInput(
        reference=values["reference"],
        title=values["title"],
        purchaser_id=_int(values["purchaser_id"]),
        agency_id=_int(values["agency_id"]),
        category=values["category"],
        funding=values["funding"],
        planned_publication=_when(values["planned_publication"], "planned_publication", problems),
        planned_opening=_when(values["planned_opening"], "planned_opening", problems),
        remarks=values["remarks"],
    )
    return submit(
        db,
        lambda: intake.register(db, actor, parsed),
        problems=problems,
        done=lambda row: redirect(
            "/centre#intakes",
            flash=N_("The project is registered. Its agency may now link its draft to it."),
            request=request,
        ),
        refused=lambda e: _centre(request, db, actor, FormState("intake", values, e.problems), e.status),
    )


@post("/centre/tenders/{tender_id:int}/witness", sync_to_thread=True)
def record_witness(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    intake.require_centre(actor)
    values = {k: _text(data, k) for k in ("kind", "witnessed_at", "remarks")}
    problems: list[Problem] = []
    parsed = centre.WitnessInput(
        values["kind"],
        _when(values["witnessed_at"], "witnessed_at", problems, required=True),
        values["remarks"],
    )
    return submit(
        db,
        lambda: centre.witness(db, actor, tender_id, parsed),
        problems=problems,
        done=lambda _: redirect("/centre#witness", flash=N_("Your witnessing is recorded."), request=request),
        refused=lambda e: _centre(
            request, db, actor, FormState(f"witness-{tender_id}", values, e.problems), e.status
        ),
    )


def _calendar(
    request: Request,
    db: Session,
    actor: Actor,
    day: date,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    settings = _settings(request)
    form = form or FormState()
    return page(
        request,
        "centre/calendar.html",
        status_code=status_code,
        w=centre.week(db, actor, day, settings.opening_rooms, settings.evaluation_rooms),
        tenders=centre.bookable_tenders(db, actor),
        opening_rooms=settings.opening_rooms,
        kinds=KIND_LABELS,
        default_hours=centre_rules.DEFAULT_HOURS,
        max_hours=centre_rules.MAX_HOURS,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
    )


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else clock.to_cst(clock.now()).date()
    except ValueError:
        return clock.to_cst(clock.now()).date()


@get("/centre/calendar", sync_to_thread=True)
def calendar(request: Request, db: Session, actor: Actor, week: str | None = None) -> Template:
    return _calendar(request, db, actor, _day(week))


@post("/centre/calendar/openings", sync_to_thread=True)
def book_opening(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    intake.require_centre(actor)
    values = {k: _text(data, k) for k in ("tender_id", "room", "starts_at", "hours", "week")}
    problems: list[Problem] = []
    starts_at = _when(values["starts_at"], "starts_at", problems, required=True)
    tender_id = _int(values["tender_id"])
    if tender_id is None:
        problems.append(
            Problem("opening_tender", N_("Choose the tender whose opening you book."), "tender_id")
        )
    room = _int(values["room"]) or 0
    hours = _int(values["hours"]) or 0
    day = starts_at.date() if starts_at else _day(values["week"])
    return submit(
        db,
        lambda: rooms.book_opening(
            db,
            actor,
            tender_id or 0,
            rooms.OpeningBookingInput(room, starts_at or clock.now(), hours),
            _settings(request).opening_rooms,
        ),
        problems=problems,
        done=lambda _: redirect(
            f"/centre/calendar?week={day.isoformat()}",
            flash=N_("The opening room is booked."),
            request=request,
        ),
        refused=lambda e: _calendar(
            request, db, actor, day, FormState("opening", values, e.problems), e.status
        ),
    )


# ---------------------------------------------------------------- the agency links its draft to the intake


def _link_page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    tender, choices = intake.linkable(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "centre/link.html",
        status_code=status_code,
        t=tender,
        current=intake.intake_of(db, tender.id),
        choices=choices,
        is_draft=tender.status == Status.draft,
        categories=CATEGORY_LABELS,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
    )


@get("/agency/tenders/{tender_id:int}/intake", sync_to_thread=True)
def intake_link_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _link_page(request, db, actor, tender_id)


# its own path: a GET and a POST handler on one path, both sync_to_thread, get the GET wrapped twice by this
# Litestar (it answers a coroutine: a 500)
@post("/agency/tenders/{tender_id:int}/intake/link", sync_to_thread=True)
def link_intake(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    require_login(actor)
    access.require_tender_agency(actor, access.get_tender(db, tender_id))  # 403/404 before reading the form
    values = {"intake_id": _text(data, "intake_id")}
    chosen = _int(values["intake_id"])
    problems = (
        []
        if chosen
        else [Problem("intake_choose", N_("Choose the centre's intake of this project."), "intake_id")]
    )
    return submit(
        db,
        lambda: intake.link_draft(db, actor, tender_id, chosen or 0),
        problems=problems,
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}",
            flash=N_("The draft is linked to the centre's intake."),
            request=request,
        ),
        refused=lambda e: _link_page(
            request, db, actor, tender_id, FormState("link", values, e.problems), e.status
        ),
    )


# ---------------------------------------------------------------- the agency books its opening's room


def _opening_room(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    form = form or FormState()
    return page(
        request,
        "centre/opening_room.html",
        status_code=status_code,
        v=rooms.booking_view(db, actor, tender_id, _settings(request).opening_rooms),
        default_hours=centre_rules.DEFAULT_HOURS,
        max_hours=centre_rules.MAX_HOURS,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
    )


@get("/agency/tenders/{tender_id:int}/opening-room", sync_to_thread=True)
def opening_room_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _opening_room(request, db, actor, tender_id)


@post("/agency/tenders/{tender_id:int}/opening-room/book", sync_to_thread=True)
def agency_books_opening(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    rooms.booking_view(db, actor, tender_id, _settings(request).opening_rooms)  # 403/404 before the form
    values = {k: _text(data, k) for k in ("room", "starts_at", "hours")}
    problems: list[Problem] = []
    starts_at = _when(values["starts_at"], "starts_at", problems, required=True)
    parsed = rooms.OpeningBookingInput(
        _int(values["room"]) or 0, starts_at or clock.now(), _int(values["hours"]) or 0
    )
    return submit(
        db,
        lambda: rooms.book_opening(db, actor, tender_id, parsed, _settings(request).opening_rooms),
        problems=problems,
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}/opening-room",
            flash=N_("The opening room is booked."),
            request=request,
        ),
        refused=lambda e: _opening_room(
            request, db, actor, tender_id, FormState("opening", values, e.problems), e.status
        ),
    )


ROUTES = [
    opening_room_page,
    agency_books_opening,
    purchaser_home,
    centre_home,
    register_intake,
    record_witness,
    calendar,
    book_opening,
    intake_link_page,
    link_intake,
]
