"""Sealed-bid submission (issue 3): resumable chunked upload, receipts, replace and withdraw.

The JSON API (session cookie + the x-csrftoken header, as the pages' scripts send it):

    POST /api/v1/tenders/{tender_id}/lots/{lot_id}/bids/sealed
                                                    the whole sealed file as the raw body, at most part_size bytes
                                                    -> 201 the signed receipt (E27), in one request (small bids)
    POST /api/v1/tenders/{tender_id}/bids           {"lot_id", "size"}  -> 201 {"bid", "part_size", "parts_url", ...}
    POST /api/v1/bids/{bid_id}/parts/{number}       raw bytes of part `number` (from 1), at most part_size
    GET  /api/v1/bids/{bid_id}/parts                the parts stored so far: resume after a dropped connection
    POST /api/v1/bids/{bid_id}/complete             -> the signed receipt (E27)
    POST /api/v1/bids/{bid_id}/withdraw | /abort
    GET  /api/v1/bids/{bid_id}/receipt              the signed receipt document

A part's body is streamed from the connection into the blob store; no request holds more than one network
chunk of it. The one-request route holds its body (at most part_size bytes, 8 MiB by default) in memory: it is
hashed, stored and checked from there. Every decision is tender/bids.py's; a refusal that is audited (late, not a sealed bid) has its
record committed before the error is answered."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

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
from core.signing import SigningKey, signing_key
from tender import access, participation, receipts, rules
from tender.bids import submission as bids
from tender.lifecycle import Status
from tender.models import Bid, BidStatus, Lot, Tender
from web.deps import SESSION_ROLE, SESSION_USER, client_ip, page, redirect

T = TypeVar("T")
BATCH = 1024 * 1024  # bytes of a part handed to the blob store at a time
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


_signers: dict[tuple[str, str, str], SigningKey] = {}


def _signer(settings: Any) -> SigningKey:
    """The platform's current signing key, read from disk once per key (a rotation names a new current key)."""
    current = settings.data_dir / "keys" / "signing" / "current"
    try:
        kid = current.read_text().strip()
    except OSError:
        kid = ""
    cache_key = (str(settings.data_dir), settings.origin, kid)
    if kid == "" or cache_key not in _signers:
        key = signing_key(settings.data_dir, settings.origin)
        if kid:
            _signers[cache_key] = key
        return key
    return _signers[cache_key]


def _keeping_refusals(db: Session, call: Callable[[], T]) -> T:
    """Run one service call; an audited refusal is committed (the unit of work then rolls back nothing)."""
    try:
        return call()
    except DomainError as e:
        if bids.is_recorded(e):
            db.commit()
        raise


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
        "bid": bid.id, "tender": bid.tender_id, "lot": bid.lot_id, "status": bid.status, "declared_size": bid.declared_size,
        "size": bid.size, "sha256": bid.blob_key or None, "part_size": part_size,
        "parts_url": f"{base}/parts", "complete_url": f"{base}/complete", "withdraw_url": f"{base}/withdraw",
        "receipt_url": f"{base}/receipt" if bid.receipt else None, "receipt_page": f"/bidder/bids/{bid.id}/receipt" if bid.receipt else None,
    }


# ---------------------------------------------------------------- the JSON API


@post("/api/v1/tenders/{tender_id:int}/bids", status_code=201)
async def begin_upload(request: Request, tender_id: int, data: dict[str, Any]) -> dict[str, Any]:
    state = request.app.state
    lot_id, size = _int_field(data, "lot_id"), _int_field(data, "size")
    actor = await _reading_actor(request)
    bid = await anyio.to_thread.run_sync(lambda: _in_writing_unit(
        state, lambda db: bids.begin(db, actor, state.blobs, tender_id, lot_id, size, max_bytes=state.settings.max_bid_bytes)))
    return bid_json(bid, state.blobs.part_limit)


@post("/api/v1/tenders/{tender_id:int}/lots/{lot_id:int}/bids/sealed", status_code=201, request_max_body_size=None)
async def submit_sealed(request: Request, tender_id: int, lot_id: int) -> dict[str, Any]:
    """A small sealed bid (at most one part) in one request: its receipt, or the refusal begin or complete would
    give. Reading: at most part_size + 1 bytes of the body are read (a larger body is refused by the service
    without reading the rest). A read-only unit of work checks and stores the ciphertext (tender.bids.
    prepare_whole: its fsync holds no write lock), then the bid is decided, recorded and signed with the others
    of its group (group commit, below)."""
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

    def prepare() -> tuple[Actor, bids.WholeBid | DomainError]:  # one worker thread, its own reading unit of work
        with state.db_read() as db:
            return bids.prepare_whole_as(db, int(uid) if uid else None, ip, role, blobs, tender_id, lot_id, data, max_bytes=max_bytes)

    actor, item = await anyio.to_thread.run_sync(prepare, limiter=_preparing())
    request.state.actor = actor
    if isinstance(item, DomainError):
        raise item
    future: asyncio.Future[bids.Submitted] = asyncio.get_running_loop().create_future()
    _writer(state).submit(item, future)
    bid = await future
    return {**receipts.document(bid.receipt, bid.receipt_signature, bid.receipt_signer), **_links(bid)}


