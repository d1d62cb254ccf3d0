"""Agency portal (代理机构工作台): my tenders, the tender form, and the tender workspace
(documents, publication, clarifications, questions, objections, cancellation)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any

import anyio
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from accounts.models import Organisation
from core import clock
from core.disclosure import Fact
from core.errors import N_, DomainError, Problem
from core.identity import Actor
from core.signing import signing_key
from tender import (
    access,
    clarifications,
    disclosure,
    drafting,
    keyholders,
    listings,
    objections,
    participation,
    questions,
    rules,
    supervision,
)
from tender.lifecycle import ACTIVE, Status
from tender.models import Tender
from web import confirm
from web.deps import page, redirect
from web.forms import refusal, submit
from web.tender import forms

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
CHUNK = 1 << 20
MAX_UPLOAD_REQUEST = 1 << 30  # several documents at once; each is limited by settings.max_document_bytes


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value if isinstance(value, str) else ""


def _uploads(data: dict[str, Any], name: str) -> list[UploadFile]:
    value = data.get(name)
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, UploadFile) and v.filename]


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


def _file_input(upload: UploadFile) -> drafting.FileInput:
    return drafting.FileInput(upload.filename, _chunks(upload))


@contextlib.contextmanager
def _closing(uploads: list[UploadFile]) -> Iterator[None]:
    """The uploaded files' spools are closed when the handler is done with them, whatever the outcome."""
    try:
        yield
    finally:
        for upload in uploads:
            upload.file.close()


def _own_tender(db: Session, actor: Actor, tender_id: int) -> Tender:
    """This agency's tender: drafts of others are not found, published tenders of others are forbidden."""
    access.require_login(actor)
    tender = access.visible_tender(db, actor, tender_id)
    access.require_tender_agency(actor, tender)
    return tender


# ---------------------------------------------------------------- my tenders


@get("/agency", sync_to_thread=True)
def my_tenders(request: Request, db: Session, actor: Actor) -> Template:
    tenders = listings.agency_tenders(db, actor)
    problems = {t.id: len(drafting.publication_problems(t)) for t in tenders if t.status == Status.draft}
    return page(request, "agency/index.html", tenders=tenders, problems=problems)


# ---------------------------------------------------------------- the tender form


def _form_page(
    request: Request,
    db: Session,
    actor: Actor,
    form: forms.FormValues,
    tender: Tender | None,
    errors: list[Problem],
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "agency/form.html",
        status_code=status_code,
        form=form,
        tender=tender,
        errors=errors,
        error_fields={p.field for p in errors if p.field},
        purchasers=drafting.purchasers(db),
        candidates=drafting.key_holder_candidates(db, actor),
        categories=rules.CATEGORIES,
        methods=rules.METHODS,
        policies=rules.OPENING_POLICIES,
    )


def _grow(form: forms.FormValues, data: dict[str, Any]) -> bool:
    """The "add a lot" / "add a factor" buttons post the form back with one more row."""
    action = _text(data, "action")
    if action == "add_lot":
        form["lot_rows"] += 1
    elif action == "add_factor":
        form["factor_rows"] += 1
    return action in ("add_lot", "add_factor")


# Litestar 2.25 registers the first handler of a path twice when a second method shares the path, and a
# sync_to_thread handler then gets wrapped twice (it returns an un-awaited coroutine). The GET and POST of
# the tender form share their paths, so these four handlers are async and run the work in a thread.


@get("/agency/tenders/new")
async def new_tender_form(request: Request, db: Session, actor: Actor) -> Template:
    return await anyio.to_thread.run_sync(_new_tender_form, request, db, actor)


def _new_tender_form(request: Request, db: Session, actor: Actor) -> Template:
    return _form_page(request, db, actor, forms.blank_form(), None, [])


