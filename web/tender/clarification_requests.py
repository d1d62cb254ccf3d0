"""The bidder's side of the committee's clarification requests (R52; evaluation.review.clarifications): the
requests to my company on one tender, each answered once, in writing, before its deadline. The request is the
evaluation committee's: no member is named (L37)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core import clock
from core.errors import N_
from core.identity import Actor
from evaluation.review import clarifications
from web.deps import page, redirect
from web.forms import FormState, submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

STATE_LABELS = {
    "open": N_("Awaiting your answer"),
    "answered": N_("Answered"),
    "expired": N_("Deadline passed without an answer"),
}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _url(tender_id: int) -> str:
    return f"/bidder/tenders/{tender_id}/clarification-requests"


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    view = clarifications.for_bidder(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "evaluation/clarification_requests.html",
        status_code=status_code,
        v=view,
        t=view.tender,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        state_labels=STATE_LABELS,
        now=clock.now(),
    )


@get("/bidder/tenders/{tender_id:int}/clarification-requests", sync_to_thread=True)
def requests_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _page(request, db, actor, tender_id)


@post("/bidder/tenders/{tender_id:int}/clarification-requests/{request_id:int}/answer", sync_to_thread=True)
def answer(
    request: Request, db: Session, actor: Actor, tender_id: int, request_id: int, data: Form
) -> Template | Redirect:
    values = {
        f"answer-{request_id}": _text(data, "answer"),
        f"no_change-{request_id}": _text(data, "no_change"),
    }
    parsed = clarifications.AnswerInput(
        values[f"answer-{request_id}"], values[f"no_change-{request_id}"] == "1"
    )
    return submit(
        db,
        lambda: clarifications.answer(db, actor, tender_id, request_id, parsed),
        done=lambda _: redirect(
            f"{_url(tender_id)}#request-{request_id}",
            flash=N_("Your answer is sent to the evaluation committee."),
            request=request,
        ),
        refused=lambda e: _page(
            request, db, actor, tender_id, FormState(f"answer-{request_id}", values, e.problems), e.status
        ),
    )


ROUTES: list[Any] = [requests_page, answer]