_PREPARING = 4  # one-request bids prepared at once per process: more threads only contend for the interpreter's lock
_preparers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _preparing() -> anyio.CapacityLimiter:
    """The limiter of the running event loop (a limiter belongs to one loop)."""
    loop = asyncio.get_running_loop()
    limiter = _preparers.get(loop)
    if limiter is None:
        limiter = _preparers[loop] = anyio.CapacityLimiter(_PREPARING)
    return limiter


def _links(bid: Bid | bids.Submitted) -> dict[str, Any]:
    return {"bid": bid.id, "receipt_url": f"/api/v1/bids/{bid.id}/receipt", "receipt_page": f"/bidder/bids/{bid.id}/receipt"}


def _actor_loader(request: Request) -> Callable[[Session], Actor]:
    """The acting person as web.deps.provide_actor finds it, to be loaded inside a worker thread's own unit of work.
    A handler whose reading unit of work is opened, used and closed in ONE worker thread holds no database
    connection while it waits for a thread: under a burst, with every worker thread queued on the SQLite writers'
    lock and the lock's holder waiting for a connection, a connection held across an await would deadlock."""
    ip = client_ip(request)
    uid = request.session.get(SESSION_USER) if "session" in request.scope else None
    role = request.session.get(SESSION_ROLE) if uid else None

    def load(db: Session) -> Actor:
        actor = accounts.load_actor(db, int(uid), ip, role) if uid else None
        return actor or anonymous(ip)

    return load


async def _reading_actor(request: Request) -> Actor:
    """The acting person, loaded in a read-only unit of work (no write lock is taken for it on SQLite), opened and
    closed in one worker thread."""
    actor_of, db_read = _actor_loader(request), request.app.state.db_read

    def load() -> Actor:
        with db_read() as db:
            return actor_of(db)

    actor = await anyio.to_thread.run_sync(load)
    request.state.actor = actor
    return actor


@post("/api/v1/bids/{bid_id:int}/parts/{number:int}", request_max_body_size=None)
async def upload_part(request: Request, bid_id: int, number: int) -> dict[str, Any]:
    """The body is read from the connection as it arrives and written to the store chunk by chunk. Storing a part
    changes no database row, so it runs in a read-only unit of work: on SQLite parts of many bidders are written
    side by side instead of queueing on the database's write lock while their bytes arrive."""
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
                if not bids.is_recorded(e):
                    raise
                session.rollback()
            else:
                return {"bid": bid_id, "part": info.number, "size": info.size}
        # late: the refusal is audited, in a writing unit of work (no byte was read yet)
        _in_writing_unit(state, lambda db: bids.write_part(db, actor, blobs, bid_id, number, iter(())))
        raise AssertionError("write_part refused a late part, then accepted it")  # pragma: no cover

    return await anyio.to_thread.run_sync(work)


# SQLite has one writer at a time, and a writer that finds the database locked sleeps in growing steps (up to
# 100 ms) before it tries again: under a burst, waiting writers sleep while others take the lock. The bid units
# of work therefore queue here first, in order: in this process on a lock, then across the web processes on an
# advisory file lock (flock) next to the data, whose waiter wakes as soon as it is released. Each takes the
# database lock only when the one before it has committed. On PostgreSQL the bid units of work of a process
# queue on the in-process lock only: each appends to the audit chain, whose head row lock serialises them anyway,
# and dozens of threads waiting on that row lock (each holding a connection and a transaction) cost more than
# waiting here. The group writer of the one-request route (below) takes the file lock on every backend, so that
# its group grows while it waits.
_WRITERS = threading.Lock()
_lock_files: dict[tuple[int, str], int] = {}  # per process: a forked child must open its own


@contextlib.contextmanager
def _sqlite_writer(settings: Any) -> Iterator[None]:
    with _WRITERS, _across_processes(settings):
        yield