@post("/agency/tenders/new")
async def create_tender(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    return await anyio.to_thread.run_sync(_create_tender, request, db, actor, data)


def _create_tender(request: Request, db: Session, actor: Actor, data: dict[str, Any]) -> Template | Redirect:
    form = forms.read_form(data)
    if _grow(form, data):
        return _form_page(request, db, actor, form, None, [])
    tender_input, problems = forms.parse_tender_form(form)
    return submit(
        db,
        lambda: drafting.create_tender(db, actor, tender_input),
        problems=problems,
        done=lambda tender: redirect(
            f"/agency/tenders/{tender.id}", flash=N_("The draft tender was saved."), request=request
        ),
        refused=lambda e: _form_page(request, db, actor, form, None, e.problems, e.status),
    )


@get("/agency/tenders/{tender_id:int}/edit")
async def edit_tender_form(
    request: Request, db: Session, actor: Actor, tender_id: int
) -> Template | Redirect:
    return await anyio.to_thread.run_sync(_edit_tender_form, request, db, actor, tender_id)


def _edit_tender_form(request: Request, db: Session, actor: Actor, tender_id: int) -> Template | Redirect:
    tender = _own_tender(db, actor, tender_id)
    if tender.status != Status.draft:
        return redirect(
            f"/agency/tenders/{tender.id}",
            flash=N_("Only a draft can be edited; after publication, issue a clarification."),
            request=request,
        )
    return _form_page(request, db, actor, forms.form_of(tender), tender, [])


@post("/agency/tenders/{tender_id:int}/edit")
async def update_tender(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    return await anyio.to_thread.run_sync(_update_tender, request, db, actor, tender_id, data)


def _update_tender(
    request: Request, db: Session, actor: Actor, tender_id: int, data: dict[str, Any]
) -> Template | Redirect:
    tender = _own_tender(db, actor, tender_id)
    form = forms.read_form(data)
    if _grow(form, data):
        return _form_page(request, db, actor, form, tender, [])
    tender_input, problems = forms.parse_tender_form(form)
    return submit(
        db,
        lambda: drafting.update_tender(db, actor, tender_id, tender_input),
        problems=problems,
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}", flash=N_("The draft tender was saved."), request=request
        ),
        refused=lambda e: _form_page(request, db, actor, form, tender, e.problems, e.status),
    )


# ---------------------------------------------------------------- the workspace


def _field(problems: list[Problem], field: str) -> list[Problem]:
    """Give a form's problems the id of the input they concern on the workspace page."""
    return [dataclasses.replace(p, field=field) if p.field else p for p in problems]


def _prefixed(problems: list[Problem], prefix: str) -> list[Problem]:
    """The workspace's forms share a page: its clarification form's inputs are "clar-<field>"."""
    return [dataclasses.replace(p, field=prefix + p.field) if p.field else p for p in problems]


def _problems(error: DomainError | None) -> list[Problem]:
    return error.problems if error is not None else []


def _workspace(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    status_code: int = 200,
    errors: list[Problem] | None = None,
    failed: str = "",
    values: dict[str, Any] | None = None,
    publish_refused: bool = False,
) -> Template:
    tender = _own_tender(db, actor, tender_id)
    now = clock.now()
    draft = tender.status == Status.draft
    deadline_passed = tender.bid_deadline is not None and now >= tender.bid_deadline
    registrations: list[Any] = []
    organisations: dict[int, str] = {}
    if disclosure.may_see(db, actor, tender, Fact.participation):
        registrations = participation.registrations_for(db, actor, tender.id)
        for r in registrations:
            org = db.get(Organisation, r.organisation_id)
            organisations[r.organisation_id] = org.name if org else str(r.organisation_id)
    clarified = None
    wanted = request.query_params.get("clarified")
    if wanted and wanted.isdigit():
        clarified = next((c for c in tender.clarifications if c.number == int(wanted)), None)
    preview = None
    if tender.status == Status.published and tender.bid_deadline is not None and not deadline_passed:
        preview = rules.extended_deadline(tender.bid_deadline, now, True)
    purchaser = db.get(Organisation, tender.purchaser_id)
    return page(
        request,
        "agency/tender.html",
        status_code=status_code,
        tender=tender,
        purchaser=purchaser,
        now=now,
        draft=draft,
        problems=drafting.publication_problems(tender) if draft else [],
        publish_refused=publish_refused,
        documents=[d for d in tender.documents if d.clarification_id is None],
        clarification_files={
            c.id: [d for d in tender.documents if d.clarification_id == c.id] for c in tender.clarifications
        },
        questions=listings.questions_for(db, actor, tender) if not draft else [],
        objections=listings.objections_for(db, actor, tender) if not draft else [],
        registrations=registrations,
        organisations=organisations,
        lot_numbers={lot.id: lot.number for lot in tender.lots},
        deadline_passed=deadline_passed,
        clarified=clarified,
        preview_deadline=preview,
        can_cancel=draft or tender.status == Status.suspended or Status(tender.status) in ACTIVE,
        max_mb=f"{request.app.state.settings.max_document_bytes / 1024 / 1024:g}",
        errors=errors or [],
        error_fields={p.field for p in errors or [] if p.field},
        failed=failed,
        values=values or {},
    )


