"""The sealed evaluation room's pages (evaluation.room): the expert's workbench (check in and sign, declare a
conflict, leave, elect the chair, read the opened bids), the agency's booking, the monitor's pause and resume,
and the session's progress under /api/v1 for everyone the disclosure policy lets see it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Stream, Template
from sqlalchemy.orm import Session

from accounts.notifications import Channel
from core import clock
from core.errors import N_, Forbidden, Problem
from core.identity import Actor
from evaluation.events import EvaluationTag
from evaluation.report import progress
from evaluation.room import reading, rules, sessions
from evaluation.room.models import Step
from web.deps import page, redirect
from web.forms import FormState, submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
CHUNK = 64 * 1024

# The room's audit entries in words, for the monitors' trail and the public log (web.supervision.monitor).
EVENT_LABELS = {
    EvaluationTag.room_booked.value: N_("Evaluation session booked"),
    EvaluationTag.room_checked_in.value: N_("A member checked in and signed the declaration"),
    EvaluationTag.room_member_left.value: N_("A member left the evaluation session"),
    EvaluationTag.room_chair_voted.value: N_("A member voted for the chair"),
    EvaluationTag.room_chair_elected.value: N_("The committee elected its chair"),
    EvaluationTag.room_paused.value: N_("Evaluation session paused"),
    EvaluationTag.room_resumed.value: N_("Evaluation session resumed"),
    EvaluationTag.room_bid_file_read.value: N_("A member read a file of a bid"),
    EvaluationTag.room_read_refused.value: N_("Reading a file of a bid refused"),
    EvaluationTag.room_step_closed.value: N_("The committee closed a step of the evaluation"),
}

STATE_LABELS = {
    rules.State.booked: N_("Booked"),
    rules.State.check_in: N_("Check-in open"),
    rules.State.open: N_("In session"),
    rules.State.paused: N_("Paused by a monitor"),
}

STEP_LABELS = {
    Step.review.value: N_("Qualification and compliance review"),
    Step.scoring.value: N_("Detailed review (scoring)"),
    Step.ranking.value: N_("Ranking and candidates"),
}


def _overall(db: Session, actor: Actor, tender_id: int) -> progress.Overall | None:
    """The steps' progress in counts, or None for a reader who may not see it yet (before the deadline)."""
    try:
        return progress.overall(db, actor, tender_id)[1]
    except Forbidden:
        return None


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _channel(request: Request) -> Channel:
    return request.app.state.channel  # type: ignore[no-any-return]


def _rooms(request: Request) -> tuple[str, ...]:
    return request.app.state.settings.evaluation_rooms  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the expert's workbench


def _room_url(tender_id: int) -> str:
    return f"/expert/tenders/{tender_id}/room"


