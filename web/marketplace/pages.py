"""The intermediary marketplace's pages (marketplace.entries, marketplace.purchases): the public directory and
purchases with their selection records; the intermediary's entry and sign-ups; the project owner's purchases
and its random number for the selection; the centre's review of entries and the service catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import chain
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Stream, Template
from sqlalchemy.orm import Session

from accounts.access import require_role
from accounts.models import Organisation
from core import clock, money
from core.disclosure import Fact
from core.errors import N_, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from marketplace import (
    aftercare,
    complaints,
    disclosure,
    documents,
    entries,
    purchases,
    ratings,
    rules,
    sealedquotes,
    selection,
)
from marketplace import directory as mdirectory
from marketplace.models import DocumentKind, EntryStatus, PurchaseStatus, SelectionStatus
from storage.base import CHUNK
from tender import keyfiles
from web.deps import page, redirect
from web.forms import FormState, submit
from web.tender.public import content_disposition

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

METHOD_LABELS = {
    selection.RANDOM: N_("Random draw"),
    selection.LOWEST: N_("Lowest price"),
    selection.OPTIMAL: N_("Optimal price"),
    selection.CREDIT: N_("Credit shortlist (the owner chooses from a short list drawn by credit)"),
    rules.DIRECT: N_("Direct choice (small amounts)"),
}
PURCHASE_STATUS_LABELS = {
    PurchaseStatus.open: N_("Sign-up open"),
    PurchaseStatus.selecting: N_("Sign-up closed, selecting"),
    PurchaseStatus.selected: N_("Intermediary selected"),
    PurchaseStatus.failed: N_("Failed"),
}
ENTRY_STATUS_LABELS = {
    EntryStatus.submitted: N_("Under review"),
    EntryStatus.returned: N_("Returned for changes"),
    EntryStatus.approved: N_("Approved"),
    EntryStatus.exited: N_("Removed from the marketplace"),
}
REASON_LABELS = {
    selection.TOO_FEW_APPLICANTS: N_("too few qualified applicants"),
    selection.TOO_FEW_QUOTES: N_("too few quotes"),
}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _all(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name, [])
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def _labels() -> dict[str, Any]:
    return {
        "method_labels": METHOD_LABELS,
        "purchase_status_labels": PURCHASE_STATUS_LABELS,
        "entry_status_labels": ENTRY_STATUS_LABELS,
        "reason_labels": REASON_LABELS,
    }


def _service_names(db: Session) -> dict[str, Any]:
    return {s.code: s for s in entries.catalogue(db)}


# ---------------------------------------------------------------- public


@get("/marketplace", sync_to_thread=True)
def directory(
    request: Request,
    db: Session,
    actor: Actor,
    service: str = "",
    region: str = "",
    number: Annotated[int, Parameter(query="page", ge=1, le=100_000)] = 1,
) -> Template:
    """The public directory, a page at a time (marketplace.directory: one indexed query, no rating read)."""
    found = mdirectory.page(db, service=service[:40], region=region[:100], number=number)
    catalogue = entries.catalogue(db)  # read once: the filter's active services, every service's name
    return page(
        request,
        "marketplace/directory.html",
        listed=found.rows,
        found=found,
        services=[s for s in catalogue if s.active],
        names={s.code: s for s in catalogue},
        regions=mdirectory.regions(db),
        service=service,
        region=region,
        **_labels(),
    )


@get("/marketplace/purchases", sync_to_thread=True)
def purchase_list(request: Request, db: Session, actor: Actor) -> Template:
    return page(
        request,
        "marketplace/purchases.html",
        rows=purchases.public_list(db),
        names=_service_names(db),
        **_labels(),
    )


def _purchase_view(db: Session, actor: Actor, purchase_id: int) -> dict[str, Any]:
    purchase = purchases.get(db, purchase_id)
    sel = purchases.selection_of(db, purchase)
    chosen = db.get(Organisation, purchase.chosen_org_id) if purchase.chosen_org_id else None
    return {
        "p": purchase,
        "sel": sel,
        "applicants": purchases.applicants(db, actor, purchase),
        "mine": purchases.my_signup(db, actor, purchase),
        "chosen": chosen,
        "names": _service_names(db),
        "deadline_passed": clock.now() >= purchase.signup_deadline,
        "quotes_waiting": purchases.quotes_waiting(purchase),
        "selection_time_reached": clock.now() >= purchase.selection_at,
        # a credit short list waiting for the owner's choice is not published (purchases.public_record)
        "record_json": _pretty(sel.record) if sel is not None and sel.record and sel.status == "done" else "",
        "sees_participation": disclosure.may_see(actor, purchase, Fact.participation, clock.now()),
        **_complaint_view(db, actor, purchase, sel),
        **_aftercare_view(db, actor, purchase),
        **_labels(),
    }


COMPLAINT_KINDS = {
    complaints.QUALITY: N_("Service quality"),
    complaints.SELECTION: N_("Selection"),
}


def _complaint_view(db: Session, actor: Actor, purchase: Any, sel: Any) -> dict[str, Any]:
    """Which complaints the reader may file here (marketplace.complaints): the owner about the service and
    the selection, the supervising authority about the service, an applicant about the selection."""
    kinds: list[str] = []
    if purchase.status == PurchaseStatus.selected and sel is not None and not actor.anonymous:
        owner = actor.has(Role.project_owner) and actor.organisation_id == purchase.owner_org_id
        applicant = purchases.my_signup(db, actor, purchase) is not None
        if owner or actor.has(Role.monitor):
            kinds.append(complaints.QUALITY)
        if owner or applicant:
            kinds.append(complaints.SELECTION)
    return {
        "complain_kinds": kinds,
        "complaint_kinds": COMPLAINT_KINDS,
        "publicity_ends": complaints.publicity_ends(sel) if sel is not None else None,
    }


RATER_LABELS = {
    ratings.OWNER: N_("project owner"),
    ratings.AUTHORITY: N_("supervising authority"),
    ratings.CENTRE: N_("trading centre"),
}


def _aftercare_view(db: Session, actor: Actor, purchase: Any) -> dict[str, Any]:
    rated = aftercare.ratings_of(db, purchase.id)
    kind = aftercare.rater_kind(actor, purchase) if purchase.acceptance == "accepted" else None
    side = aftercare.side_of(actor, purchase) if not actor.anonymous else None
    files = documents.of_purchase(db, purchase.id) if aftercare.may_read_files(actor, purchase) else []
    return {
        "side": side,
        "files": files,
        "contract_file": next((f for f in reversed(files) if f.kind == DocumentKind.contract), None),
        "result_file": next((f for f in reversed(files) if f.kind == DocumentKind.service_result), None),
        "rated": rated,
        "can_rate": kind if kind and kind not in {r.rater_kind for r in rated} else None,
        "indicators": ratings.INDICATORS,
        "rater_labels": RATER_LABELS,
    }


def _pretty(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)


def _public_purchase(
    request: Request,
    db: Session,
    actor: Actor,
    purchase_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    form = form or FormState()
    return page(
        request,
        "marketplace/purchase.html",
        status_code=status_code,
        form=form,
        errors=form.errors,
        **_purchase_view(db, actor, purchase_id),
    )


@get("/marketplace/purchases/{purchase_id:int}", sync_to_thread=True)
def purchase_page(request: Request, db: Session, actor: Actor, purchase_id: int) -> Template:
    return _public_purchase(request, db, actor, purchase_id)


def _after(
    request: Request,
    db: Session,
    actor: Actor,
    purchase_id: int,
    name: str,
    values: dict[str, str],
    call: Any,
    flash: str,
    problems: list[Problem] | None = None,
) -> Template | Redirect:
    back = f"/marketplace/purchases/{purchase_id}#aftercare"
    return submit(
        db,
        call,
        problems=problems or [],
        done=lambda _: redirect(back, flash=flash, request=request),
        refused=lambda e: _public_purchase(
            request, db, actor, purchase_id, FormState(name, values, e.problems), e.status
        ),
    )


def _upload(data: dict[str, Any]) -> UploadFile | None:
    value = data.get("file")
    values = value if isinstance(value, list) else [value]
    return next((v for v in values if isinstance(v, UploadFile) and v.filename), None)


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


def _stored(request: Request, data: dict[str, Any]) -> documents.Stored | None:
    """The form's file into blob storage (None: no file chosen; a wrong type or size is refused)."""
    upload = _upload(data)
    if upload is None:
        return None
    return documents.store_file(request.app.state.blobs, upload.filename, _chunks(upload))


