"""Decrypting the bids of an opening (E31), each once: the task tender.decrypt_bid claims a bid in one unit of
work (pending -> decrypting, committed), decrypts it outside any transaction (decrypt() touches no database),
and records the outcome in another, only if the claim is still its own. While it decrypts, the task renews its
claim every HEARTBEAT; a task that dies midway leaves a claim that stops being renewed, and the sweep gives it
back once it is CLAIM_TIMEOUT old (issue 17: a killed worker stalled a live opening for 10 minutes). The
record is published once the last bid has its outcome. Also here: reading one file of an opened bid again
(read_file), and the subset arithmetic that says when a bid's parts can open it
(here rather than in parts.py, which sends bids here: the sweep needs it too).

The task is defined here, beside its three steps, because what sends it (parts.submit_parts and the sweep)
must import it: in tender/tasks.py it would make the opening import the module that imports the opening.
tender/tasks.py imports this module, so every worker registers the task."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from accounts.notifications import notify
from audit import disclose_where, record, release_where
from core import clock, tasks
from core.disclosure import Fact
from core.errors import N_, NotFound
from core.identity import SYSTEM
from core.tasks import app, enqueue, unit_of_work
from storage import open_store
from storage.base import BlobStore
from tender import sealing
from tender.events import TenderTag
from tender.models import Bid, KeyPart, OpenedBid, OpenedBidStatus, Opening, OpeningStatus, Tender
from tender.opening.base import TERMINAL, interested
from tender.opening.record import record_body
from tender.rules import OpeningPolicy

# A claim is renewed every HEARTBEAT while its task decrypts; one not renewed for CLAIM_TIMEOUT belongs to a
# task that died, and the sweep (every ETENDER_SCHEDULER_INTERVAL) gives it back: another worker takes the
# bid up within about CLAIM_TIMEOUT + the sweep's period, however long a decryption takes.
HEARTBEAT = timedelta(seconds=5)
CLAIM_TIMEOUT = timedelta(seconds=20)
log = logging.getLogger(__name__)
# A bid still pending this long after its parts were complete, or after the sweep last sent it, lost its task
# (delivered to a worker that died before claiming it: Redis gives such a message back only after its
# visibility timeout). A pending bid's claimed_at is when the sweep last sent it, so that it is sent again at
# most once per RESEND_AFTER, however often the sweep runs.
RESEND_AFTER = timedelta(seconds=20)
# Entries whose confidential details (who bid, who checked in) are published with the record (E29).
DISCLOSED_AT_PUBLICATION = [
    TenderTag.bid_submitted.value,
    TenderTag.bid_replaced.value,
    TenderTag.bid_withdrawn.value,
    TenderTag.opening_checked_in.value,
    TenderTag.key_part_submitted.value,
    TenderTag.key_part_refused.value,
    TenderTag.opening_objection_recorded.value,
]

# E31: why a bid did not open, in words (the codes are stable; the texts go into the record).
REASONS = {
    "blob_missing": N_("The stored sealed bid is missing from the blob store: not the bidder's fault (E31)."),
    "blob_hash_mismatch": N_(
        "The stored sealed bid no longer matches the SHA-256 on its receipt: not the bidder's fault (E31)."
    ),
    "blob_unreadable": N_("The stored sealed bid could not be read: not the bidder's fault (E31)."),
    "key_check_failed": N_(
        "The key holders' parts passed their checks but did not give the bid's "
        "key: not the bidder's fault (E31)."
    ),
    "chunk_altered": N_(
        "The bid the bidder sealed does not authenticate (a chunk was altered before "
        "upload): the bidder's fault (E31)."
    ),
    "bid_truncated": N_("The bid the bidder sealed ends before its last chunk: the bidder's fault (E31)."),
    "bid_trailing_data": N_(
        "The bid the bidder sealed has data after its last chunk: the bidder's fault (E31)."
    ),
    "container_invalid": N_("The bid decrypts but its content list is invalid: the bidder's fault (E31)."),
    "sealed_header_invalid": N_("The bid's header is invalid: the bidder's fault (E31)."),
    "bidder_part_missing": N_(
        "The bidder did not submit its key part within the decryption window: the bidder's fault (E31)."
    ),
}


# ---------------------------------------------------------------- which parts open a bid


def has_complete_subset(parts: list[tuple[int, int]], per_subset: int) -> bool:
    """Whether these (subset, position) parts fill one subset: the bid's data key can then be rebuilt."""
    seen: dict[int, set[int]] = {}
    for s, p in parts:
        seen.setdefault(s, set()).add(p)
    return any(len(v) >= per_subset for v in seen.values())


