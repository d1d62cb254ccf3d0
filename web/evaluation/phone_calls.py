"""The centre's expert calls: the seats waiting for an answer, each with its expert's phone, and the form that
records an answer taken by phone (evaluation.committee.phone)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core import clock
from core.errors import N_, Problem
from core.identity import Actor
from evaluation.committee import phone
from web.deps import page, redirect
from web.forms import FormState, submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
FIELDS = ("accepted", "called_at", "spoke_with", "note")


def _calls_page(
    request: Request, db: Session, actor: Actor, form: FormState | None = None, status_code: int = 200
) -> Template:
    return page(
        request,
        "evaluation/phone_calls.html",
        status_code=status_code,
        seats=phone.awaiting(db, actor),
        form=form or FormState(),
        now=clock.now(),
    )


@get("/admin/expert-calls", sync_to_thread=True)
def calls(request: Request, db: Session, actor: Actor) -> Template:
    return _calls_page(request, db, actor)


def parse_call(values: dict[str, str]) -> tuple[phone.PhoneCall, list[Problem]]:
    problems = []
    called_at: datetime | None = None
    if values["called_at"]:
        try:
            called_at = datetime.fromisoformat(values["called_at"]).replace(tzinfo=clock.CST)
        except ValueError:
            problems.append(
                Problem(
                    "phone_time_invalid",
                    N_("Enter the time of the call as a date and time (China Standard Time)."),
                    "called_at",
                )
            )
    accepted = {"yes": True, "no": False}.get(values["accepted"])
    return phone.PhoneCall(accepted, called_at, values["spoke_with"], values["note"]), problems


@post("/admin/expert-calls/{seat_id:int}", sync_to_thread=True)
def record_call(request: Request, db: Session, actor: Actor, seat_id: int, data: Form) -> Template | Redirect:
    phone.awaiting(db, actor)  # 401/403 before reading the form
    values = {k: str(data.get(k) or "").strip() if k != "note" else str(data.get(k) or "") for k in FIELDS}
    call, problems = parse_call(values)
    if call.called_at is None and not problems:
        problems = phone.call_problems(call, None, clock.now())
    return submit(
        db,
        lambda: phone.record_answer(db, actor, seat_id, call, request.app.state.channel),
        problems=problems,
        done=lambda seat: redirect(
            "/admin/expert-calls",
            flash=N_("The answer is recorded: the seat is confirmed.")
            if seat.status == "confirmed"
            else N_("The answer is recorded: the expert declined and the next substitute has been asked."),
            request=request,
        ),
        refused=lambda e: _calls_page(
            request, db, actor, FormState(f"call-{seat_id}", values, e.problems), e.status
        ),
    )


ROUTES: list[Any] = [calls, record_call]
