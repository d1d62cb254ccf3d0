"""The results' pages (award.publicity): the public publicity page reached from the tender's notice; the
agency's and purchaser's page (publish from the signed report, answer objections); the bidder's page (an
objection during the publicity, a complaint to the supervisor); the monitors' complaints list and handling
page (acceptance, decision and remedy). Thin handlers: parse, call one service, render or redirect (PRG)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from award.publicity import complaints, objections, pages, publicity, rules
from award.publicity.events import PublicityTag
from core.errors import N_, Problem
from core.identity import Actor
from web.deps import locale_of, page, redirect
from web.forms import FormState, submit
from web.tender.public import labeller

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

# The results' audit entries in words, for the monitors' trail and the public log (web.supervision.monitor).
EVENT_LABELS = {
    PublicityTag.publicity_published.value: N_("Winning candidates published"),
    PublicityTag.publicity_reissued.value: N_("Winning candidates published again after a complaint"),
    PublicityTag.objection_raised.value: N_("Objection on the result raised"),
    PublicityTag.objection_answered.value: N_("Objection on the result answered"),
    PublicityTag.complaint_received.value: N_("Complaint received"),
    PublicityTag.complaint_accepted.value: N_("Complaint accepted"),
    PublicityTag.complaint_rejected.value: N_("Complaint not accepted"),
    PublicityTag.complaint_decided.value: N_("Complaint decided"),
}

MATTERS = {
    rules.Matter.documents.value: N_("The tender documents (an objection first, R22)"),
    rules.Matter.opening.value: N_("The opening (an objection first, R44)"),
    rules.Matter.result.value: N_("The evaluation result, the candidates (an objection first, R54)"),
    rules.Matter.other.value: N_("Another matter of the procedure"),
}
STATUSES = {
    rules.ComplaintStatus.received.value: N_("Awaiting acceptance"),
    rules.ComplaintStatus.rejected.value: N_("Not accepted"),
    rules.ComplaintStatus.accepted.value: N_("Accepted, awaiting the decision"),
    rules.ComplaintStatus.decided.value: N_("Decided"),
}
OUTCOMES = {rules.Outcome.dismissed.value: N_("Dismissed"), rules.Outcome.upheld.value: N_("Upheld")}
REMEDIES = {
    rules.Remedy.re_evaluation.value: N_("Re-evaluation by the committee"),
    rules.Remedy.new_candidate.value: N_("A new candidate: the next in the report's ranking"),
    rules.Remedy.re_tender.value: N_("Re-tender: the tender fails and is tendered again"),
    rules.Remedy.cancellation.value: N_("Cancellation of the procedure"),
}
QUALIFICATION = {"pass": N_("met"), "fail": N_("not met"), "undecided": N_("not decided")}
LABELS = {
    "matters": MATTERS,
    "statuses": STATUSES,
    "outcomes": OUTCOMES,
    "remedies": REMEDIES,
    "qualification": QUALIFICATION,
}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _context(request: Request, form: FormState | None) -> dict[str, Any]:
    form = form or FormState()
    return {
        "form": form,
        "errors": form.errors,
        "bad": form.fields_in_error(),
        "labels": LABELS,
        "label": labeller(locale_of(request)),
    }


# ---------------------------------------------------------------- the public page


@get("/tenders/{tender_id:int}/publicity", sync_to_thread=True)
def public_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    v = publicity.view(db, actor, tender_id)
    return page(request, "award/publicity.html", v=v, **_context(request, None))


# ---------------------------------------------------------------- the agency and the purchaser


def _party_page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status: int = 200,
) -> Template:
    v = pages.party_view(db, actor, tender_id)
    return page(request, "award/publicity_agency.html", status_code=status, v=v, **_context(request, form))


def _party_url(tender_id: int) -> str:
    return f"/agency/tenders/{tender_id}/publicity"


@get("/agency/tenders/{tender_id:int}/publicity", sync_to_thread=True)
def party_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _party_page(request, db, actor, tender_id)


@post("/agency/tenders/{tender_id:int}/publicity/publish", sync_to_thread=True)
def publish(request: Request, db: Session, actor: Actor, tender_id: int) -> Template | Redirect:
    return submit(
        db,
        lambda: publicity.publish(db, actor, tender_id),
        done=lambda _: redirect(
            _party_url(tender_id),
            flash=N_("The winning candidates are published; bidders and monitors are told."),
            request=request,
        ),
        refused=lambda e: _party_page(
            request, db, actor, tender_id, FormState("publish", {}, e.problems), e.status
        ),
    )


@post("/agency/tenders/{tender_id:int}/publicity/objections/{objection_id:int}/answer", sync_to_thread=True)
def answer(
    request: Request, db: Session, actor: Actor, tender_id: int, objection_id: int, data: Form
) -> Template | Redirect:
    values = {"answer": _text(data, "answer")}
    return submit(
        db,
        lambda: objections.answer_objection(db, actor, objection_id, values["answer"]),
        done=lambda _: redirect(
            _party_url(tender_id) + f"#objection-{objection_id}",
            flash=N_("Your answer is recorded and sent to the objector."),
            request=request,
        ),
        refused=lambda e: _party_page(
            request, db, actor, tender_id, FormState(f"answer-{objection_id}", values, e.problems), e.status
        ),
    )


# ---------------------------------------------------------------- the bidder


def _bidder_page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status: int = 200,
) -> Template:
    v = pages.bidder_view(db, actor, tender_id)
    return page(request, "award/results_bidder.html", status_code=status, v=v, **_context(request, form))


def _bidder_url(tender_id: int) -> str:
    return f"/bidder/tenders/{tender_id}/results"


@get("/bidder/tenders/{tender_id:int}/results", sync_to_thread=True)
def bidder_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _bidder_page(request, db, actor, tender_id)


@post("/bidder/tenders/{tender_id:int}/results/objections", sync_to_thread=True)
def raise_objection(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"text": _text(data, "text")}
    return submit(
        db,
        lambda: objections.raise_objection(db, actor, tender_id, values["text"]),
        done=lambda o: redirect(
            _bidder_url(tender_id) + "#objections",
            flash=N_("Your objection is recorded; the procedure is suspended until it is answered."),
            request=request,
        ),
        refused=lambda e: _bidder_page(
            request, db, actor, tender_id, FormState("objection", values, e.problems), e.status
        ),
    )


def _date(value: str) -> tuple[date | None, list[Problem]]:
    if not value:
        return None, []
    try:
        return date.fromisoformat(value), []
    except ValueError:
        return None, [
            Problem(
                code="known_on_invalid",
                message=N_("Give the day you learned the facts, as YYYY-MM-DD."),
                field="known_on",
            )
        ]


@post("/bidder/tenders/{tender_id:int}/results/complaints", sync_to_thread=True)
def file_complaint(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("matter", "text", "known_on", "objection_id")}
    known_on, problems = _date(values["known_on"])
    objection = int(values["objection_id"]) if values["objection_id"].isdigit() else None
    return submit(
        db,
        lambda: complaints.file_complaint(
            db,
            actor,
            tender_id,
            complaints.ComplaintInput(values["matter"], values["text"], known_on, objection),
        ),
        done=lambda c: redirect(
            _bidder_url(tender_id) + f"#complaint-{c.id}",
            flash=N_("Your complaint is sent to the supervising monitors."),
            request=request,
        ),
        refused=lambda e: _bidder_page(
            request, db, actor, tender_id, FormState("complaint", values, e.problems), e.status
        ),
        problems=problems,
    )


# ---------------------------------------------------------------- the monitors


@get("/monitor/complaints", sync_to_thread=True)
def monitor_list(request: Request, db: Session, actor: Actor) -> Template:
    rows = complaints.monitor_list(db, actor)
    return page(request, "award/complaints_monitor.html", rows=rows, **_context(request, None))


def _complaint_page(
    request: Request,
    db: Session,
    actor: Actor,
    complaint_id: int,
    form: FormState | None = None,
    status: int = 200,
) -> Template:
    v = complaints.monitor_view(db, actor, complaint_id)
    return page(request, "award/complaint_monitor.html", status_code=status, v=v, **_context(request, form))


def _complaint_url(complaint_id: int) -> str:
    return f"/monitor/complaints/{complaint_id}"


@get("/monitor/complaints/{complaint_id:int}", sync_to_thread=True)
def complaint_page(request: Request, db: Session, actor: Actor, complaint_id: int) -> Template:
    return _complaint_page(request, db, actor, complaint_id)


@post("/monitor/complaints/{complaint_id:int}/acceptance", sync_to_thread=True)
def acceptance(
    request: Request, db: Session, actor: Actor, complaint_id: int, data: Form
) -> Template | Redirect:
    values = {"accept": _text(data, "accept"), "note": _text(data, "note")}
    problems = (
        []
        if values["accept"] in ("yes", "no")
        else [
            Problem(
                code="accept_missing", message=N_("Choose whether the complaint is accepted."), field="accept"
            )
        ]
    )
    return submit(
        db,
        lambda: complaints.decide_acceptance(
            db, actor, complaint_id, values["accept"] == "yes", values["note"]
        ),
        done=lambda _: redirect(
            _complaint_url(complaint_id), flash=N_("The decision on acceptance is recorded."), request=request
        ),
        refused=lambda e: _complaint_page(
            request, db, actor, complaint_id, FormState("acceptance", values, e.problems), e.status
        ),
        problems=problems,
    )


@post("/monitor/complaints/{complaint_id:int}/decision", sync_to_thread=True)
def decision(
    request: Request, db: Session, actor: Actor, complaint_id: int, data: Form
) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("outcome", "remedy", "dropped_bid", "reasons")}
    dropped = int(values["dropped_bid"]) if values["dropped_bid"].isdigit() else None
    return submit(
        db,
        lambda: complaints.decide(
            db,
            actor,
            complaint_id,
            complaints.Decision(values["outcome"], values["reasons"], values["remedy"], dropped),
        ),
        done=lambda _: redirect(
            _complaint_url(complaint_id),
            flash=N_("The decision is recorded and its remedy carried out."),
            request=request,
        ),
        refused=lambda e: _complaint_page(
            request, db, actor, complaint_id, FormState("decision", values, e.problems), e.status
        ),
    )


ROUTES: list[Any] = [
    public_page,
    party_page,
    publish,
    answer,
    bidder_page,
    raise_objection,
    file_complaint,
    monitor_list,
    complaint_page,
    acceptance,
    decision,
]
