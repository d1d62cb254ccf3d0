"""Sealed-bid submission (issue 3): resumable chunked upload, receipts, replace and withdraw.

The JSON API (session cookie + the x-csrftoken header, as the pages' scripts send it):

    POST /api/v1/tenders/{tender_id}/lots/{lot_id}/bids/sealed
                                                    the whole sealed file as the raw body, at most part_size
                                                    bytes -> 201 the signed receipt (E27), in one request
                                                    (small bids)
    POST /api/v1/tenders/{tender_id}/bids           {"lot_id", "size"}
                                                    -> 201 {"bid", "part_size", "parts_url", ...}
    POST /api/v1/bids/{bid_id}/parts/{number}       raw bytes of part `number` (from 1), at most part_size;
                                                    a number past ceil(size / part_size) is refused (422
                                                    part_beyond_size)
    GET  /api/v1/bids/{bid_id}/parts                the parts stored so far: resume after a dropped connection
    POST /api/v1/bids/{bid_id}/complete             -> the signed receipt (E27)
    POST /api/v1/bids/{bid_id}/withdraw | /abort
    GET  /api/v1/bids/{bid_id}/receipt              the signed receipt document

A part's body is streamed from the connection into the blob store; no request holds more than one network
chunk of it. The one-request route holds its body (at most part_size bytes, 8 MiB by default) in memory: it is
hashed, stored and checked from there. Every decision is tender/bids/submission.py's; a refusal that is
audited (late, not a sealed bid) is kept: its record is committed before the error is answered. The bid
writers' turns and the group writer of the one-request route are tender/bids/writer.py's."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import anyio
import anyio.from_thread
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import services as accounts
from accounts.models import Organisation
from core import clock
from core.errors import N_, DomainError, ValidationFailed
from core.identity import Actor, anonymous
from tender import access, participation, receipts, rules
from tender.bids import submission as bids
from tender.bids import writer
from tender.lifecycle import Status
from tender.models import Bid, BidStatus, Lot, Tender
from web.deps import SESSION_ROLE, SESSION_USER, client_ip, page, redirect, session_epoch

BATCH = 1024 * 1024  # bytes of a part handed to the blob store at a time
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _int_field(data: Any, name: str) -> int:
    value = data.get(name) if isinstance(data, dict) else None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.one("field_required", N_("Give %(name)s as a whole number."), name, name=name)
    return value


def bid_json(bid: Bid, part_size: int) -> dict[str, Any]:
    base = f"/api/v1/bids/{bid.id}"
    return {
        "bid": bid.id,
        "tender": bid.tender_id,
        "lot": bid.lot_id,
        "status": bid.status,
        "declared_size": bid.declared_size,
        "size": bid.size,
        "sha256": bid.blob_key or None,
        "part_size": part_size,
        "parts_url": f"{base}/parts",
        "complete_url": f"{base}/complete",
        "withdraw_url": f"{base}/withdraw",
        "receipt_url": f"{base}/receipt" if bid.receipt else None,
        "receipt_page": f"/bidder/bids/{bid.id}/receipt" if bid.receipt else None,
    }


# ---------------------------------------------------------------- the JSON API


@post("/api/v1/tenders/{tender_id:int}/bids", status_code=201)
async def begin_upload(request: Request, tender_id: int, data: dict[str, Any]) -> dict[str, Any]:
    state = request.app.state
    lot_id, size = _int_field(data, "lot_id"), _int_field(data, "size")
    actor = await _reading_actor(request)
    bid = await anyio.to_thread.run_sync(
        lambda: writer.in_writing_unit(
            state,
            lambda db: bids.begin(
                db, actor, state.blobs, tender_id, lot_id, size, max_bytes=state.settings.max_bid_bytes
            ),
        )
    )
    return bid_json(bid, state.blobs.part_limit)


@post(
    "/api/v1/tenders/{tender_id:int}/lots/{lot_id:int}/bids/sealed",
    status_code=201,
    request_max_body_size=None,
)
async def submit_sealed(request: Request, tender_id: int, lot_id: int) -> dict[str, Any]:
    """A small sealed bid (at most one part) in one request: its receipt, or the refusal begin or complete
    would give. Reading: at most part_size + 1 bytes of the body are read (a larger body is refused by the
    service without reading the rest). A read-only unit of work checks and stores the ciphertext (tender.bids.
    prepare_whole: its fsync holds no write lock), then the bid is decided, recorded and signed with the
    others of its group (group commit: tender/bids/writer.py)."""
    state = request.app.state
    blobs = state.blobs
    limit = blobs.part_limit
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            break
    data = bytes(body)
    max_bytes = state.settings.max_bid_bytes
    ip = client_ip(request)
    uid = request.session.get(SESSION_USER) if "session" in request.scope else None
    role = request.session.get(SESSION_ROLE) if uid else None
    epoch = session_epoch(request)

    def prepare() -> tuple[
        Actor, bids.WholeBid | DomainError
    ]:  # one worker thread, its own reading unit of work
        with state.db_read() as db:
            return bids.prepare_whole_as(
                db,
                int(uid) if uid else None,
                ip,
                role,
                blobs,
                tender_id,
                lot_id,
                data,
                max_bytes=max_bytes,
                epoch=epoch,
            )

    actor, item = await anyio.to_thread.run_sync(prepare, limiter=_preparing())
    request.state.actor = actor
    if isinstance(item, DomainError):
        raise item
    bid = await writer.submit(state, item)
    return {**receipts.document(bid.receipt, bid.receipt_signature, bid.receipt_signer), **_links(bid)}


_PREPARING = (
    4  # one-request bids prepared at once per process: more threads only contend for the interpreter's lock
)
_preparers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _preparing() -> anyio.CapacityLimiter:
    """The limiter of the running event loop (a limiter belongs to one loop)."""
    loop = asyncio.get_running_loop()
    limiter = _preparers.get(loop)
    if limiter is None:
        limiter = _preparers[loop] = anyio.CapacityLimiter(_PREPARING)
    return limiter


def _links(bid: Bid | bids.Submitted) -> dict[str, Any]:
    return {
        "bid": bid.id,
        "receipt_url": f"/api/v1/bids/{bid.id}/receipt",
        "receipt_page": f"/bidder/bids/{bid.id}/receipt",
    }


def _actor_loader(request: Request) -> Callable[[Session], Actor]:
    """The acting person as web.deps.provide_actor finds it, to be loaded inside a worker thread's own unit of
    work. A handler whose reading unit of work is opened, used and closed in ONE worker thread holds no
    database connection while it waits for a thread: under a burst, with every worker thread queued on the
    SQLite writers' lock and the lock's holder waiting for a connection, a connection held across an await
    would deadlock."""
    ip = client_ip(request)
    uid = request.session.get(SESSION_USER) if "session" in request.scope else None
    role = request.session.get(SESSION_ROLE) if uid else None
    epoch = session_epoch(request)

    def load(db: Session) -> Actor:
        actor = accounts.load_actor(db, int(uid), ip, role, epoch) if uid else None
        return actor or anonymous(ip)

    return load


async def _reading_actor(request: Request) -> Actor:
    """The acting person, loaded in a read-only unit of work (no write lock is taken for it on SQLite), opened
    and closed in one worker thread."""
    actor_of, db_read = _actor_loader(request), request.app.state.db_read

    def load() -> Actor:
        with db_read() as db:
            return actor_of(db)

    actor = await anyio.to_thread.run_sync(load)
    request.state.actor = actor
    return actor


@post("/api/v1/bids/{bid_id:int}/parts/{number:int}", request_max_body_size=None)
async def upload_part(request: Request, bid_id: int, number: int) -> dict[str, Any]:
    """The body is read from the connection as it arrives and written to the store chunk by chunk. Storing a
    part changes no database row, so it runs in a read-only unit of work: on SQLite parts of many bidders are
    written side by side instead of queueing on the database's write lock while their bytes arrive."""
    state = request.app.state
    blobs = state.blobs
    stream = request.stream()

    async def next_batch() -> bytes:
        """Network chunks (often 64 KiB) gathered up to BATCH bytes: one hop between threads per batch."""
        batch = bytearray()
        async for chunk in stream:
            batch += chunk
            if len(batch) >= BATCH:
                break
        return bytes(batch)

    def chunks() -> Iterator[bytes]:  # runs in the worker thread; the batches are read on the event loop
        while batch := anyio.from_thread.run(next_batch):
            yield batch

    actor = await _reading_actor(request)

    def work() -> dict[str, Any]:  # the reading unit of work is opened and closed in this worker thread
        with state.db_read() as session:
            try:
                info = bids.write_part(session, actor, blobs, bid_id, number, chunks())
            except DomainError as e:
                if not e.kept:
                    raise
                # late: recorded here, in a reading unit of work, which closing rolls back
            else:
                return {"bid": bid_id, "part": info.number, "size": info.size}
        # the late part is refused again and recorded in a writing unit of work (no byte was read yet)
        writer.in_writing_unit(state, lambda db: bids.write_part(db, actor, blobs, bid_id, number, iter(())))
        raise AssertionError("write_part refused a late part, then accepted it")  # pragma: no cover

    return await anyio.to_thread.run_sync(work)