@contextlib.contextmanager
def _across_processes(settings: Any, *, every_backend: bool = False) -> Iterator[None]:
    """The advisory file lock the web processes' bid writers queue on (taken under _WRITERS): on SQLite, or on
    every backend for the group writer."""
    if not (settings.is_sqlite or every_backend):
        yield
        return
    key = (os.getpid(), str(settings.data_dir / "bid-writers.lock"))
    fd = _lock_files.get(key)
    if fd is None:
        fd = _lock_files[key] = os.open(key[1], os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _in_writing_unit(state: Any, call: Callable[[Session], T]) -> T:
    """One writing unit of work outside the request's: commit on success and on an audited refusal."""
    with _sqlite_writer(state.settings) if state.settings.is_sqlite else _WRITERS:
        db: Session = state.db()
        try:
            out = call(db)
            db.commit()
            return out
        except DomainError as e:
            if bids.is_recorded(e):
                db.commit()
            raise
        finally:
            db.close()  # rolls back whatever was not committed


# Group commit (the one-request route): the prepared bids that queue in this process while one group is written
# are taken together by the app's writer thread (_GroupWriter) and decided by tender.bids.submit_prepared in one
# transaction: one statement per kind of write for the whole group and one commit. Every bid is decided on its
# own (its checks, the deadline by the server clock when it is decided, its audit entries, its receipt's
# server_time); a refusal that must stay on record (late, not a sealed bid) is committed with the group. A
# request gets its receipt only once the group's commit succeeded.
GROUP_MAX = 64  # bids in one transaction at most: a group holds the database's write lock for its duration


class _Pending:
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: bids.WholeBid):
        self.item = item
        self.done = False
        self.result: bids.Submitted | None = None
        self.error: BaseException | None = None


class _GroupWriter:
    """The thread of an app (in each web process) that writes the queued one-request bids, a group at a time: it
    takes the writers' lock, then every bid queued by then (at most GROUP_MAX), writes them (_write_group) and
    answers each request on its event loop. A request waits for its answer without holding a thread. The thread
    ends after IDLE seconds without bids and is started again by the next one."""

    IDLE = 5.0

    def __init__(self, state: Any):
        self.state = state
        self.queue: collections.deque[tuple[bids.WholeBid, asyncio.Future[bids.Submitted]]] = collections.deque()
        self._ready = threading.Condition()
        self._running = False

    def submit(self, item: bids.WholeBid, future: asyncio.Future[bids.Submitted]) -> None:
        with self._ready:
            self.queue.append((item, future))
            if self._running:
                self._ready.notify()
                return
            self._running = True
        threading.Thread(target=self._run, name="bid-group-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._ready:
                if not self.queue:
                    self._ready.wait(self.IDLE)
                    if not self.queue:
                        self._running = False
                        return
            taken: list[tuple[bids.WholeBid, asyncio.Future[bids.Submitted]]] = []
            group: list[_Pending] = []
            try:
                # The group is taken only once this writer's turn has come, in this process and on this machine:
                # every bid that arrived meanwhile joins it (on PostgreSQL too, where the writers of all processes
                # take turns on the audit log's head row anyway, each holding it until its commit).
                with _WRITERS, _across_processes(self.state.settings, every_backend=True):
                    with self._ready:
                        taken = [self.queue.popleft() for _ in range(min(GROUP_MAX, len(self.queue)))]
                    group = [_Pending(item) for item, _ in taken]
                    _write_group(self.state, group)
            except BaseException as e:  # noqa: BLE001 - the lock could not be taken, or interrupted: answered, never lost silently
                for pending in group:
                    if not pending.done:
                        pending.result, pending.error = None, e
            self._answer([(future, pending) for (_, future), pending in zip(taken, group, strict=True)])

    @staticmethod
    def _answer(answers: list[tuple[asyncio.Future[bids.Submitted], _Pending]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bids.Submitted], _Pending]]] = {}
        for future, pending in answers:
            by_loop.setdefault(future.get_loop(), []).append((future, pending))
        for loop, theirs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, theirs)


def _settle(answers: list[tuple[asyncio.Future[bids.Submitted], _Pending]]) -> None:
    for future, pending in answers:
        if future.done():  # the request was cancelled (its client went away): its bid stays written
            continue
        if pending.error is not None:
            future.set_exception(pending.error)
        else:
            future.set_result(pending.result)  # type: ignore[arg-type]


_writer_made = threading.Lock()


def _writer(state: Any) -> _GroupWriter:
    with _writer_made:
        writer = getattr(state, "bid_writer", None)
        if writer is None:
            writer = state.bid_writer = _GroupWriter(state)
    return writer  # type: ignore[no-any-return]


