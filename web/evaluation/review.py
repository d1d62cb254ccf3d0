"""The qualification and compliance review's pages (evaluation.review): the member's review in the room (their
own verdicts bid by bid, the abnormally low prices, the chair's clarification requests and closing), the
committee's tally once closed, and the review's progress (counts only) under /api/v1. The bidder's answer page
is web.tender.clarification_requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from accounts.notifications import Channel
from core import clock
from core.errors import N_, Problem
from core.identity import Actor
from evaluation.review import clarifications, review, rules
from evaluation.review.events import ReviewTag
from evaluation.room import sessions
from web.deps import page, redirect
from web.forms import FormState, submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

# The review's audit entries in words, for the monitors' trail and the public log (web.supervision.monitor).
EVENT_LABELS = {
    ReviewTag.review_verdicts_saved.value: N_("A member saved review verdicts on a bid"),
    ReviewTag.clarification_requested.value: N_("The committee asked a bidder for a clarification"),
    ReviewTag.clarification_answered.value: N_("A bidder answered the committee's clarification request"),
    ReviewTag.clarification_assessed.value: N_("The committee assessed a bidder's clarification answer"),
}

STATE_LABELS = {
    "open": N_("Awaiting the answer"),
    "answered": N_("Answered"),
    "expired": N_("Deadline passed without an answer"),
}
ASSESSMENT_LABELS = {
    "accepted": N_("Accepted"),
    "disregarded": N_("Disregarded: it changes the bid's substance"),
}
KIND_LABELS = {
    rules.QUALIFICATION: N_("Qualification review (pass/fail)"),
    rules.COMPLIANCE: N_("Compliance review (pass/fail)"),
}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _channel(request: Request) -> Channel:
    return request.app.state.channel  # type: ignore[no-any-return]


def _url(tender_id: int) -> str:
    return f"/expert/tenders/{tender_id}/room/review"


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    view = review.review_view(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "evaluation/review.html",
        status_code=status_code,
        v=view,
        t=view.w.tender,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        grounds=rules.GROUNDS,
        default_compliance=rules.DEFAULT_COMPLIANCE,
        kinds=KIND_LABELS,
        state_labels=STATE_LABELS,
        assessment_labels=ASSESSMENT_LABELS,
        field_name=review.field_name,
        bids_by_id={b["opened_bid"]: b for b in view.bids},
        now=clock.now(),
    )


def _again(
    request: Request, db: Session, actor: Actor, tender_id: int, failed: str, values: dict[str, str]
) -> Any:
    return lambda e: _page(request, db, actor, tender_id, FormState(failed, values, e.problems), e.status)


@get("/expert/tenders/{tender_id:int}/room/review", sync_to_thread=True)
def review_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _page(request, db, actor, tender_id)


@post("/expert/tenders/{tender_id:int}/room/review/bids/{opened_bid_id:int}", sync_to_thread=True)
def save_verdicts(
    request: Request, db: Session, actor: Actor, tender_id: int, opened_bid_id: int, data: Form
) -> Template | Redirect:
    view = review.review_view(db, actor, tender_id)  # 403 before reading the form; the criteria to read
    values: dict[str, str] = {}
    entries = []
    for c in view.criteria:
        names = {what: review.field_name(what, c) for what in ("verdict", "ground", "reason")}
        for n in names.values():
            values[n] = _text(data, n)
        choice = values[names["verdict"]]
        entries.append(
            review.VerdictInput(
                c.kind,
                c.index,
                True if choice == "pass" else False if choice == "fail" else None,
                values[names["ground"]],
                values[names["reason"]],
            )
        )
    return submit(
        db,
        lambda: review.save_verdicts(db, actor, tender_id, opened_bid_id, entries),
        done=lambda _: redirect(
            f"{_url(tender_id)}#bid-{opened_bid_id}", flash=N_("Your verdicts are saved."), request=request
        ),
        refused=_again(request, db, actor, tender_id, f"bid-{opened_bid_id}", values),
    )


@post("/expert/tenders/{tender_id:int}/room/review/close", sync_to_thread=True)
def close(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    values = {"confirm": _text(data, "confirm")}
    problems = (
        []
        if values["confirm"] == "1"
        else [
            Problem(
                "review_close_confirm",
                N_("Tick the box to confirm that the committee closes the review."),
                "confirm",
            )
        ]
    )
    return submit(
        db,
        lambda: review.close_review(db, actor, tender_id),
        problems=problems,
        done=lambda _: redirect(
            _url(tender_id) + "#tally",
            flash=N_("The review is closed: the valid bids go on to scoring."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "close", values),
    )


def _deadline(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=clock.CST)
    except ValueError:
        return None


@post("/expert/tenders/{tender_id:int}/room/review/clarifications", sync_to_thread=True)
def send_request(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("opened_bid", "question", "deadline", "low_price")}
    parsed = clarifications.RequestInput(
        int(values["opened_bid"]) if values["opened_bid"].isdigit() else 0,
        values["question"],
        _deadline(values["deadline"]),
        values["low_price"] == "1",
    )
    return submit(
        db,
        lambda: clarifications.send(db, actor, tender_id, parsed, _channel(request)),
        done=lambda r: redirect(
            f"{_url(tender_id)}#request-{r.id}",
            flash=N_("The request is sent to the bidder in the committee's name."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "request", values),
    )


@post(
    "/expert/tenders/{tender_id:int}/room/review/clarifications/{request_id:int}/assess",
    sync_to_thread=True,
)
def assess(
    request: Request, db: Session, actor: Actor, tender_id: int, request_id: int, data: Form
) -> Template | Redirect:
    values = {
        f"assessment-{request_id}": _text(data, "assessment"),
        f"reason-{request_id}": _text(data, "reason"),
    }
    choice = values[f"assessment-{request_id}"]
    accepted = True if choice == "accepted" else False if choice == "disregarded" else None
    return submit(
        db,
        lambda: clarifications.assess(
            db, actor, tender_id, request_id, accepted, values[f"reason-{request_id}"]
        ),
        done=lambda _: redirect(
            f"{_url(tender_id)}#request-{request_id}",
            flash=N_("The committee's assessment of the answer is recorded."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, f"assess-{request_id}", values),
    )


@get("/api/v1/notices/{tender_id:int}/evaluation/review", sync_to_thread=True)
def progress_api(db: Session, actor: Actor, tender_id: int) -> dict[str, Any]:
    """How many present members have entered every verdict, and whether the review is closed: counts only,
    for everyone who may see the evaluation's progress (Fact.evaluation_progress)."""
    tender, _ = sessions.progress(db, actor, tender_id)
    sess = sessions.session_of(db, tender.id)
    done, total = review.progress(db, sess) if sess is not None else (0, 0)
    return {
        "tender": tender.reference,
        "members_done": done,
        "members_present": total,
        "closed": sess is not None and review.outcome_of(db, sess) is not None,
    }


ROUTES: list[Any] = [review_page, save_verdicts, close, send_request, assess, progress_api]