def parts_per_subset(tender: Tender) -> int:
    """k holders' parts, and under quorum+bidder the bidder's own as well (E30)."""
    return tender.key_threshold + (1 if tender.opening_policy == OpeningPolicy.quorum_bidder else 0)


# ---------------------------------------------------------------- the task's three steps


@dataclass(frozen=True)
class Job:
    opened_bid_id: int
    attempt: int
    bid_id: int
    blob_key: str
    size: int
    parts: list[sealing.UnwrappedPart]


RETRY = "retry"  # the sealed file could not be read now
READ_ATTEMPTS = 5  # tries at reading a sealed file before an unreadable store counts (as withdrawn, E31)


@dataclass
class Outcome:
    status: (
        str  # an OpenedBidStatus; "incomplete" (parts missing: back to pending); RETRY (store unreadable now)
    )
    code: str = ""
    detail: str = ""
    price_form: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)


def claim(session: Session, opened_bid_id: int) -> Job | None:
    """pending -> decrypting, conditionally: only one task gets a bid. On PostgreSQL the claim's commit does
    not wait for the disk (synchronous_commit off for this transaction only): a claim lost in a crash leaves
    the bid pending, which the sweep sends again, so nothing depends on it surviving; the outcome's commit
    does wait."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
    now = clock.now()
    row = session.execute(
        update(OpenedBid)
        .where(OpenedBid.id == opened_bid_id, OpenedBid.status == OpenedBidStatus.pending)
        .values(status=OpenedBidStatus.decrypting, claimed_at=now, attempts=OpenedBid.attempts + 1)
        .returning(OpenedBid.attempts, OpenedBid.bid_id)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        return None
    attempts, bid_id = row
    blob_key, size = session.execute(select(Bid.blob_key, Bid.size).where(Bid.id == bid_id)).one()
    parts = [
        sealing.UnwrappedPart(k.subset_index, k.position, sealing.unb64u(k.part))
        for k in session.execute(
            select(KeyPart.subset_index, KeyPart.position, KeyPart.part)
            .where(KeyPart.bid_id == bid_id)
            .order_by(KeyPart.subset_index, KeyPart.position)
        )
    ]
    return Job(opened_bid_id, attempts, bid_id, blob_key, size, parts)


class _HashingReader:
    """A file-like reader over the blob store's chunks that hashes every byte it pulls (E31: the stored file
    must still be the one on the receipt). Each chunk is hashed whole as it arrives (1 MiB from the local
    store: hashlib releases the GIL for it) and reads are views of it: nothing is copied but a read that spans
    two."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._cur, self.digest, self.size = chunks, memoryview(b""), hashlib.sha256(), 0

    def _pull(self) -> bool:
        nxt = next(self._chunks, None)
        if nxt is None:
            return False
        self.digest.update(nxt)
        self.size += len(nxt)
        self._cur = memoryview(nxt)
        return True

    def read(self, size: int = -1) -> bytes | memoryview:
        if size < 0:
            rest = [self._cur]
            while self._pull():
                rest.append(self._cur)
            self._cur = memoryview(b"")
            return b"".join(rest)
        if size <= len(self._cur):
            out, self._cur = self._cur[:size], self._cur[size:]
            return out
        pieces = [self._cur]
        have = len(self._cur)
        self._cur = memoryview(b"")
        while have < size and self._pull():
            take = self._cur[: size - have]
            pieces.append(take)
            self._cur = self._cur[len(take) :]
            have += len(take)
        return b"".join(pieces)

    def drain(self) -> None:
        while self._pull():
            pass
        self._cur = memoryview(b"")