@get("/api/v1/bids/{bid_id:int}/parts", sync_to_thread=True)
def list_parts(request: Request, db: Session, actor: Actor, bid_id: int) -> dict[str, Any]:
    blobs = request.app.state.blobs
    parts = bids.received_parts(db, actor, blobs, bid_id)
    bid = bids.my_bid(db, actor, bid_id)
    return {
        **bid_json(bid, blobs.part_limit),
        "parts": [{"number": p.number, "size": p.size} for p in parts],
        "received": sum(p.size for p in parts),
    }


@post("/api/v1/bids/{bid_id:int}/complete", status_code=200)
async def complete_upload(request: Request, bid_id: int) -> dict[str, Any]:
    """Two units of work: a read-only one assembles and hashes the staged upload (seconds for a large bid,
    with no write lock held), then a short writing one decides, records and signs (tender.bids.complete)."""
    state = request.app.state
    blobs = state.blobs
    actor_of = _actor_loader(request)

    def read() -> Actor:
        with state.db_read() as db:
            actor = actor_of(db)
            bids.prepare_complete(db, actor, blobs, bid_id)
            return actor

    actor = await anyio.to_thread.run_sync(read)
    request.state.actor = actor
    signer = writer.current_signer(state.settings)

    def write(db: Session) -> dict[str, Any]:
        bid = bids.complete(db, actor, blobs, bid_id, signer)
        return receipts.document(bid.receipt, bid.receipt_signature, bid.receipt_signer)

    return await anyio.to_thread.run_sync(lambda: writer.in_writing_unit(state, write))