def _write_group(state: Any, group: list[_Pending]) -> None:
    """One transaction for the group. If it fails otherwise than by a refusal (a database error: on PostgreSQL,
    say, a deadlock with another process's writer), or its commit does, nothing of it was committed and each bid
    is written alone, in its own transaction: no bid is lost to its group, and nobody is told that an
    uncommitted bid was accepted."""
    signer = _signer(state.settings)
    try:
        _decide(state, signer, group)
    except Exception:
        for item in group:
            try:
                _decide(state, signer, [item])
            except Exception as e:
                item.result, item.error = None, e
    except BaseException as e:  # interrupted: nothing of the group was committed, and no request is told otherwise
        for item in group:
            item.result, item.error = None, e
        raise
    finally:
        for item in group:
            item.done = True


def _decide(state: Any, signer: SigningKey, group: list[_Pending]) -> None:
    db: Session = state.db()
    try:
        results = bids.submit_prepared(db, signer, [item.item for item in group])
        db.commit()
    finally:
        db.close()  # rolls back whatever was not committed
    for item, result in zip(group, results, strict=True):
        item.result, item.error = (None, result) if isinstance(result, DomainError) else (result, None)


@get("/api/v1/bids/{bid_id:int}/parts", sync_to_thread=True)
def list_parts(request: Request, db: Session, actor: Actor, bid_id: int) -> dict[str, Any]:
    blobs = request.app.state.blobs
    parts = bids.received_parts(db, actor, blobs, bid_id)
    bid = bids.my_bid(db, actor, bid_id)
    return {**bid_json(bid, blobs.part_limit), "parts": [{"number": p.number, "size": p.size} for p in parts],
            "received": sum(p.size for p in parts)}


@post("/api/v1/bids/{bid_id:int}/complete", status_code=200)
async def complete_upload(request: Request, bid_id: int) -> dict[str, Any]:
    """Two units of work: a read-only one assembles and hashes the staged upload (seconds for a large bid, with no
    write lock held), then a short writing one decides, records and signs (tender.bids.complete)."""
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
    signer = _signer(state.settings)

    def write(db: Session) -> dict[str, Any]:
        bid = bids.complete(db, actor, blobs, bid_id, signer)
        return receipts.document(bid.receipt, bid.receipt_signature, bid.receipt_signer)

    return await anyio.to_thread.run_sync(lambda: _in_writing_unit(state, write))


@post("/api/v1/bids/{bid_id:int}/withdraw", sync_to_thread=True, status_code=200)
def withdraw_api(request: Request, db: Session, actor: Actor, bid_id: int) -> dict[str, Any]:
    bid = _keeping_refusals(db, lambda: bids.withdraw(db, actor, bid_id))
    return bid_json(bid, request.app.state.blobs.part_limit)


@post("/api/v1/bids/{bid_id:int}/abort", sync_to_thread=True, status_code=200)
def abort_api(request: Request, db: Session, actor: Actor, bid_id: int) -> dict[str, Any]:
    bid = bids.abort(db, actor, request.app.state.blobs, bid_id)
    return bid_json(bid, request.app.state.blobs.part_limit)


@get("/api/v1/bids/{bid_id:int}/receipt", sync_to_thread=True)
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
    return page(request, "bids/index.html", tender=tender, by_lot=by_lot, registered=registered, accepting=accepting,
                labels=STATUS_LABELS, max_bytes=request.app.state.settings.max_bid_bytes)


@post("/bidder/bids/{bid_id:int}/withdraw", sync_to_thread=True)
def withdraw_page(request: Request, db: Session, actor: Actor, bid_id: int, data: Form) -> Redirect:
    bid = bids.my_bid(db, actor, bid_id)
    tender_id = bid.tender_id
    if str(data.get("confirm", "")) != "1":
        return redirect(f"/bidder/tenders/{tender_id}/bids", N_("Tick the box to confirm the withdrawal."), request)
    _keeping_refusals(db, lambda: bids.withdraw(db, actor, bid_id))
    return redirect(f"/bidder/tenders/{tender_id}/bids", N_("Your bid is withdrawn. You may upload a new one before the bid deadline."), request)


@get("/bidder/bids/{bid_id:int}/receipt", sync_to_thread=True)
def receipt_page(request: Request, db: Session, actor: Actor, bid_id: int) -> Template:
    doc = bids.receipt_document(db, actor, bid_id)
    body = doc["receipt"]
    bid = bids.my_bid(db, actor, bid_id)
    tender = db.get(Tender, bid.tender_id)
    lot = db.get(Lot, bid.lot_id)
    org = db.scalar(select(Organisation).where(Organisation.id == bid.organisation_id))
    return page(request, "bids/receipt.html", doc=doc, r=body, bid=bid, tender=tender, lot=lot, org=org, labels=STATUS_LABELS)


ROUTES = [submit_sealed, begin_upload, upload_part, list_parts, complete_upload, withdraw_api, abort_api, receipt_api, bids_page, withdraw_page, receipt_page]