def decrypt(blobs: BlobStore, job: Job) -> Outcome:
    """Decrypt and check one bid; the outcome per E31. No database here.

    One pass, one thread: the stored file is read in the store's chunks and hashed as read (it must still be
    the file on the receipt: a bidder who kept its data key could otherwise have a different bid swapped in);
    each chunk is decrypted and authenticated and the content list and price form are read. With the receipt's
    hash and the chunks' authentication every decrypted byte is fixed, so the files are not hashed again.
    Nothing decrypted is stored: the plaintext is derived again, on demand and only then, from the sealed file
    and the key parts kept at the opening (`read_file`). So no blob store, an S3 bucket included, ever holds a
    readable bid."""
    try:
        present = blobs.exists(job.blob_key)
    except Exception as e:  # noqa: BLE001 - a store that cannot answer now may answer later (finish_bid retries)
        return Outcome(RETRY, "blob_unreadable", type(e).__name__)
    if not present:
        return Outcome(OpenedBidStatus.withdrawn, "blob_missing")
    try:
        stream = _HashingReader(iter(blobs.open(job.blob_key)))  # a network store may fail here already
    except OSError as e:
        return Outcome(RETRY, "blob_unreadable", type(e).__name__)
    failure: Outcome | None = None
    opened: sealing.OpenedBid | None = None
    try:
        header = sealing.read_header(stream)  # type: ignore[arg-type]
        data_key = sealing.combine(header, job.parts)
        opened = sealing.open_bid(stream, header, data_key, hash_files=False)  # type: ignore[arg-type]
    except sealing.SealedBidInvalid as e:
        failure = Outcome(OpenedBidStatus.revoked, "sealed_header_invalid", str(e))
    except sealing.WrongKey as e:
        failure = (
            Outcome("incomplete", e.code, str(e))
            if e.code == "quorum_incomplete"
            else Outcome(OpenedBidStatus.withdrawn, "key_check_failed", str(e))
        )
    except sealing.DecryptionFailed as e:
        failure = Outcome(
            OpenedBidStatus.revoked, e.code if e.code in REASONS else "container_invalid", str(e)
        )
    except OSError as e:
        return Outcome(RETRY, "blob_unreadable", type(e).__name__)
    try:
        stream.drain()
    except OSError as e:
        return Outcome(RETRY, "blob_unreadable", type(e).__name__)
    if stream.digest.hexdigest() != job.blob_key or (job.size and stream.size != job.size):
        # checked last and over everything: a stored file that changed is never held against the bidder
        return Outcome(
            OpenedBidStatus.withdrawn,
            "blob_hash_mismatch",
            f"sha256 {stream.digest.hexdigest()} != receipt {job.blob_key}",
        )
    if failure is not None:
        return failure
    assert opened is not None
    files = [
        {"role": f.role, "name": f.name, "media_type": f.media_type, "size": f.size} for f in opened.files
    ]
    return Outcome(OpenedBidStatus.opened, price_form=opened.price_form, files=files)


class FileChanged(Exception):
    """The sealed file is no longer the one on the receipt."""


def read_file(
    session: Session, blobs: BlobStore, opened_bid_id: int, index: int, write: Callable[[bytes], Any]
) -> dict[str, Any]:
    """Decrypt one file of an opened bid now, from the sealed file and the parts kept at the opening,
    streaming it to `write` (memory stays at one chunk). Who may read it is the caller's decision (the
    evaluation room). Raises FileChanged, after the last byte, if the sealed file is no longer the one on the
    receipt (the caller then discards what it was given); DecryptionFailed if it does not decrypt. Returns the
    file's entry in the record."""
    ob = session.get(OpenedBid, opened_bid_id)
    if ob is None or ob.status != OpenedBidStatus.opened or not 0 <= index < len(ob.files):
        raise NotFound.one("opened_file_not_found", N_("No such file of an opened bid."))
    bid = session.get(Bid, ob.bid_id)
    assert bid is not None
    parts = [
        sealing.UnwrappedPart(k.subset_index, k.position, sealing.unb64u(k.part))
        for k in session.scalars(select(KeyPart).where(KeyPart.bid_id == bid.id))
    ]
    positions = iter(range(len(ob.files)))

    def sink(_f: sealing.OpenedFile) -> Callable[[bytes], Any]:
        return write if next(positions) == index else (lambda _piece: None)

    reader = _HashingReader(iter(blobs.open(bid.blob_key)))
    header = sealing.read_header(reader)  # type: ignore[arg-type]
    # judged: the opening found this bid valid: it is read again, not judged again by rules grown since
    sealing.open_bid(reader, header, sealing.combine(header, parts), sink, hash_files=False, judged=True)  # type: ignore[arg-type]
    reader.drain()
    if reader.digest.hexdigest() != bid.blob_key:
        raise FileChanged(
            f"the sealed file's SHA-256 {reader.digest.hexdigest()} is not the receipt's {bid.blob_key}"
        )
    return dict(ob.files[index])


