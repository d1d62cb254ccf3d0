"""The opening ceremony (issue 3): the live page (server-sent events), check-in, the headers a key holder
unwraps in the browser, the key parts it sends back, objections and answers, and the published record (JSON
and PDF). tender/opening/ decides everything; these handlers parse, call one service, and answer."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage, Template
from litestar.types import ExceptionHandlersMap
from sqlalchemy.orm import Session

from core.errors import N_, Conflict, DomainError, NotAuthenticated, ValidationFailed
from core.identity import Actor
from supervision import centre
from tender.opening import ceremony as opening_ceremony
from tender.opening import parts as opening_parts
from tender.opening import record as opening_record
from web import confirm, i18n
from web.deps import locale_of, page, redirect
from web.problems import problems_json

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
STREAM_POLL = 1.0  # seconds between the live page's looks at the opening
STREAM_RETRY_MS = 3000
MAX_PARTS_BYTES = 8 * 1024 * 1024  # all parts of a few thousand bids


def _problems(request: Request, e: DomainError) -> Response[Any]:
    status = 401 if isinstance(e, NotAuthenticated) else e.status
    return Response(
        problems_json(locale_of(request), e.problems), status_code=status, media_type=MediaType.JSON
    )


# The JSON routes outside /api/ answer a refusal as JSON (the app's handler would show a page, or send an
# anonymous person to the login page). The refusal is raised through the unit of work, which keeps the
# record of a kept one (an early attempt: opening_base.AuditedRefusal) and rolls back any other.
JSON_REFUSALS: ExceptionHandlersMap = {DomainError: _problems}


# ---------------------------------------------------------------- the page and its live stream


@get("/tenders/{tender_id:int}/opening", sync_to_thread=True)
def ceremony(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    view = opening_ceremony.ceremony(db, actor, tender_id)
    pdf = opening_record.record_pdf(view.doc) if view.published and view.doc else None
    return page(
        request,
        "opening/ceremony.html",
        v=view,
        pdf_sha256=hashlib.sha256(pdf).hexdigest() if pdf else "",
        witnesses=centre.witnesses(db, actor, view.tender),  # issue 16: the centre's witnessing (见证)
    )


@get(
    "/tenders/{tender_id:int}/opening/stream",
    summary="The opening, live",
    description=(
        "Server-sent events: a `snapshot` event (the record document: progress before publication, the "
        "record after) on connecting and whenever anything changed. Ends after max_idle seconds "
        "without change; clients reconnect."
    ),
)
async def stream(
    request: Request,
    state: State,
    actor: Actor,
    tender_id: int,
    max_idle: Annotated[float, Parameter(ge=0, le=600)] = 120.0,
) -> ServerSentEvent | Response[Any]:
    factory = state.db_read

    def check() -> None:
        with factory() as session:
            opening_ceremony.require_watch(session, actor, tender_id)

    try:
        await anyio.to_thread.run_sync(check)
    except DomainError as e:
        return _problems(request, e)

    def poll(last: Any) -> tuple[Any, dict[str, Any] | None]:
        with factory() as session:
            version = opening_record.version(session, tender_id)
            if version == last:
                return version, None
            if version == (None,):
                return version, {"status": None}
            return version, opening_record.record_document(session, tender_id)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        last: Any = object()
        idle = 0.0
        yield ServerSentEventMessage(comment="etender opening", retry=STREAM_RETRY_MS, data=None)
        while True:
            last, doc = await anyio.to_thread.run_sync(poll, last)
            if doc is not None:
                idle = 0.0
                yield ServerSentEventMessage(
                    event="snapshot", data=json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
                )
            elif idle >= max_idle:
                return
            await asyncio.sleep(STREAM_POLL)
            idle += STREAM_POLL

    return ServerSentEvent(events(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# ---------------------------------------------------------------- bidders: check-in and objections


@post("/tenders/{tender_id:int}/opening/check-in", sync_to_thread=True)
def check_in(request: Request, db: Session, actor: Actor, tender_id: int) -> Redirect:
    opening_ceremony.check_in(db, actor, tender_id)
    return redirect(
        f"/tenders/{tender_id}/opening", N_("Your company is checked in at the opening."), request
    )


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return str(value[-1] if isinstance(value, list) else value or "")


@post("/tenders/{tender_id:int}/opening/objections", sync_to_thread=True)
def raise_objection(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Redirect:
    opening_ceremony.raise_objection(db, actor, tender_id, _field(data, "text"))
    return redirect(
        f"/tenders/{tender_id}/opening#objections",
        N_("Your objection is recorded; the agency answers it at the opening."),
        request,
    )


@post("/tenders/{tender_id:int}/opening/objections/{objection_id:int}/answer", sync_to_thread=True)
def answer_objection(
    request: Request, db: Session, actor: Actor, tender_id: int, objection_id: int, data: Form
) -> Redirect:
    opening_ceremony.answer_objection(db, actor, tender_id, objection_id, _field(data, "answer"))
    return redirect(
        f"/tenders/{tender_id}/opening#objections",
        N_("The answer is recorded and shown to everyone at the opening."),
        request,
    )


@post("/tenders/{tender_id:int}/opening/close", sync_to_thread=True)
def close(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    if not confirm.confirmed(data):
        view = opening_ceremony.ceremony(db, actor, tender_id)
        if view.agency:  # only the tender's agency closes; anyone else gets the service's refusal below
            return confirm.ask(
                request,
                title=N_("Close the opening?"),
                subject=f"{view.tender.reference} {view.tender.title}",
                consequences=[
                    N_("The opening ceremony ends: no more check-ins, objections or key parts."),
                    N_(
                        "The tender moves on to evaluation: the committee reads the opened bids in the "
                        "sealed room."
                    ),
                ],
                action=f"/tenders/{tender_id}/opening/close",
                confirm_label=N_("Close the opening and start the evaluation"),
                back=f"/tenders/{tender_id}/opening",
            )
    opening_ceremony.close(db, actor, tender_id)
    return redirect(
        f"/tenders/{tender_id}/opening",
        N_("The opening is closed; the tender moves on to evaluation."),
        request,
    )


# ---------------------------------------------------------------- key holders: headers in, parts out


@get(
    "/tenders/{tender_id:int}/opening/headers",
    sync_to_thread=True,
    exception_handlers=JSON_REFUSALS,
    opt={"writes": True, "records": N_("asked for the headers of the sealed bids")},
)  # an early attempt is audited
def headers(request: Request, db: Session, actor: Actor, tender_id: int) -> Response[Any]:
    doc = opening_parts.headers(db, actor, request.app.state.blobs, tender_id)
    disposition = f'inline; filename="opening-headers-{tender_id}.json"'
    return Response(doc, headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


async def _parts_doc(request: Request) -> Any:
    """The parts: a JSON body, or the file `etender keys unwrap` wrote, uploaded in a form (field `file`)."""
    if request.content_type[0] == RequestEncodingType.MULTI_PART:
        form = await request.form()
        upload = form.get("file")
        raw = await upload.read(MAX_PARTS_BYTES + 1) if isinstance(upload, UploadFile) else b""
    else:
        raw = await request.body()
    if len(raw) > MAX_PARTS_BYTES:
        raise ValidationFailed.one(
            "parts_too_large",
            N_("The key parts file is too large; submit the parts of fewer bids at once."),
            "file",
        )
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValidationFailed.one(
            "parts_json_invalid",
            N_("The key parts are not valid JSON: upload the file `etender keys unwrap` wrote, unchanged."),
            "file",
        ) from e


@post(
    "/tenders/{tender_id:int}/opening/parts",
    request_max_body_size=MAX_PARTS_BYTES + 65536,
    exception_handlers=JSON_REFUSALS,
)
async def parts(request: Request, db: Session, actor: Actor, tender_id: int) -> Response[Any]:
    doc = await _parts_doc(request)
    settings = request.app.state.settings
    locale = locale_of(request)

    def call() -> Response[Any]:
        result = opening_parts.submit_parts(
            db,
            actor,
            request.app.state.blobs,
            tender_id,
            doc,
            window_seconds=settings.decryption_window_seconds,
        )
        body = result.to_json()
        for refusal in body["refused"]:
            refusal["message"] = i18n.translate(locale, refusal["message"], refusal["params"])
        return Response(body, status_code=200)

    return await anyio.to_thread.run_sync(call)


# ---------------------------------------------------------------- the record (E32): public once published


@get("/tenders/{tender_id:int}/opening/record.json", sync_to_thread=True, exception_handlers=JSON_REFUSALS)
def record_json(request: Request, db: Session, tender_id: int) -> Response[Any]:
    return Response(
        opening_record.published_record(db, tender_id),
        headers={"Content-Disposition": f'inline; filename="opening-record-{tender_id}.json"'},
    )


@get("/tenders/{tender_id:int}/opening/record.pdf", sync_to_thread=True, exception_handlers=JSON_REFUSALS)
def record_pdf(request: Request, db: Session, tender_id: int) -> Response[Any]:
    doc = opening_record.published_record(db, tender_id)
    pdf = opening_record.record_pdf(doc)
    if pdf is None:
        raise Conflict.one(
            "pdf_unavailable",
            N_(
                "The PDF cannot be made on this server (the Noto CJK font is not installed); "
                "the record is available as JSON."
            ),
        )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="opening-record-{tender_id}.pdf"',
            "X-Content-SHA256": hashlib.sha256(pdf).hexdigest(),
        },
    )


ROUTES: list[Any] = [
    ceremony,
    stream,
    check_in,
    raise_objection,
    answer_objection,
    close,
    headers,
    parts,
    record_json,
    record_pdf,
]