@get("/agency/tenders/{tender_id:int}", sync_to_thread=True)
def tender_workspace(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _workspace(request, db, actor, tender_id)


@post(
    "/agency/tenders/{tender_id:int}/documents", sync_to_thread=True, request_max_body_size=MAX_UPLOAD_REQUEST
)
def upload_documents(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Multipart
) -> Template | Redirect:
    _own_tender(db, actor, tender_id)
    uploads = _uploads(data, "document")
    if not uploads:
        problem = Problem("file_missing", N_("Choose one or more files to upload."), "document")
        return _workspace(request, db, actor, tender_id, 422, [problem], failed="documents")
    settings = request.app.state.settings

    def add(upload: UploadFile) -> None:
        with _closing([upload]):
            drafting.add_document(
                db,
                actor,
                request.app.state.blobs,
                tender_id,
                _file_input(upload),
                settings.max_document_bytes,
            )

    # Each file on its own: a refused file does not stop the others, and the page names every refusal.
    errors = [p for upload in uploads for p in _problems(refusal(db, partial(add, upload)))]
    if errors:
        return _workspace(request, db, actor, tender_id, 422, errors, failed="documents")
    return redirect(
        f"/agency/tenders/{tender_id}#f-documents", flash=N_("The documents were uploaded."), request=request
    )


@post("/agency/tenders/{tender_id:int}/documents/{document_id:int}/delete", sync_to_thread=True)
def remove_document(
    request: Request, db: Session, actor: Actor, tender_id: int, document_id: int
) -> Template | Redirect:
    return submit(
        db,
        lambda: drafting.remove_document(db, actor, tender_id, document_id),
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}#f-documents", flash=N_("The document was removed."), request=request
        ),
        refused=lambda e: _workspace(
            request, db, actor, tender_id, e.status, _field(e.problems, "document"), failed="documents"
        ),
    )


def _publishable(db: Session, tender: Tender) -> bool:
    if drafting.publication_problems(tender):
        return False
    try:
        keyholders.require_complete_keys(db, tender)  # reads only: which holders have no key yet
    except DomainError:
        return False
    return True


@post("/agency/tenders/{tender_id:int}/publish", sync_to_thread=True)
def publish(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    tender = _own_tender(db, actor, tender_id)  # 403/404 before asking
    # a draft the rules refuse goes straight to the refusal (the workspace lists what is missing); one that
    # would be published is asked about first
    if tender.status == Status.draft and not confirm.confirmed(data) and _publishable(db, tender):
        return confirm.ask(
            request,
            title=N_("Publish the tender notice?"),
            subject=f"{tender.reference} {tender.title}",
            consequences=[
                N_(
                    "The notice becomes public at once and the tender documents are issued from the first "
                    "issue day."
                ),
                N_(
                    "The legal time limits start: the issue period, the time for objections and the bid "
                    "deadline."
                ),
                N_(
                    "After publication the notice is changed only by a published clarification, which can "
                    "move the deadline."
                ),
            ],
            action=f"/agency/tenders/{tender_id}/publish",
            confirm_label=N_("Publish now"),
            back=f"/agency/tenders/{tender_id}",
        )
    settings = request.app.state.settings
    return submit(
        db,
        lambda: drafting.publish(
            db, actor, tender_id, signer=signing_key(settings.data_dir, settings.origin)
        ),
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}", flash=N_("The tender notice was published."), request=request
        ),
        # 422: the rules the draft breaks, which the workspace lists itself; any other refusal is named
        refused=lambda e: _workspace(
            request,
            db,
            actor,
            tender_id,
            e.status,
            e.problems if e.status != 422 else [],
            failed="publish",
            publish_refused=True,
        ),
    )


