"""The award's pages (award.decision): the tender's award page for its agency, purchaser and monitors (the
purchaser confirms the award after the publicity, ends it on its ground, or finds no candidate can be awarded;
the agency records the contract, the bid securities' refunds and forfeits, and re-tenders a failed tender),
the bidder's own notice, the public result notice and government-procurement contract, the signed notice
files, and under /api/v1 a notice's statement that `etender award verify-notice --url` compares with."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from award.decision import contracts, retender, rules, securities, services
from award.decision.events import AwardTag
from award.decision.services import Signer
from core import money
from core.errors import N_, Problem
from core.identity import Actor
from core.signing import signing_key
from storage.base import read_all
from web import confirm
from web.deps import page, redirect
from web.forms import FormState, submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
CHUNK = 1 << 20

# The award's audit entries in words, for the monitors' trail and the public log (web.supervision.monitor).
EVENT_LABELS = {
    AwardTag.award_confirmed.value: N_("Award confirmed"),
    AwardTag.award_declined.value: N_("Award ended on its ground"),
    AwardTag.award_impossible.value: N_("No candidate could be awarded"),
    AwardTag.notices_issued.value: N_("Award and result notices issued"),
    AwardTag.contract_recorded.value: N_("Contract recorded"),
    AwardTag.security_refunded.value: N_("Bid security refunded"),
    AwardTag.security_forfeited.value: N_("Bid security forfeited"),
    AwardTag.retendered.value: N_("Failed tender tendered again"),
}
STATUS_LABELS = {
    "active": N_("Stands"),
    "declined": N_("Ended on its ground"),
    "cancelled": N_("Set aside"),
    "held": N_("Held"),
    "refunded": N_("Refunded"),
    "forfeited": N_("Forfeited"),
    "award": N_("Award notice"),
    "result": N_("Notice of the result"),  # the letter (L45); "Result notice" is G87-69's public one
}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _url(tender_id: int) -> str:
    return f"/award/tenders/{tender_id}"


def _signer(request: Request) -> Signer:
    settings = request.app.state.settings
    return Signer(request.app.state.blobs, signing_key(settings.data_dir, settings.origin), settings.origin)


def _channel(request: Request) -> Any:
    return getattr(request.app.state, "channel", None)


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    v = services.decision_view(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "award/decision.html",
        status_code=status_code,
        v=v,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        grounds=services.GROUND_LABELS,
        forfeit_grounds=securities.FORFEIT_LABELS,
        reasons=retender.REASON_LABELS,
        labels=STATUS_LABELS,
        rules=rules,
    )


def _again(
    request: Request, db: Session, actor: Actor, tender_id: int, failed: str, values: dict[str, str]
) -> Any:
    return lambda e: _page(request, db, actor, tender_id, FormState(failed, values, e.problems), e.status)


@get("/award/tenders/{tender_id:int}", sync_to_thread=True)
def decision_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _page(request, db, actor, tender_id)


def _rank(text: str) -> int | None:
    return int(text) if text.isdigit() else None


@post("/award/tenders/{tender_id:int}/confirm", sync_to_thread=True)
def confirm_award(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"rank": _text(data, "rank")}
    rank = _rank(values["rank"])
    problems = (
        []
        if rank is not None
        else [Problem("award_not_a_candidate", services.REFUSALS["award_not_a_candidate"], "rank")]
    )
    if not problems and not confirm.confirmed(data):
        v = services.decision_view(db, actor, tender_id)  # 403/404 before asking
        if v.is_purchaser:
            name = next((c.name for c in v.candidates if c.rank == rank), "")
            return confirm.ask(
                request,
                title=N_("Award the tender to this candidate?"),
                subject=f"{v.tender.reference} {v.tender.title} · {name}",
                consequences=[
                    N_(
                        "The award notice goes to the winner and the result notice to every other bidder at "
                        "once (L45)."
                    ),
                    N_("The contract must be signed within 30 days of the award notice (L46)."),
                    N_("The award is public on the result notice page."),
                ],
                action=f"{_url(tender_id)}/confirm",
                confirm_label=N_("Confirm the award"),
                back=_url(tender_id),
                fields=values,
            )
    return submit(
        db,
        lambda: services.confirm(db, actor, tender_id, rank or 0, _signer(request), _channel(request)),
        done=lambda _: redirect(
            _url(tender_id), flash=N_("The award is made and the notices are issued."), request=request
        ),
        refused=_again(request, db, actor, tender_id, "confirm", values),
        problems=problems,
    )


@post("/award/tenders/{tender_id:int}/decline", sync_to_thread=True)
def decline_award(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"ground": _text(data, "ground"), "note": _text(data, "note")}
    if values["ground"] in rules.GROUNDS and values["note"] and not confirm.confirmed(data):
        v = services.decision_view(db, actor, tender_id)
        if v.is_purchaser and v.active is not None:
            return confirm.ask(
                request,
                title=N_("End the award on this ground?"),
                subject=f"{v.tender.reference} {v.tender.title}",
                consequences=[
                    N_("The award ends with its ground and your words, shown on the result notice (R55)."),
                    N_("Then you award the next candidate, or find that no candidate can be awarded."),
                ],
                action=f"{_url(tender_id)}/decline",
                confirm_label=N_("End the award"),
                back=_url(tender_id),
                fields=values,
                danger=True,
            )
    return submit(
        db,
        lambda: services.decline(db, actor, tender_id, values["ground"], values["note"], _channel(request)),
        done=lambda _: redirect(
            _url(tender_id), flash=N_("The award ended; its ground is recorded."), request=request
        ),
        refused=_again(request, db, actor, tender_id, "decline", values),
    )


@post("/award/tenders/{tender_id:int}/impossible", sync_to_thread=True)
def impossible(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"note": _text(data, "note")}
    if values["note"] and not confirm.confirmed(data):
        v = services.decision_view(db, actor, tender_id)
        if v.is_purchaser:
            return confirm.ask(
                request,
                title=N_("Find that no candidate can be awarded?"),
                subject=f"{v.tender.reference} {v.tender.title}",
                consequences=[
                    N_("The tender fails; its agency tenders it again."),
                    N_("The bid securities are refunded within 5 days."),
                ],
                action=f"{_url(tender_id)}/impossible",
                confirm_label=N_("The tender fails"),
                back=_url(tender_id),
                fields=values,
                danger=True,
            )
    return submit(
        db,
        lambda: services.declare_impossible(db, actor, tender_id, values["note"]),
        done=lambda _: redirect(
            _url(tender_id), flash=N_("The tender failed; its agency tenders it again."), request=request
        ),
        refused=_again(request, db, actor, tender_id, "impossible", values),
    )


# ---------------------------------------------------------------- the contract

CONTRACT_FIELDS = ("amount", "signed_on", "starts_on", "ends_on", "performance_bond")


def _upload(data: dict[str, Any]) -> UploadFile | None:
    value = data.get("file")
    values = value if isinstance(value, list) else [value]
    return next((v for v in values if isinstance(v, UploadFile) and v.filename), None)


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while chunk := upload.file.read(CHUNK):
        yield chunk


def _parse_contract(values: dict[str, str]) -> tuple[contracts.ContractInput | None, list[Problem]]:
    problems: list[Problem] = []

    def fen(name: str, required: bool) -> int:
        text = values.get(name, "")
        if not text and not required:
            return 0
        try:
            return money.parse_yuan(text)
        except ValueError:
            problems.append(
                Problem("contract_not_amount", N_("Enter an amount in yuan, like 1234.50."), name)
            )
            return 0

    def day(name: str, required: bool) -> date | None:
        text = values.get(name, "")
        if not text and not required:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            problems.append(Problem("contract_not_date", N_("Enter a date like 2026-12-31."), name))
            return None

    amount, bond = fen("amount", True), fen("performance_bond", False)
    signed, starts, ends = day("signed_on", True), day("starts_on", False), day("ends_on", False)
    if problems or signed is None:
        return None, problems
    return (
        contracts.ContractInput(
            amount, signed, starts, ends, bond, values.get("filename", ""), values.get("blob_key", "")
        ),
        [],
    )


@post("/award/tenders/{tender_id:int}/contract", sync_to_thread=True)
def contract_upload(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Multipart
) -> Template | Redirect:
    """The first step: the form and its signed file. The file is stored (content-addressed), the values are
    checked, and the confirmation page posts them again with the file's key to /contract/record."""
    contracts.require_party(db, actor, tender_id)  # 401/403 before storing anything
    values = {k: _text(data, k) for k in (*CONTRACT_FIELDS, "blob_key", "filename")}
    upload = _upload(data)
    blobs = request.app.state.blobs
    if upload is not None:  # a new file; else the one stored by a refused attempt (its key kept in the form)
        with contextlib.closing(upload.file):
            refusal = submit(
                db,
                lambda: contracts.store_file(db, actor, blobs, tender_id, upload.filename, _chunks(upload)),
                done=lambda stored: values.update(blob_key=stored[0], filename=upload.filename),
                refused=_again(request, db, actor, tender_id, "contract", values),
            )
        if refusal is not None:
            return refusal  # type: ignore[no-any-return]
    parsed, problems = _parse_contract(values)
    refusal = submit(
        db,
        lambda: contracts.check_contract(db, actor, blobs, tender_id, parsed) if parsed else None,
        done=lambda _: None,
        refused=_again(request, db, actor, tender_id, "contract", values),
        problems=problems,
    )
    if refusal is not None:
        return refusal  # type: ignore[no-any-return]
    v = services.decision_view(db, actor, tender_id)
    fields = dict(values)
    upload_name = values["filename"]
    return confirm.ask(
        request,
        title=N_("Record this contract?"),
        subject=f"{v.tender.reference} {v.tender.title} · {upload_name}",
        consequences=[
            N_(
                "The contract is recorded with its signed file; the bid securities are due back within 5 "
                "days (R57)."
            ),
            N_("A government-procurement contract is published at once on the public contract page (GR50)."),
        ],
        action=f"{_url(tender_id)}/contract/record",
        confirm_label=N_("Record the contract"),
        back=_url(tender_id),
        fields=fields,
    )


