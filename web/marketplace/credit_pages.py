"""The marketplace's credit pages (marketplace.credit, .complaints, .appeals, .exits): each intermediary's
credit score with every input listed, the red and black lists, the intermediary's own ratings, exits and
complaint about its entry decision, complaints about a purchase's service or selection, and the centre's
desk (sanctions, lists, findings, complaints, appeals, exits). Handlers parse, call one service, redirect;
a refused form re-renders with the person's input and the reason."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.access import require_role
from accounts.models import Organisation
from core import clock
from core.errors import N_, NotFound, Problem
from core.identity import Actor, Role
from marketplace import appeals, complaints, credit, entries, exits, ratings
from marketplace.models import Complaint, Exit, Rating
from web.deps import page, redirect
from web.forms import FormState, submit
from web.marketplace.pages import RATER_LABELS, Form, _public_purchase, _text

LIST_LABELS = {credit.RED: N_("Red list"), credit.BLACK: N_("Black list")}
COMPLAINT_KINDS = {
    complaints.QUALITY: N_("Service quality"),
    complaints.ENTRY: N_("Entry decision"),
    complaints.SELECTION: N_("Selection"),
}
COMPLAINT_STATUS = {
    "filed": N_("Waiting for a decision"),
    "verified": N_("Verified"),
    "rejected": N_("Rejected"),
}
APPEAL_STATUS = {"filed": N_("Waiting for review"), "upheld": N_("Upheld"), "dismissed": N_("Dismissed")}
EXIT_STATUS = {
    exits.IN_FORCE: N_("In force"),
    exits.APPEALED: N_("Appealed"),
    exits.REPAIR_ASKED: N_("Credit repair asked"),
    exits.REVERSED: N_("Reversed on appeal"),
    exits.REPAIRED: N_("Credit repaired"),
}
FINDING_LABELS = {k: exits.RULE_LABELS[k] for k in exits.FINDINGS}


def _labels() -> dict[str, Any]:
    return {
        "list_labels": LIST_LABELS,
        "complaint_kinds": COMPLAINT_KINDS,
        "complaint_status": COMPLAINT_STATUS,
        "appeal_status": APPEAL_STATUS,
        "exit_status": EXIT_STATUS,
        "rule_labels": exits.RULE_LABELS,
        "finding_labels": FINDING_LABELS,
        "rater_labels": RATER_LABELS,
        "indicators": ratings.INDICATORS,
    }


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# ---------------------------------------------------------------- public


@get("/marketplace/intermediaries/{org_id:int}/credit", sync_to_thread=True)
def credit_page(request: Request, db: Session, actor: Actor, org_id: int) -> Template:
    """Every input of the intermediary's credit score, each with the row it comes from (the complaints'
    texts stay with the centre: the page names each complaint, its dates and its decision)."""
    org = db.get(Organisation, org_id)
    if org is None or org.kind != "intermediary":
        raise NotFound.one("intermediary_not_found", N_("No such intermediary."))
    b = credit.breakdown(db, org_id)
    return page(
        request,
        "marketplace/credit.html",
        org=org,
        b=b,
        exits=exits.exits_of(db, org_id),
        formula=credit,
        **_labels(),
    )


@get("/marketplace/lists", sync_to_thread=True)
def lists_page(request: Request, db: Session, actor: Actor) -> Template:
    return page(
        request,
        "marketplace/lists.html",
        red=credit.listings(db, credit.RED),
        black=credit.listings(db, credit.BLACK),
        **_labels(),
    )


# ---------------------------------------------------------------- the intermediary


def _mine(
    request: Request, db: Session, actor: Actor, form: FormState | None = None, status_code: int = 200
) -> Template:
    require_role(actor, Role.intermediary)
    assert actor.organisation_id is not None
    form = form or FormState()
    rows = list(
        db.scalars(
            select(Rating)
            .where(Rating.intermediary_org_id == actor.organisation_id)
            .order_by(Rating.id.desc())
        )
    )
    entry = entries.my_entry(db, actor)
    return page(
        request,
        "marketplace/my_credit.html",
        status_code=status_code,
        form=form,
        errors=form.errors,
        rated=rows,
        appealed=appeals.appeals_of(db, [r.id for r in rows]),
        my_exits=exits.exits_of(db, actor.organisation_id),
        entry=entry,
        entry_deadline=complaints.entry_deadline(entry) if entry else None,
        b=credit.breakdown(db, actor.organisation_id),
        now=clock.now(),
        **_labels(),
    )


@get("/intermediary/credit", sync_to_thread=True)
def my_credit(request: Request, db: Session, actor: Actor) -> Template:
    return _mine(request, db, actor)


def _mine_action(
    request: Request, db: Session, actor: Actor, name: str, values: dict[str, str], call: Any, flash: str
) -> Template | Redirect:
    return submit(
        db,
        call,
        done=lambda _: redirect("/intermediary/credit", flash=flash, request=request),
        refused=lambda e: _mine(request, db, actor, FormState(name, values, e.problems), e.status),
    )


@post("/intermediary/ratings/{rating_id:int}/appeal", sync_to_thread=True)
def appeal_rating(
    request: Request, db: Session, actor: Actor, rating_id: int, data: Form
) -> Template | Redirect:
    values = {"grounds": _text(data, "grounds")}
    return _mine_action(
        request,
        db,
        actor,
        f"appeal-{rating_id}",
        values,
        lambda: appeals.appeal(db, actor, rating_id, values["grounds"]),
        N_("Your appeal is filed; the centre reviews it."),
    )


@post("/intermediary/exits/{exit_id:int}/appeal", sync_to_thread=True)
def appeal_exit(request: Request, db: Session, actor: Actor, exit_id: int, data: Form) -> Template | Redirect:
    values = {"grounds": _text(data, "grounds"), "repair": _text(data, "repair")}
    return _mine_action(
        request,
        db,
        actor,
        f"exit-{exit_id}",
        values,
        lambda: exits.appeal(db, actor, exit_id, values["grounds"], repair=values["repair"] == "1"),
        N_("Your request is filed; the centre decides it."),
    )


@post("/intermediary/entry/complaint", sync_to_thread=True)
def entry_complaint(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    values = {"text": _text(data, "text")}
    return _mine_action(
        request,
        db,
        actor,
        "entry-complaint",
        values,
        lambda: complaints.file_entry(db, actor, values["text"]),
        N_("Your complaint is filed; the centre decides it."),
    )


# ---------------------------------------------------------------- complaints about a purchase


@post("/marketplace/purchases/{purchase_id:int}/complaints", sync_to_thread=True)
def purchase_complaint(
    request: Request, db: Session, actor: Actor, purchase_id: int, data: Form
) -> Template | Redirect:
    values = {"text": _text(data, "text"), "kind": _text(data, "kind")}
    call = complaints.file_selection if values["kind"] == complaints.SELECTION else complaints.file_quality
    return submit(
        db,
        lambda: call(db, actor, purchase_id, values["text"]),
        done=lambda _: redirect(
            f"/marketplace/purchases/{purchase_id}#complaints",
            flash=N_("Your complaint is filed; the centre decides it."),
            request=request,
        ),
        refused=lambda e: _public_purchase(
            request, db, actor, purchase_id, FormState("complaint", values, e.problems), e.status
        ),
    )


# ---------------------------------------------------------------- the centre's desk


def _desk(
    request: Request, db: Session, actor: Actor, form: FormState | None = None, status_code: int = 200
) -> Template:
    require_role(actor, Role.admin)
    form = form or FormState()
    firms = list(
        db.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.kind == "intermediary")
            .order_by(Organisation.name)
            .limit(2000)
        ).tuples()
    )
    open_appeals = appeals.open_appeals(db, actor)
    return page(
        request,
        "marketplace/desk.html",
        status_code=status_code,
        form=form,
        errors=form.errors,
        values=form.values,
        firms=firms,
        names=dict(firms),
        complaints_=list(
            db.scalars(
                select(Complaint).order_by(Complaint.status != "filed", Complaint.id.desc()).limit(100)
            )
        ),
        appeals_=open_appeals,
        ratings_={a.rating_id: db.get(Rating, a.rating_id) for a in open_appeals},
        exits_=list(db.scalars(select(Exit).order_by(Exit.id.desc()).limit(100))),
        listings_=credit.listings(db, credit.RED) + credit.listings(db, credit.BLACK),
        **_labels(),
    )


@get("/admin/marketplace/credit", sync_to_thread=True)
def desk(request: Request, db: Session, actor: Actor) -> Template:
    return _desk(request, db, actor)


def _desk_action(
    request: Request,
    db: Session,
    actor: Actor,
    name: str,
    values: dict[str, str],
    call: Any,
    flash: str,
    problems: list[Problem] | None = None,
) -> Template | Redirect:
    return submit(
        db,
        call,
        problems=problems or [],
        done=lambda _: redirect(f"/admin/marketplace/credit#{name}", flash=flash, request=request),
        refused=lambda e: _desk(request, db, actor, FormState(name, values, e.problems), e.status),
    )


def _org(values: dict[str, str]) -> int:
    return int(values["org"]) if values["org"].isdigit() else 0


def _org_problem(values: dict[str, str]) -> list[Problem]:
    return [] if _org(values) else [Problem("org_missing", N_("Choose the intermediary."), "org")]


@post("/admin/marketplace/sanctions", sync_to_thread=True)
def add_sanction(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("org", "authority", "reason", "document", "decided_on")}
    return _desk_action(
        request,
        db,
        actor,
        "sanction",
        values,
        lambda: credit.record_sanction(
            db,
            actor,
            _org(values),
            values["authority"],
            values["reason"],
            values["document"],
            _day(values["decided_on"]),
        ),
        N_("The sanction is recorded."),
        _org_problem(values),
    )


@post("/admin/marketplace/listings", sync_to_thread=True)
def add_listing(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("org", "list_kind", "reason", "authority", "starts_on", "ends_on")}
    return _desk_action(
        request,
        db,
        actor,
        "listing",
        values,
        lambda: credit.add_listing(
            db,
            actor,
            _org(values),
            values["list_kind"],
            values["reason"],
            values["authority"],
            _day(values["starts_on"]),
            _day(values["ends_on"]),
        ),
        N_("The list entry is recorded."),
        _org_problem(values),
    )


@post("/admin/marketplace/listings/{listing_id:int}/lift", sync_to_thread=True)
def lift_listing(
    request: Request, db: Session, actor: Actor, listing_id: int, data: Form
) -> Template | Redirect:
    values = {"note": _text(data, "note")}
    return _desk_action(
        request,
        db,
        actor,
        f"lift-{listing_id}",
        values,
        lambda: credit.lift_listing(db, actor, listing_id, values["note"]),
        N_("The list entry is lifted."),
    )


@post("/admin/marketplace/findings", sync_to_thread=True)
def add_finding(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("org", "kind", "note", "authority", "found_on")}
    return _desk_action(
        request,
        db,
        actor,
        "finding",
        values,
        lambda: exits.record_finding(
            db,
            actor,
            _org(values),
            values["kind"],
            values["note"],
            values["authority"],
            _day(values["found_on"]),
        ),
        N_("The finding is recorded; the exit rules are applied at their next run."),
        _org_problem(values),
    )


@post("/admin/marketplace/complaints/{complaint_id:int}/decide", sync_to_thread=True)
def decide_complaint(
    request: Request, db: Session, actor: Actor, complaint_id: int, data: Form
) -> Template | Redirect:
    values = {"note": _text(data, "note"), "verdict": _text(data, "verdict")}
    return _desk_action(
        request,
        db,
        actor,
        f"complaint-{complaint_id}",
        values,
        lambda: complaints.decide(db, actor, complaint_id, values["verdict"] == "verified", values["note"]),
        N_("The complaint is decided."),
    )


@post("/admin/marketplace/appeals/{appeal_id:int}/review", sync_to_thread=True)
def review_appeal(
    request: Request, db: Session, actor: Actor, appeal_id: int, data: Form
) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("note", "outcome", *ratings.INDICATORS)}
    revised = {k: int(values[k]) if values[k].isdigit() else None for k in ratings.INDICATORS}
    return _desk_action(
        request,
        db,
        actor,
        f"appeal-{appeal_id}",
        values,
        lambda: appeals.review(db, actor, appeal_id, values["outcome"] == "upheld", values["note"], revised),
        N_("The appeal is reviewed."),
    )


@post("/admin/marketplace/exits/{exit_id:int}/decide", sync_to_thread=True)
def decide_exit(request: Request, db: Session, actor: Actor, exit_id: int, data: Form) -> Template | Redirect:
    values = {"note": _text(data, "note"), "granted": _text(data, "granted")}
    return _desk_action(
        request,
        db,
        actor,
        f"exit-{exit_id}",
        values,
        lambda: exits.decide(db, actor, exit_id, values["granted"] == "1", values["note"]),
        N_("The decision is recorded."),
    )


ROUTES = [
    credit_page,
    lists_page,
    my_credit,
    appeal_rating,
    appeal_exit,
    entry_complaint,
    purchase_complaint,
    desk,
    add_sanction,
    add_listing,
    lift_listing,
    add_finding,
    decide_complaint,
    review_appeal,
    decide_exit,
]