@post("/marketplace/purchases/{purchase_id:int}/contract", sync_to_thread=True)
def enter_contract(
    request: Request, db: Session, actor: Actor, purchase_id: int, data: Multipart
) -> Template | Redirect:
    values = {"number": _text(data, "number"), "amount": _text(data, "amount")}
    amount: int | None = None
    problems: list[Problem] = []
    if values["amount"]:
        try:
            amount = money.parse_yuan(values["amount"])
        except ValueError:
            problems.append(Problem("amount_not_amount", N_("Enter the amount in yuan."), "amount"))

    def call() -> Any:
        aftercare.contract_party(db, actor, purchase_id)  # who may, before any byte is stored
        return aftercare.enter_contract(
            db, actor, purchase_id, values["number"], amount, _stored(request, data)
        )

    return _after(
        request,
        db,
        actor,
        purchase_id,
        "contract",
        values,
        call,
        N_("The contract is entered; the other side confirms it."),
        problems,
    )


@post("/marketplace/purchases/{purchase_id:int}/result", sync_to_thread=True)
def upload_result(
    request: Request, db: Session, actor: Actor, purchase_id: int, data: Multipart
) -> Template | Redirect:
    def call() -> Any:
        aftercare.contract_party(db, actor, purchase_id)
        stored = _stored(request, data)
        if stored is None:
            raise ValidationFailed.one("document_missing", documents.REFUSALS["document_missing"], "file")
        return aftercare.upload_result(db, actor, purchase_id, stored)

    return _after(
        request,
        db,
        actor,
        purchase_id,
        "result",
        {},
        call,
        N_("The service result is uploaded; the owner accepts it or records that it failed."),
    )