@post(
    "/agency/tenders/{tender_id:int}/clarifications",
    sync_to_thread=True,
    request_max_body_size=MAX_UPLOAD_REQUEST,
)
def clarify(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Multipart
) -> Template | Redirect:
    title, body, affects_bids = _text(data, "title"), _text(data, "body"), bool(_text(data, "affects_bids"))
    values = {"title": title, "body": body, "affects_bids": affects_bids}  # shown again if refused
    uploads = _uploads(data, "files")
    settings = request.app.state.settings
    with _closing(uploads):
        return submit(
            db,
            lambda: clarifications.clarify(
                db,
                actor,
                request.app.state.blobs,
                tender_id,
                title,
                body,
                affects_bids,
                [_file_input(u) for u in uploads],
                settings.max_document_bytes,
            ),
            done=lambda clar: redirect(
                f"/agency/tenders/{tender_id}?clarified={clar.number}#clarifications",
                flash=N_("The clarification was issued."),
                request=request,
            ),
            refused=lambda e: _workspace(
                request,
                db,
                actor,
                tender_id,
                e.status,
                _prefixed(e.problems, "clar-"),
                failed="clarify",
                values=values,
            ),
        )


@post("/agency/tenders/{tender_id:int}/questions/{question_id:int}/answer", sync_to_thread=True)
def answer_question(
    request: Request, db: Session, actor: Actor, tender_id: int, question_id: int, data: Form
) -> Template | Redirect:
    answer = _text(data, "answer")
    return submit(
        db,
        lambda: questions.answer_question(db, actor, question_id, answer),
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}#questions", flash=N_("The answer was published."), request=request
        ),
        refused=lambda e: _workspace(
            request,
            db,
            actor,
            tender_id,
            e.status,
            _field(e.problems, f"answer-q{question_id}"),
            failed=f"q{question_id}",
            values={"answer": answer},
        ),
    )


@post("/agency/tenders/{tender_id:int}/objections/{objection_id:int}/answer", sync_to_thread=True)
def answer_objection(
    request: Request, db: Session, actor: Actor, tender_id: int, objection_id: int, data: Form
) -> Template | Redirect:
    answer = _text(data, "answer")
    return submit(
        db,
        lambda: objections.answer_objection(db, actor, objection_id, answer),
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}#objections",
            flash=N_("The objection was answered."),
            request=request,
        ),
        refused=lambda e: _workspace(
            request,
            db,
            actor,
            tender_id,
            e.status,
            _field(e.problems, f"answer-o{objection_id}"),
            failed=f"o{objection_id}",
            values={"answer": answer},
        ),
    )


@post("/agency/tenders/{tender_id:int}/cancel", sync_to_thread=True)
def cancel(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    reason = _text(data, "reason")
    _own_tender(db, actor, tender_id)
    unconfirmed = (
        []
        if _text(data, "confirm")
        else [
            Problem(
                "confirm_missing",
                N_("Tick the box to confirm that the tender is to be cancelled."),
                "confirm",
            ),
        ]
    )
    return submit(
        db,
        lambda: supervision.cancel(db, actor, tender_id, reason),
        problems=unconfirmed,
        done=lambda _: redirect(
            f"/agency/tenders/{tender_id}", flash=N_("The tender was cancelled."), request=request
        ),
        refused=lambda e: _workspace(
            request, db, actor, tender_id, e.status, e.problems, failed="cancel", values={"reason": reason}
        ),
    )


ROUTES: list[Any] = [
    my_tenders,
    new_tender_form,
    create_tender,
    edit_tender_form,
    update_tender,
    tender_workspace,
    upload_documents,
    remove_document,
    publish,
    clarify,
    answer_question,
    answer_objection,
    cancel,
]