def finish_bid(session: Session, job: Job, outcome: Outcome) -> bool:
    """Record a decryption's outcome, only if this task still holds the claim; publish the record when it was
    the last bid. Returns whether the outcome was recorded."""
    now = clock.now()
    if outcome.status == RETRY:
        # the store could not be read (a network store's outage, a disk error): try again later; only after
        # READ_ATTEMPTS tries is it recorded, as the platform's fault and never the bidder's (E31: withdrawn)
        if job.attempt < READ_ATTEMPTS:
            outcome = Outcome("incomplete", outcome.code, outcome.detail)
        else:
            outcome = Outcome(
                OpenedBidStatus.withdrawn, outcome.code, f"{outcome.detail} ({job.attempt} attempts)"
            )
    if outcome.status == "incomplete":
        session.execute(
            update(OpenedBid)
            .where(
                OpenedBid.id == job.opened_bid_id,
                OpenedBid.status == OpenedBidStatus.decrypting,
                OpenedBid.attempts == job.attempt,
            )
            .values(status=OpenedBidStatus.pending, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        return False
    ob = session.get(OpenedBid, job.opened_bid_id)
    assert ob is not None
    op = session.scalars(
        select(Opening)
        .where(Opening.id == ob.opening_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    result = session.execute(
        update(OpenedBid)
        .where(
            OpenedBid.id == job.opened_bid_id,
            OpenedBid.status == OpenedBidStatus.decrypting,
            OpenedBid.attempts == job.attempt,
        )
        .values(
            status=outcome.status,
            reason_code=outcome.code,
            reason=outcome.detail[:2000],
            price_form=outcome.price_form,
            files=outcome.files,
            decrypted_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        return False
    tag = (
        TenderTag.bid_decrypted
        if outcome.status == OpenedBidStatus.opened
        else TenderTag.bid_decryption_failed
    )
    record(
        session,
        tag,
        actor=SYSTEM,
        subject=f"tender:{op.tender_id}",
        details={
            "bid": job.bid_id,
            "outcome": outcome.status,
            "reason_code": outcome.code,
            "files": len(outcome.files),
            "attempt": job.attempt,
            **({"rule": "E31"} if outcome.status != OpenedBidStatus.opened else {}),
        },
    )
    _publish_if_done(session, op, now)
    return True


def _set_outcome(session: Session, op: Opening, ob: OpenedBid, status: str, code: str, now: datetime) -> None:
    ob.status, ob.reason_code, ob.decrypted_at = status, code, now
    record(
        session,
        TenderTag.bid_decryption_failed,
        actor=SYSTEM,
        subject=f"tender:{op.tender_id}",
        details={"bid": ob.bid_id, "outcome": status, "reason_code": code, "rule": "E31"},
    )


def _publish_if_done(session: Session, op: Opening, now: datetime) -> None:
    session.flush()
    left = session.scalar(
        select(func.count())
        .select_from(OpenedBid)
        .where(OpenedBid.opening_id == op.id, OpenedBid.status.not_in(TERMINAL))
    )
    if left or op.status == OpeningStatus.done:
        return
    op.status, op.finished_at = OpeningStatus.done, now
    session.flush()
    tender = session.get(Tender, op.tender_id)
    assert tender is not None
    body = record_body(session, tender, op)
    op.record_sha256 = hashlib.sha256(sealing.canonical_json(body)).hexdigest()
    statuses = [b["outcome"] for lot in body["lots"] for b in lot["bids"]]
    record(
        session,
        TenderTag.opening_record_published,
        actor=SYSTEM,
        subject=f"tender:{tender.id}",
        details={
            "sha256": op.record_sha256,
            "bids": len(statuses),
            **{s: statuses.count(s) for s in TERMINAL},
            "rule": "E32",
        },
    )
    # E29: names and prices are published once decryption is done: so are the entries that said who bid
    disclose_where(session, SYSTEM, subject=f"tender:{tender.id}", tags=DISCLOSED_AT_PUBLICATION)
    # ... and the participation entries, withheld until now so that nobody could count registrations and bids
    # before the record (E21, L22): from here the public log shows them, their actors still concealed
    release_where(session, SYSTEM, subject=f"tender:{tender.id}", fact=Fact.participation)
    notify(
        session,
        interested(session, tender),
        "tender.opening.record",
        title=N_("%(reference)s %(title)s: the opening record is published"),
        params={"reference": tender.reference, "title": tender.title},
        link=f"/tenders/{tender.id}/opening",
    )


# lazy=False: made and bound here, at import. Celery's lazy task is bound by whichever thread calls it first,
# and a pool thread that calls it in that moment (bids sent together) gets it unbound (request_stack None).
@app.task(name="tender.decrypt_bid", lazy=False)
def decrypt_bid(opened_bid_id: int) -> str:
    """Decrypt one bid of an opening. Three steps: claim it (pending -> decrypting, committed), decrypt and
    store its files outside any transaction, record the outcome if the claim is still ours. A second delivery
    finds the bid claimed or done and returns; a task that dies midway leaves a claim that the sweep gives
    back."""
    with unit_of_work() as session:
        job = claim(session, opened_bid_id)
    if job is None:
        return "skipped"
    with renewing(job):
        outcome = decrypt(open_store(tasks.settings()), job)
    with unit_of_work() as session:
        recorded = finish_bid(session, job, outcome)
    return outcome.status if recorded else "superseded"


def renew(session: Session, job: Job) -> bool:
    """The heartbeat: the claim's time moved to now, only while the claim is still this task's (the same
    attempt). False when it is no longer ours (the sweep gave it back after a stall)."""
    done = session.execute(
        update(OpenedBid)
        .where(
            OpenedBid.id == job.opened_bid_id,
            OpenedBid.status == OpenedBidStatus.decrypting,
            OpenedBid.attempts == job.attempt,
        )
        .values(claimed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


@contextmanager
def renewing(job: Job) -> Iterator[None]:
    """Renew the claim every HEARTBEAT from a thread of its own while the block runs (the decryption holds
    no transaction; each renewal is its own short one). A renewal that fails (the database briefly away) is
    tried again at the next beat; the claim then only risks being given back, never being recorded twice."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT.total_seconds()):
            try:
                with unit_of_work() as session:
                    if not renew(session, job):
                        return
            except Exception:  # noqa: BLE001 - the next beat tries again
                log.warning("could not renew the claim on opened bid %s", job.opened_bid_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"claim-{job.opened_bid_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# ---------------------------------------------------------------- the sweep (crash resume, E31 window)


def sweep(session: Session, now: datetime | None = None) -> dict[str, int]:
    """(a) claims older than CLAIM_TIMEOUT go back to pending and are sent again; pending bids whose parts are
    complete are sent (an opening killed halfway resumes where it stopped; terminal bids are never redone);
    (b) quorum+bidder: after the decryption window, a bid still without its bidder's part is revoked (E31)."""
    now = now or clock.now()
    out = {"reclaimed": 0, "sent": 0, "revoked": 0}
    active = session.scalars(
        select(Opening.id)
        .where(Opening.status.in_([OpeningStatus.awaiting_parts, OpeningStatus.decrypting]))
        .order_by(Opening.id)
    ).all()
    for opening_id in active:
        # the opening's row first, as finish_bid takes it, so that the two never wait on each other's bid rows
        op = session.scalars(
            select(Opening)
            .where(Opening.id == opening_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if op.status not in (OpeningStatus.awaiting_parts, OpeningStatus.decrypting):
            continue
        # claims whose task stopped renewing them: given back, and sent again below at once (the task died)
        reclaimed = set(
            session.scalars(
                update(OpenedBid)
                .where(
                    OpenedBid.opening_id == op.id,
                    OpenedBid.status == OpenedBidStatus.decrypting,
                    OpenedBid.claimed_at < now - CLAIM_TIMEOUT,
                )
                .values(status=OpenedBidStatus.pending, claimed_at=None)
                .returning(OpenedBid.id)
                .execution_options(synchronize_session=False)
            )
        )
        out["reclaimed"] += len(reclaimed)
        tender = session.get(Tender, op.tender_id)
        assert tender is not None
        per_subset = parts_per_subset(tender)
        pending = session.scalars(
            select(OpenedBid)
            .where(OpenedBid.opening_id == op.id, OpenedBid.status == OpenedBidStatus.pending)
            .execution_options(populate_existing=True)
        ).all()
        if not pending:
            _publish_if_done(session, op, now)
            continue
        have: dict[int, list[tuple[int, int]]] = {}
        latest: dict[int, datetime] = {}
        for bid_id, s, p, at in session.execute(
            select(KeyPart.bid_id, KeyPart.subset_index, KeyPart.position, KeyPart.submitted_at).where(
                KeyPart.opening_id == op.id
            )
        ):
            have.setdefault(bid_id, []).append((s, p))
            latest[bid_id] = max(latest.get(bid_id, at), at)
        window_over = op.window_ends_at is not None and clock.as_utc(op.window_ends_at) <= now
        revoked = False
        for ob in pending:
            # submit_parts sent it when its parts became complete: send it again only if that was a while ago
            # (lost), or its task just died
            last_sent = ob.claimed_at or latest.get(ob.bid_id)
            if has_complete_subset(have.get(ob.bid_id, []), per_subset) and (
                ob.id in reclaimed
                or (last_sent is not None and clock.as_utc(last_sent) <= now - RESEND_AFTER)
            ):
                ob.claimed_at = now  # sent now: not again before RESEND_AFTER
                enqueue(session, decrypt_bid, ob.id)
                out["sent"] += 1
            elif window_over and tender.opening_policy == OpeningPolicy.quorum_bidder:
                _set_outcome(session, op, ob, OpenedBidStatus.revoked, "bidder_part_missing", now)
                out["revoked"] += 1
                revoked = True
        if revoked:
            _publish_if_done(session, op, now)
    return out
