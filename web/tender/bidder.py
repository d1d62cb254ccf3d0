"""The bidder portal (投标人工作台): my tenders, and one tender from the bidder's side with registration per
lot, questions and objections. Permissions and deadlines are decided by the tender package's services; these
handlers parse the form, call one service, and render or redirect. A refused form comes back with the errors
and what was typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from core import clock
from core.errors import N_, DomainError
from core.identity import Actor, Role
from supervision import workbenches
from tender import access, listings, notices, objections, participation, questions, rules
from tender import participation as tender_participation
from tender.lifecycle import Status
from tender.models import Objection, Question, Tender
from web.deps import page, redirect
from web.forms import FormState, submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return "" if value is None else str(value)


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


# ---------------------------------------------------------------- my tenders


@dataclass
class MyTenderRow:
    tender: Tender
    lots_registered: list[int]  # lot numbers my company registered for
    downloads: int  # my company's downloads


@get("/bidder", sync_to_thread=True)
def home(request: Request, db: Session, actor: Actor) -> Template:
    rows = []
    for tender in listings.bidder_tenders(db, actor):
        mine = tender_participation.my_participation(db, actor, tender.id)
        numbers = {lot.id: lot.number for lot in tender.lots}
        rows.append(
            MyTenderRow(
                tender,
                sorted(numbers[r.lot_id] for r in mine.registrations if r.lot_id in numbers),
                len(mine.downloads),
            )
        )
    # issue 16: each bid's state and, after the opening, the record and the outcome (supervision.workbenches)
    outcomes = workbenches.bidder_outcomes(db, actor)
    return page(
        request,
        "bidder/index.html",
        rows=rows,
        outcomes=outcomes,
        bid_labels=BID_LABELS,
        state_labels=STATE_LABELS,
        now=clock.now(),
    )


# the evaluation session's state in words (web.evaluation.room names them the same; not imported from there:
# web.tender must not import web.evaluation, which imports it)
STATE_LABELS = {
    "booked": N_("Booked"),
    "check_in": N_("Check-in open"),
    "open": N_("In session"),
    "paused": N_("Paused by a monitor"),
}
BID_LABELS = {
    "uploading": N_("Upload not finished"),
    "submitted": N_("Submitted"),
    "withdrawn": N_("Withdrawn"),
}


# ---------------------------------------------------------------- one tender


@dataclass
class BidderTenderView:
    notice: notices.NoticeDetail
    participation: tender_participation.Participation
    registered: dict[int, Any]  # lot id -> my registration
    my_questions: list[Question]
    published_answers: list[Question]  # answered questions of other companies (the asker is never shown)
    objections: list[Objection]
    objection_deadline: Any
    document_names: dict[int, str]
    can_register: bool
    can_ask: bool
    can_object: bool


def bidder_view(db: Session, actor: Actor, tender_id: int) -> BidderTenderView:
    access.require_role(actor, Role.bidder)
    notice = notices.notice_detail(db, actor, tender_id)
    tender = notice.tender
    now = clock.now()
    mine = tender_participation.my_participation(db, actor, tender.id)
    questions = listings.questions_for(db, actor, tender)
    my_questions = [q for q in questions if q.organisation_id == actor.organisation_id]
    published = [
        q for q in questions if q.answered_at is not None and q.organisation_id != actor.organisation_id
    ]
    open_for_bids = (
        tender.status == Status.published and tender.bid_deadline is not None and now < tender.bid_deadline
    )
    pending_published = tender.status == Status.suspended and tender.resume_to == Status.published
    objection_deadline = rules.objection_deadline(tender.bid_deadline) if tender.bid_deadline else None
    return BidderTenderView(
        notice=notice,
        participation=mine,
        registered={r.lot_id: r for r in mine.registrations},
        my_questions=my_questions,
        published_answers=published,
        objections=listings.objections_for(db, actor, tender),
        objection_deadline=objection_deadline,
        document_names={d.id: d.filename for d in tender.documents},
        can_register=open_for_bids,
        can_ask=open_for_bids and (tender.question_deadline is None or now <= tender.question_deadline),
        can_object=(tender.status == Status.published or pending_published)
        and objection_deadline is not None
        and now <= objection_deadline,
    )


def _detail(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    view = bidder_view(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "bidder/tender.html",
        status_code=status_code,
        v=view,
        t=view.notice.tender,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        now=clock.now(),
    )


@get("/bidder/tenders/{tender_id:int}", sync_to_thread=True)
def tender_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _detail(request, db, actor, tender_id)


def _again(
    request: Request, db: Session, actor: Actor, tender_id: int, failed: str, values: dict[str, str]
) -> Callable[[DomainError], Template]:
    """The tender page again, with what was typed into the refused form and why it was refused."""
    return lambda e: _detail(request, db, actor, tender_id, FormState(failed, values, e.problems), e.status)


@post("/bidder/tenders/{tender_id:int}/register", sync_to_thread=True)
def register(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    lot_id = _int(_text(data, "lot_id"))
    values = {"contact_name": _text(data, "contact_name"), "contact_phone": _text(data, "contact_phone")}
    return submit(
        db,
        lambda: participation.register(
            db, actor, tender_id, lot_id, values["contact_name"], values["contact_phone"]
        ),
        done=lambda _: redirect(
            f"/bidder/tenders/{tender_id}#lots",
            flash=N_("Your company is registered for the lot."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, f"register-{lot_id}", values),
    )


@post("/bidder/tenders/{tender_id:int}/questions", sync_to_thread=True)
def ask(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    text = _text(data, "text")
    return submit(
        db,
        lambda: questions.ask_question(db, actor, tender_id, text),
        done=lambda _: redirect(
            f"/bidder/tenders/{tender_id}#questions",
            flash=N_(
                "Your question was sent to the agency. Its answer will be published without naming "
                "your company."
            ),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "question", {"text": text}),
    )


@post("/bidder/tenders/{tender_id:int}/objections", sync_to_thread=True)
def object_to_documents(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    text = _text(data, "text")
    return submit(
        db,
        lambda: objections.raise_objection(db, actor, tender_id, text),
        done=lambda _: redirect(
            f"/bidder/tenders/{tender_id}#objections",
            flash=N_(
                "Your objection was received. The purchaser answers within 3 days; the procedure is "
                "paused until then (R22)."
            ),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "objection", {"text": text}),
    )


ROUTES = [home, tender_page, register, ask, object_to_documents]