def _workbench(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    view = reading.room(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "evaluation/room.html",
        status_code=status_code,
        v=view,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        state_labels=STATE_LABELS,
        refusals=reading.REFUSALS,
    )


@get("/expert/tenders/{tender_id:int}/room", sync_to_thread=True)
def workbench(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _workbench(request, db, actor, tender_id)


def _again(
    request: Request, db: Session, actor: Actor, tender_id: int, failed: str, values: dict[str, str]
) -> Any:
    return lambda e: _workbench(
        request, db, actor, tender_id, FormState(failed, values, e.problems), e.status
    )


@post("/expert/tenders/{tender_id:int}/room/check-in", sync_to_thread=True)
def check_in(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    values = {"signed_name": _text(data, "signed_name"), "agree": _text(data, "agree")}
    return submit(
        db,
        lambda: sessions.check_in(
            db, actor, tender_id, sessions.CheckIn(values["signed_name"], values["agree"] == "1")
        ),
        done=lambda _: redirect(
            _room_url(tender_id), flash=N_("You have checked in and signed the declaration."), request=request
        ),
        refused=_again(request, db, actor, tender_id, "check-in", values),
    )


@post("/expert/tenders/{tender_id:int}/room/conflict", sync_to_thread=True)
def declare_conflict(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"note": _text(data, "note")}
    return submit(
        db,
        lambda: sessions.declare_conflict(db, actor, tender_id, values["note"], _channel(request)),
        done=lambda _: redirect(
            "/expert/draws",
            flash=N_("Your conflict is recorded and your seat goes to the next substitute."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "conflict", values),
    )


@post("/expert/tenders/{tender_id:int}/room/leave", sync_to_thread=True)
def leave(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    values = {"reason": _text(data, "reason")}
    return submit(
        db,
        lambda: sessions.leave(db, actor, tender_id, values["reason"], _channel(request)),
        done=lambda _: redirect(
            "/expert/draws",
            flash=N_("You have left the session; your seat goes to the next substitute."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "leave", values),
    )


@post("/expert/tenders/{tender_id:int}/room/chair", sync_to_thread=True)
def vote_chair(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"candidate": _text(data, "candidate")}
    problems = (
        []
        if values["candidate"].isdigit()
        else [
            Problem(
                "room_chair_candidate",
                N_("Vote for a member who has checked in to this session."),
                "candidate",
            )
        ]
    )
    return submit(
        db,
        lambda: sessions.vote_chair(db, actor, tender_id, int(values["candidate"])),
        problems=problems,
        done=lambda s: redirect(
            _room_url(tender_id) + "#chair",
            flash=N_("The committee has elected its chair.")
            if s.chair_seat_id
            else N_("Your vote is recorded."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "chair", values),
    )


def _disposition(kind: str, name: str, fallback: str) -> str:
    ascii_name = name if name.isascii() and name.strip() else fallback
    ascii_name = ascii_name.replace('"', "'").replace("\\", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@get(
    "/expert/tenders/{tender_id:int}/room/bids/{opened_bid_id:int}/files/{index:int}",
    sync_to_thread=True,
    include_in_schema=False,
    opt={"writes": True, "records": N_("read a file of a bid in the evaluation room")},
)
def bid_file(
    request: Request, db: Session, actor: Actor, tender_id: int, opened_bid_id: int, index: int
) -> Stream:
    """One file of an opened bid, decrypted now. A PDF opens in the browser; any other type is downloaded,
    never rendered (a bidder chose its content and its declared type)."""
    got = reading.read_bid_file(db, actor, request.app.state.blobs, tender_id, opened_bid_id, index)
    pdf = got.media_type == "application/pdf"
    fallback = f"bid-{opened_bid_id}-file-{index + 1}" + (".pdf" if pdf else "")

    def chunks() -> Iterator[bytes]:
        try:
            while piece := got.body.read(CHUNK):
                yield piece
        finally:
            got.body.close()

    headers = {
        "Content-Disposition": _disposition("inline" if pdf else "attachment", got.name, fallback),
        "Content-Length": str(got.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Stream(
        chunks(), media_type="application/pdf" if pdf else "application/octet-stream", headers=headers
    )


# ---------------------------------------------------------------- the agency's booking


def _booking(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    view = sessions.booking_view(db, actor, tender_id, _rooms(request))
    form = form or FormState()
    return page(
        request,
        "evaluation/room_booking.html",
        status_code=status_code,
        v=view,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        state_labels=STATE_LABELS,
        o=_overall(db, actor, tender_id),
        step_labels=STEP_LABELS,
        default_hours=rules.DEFAULT_HOURS,
        max_hours=rules.MAX_HOURS,
    )


@get("/agency/tenders/{tender_id:int}/room", sync_to_thread=True)
def booking(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _booking(request, db, actor, tender_id)


def _parse_booking(values: dict[str, str]) -> tuple[sessions.Booking, list[Problem]]:
    problems = []
    starts_at = clock.now()
    try:
        starts_at = datetime.fromisoformat(values["starts_at"]).replace(tzinfo=clock.CST)
    except ValueError:
        problems.append(
            Problem(
                "room_start_invalid",
                N_("Enter the start as a date and time (China Standard Time)."),
                "starts_at",
            )
        )
    number = int(values["room"]) if values["room"].isdigit() else 0
    if not number:
        problems.append(Problem("room_unknown", N_("Choose one of the centre's evaluation rooms."), "room"))
    hours = int(values["hours"]) if values["hours"].isdigit() else 0
    if not hours:
        problems.append(Problem("room_hours_range", N_("A session is booked for 1 to 12 hours."), "hours"))
    return sessions.Booking(number, starts_at, hours), problems


@post("/agency/tenders/{tender_id:int}/room/book", sync_to_thread=True)
def book(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    sessions.booking_view(db, actor, tender_id, _rooms(request))  # 403/404 before reading the form
    values = {k: _text(data, k) for k in ("room", "starts_at", "hours")}
    parsed, problems = _parse_booking(values)
    return submit(
        db,
        lambda: sessions.book(db, actor, tender_id, parsed, _rooms(request)),
        problems=problems,
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}/room",
            flash=N_("The evaluation session is booked."),
            request=request,
        ),
        refused=lambda e: _booking(
            request, db, actor, tender_id, FormState("book", values, e.problems), e.status
        ),
    )


# ---------------------------------------------------------------- the monitor's controls


def _monitor(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    view = sessions.monitor_view(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "evaluation/room_monitor.html",
        status_code=status_code,
        v=view,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        state_labels=STATE_LABELS,
        o=_overall(db, actor, tender_id),
        step_labels=STEP_LABELS,
    )


@get("/monitor/tenders/{tender_id:int}/room", sync_to_thread=True)
def monitor_room(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _monitor(request, db, actor, tender_id)


def _monitor_action(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form, pause: bool
) -> Any:
    values = {"reason": _text(data, "reason")}
    action = sessions.pause if pause else sessions.resume
    return submit(
        db,
        lambda: action(db, actor, tender_id, values["reason"]),
        done=lambda _: redirect(
            f"/monitor/tenders/{tender_id}/room",
            flash=N_("The session is paused: nobody reads the bids until it is resumed.")
            if pause
            else N_("The session is resumed."),
            request=request,
        ),
        refused=lambda e: _monitor(
            request,
            db,
            actor,
            tender_id,
            FormState("pause" if pause else "resume", values, e.problems),
            e.status,
        ),
    )


@post("/monitor/tenders/{tender_id:int}/room/pause", sync_to_thread=True)
def pause(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    return _monitor_action(request, db, actor, tender_id, data, True)  # type: ignore[no-any-return]


@post("/monitor/tenders/{tender_id:int}/room/resume", sync_to_thread=True)
def resume(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    return _monitor_action(request, db, actor, tender_id, data, False)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- progress for everyone allowed


@get("/api/v1/notices/{tender_id:int}/evaluation", sync_to_thread=True)
def progress_api(db: Session, actor: Actor, tender_id: int) -> dict[str, Any]:
    tender, p = sessions.progress(db, actor, tender_id)
    out: dict[str, Any] = {
        "tender": tender.reference,
        "booked": p.booked,
        "state": p.state.value if p.state else None,
        "seats": p.seats,
        "checked_in": p.checked_in,
        "chair_elected": p.chair_elected,
        "steps_done": p.steps_done,
        "steps_total": p.steps_total,
    }
    if p.starts_at is not None:
        out.update(
            room=p.room,
            starts_at=p.starts_at.isoformat(),
            ends_at=p.ends_at.isoformat() if p.ends_at else None,
        )
    return out


ROUTES: list[Any] = [
    workbench,
    check_in,
    declare_conflict,
    leave,
    vote_chair,
    bid_file,
    booking,
    book,
    monitor_room,
    pause,
    resume,
    progress_api,
]