@post("/api/v1/bids/{bid_id:int}/withdraw", sync_to_thread=True, status_code=200)
def withdraw_api(request: Request, db: Session, actor: Actor, bid_id: int) -> dict[str, Any]:
    bid = bids.withdraw(db, actor, bid_id)
    return bid_json(bid, request.app.state.blobs.part_limit)


@post("/api/v1/bids/{bid_id:int}/abort", sync_to_thread=True, status_code=200)
def abort_api(request: Request, db: Session, actor: Actor, bid_id: int) -> dict[str, Any]:
    bid = bids.abort(db, actor, request.app.state.blobs, bid_id)
    return bid_json(bid, request.app.state.blobs.part_limit)


@get("/api/v1/bids/{bid_id:int}/receipt", sync_to_thread=True, opt={"private": True})
def receipt_api(db: Session, actor: Actor, bid_id: int) -> Response[dict[str, Any]]:
    doc = bids.receipt_document(db, actor, bid_id)
    return Response(doc, headers={"Content-Disposition": f'inline; filename="bid-{bid_id}-receipt.json"'})


# ---------------------------------------------------------------- pages


STATUS_LABELS = {
    BidStatus.uploading: N_("Uploading (not submitted yet)"),
    BidStatus.submitted: N_("Submitted: this bid counts"),
    BidStatus.replaced: N_("Replaced by a newer bid"),
    BidStatus.withdrawn: N_("Withdrawn"),
    BidStatus.abandoned: N_("Not submitted (abandoned or refused)"),
}


@get("/bidder/tenders/{tender_id:int}/bids", sync_to_thread=True)
def bids_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    mine = bids.my_bids(db, actor, tender_id)
    tender = access.visible_tender(db, actor, tender_id)
    registered = {r.lot_id for r in participation.my_participation(db, actor, tender_id).registrations}
    by_lot: dict[int, list[Bid]] = {lot.id: [] for lot in tender.lots}
    for bid in mine:
        by_lot.setdefault(bid.lot_id, []).append(bid)
    accepting = tender.status == Status.published and rules.bids_open(clock.now(), tender.bid_deadline)
    return page(
        request,
        "bids/index.html",
        tender=tender,
        by_lot=by_lot,
        registered=registered,
        accepting=accepting,
        labels=STATUS_LABELS,
        max_bytes=request.app.state.settings.max_bid_bytes,
    )


@post("/bidder/bids/{bid_id:int}/withdraw", sync_to_thread=True)
def withdraw_page(request: Request, db: Session, actor: Actor, bid_id: int, data: Form) -> Redirect:
    bid = bids.my_bid(db, actor, bid_id)
    tender_id = bid.tender_id
    if str(data.get("confirm", "")) != "1":
        return redirect(
            f"/bidder/tenders/{tender_id}/bids", N_("Tick the box to confirm the withdrawal."), request
        )
    bids.withdraw(db, actor, bid_id)
    return redirect(
        f"/bidder/tenders/{tender_id}/bids",
        N_("Your bid is withdrawn. You may upload a new one before the bid deadline."),
        request,
    )


@get("/bidder/bids/{bid_id:int}/receipt", sync_to_thread=True, opt={"private": True})
def receipt_page(request: Request, db: Session, actor: Actor, bid_id: int) -> Template:
    doc = bids.receipt_document(db, actor, bid_id)
    body = doc["receipt"]
    bid = bids.my_bid(db, actor, bid_id)
    tender = db.get(Tender, bid.tender_id)
    lot = db.get(Lot, bid.lot_id)
    org = db.scalar(select(Organisation).where(Organisation.id == bid.organisation_id))
    return page(
        request,
        "bids/receipt.html",
        doc=doc,
        r=body,
        bid=bid,
        tender=tender,
        lot=lot,
        org=org,
        labels=STATUS_LABELS,
    )


ROUTES = [
    submit_sealed,
    begin_upload,
    upload_part,
    list_parts,
    complete_upload,
    withdraw_api,
    abort_api,
    receipt_api,
    bids_page,
    withdraw_page,
    receipt_page,
]