@get("/marketplace/documents/{document_id:int}", sync_to_thread=True, opt={"private": True})
def document_file(request: Request, db: Session, actor: Actor, document_id: int) -> Stream:
    """A purchase's contract or service result, for its two sides, the monitors and the administrators."""
    doc = aftercare.readable_document(db, actor, document_id)
    chunks: Iterator[bytes] = iter(request.app.state.blobs.open(doc.sha256))
    try:
        first = next(chunks, b"")  # a missing blob is an error page, not a response cut off half-way
    except (OSError, ValueError) as e:
        raise NotFound.one(
            "document_file_missing", N_("The file cannot be read now; try again later.")
        ) from e
    headers = {
        "Content-Disposition": content_disposition(doc.filename, f"file-{doc.id}"),
        "Content-Length": str(doc.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Stream(chain([first], chunks), media_type="application/octet-stream", headers=headers)


@post("/marketplace/purchases/{purchase_id:int}/contract/confirm", sync_to_thread=True)
def confirm_contract(request: Request, db: Session, actor: Actor, purchase_id: int) -> Template | Redirect:
    return _after(
        request,
        db,
        actor,
        purchase_id,
        "confirm",
        {},
        lambda: aftercare.confirm_contract(db, actor, purchase_id),
        N_("The contract is confirmed."),
    )


@post("/owner/purchases/{purchase_id:int}/acceptance", sync_to_thread=True)
def acceptance(
    request: Request, db: Session, actor: Actor, purchase_id: int, data: Form
) -> Template | Redirect:
    values = {"note": _text(data, "note"), "result": _text(data, "result")}
    return _after(
        request,
        db,
        actor,
        purchase_id,
        "acceptance",
        values,
        lambda: aftercare.record_acceptance(
            db, actor, purchase_id, values["result"] == "accepted", values["note"]
        ),
        N_("The acceptance is recorded."),
    )


@post("/marketplace/purchases/{purchase_id:int}/rating", sync_to_thread=True)
def rate(request: Request, db: Session, actor: Actor, purchase_id: int, data: Form) -> Template | Redirect:
    values = {k: _text(data, k) for k in (*ratings.INDICATORS, "comment")}
    scores = {k: int(values[k]) if values[k].isdigit() else None for k in ratings.INDICATORS}
    return _after(
        request,
        db,
        actor,
        purchase_id,
        "rating",
        values,
        lambda: aftercare.rate(db, actor, purchase_id, scores, values["comment"]),
        N_("The rating is recorded."),
    )


@get("/api/v1/marketplace/purchases/{purchase_id:int}/selection", sync_to_thread=True)
def selection_record(db: Session, actor: Actor, purchase_id: int) -> dict[str, Any]:
    """The selection's public record (docs/marketplace-selection.md); 404 until the selection ran."""
    return purchases.public_record(db, purchase_id)


# ---------------------------------------------------------------- the intermediary


def _entry_page(
    request: Request, db: Session, actor: Actor, form: FormState | None = None, status_code: int = 200
) -> Template:
    entry = entries.my_entry(db, actor)
    form = form or FormState()
    return page(
        request,
        "marketplace/entry.html",
        status_code=status_code,
        entry=entry,
        services=entries.catalogue(db, active_only=True),
        active=entries.active_services(db, entry) if entry else [],
        names=_service_names(db),
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        values=form.values or _entry_values(entry),
        chosen=set(form.values.get("services", "").split(","))
        if form.values
        else set(entry.services if entry else []),
        **_labels(),
    )


def _entry_values(entry: Any) -> dict[str, str]:
    if entry is None:
        return {}
    return {
        "licence_number": entry.licence_number,
        "credit_report": entry.credit_report,
        "commitment_signed_by": entry.commitment_signed_by,
        "qualifications": "\n".join(
            f"{q['name']} | {q['grade']} | {q['expires_on']}" for q in entry.qualifications
        ),
        "staff": "\n".join(f"{s['name']} | {s['certificate']} | {s['number']}" for s in entry.staff),
        "independent_legal_person": "1" if entry.independent_legal_person else "",
        "no_violation_3y": "1" if entry.no_violation_3y else "",
        "internal_rules": "1" if entry.internal_rules else "",
    }


@get("/intermediary/entry", sync_to_thread=True)
def entry_page(request: Request, db: Session, actor: Actor) -> Template:
    return _entry_page(request, db, actor)


@post("/intermediary/entry/submit", sync_to_thread=True)
def submit_entry(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    require_role(actor, Role.intermediary)
    keys = ("licence_number", "credit_report", "commitment_signed_by", "qualifications", "staff")
    flags = ("independent_legal_person", "no_violation_3y", "internal_rules")
    values = {k: _text(data, k) for k in (*keys, *flags)}
    chosen = _all(data, "services")
    values["services"] = ",".join(chosen)
    quals, problems = rules.parse_qualifications(values["qualifications"])
    staff, staff_problems = rules.parse_staff(values["staff"])
    entry = rules.EntryInput(
        services=chosen,
        licence_number=values["licence_number"],
        independent_legal_person=values["independent_legal_person"] == "1",
        no_violation_3y=values["no_violation_3y"] == "1",
        internal_rules=values["internal_rules"] == "1",
        credit_report=values["credit_report"],
        commitment_signed_by=values["commitment_signed_by"],
        qualifications=quals,
        staff=staff,
    )
    return submit(
        db,
        lambda: entries.submit_entry(db, actor, entry),
        problems=[*problems, *staff_problems],
        done=lambda _: redirect(
            "/intermediary/entry",
            flash=N_("Your application is submitted; the centre reviews it."),
            request=request,
        ),
        refused=lambda e: _entry_page(request, db, actor, FormState("entry", values, e.problems), e.status),
    )


def _open_page(
    request: Request, db: Session, actor: Actor, form: FormState | None = None, status_code: int = 200
) -> Template:
    rows = purchases.open_for(db, actor)
    form = form or FormState()
    return page(
        request,
        "marketplace/open.html",
        status_code=status_code,
        rows=[(p, purchases.my_signup(db, actor, p)) for p in rows],
        names=_service_names(db),
        priced=rules.PRICED,
        form=form,
        errors=form.errors,
        **_labels(),
    )


@get("/intermediary/purchases", sync_to_thread=True)
def open_purchases(request: Request, db: Session, actor: Actor) -> Template:
    return _open_page(request, db, actor)


@post("/intermediary/purchases/{purchase_id:int}/sign-up", sync_to_thread=True)
def sign_up(request: Request, db: Session, actor: Actor, purchase_id: int, data: Form) -> Template | Redirect:
    values = {"quote": _text(data, "quote")}
    quote: int | None = None
    problems: list[Problem] = []
    if values["quote"]:
        try:
            quote = money.parse_yuan(values["quote"])
        except ValueError:
            problems.append(Problem("quote_not_amount", N_("Enter the quote as an amount in yuan."), "quote"))
    return submit(
        db,
        lambda: purchases.sign_up(db, actor, purchase_id, quote),
        problems=problems,
        done=lambda _: redirect(
            "/intermediary/purchases",
            flash=N_("You have signed up. Nobody sees your sign-up or your quote before the deadline."),
            request=request,
        ),
        refused=lambda e: _open_page(
            request, db, actor, FormState(f"signup-{purchase_id}", values, e.problems), e.status
        ),
    )


# ---------------------------------------------------------------- the project owner


def _owner_page(
    request: Request, db: Session, actor: Actor, form: FormState | None = None, status_code: int = 200
) -> Template:
    form = form or FormState()
    return page(
        request,
        "marketplace/owner.html",
        status_code=status_code,
        rows=purchases.owned(db, actor),
        services=entries.catalogue(db, active_only=True),
        names=_service_names(db),
        directory=entries.directory(db),
        threshold=rules.DIRECT_CHOICE_THRESHOLD_FEN,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        **_labels(),
    )


@get("/owner/purchases", sync_to_thread=True)
def owner_purchases(request: Request, db: Session, actor: Actor) -> Template:
    require_role(actor, Role.project_owner)
    return _owner_page(request, db, actor)


def _local(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=clock.CST)
    except ValueError:
        return None


@post("/owner/purchases/new", sync_to_thread=True)
def post_purchase(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    names = ("service_code", "project", "ceiling", "requirements", "funding", "method", "signup_deadline")
    values = {k: _text(data, k) for k in (*names, "selection_at", "chosen_org", "quote_key", "excluded")}
    excluded, problems = rules.parse_exclusions(values["excluded"])
    ceiling: int | None = None
    try:
        ceiling = money.parse_yuan(values["ceiling"]) if values["ceiling"] else None
    except ValueError:
        problems.append(
            Problem("ceiling_not_amount", N_("Enter the ceiling as an amount in yuan."), "ceiling")
        )
    direct = values["method"] == rules.DIRECT
    deadline, selection_at = _local(values["signup_deadline"]), _local(values["selection_at"])
    if not direct:
        for key, when in (("signup_deadline", deadline), ("selection_at", selection_at)):
            if values[key] and when is None:
                problems.append(Problem("not_a_time", N_("Enter a date and time."), key))
    data_in = rules.PurchaseInput(
        service_code=values["service_code"],
        project=values["project"],
        ceiling_fen=ceiling,
        requirements=values["requirements"],
        state_funds=values["funding"] != "other",
        method=values["method"],
        signup_deadline=deadline,
        selection_at=selection_at,
        chosen_org_id=int(values["chosen_org"]) if direct and values["chosen_org"].isdigit() else None,
        quote_key=values["quote_key"],
        excluded=excluded,
    )
    return submit(
        db,
        lambda: purchases.post(db, actor, data_in),
        problems=problems,
        done=lambda p: redirect(
            f"/owner/purchases/{p.id}", flash=N_("The purchase is posted."), request=request
        ),
        refused=lambda e: _owner_page(request, db, actor, FormState("post", values, e.problems), e.status),
    )


def _owner_purchase(
    request: Request,
    db: Session,
    actor: Actor,
    purchase_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    view = _purchase_view(db, actor, purchase_id)
    p = view["p"]
    if not actor.has(Role.admin):
        require_role(actor, Role.project_owner)
        if actor.organisation_id != p.owner_org_id:
            raise Forbidden.one("not_purchase_owner", N_("Only the purchase's owner may do this."))
    form = form or FormState()
    party = purchases.owner_party(db, p)
    mine = view["sel"].contributions.get(party) if view["sel"] is not None else None
    return page(
        request,
        "marketplace/owner_purchase.html",
        status_code=status_code,
        party=party,
        contribution=mine,
        short_list=purchases.short_list(db, view["sel"]) if view["sel"] is not None else [],
        form=form,
        errors=form.errors,
        **view,
    )


@get("/owner/purchases/{purchase_id:int}", sync_to_thread=True)
def owner_purchase(request: Request, db: Session, actor: Actor, purchase_id: int) -> Template:
    return _owner_purchase(request, db, actor, purchase_id)


def _owner_action(
    request: Request,
    db: Session,
    actor: Actor,
    purchase_id: int,
    name: str,
    values: dict[str, str],
    call: Any,
    flash: str | Callable[[Any], str],
    problems: list[Problem] | None = None,
) -> Template | Redirect:
    return submit(
        db,
        call,
        problems=problems or [],
        done=lambda result: redirect(
            f"/owner/purchases/{purchase_id}",
            flash=flash(result) if callable(flash) else flash,
            request=request,
        ),
        refused=lambda e: _owner_purchase(
            request, db, actor, purchase_id, FormState(name, values, e.problems), e.status
        ),
    )


@post("/owner/purchases/{purchase_id:int}/close", sync_to_thread=True)
def close_signup(request: Request, db: Session, actor: Actor, purchase_id: int) -> Template | Redirect:
    return _owner_action(
        request,
        db,
        actor,
        purchase_id,
        "close",
        {},
        lambda: purchases.close_signup(db, actor, purchase_id),
        N_("Sign-up is closed and the platform's number is fixed. Now add your random number."),
    )


@post("/owner/purchases/{purchase_id:int}/commit", sync_to_thread=True)
def commit(request: Request, db: Session, actor: Actor, purchase_id: int, data: Form) -> Template | Redirect:
    values = {"commitment": _text(data, "commitment")}
    return _owner_action(
        request,
        db,
        actor,
        purchase_id,
        "commit",
        values,
        lambda: purchases.commit_contribution(db, actor, purchase_id, values["commitment"]),
        N_("Your number's fingerprint is recorded. Now show the number."),
    )


@post("/owner/purchases/{purchase_id:int}/reveal", sync_to_thread=True)
def reveal(request: Request, db: Session, actor: Actor, purchase_id: int, data: Form) -> Template | Redirect:
    values = {"value": _text(data, "value")}
    return _owner_action(
        request,
        db,
        actor,
        purchase_id,
        "reveal",
        values,
        lambda: purchases.reveal_contribution(db, actor, purchase_id, values["value"]),
        N_("Your number is shown; now open the sealed quotes to run the selection.")
        if purchases.quotes_waiting(purchases.get(db, purchase_id))
        else _revealed,
    )


def _revealed(sel: Any) -> str:
    if sel.status == SelectionStatus.choosing:  # the credit shortlist: drawn, the owner's choice awaited
        return N_("Your number is shown and the short list is drawn; now choose the intermediary from it.")
    return N_("Your number is shown and the selection has run; its record is published.")


@post("/owner/purchases/{purchase_id:int}/release", sync_to_thread=True)
def release_quotes(
    request: Request, db: Session, actor: Actor, purchase_id: int, data: Form
) -> Template | Redirect:
    """The owner's key file and passphrase at the selection time: the key opens here, the quotes open."""
    values = {"key_file": _text(data, "key_file")}
    passphrase = str(data.get("passphrase") or "")
    problems: list[Problem] = []
    private = ""
    if not actor.has(Role.project_owner):
        pass  # the service refuses anyone but the owner before any key file is read
    elif not values["key_file"]:
        problems.append(
            Problem("key_file_missing", N_("Choose the key file you saved for this purchase."), "key_file")
        )
    else:
        try:
            private = sealedquotes.sealing.b64u(
                keyfiles.load(values["key_file"], passphrase).private_bytes_raw()
            )
        except keyfiles.KeyFileError as e:
            problems.append(
                Problem(
                    "passphrase_wrong" if e.code == "passphrase_wrong" else "key_file_invalid",
                    N_("The passphrase does not open this key file.")
                    if e.code == "passphrase_wrong"
                    else N_("This is not a key file made by the platform or `etender keys new`."),
                    "passphrase" if e.code == "passphrase_wrong" else "key_file",
                )
            )
    return _owner_action(
        request,
        db,
        actor,
        purchase_id,
        "release",
        values,
        lambda: purchases.release_quotes(db, actor, purchase_id, private),
        N_("The quotes are open; the selection runs once your random number is shown."),
        problems,
    )


@post("/owner/purchases/{purchase_id:int}/choose", sync_to_thread=True)
def choose(request: Request, db: Session, actor: Actor, purchase_id: int, data: Form) -> Template | Redirect:
    """The owner's choice from the credit short list (信用择优), confirmed on the form."""
    values = {"organisation_id": _text(data, "organisation_id"), "confirm": _text(data, "confirm")}
    chosen = int(values["organisation_id"]) if values["organisation_id"].isdigit() else None
    return _owner_action(
        request,
        db,
        actor,
        purchase_id,
        "choose",
        values,
        lambda: purchases.choose(db, actor, purchase_id, chosen, values["confirm"] == "1"),
        N_("Your choice is recorded and the result is published."),
    )


# ---------------------------------------------------------------- the centre


@get("/admin/marketplace/entries", sync_to_thread=True)
def review_queue(request: Request, db: Session, actor: Actor) -> Template:
    return page(request, "marketplace/review_queue.html", rows=entries.review_queue(db, actor), **_labels())


def _review_page(
    request: Request,
    db: Session,
    actor: Actor,
    entry_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    entry, org = entries.entry_for_review(db, actor, entry_id)
    form = form or FormState()
    return page(
        request,
        "marketplace/review.html",
        status_code=status_code,
        entry=entry,
        org=org,
        names=_service_names(db),
        form=form,
        errors=form.errors,
        **_labels(),
    )


@get("/admin/marketplace/entries/{entry_id:int}", sync_to_thread=True)
def review(request: Request, db: Session, actor: Actor, entry_id: int) -> Template:
    return _review_page(request, db, actor, entry_id)


@post("/admin/marketplace/entries/{entry_id:int}/approve", sync_to_thread=True)
def approve(request: Request, db: Session, actor: Actor, entry_id: int) -> Template | Redirect:
    return submit(
        db,
        lambda: entries.approve_entry(db, actor, entry_id),
        done=lambda _: redirect(
            "/admin/marketplace/entries", flash=N_("The intermediary is approved."), request=request
        ),
        refused=lambda e: _review_page(
            request, db, actor, entry_id, FormState("approve", {}, e.problems), e.status
        ),
    )


@post("/admin/marketplace/entries/{entry_id:int}/return", sync_to_thread=True)
def return_entry(
    request: Request, db: Session, actor: Actor, entry_id: int, data: Form
) -> Template | Redirect:
    values = {"reasons": _text(data, "reasons")}
    return submit(
        db,
        lambda: entries.return_entry(db, actor, entry_id, values["reasons"]),
        done=lambda _: redirect(
            "/admin/marketplace/entries",
            flash=N_("The application is returned with your reasons."),
            request=request,
        ),
        refused=lambda e: _review_page(
            request, db, actor, entry_id, FormState("return", values, e.problems), e.status
        ),
    )


def _catalogue_page(
    request: Request, db: Session, actor: Actor, form: FormState | None = None, status_code: int = 200
) -> Template:
    require_role(actor, Role.admin)
    form = form or FormState()
    return page(
        request,
        "marketplace/catalogue.html",
        status_code=status_code,
        services=entries.catalogue(db),
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
    )


@get("/admin/marketplace/catalogue", sync_to_thread=True)
def catalogue(request: Request, db: Session, actor: Actor) -> Template:
    return _catalogue_page(request, db, actor)


@post("/admin/marketplace/catalogue/save", sync_to_thread=True)
def save_service(request: Request, db: Session, actor: Actor, data: Form) -> Template | Redirect:
    values = {k: _text(data, k) for k in ("code", "name", "name_en", "qualifications", "active")}
    service = entries.ServiceInput(
        code=values["code"],
        name=values["name"],
        name_en=values["name_en"],
        qualifications=values["qualifications"].replace("，", ",").split(","),
        active=values["active"] == "1",
    )
    return submit(
        db,
        lambda: entries.save_service(db, actor, service),
        done=lambda _: redirect(
            "/admin/marketplace/catalogue", flash=N_("The service type is saved."), request=request
        ),
        refused=lambda e: _catalogue_page(
            request, db, actor, FormState("service", values, e.problems), e.status
        ),
    )


ROUTES = [
    directory,
    purchase_list,
    purchase_page,
    selection_record,
    enter_contract,
    upload_result,
    document_file,
    confirm_contract,
    acceptance,
    rate,
    entry_page,
    submit_entry,
    open_purchases,
    sign_up,
    owner_purchases,
    post_purchase,
    owner_purchase,
    close_signup,
    commit,
    reveal,
    release_quotes,
    choose,
    review_queue,
    review,
    approve,
    return_entry,
    catalogue,
    save_service,
]