@post("/award/tenders/{tender_id:int}/contract/record", sync_to_thread=True)
def contract_record(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    contracts.require_party(db, actor, tender_id)
    values = {k: _text(data, k) for k in (*CONTRACT_FIELDS, "blob_key", "filename")}
    parsed, problems = _parse_contract(values)
    if not confirm.confirmed(data) and not problems:
        problems = [
            Problem("contract_not_confirmed", N_("Confirm the contract on the confirmation page."), None)
        ]
    return submit(
        db,
        lambda: contracts.record_contract(db, actor, request.app.state.blobs, tender_id, parsed),  # type: ignore[arg-type]
        done=lambda _: redirect(_url(tender_id), flash=N_("The contract is recorded."), request=request),
        refused=_again(request, db, actor, tender_id, "contract", values),
        problems=problems,
    )


# ---------------------------------------------------------------- the bid securities


@post("/award/tenders/{tender_id:int}/securities/{security_id:int}/refund", sync_to_thread=True)
def refund(
    request: Request, db: Session, actor: Actor, tender_id: int, security_id: int, data: Form
) -> Template | Redirect:
    values = {"reference": _text(data, "reference")}
    return submit(
        db,
        lambda: securities.refund(db, actor, tender_id, security_id, values["reference"]),
        done=lambda _: redirect(
            _url(tender_id) + "#securities", flash=N_("The refund is recorded."), request=request
        ),
        refused=_again(request, db, actor, tender_id, f"refund-{security_id}", values),
    )


@post("/award/tenders/{tender_id:int}/securities/{security_id:int}/forfeit", sync_to_thread=True)
def forfeit(
    request: Request, db: Session, actor: Actor, tender_id: int, security_id: int, data: Form
) -> Template | Redirect:
    values = {"ground": _text(data, "ground"), "note": _text(data, "note")}
    if values["ground"] in rules.FORFEIT_GROUNDS and values["note"] and not confirm.confirmed(data):
        v = services.decision_view(db, actor, tender_id)
        if v.is_agency and securities.is_held(db, actor, tender_id, security_id):
            return confirm.ask(
                request,
                title=N_("Keep this bid security?"),
                subject=f"{v.tender.reference} {v.tender.title}",
                consequences=[N_("The security is not refunded; the ground and your words are recorded.")],
                action=f"{_url(tender_id)}/securities/{security_id}/forfeit",
                confirm_label=N_("Keep the security"),
                back=_url(tender_id) + "#securities",
                fields=values,
                danger=True,
            )
    return submit(
        db,
        lambda: securities.forfeit(db, actor, tender_id, security_id, values["ground"], values["note"]),
        done=lambda _: redirect(
            _url(tender_id) + "#securities", flash=N_("The forfeit is recorded."), request=request
        ),
        refused=_again(request, db, actor, tender_id, f"forfeit-{security_id}", values),
    )


# ---------------------------------------------------------------- re-tendering


@post("/award/tenders/{tender_id:int}/retender", sync_to_thread=True)
def retender_tender(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    values = {"reason": _text(data, "reason")}
    if values["reason"] in retender.REASONS and not confirm.confirmed(data):
        v = services.decision_view(db, actor, tender_id)
        if v.is_agency:
            return confirm.ask(
                request,
                title=N_("Tender this again?"),
                subject=f"{v.tender.reference} {v.tender.title}",
                consequences=[
                    N_(
                        "A new draft is made from this tender, with its lots, criteria and documents, linked "
                        "to it."
                    ),
                    N_("You set the new dates and publish the draft as any other."),
                ],
                action=f"{_url(tender_id)}/retender",
                confirm_label=N_("Make the new draft"),
                back=_url(tender_id),
                fields=values,
            )
    return submit(
        db,
        lambda: retender.retender(db, actor, tender_id, values["reason"]),
        done=lambda new: redirect(
            f"/agency/tenders/{new.id}",
            flash=N_("The new draft is made; set its dates and publish it."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "retender", values),
    )


# ---------------------------------------------------------------- notices, the result, the contract


@get("/award/notices/{notice_id:int}/notice.pdf", sync_to_thread=True)
def notice_file(request: Request, db: Session, actor: Actor, notice_id: int) -> Response[bytes]:
    _, row = services.readable_notice(db, actor, notice_id)
    return Response(
        read_all(request.app.state.blobs, row.blob_key),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{row.number}.pdf"'},
    )


@get("/api/v1/award/notices/{number:str}", sync_to_thread=True)
def notice_api(db: Session, actor: Actor, number: str) -> dict[str, Any]:
    """A notice's signed statement, signature and signer, as the platform issued it (docs/award-notice.md)."""
    import json

    _, row = services.notice_by_number(db, actor, number)
    return {
        "number": row.number,
        "statement": json.loads(row.statement),
        "statement_text": row.statement,
        "signature": row.signature,
        "signer": row.signer,
        "sha256": row.sha256,
        "size": row.size,
    }


@get("/bidder/tenders/{tender_id:int}/award-notice", sync_to_thread=True)
def bidder_notice(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return page(
        request,
        "award/bidder_notice.html",
        v=services.bidder_view(db, actor, tender_id),
        labels=STATUS_LABELS,
    )


@get("/tenders/{tender_id:int}/result", sync_to_thread=True)
def result_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return page(
        request,
        "award/result.html",
        v=services.result_view(db, actor, tender_id),
        labels=STATUS_LABELS,
        rules=rules,
    )


@get("/tenders/{tender_id:int}/contract", sync_to_thread=True)
def contract_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    tender, contract = contracts.published_contract(db, actor, tender_id)
    return page(
        request,
        "award/contract.html",
        tender=tender,
        contract=contract,
        due=rules.publication_due(contract.signed_on) if tender.government_procurement else None,
    )


@get("/tenders/{tender_id:int}/contract/file", sync_to_thread=True)
def contract_file(request: Request, db: Session, actor: Actor, tender_id: int) -> Response[bytes]:
    _, contract = contracts.published_contract(db, actor, tender_id)
    return Response(
        read_all(request.app.state.blobs, contract.blob_key),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="contract-{tender_id}.pdf"',
            # a contract that is not a published government-procurement one is its parties' only
            "Cache-Control": "private, no-store",
        },
    )


ROUTES: list[Any] = [
    decision_page,
    confirm_award,
    decline_award,
    impossible,
    contract_upload,
    contract_record,
    refund,
    forfeit,
    retender_tender,
    notice_file,
    notice_api,
    bidder_notice,
    result_page,
    contract_page,
    contract_file,
]
