"""The opening ceremony (issue 3, E29-E32, R44, L28, L34): started when bidding closes, key parts accepted only at
or after the opening time, every bid decrypted once by a task (tender/tasks.py), the outcome of each bid per E31,
the record published when every bid has its outcome, objections raised at the opening and their answers.

Services take a session and never commit. Decryption itself (decrypt()) touches no database: the task claims a
bid in one unit of work, decrypts outside any transaction, and records the outcome in another, conditionally, so
that no bid is decrypted twice and a crash leaves a claim that the sweep gives back."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import Organisation, User
from accounts.notifications import notify
from audit import EventTag, record
from audit.log import disclose_where
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import SYSTEM, Actor, Role
from storage.base import BlobStore
from tender import access, lifecycle, participation, rules, sealing
from tender.bids import submission as bids
from tender.keyholders import HolderKey, is_holder
from tender.lifecycle import Event, Status
from tender.models import (
    Bid,
    KeyPart,
    Lot,
    OpenedBid,
    OpenedBidStatus,
    Opening,
    OpeningCheckIn,
    OpeningObjection,
    OpeningStatus,
    Tender,
)

CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim older than this belongs to a task that died: the sweep gives it back
RESEND_AFTER = timedelta(minutes=1)  # a bid still pending this long after its parts were complete lost its task
TERMINAL = (OpenedBidStatus.opened, OpenedBidStatus.revoked, OpenedBidStatus.withdrawn)
DEFAULT_WINDOW_SECONDS = 1800
RECORD_FORMAT = "etender-opening-record"
HEADERS_FORMAT = "etender-opening-headers"
PARTS_FORMAT = "etender-key-parts"
# Entries whose confidential details (who bid, who checked in) are published with the record (E29).
DISCLOSED_AT_PUBLICATION = [
    EventTag.bid_submitted.value, EventTag.bid_replaced.value, EventTag.bid_withdrawn.value,
    EventTag.opening_checked_in.value, EventTag.key_part_submitted.value, EventTag.key_part_refused.value,
    EventTag.opening_objection_recorded.value,
]
FONT_PATHS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc")

# E31: why a bid did not open, in words (the codes are stable; the texts go into the record).
REASONS = {
    "blob_missing": N_("The stored sealed bid is missing from the blob store: not the bidder's fault (E31)."),
    "blob_hash_mismatch": N_("The stored sealed bid no longer matches the SHA-256 on its receipt: not the bidder's fault (E31)."),
    "blob_unreadable": N_("The stored sealed bid could not be read: not the bidder's fault (E31)."),
    "key_check_failed": N_("The key holders' parts passed their checks but did not give the bid's key: not the bidder's fault (E31)."),
    "chunk_altered": N_("The bid the bidder sealed does not authenticate (a chunk was altered before upload): the bidder's fault (E31)."),
    "bid_truncated": N_("The bid the bidder sealed ends before its last chunk: the bidder's fault (E31)."),
    "bid_trailing_data": N_("The bid the bidder sealed has data after its last chunk: the bidder's fault (E31)."),
    "container_invalid": N_("The bid decrypts but its content list is invalid: the bidder's fault (E31)."),
    "sealed_header_invalid": N_("The bid's header is invalid: the bidder's fault (E31)."),
    "bidder_part_missing": N_("The bidder did not submit its key part within the decryption window: the bidder's fault (E31)."),
}


class AuditedRefusal(Forbidden):
    """A refusal whose audit entry (access.refused or key_part_refused) is already in the session: the web layer
    commits the session before answering, so the attempt stays on record."""


# ---------------------------------------------------------------- helpers


def _holders(tender: Tender) -> list[int]:
    return list(dict.fromkeys(tender.key_holder_ids or []))


def _tender(session: Session, actor: Actor, tender_id: int, lock: bool = False) -> Tender:
    stmt = select(Tender).where(Tender.id == tender_id)
    if lock:
        stmt = stmt.with_for_update()
    tender = session.scalars(stmt).one_or_none()
    if tender is None or (tender.status == Status.draft and not access.can_see_draft(actor, tender)):
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


def opening_of(session: Session, tender_id: int, lock: bool = False) -> Opening | None:
    stmt = select(Opening).where(Opening.tender_id == tender_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def _has_counted_bid(session: Session, actor: Actor, tender: Tender) -> bool:
    if not actor.has(Role.bidder) or actor.organisation_id is None:
        return False
    return bool(session.scalar(select(func.count()).select_from(Bid).where(
        Bid.tender_id == tender.id, Bid.organisation_id == actor.organisation_id, Bid.status == bids.BidStatus.submitted)))


def is_published(op: Opening | None) -> bool:
    return op is not None and op.status == OpeningStatus.done and bool(op.record_sha256)


def may_watch(session: Session, actor: Actor, tender: Tender) -> bool:
    """E29: the agency, the key holders, the bidders with a counted bid, monitors and administrators watch the
    ceremony; once the record is published everyone may read it."""
    if is_published(opening_of(session, tender.id)):
        return True
    return (access.is_tender_agency(actor, tender) or is_holder(actor, tender) or actor.has(Role.monitor, Role.admin)
            or _has_counted_bid(session, actor, tender))


def require_watch(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, Opening | None]:
    tender = _tender(session, actor, tender_id)
    op = opening_of(session, tender.id)
    if is_published(op):
        return tender, op
    access.require_login(actor)
    if not may_watch(session, actor, tender):
        raise Forbidden.one("opening_not_participant", N_("Only the agency, the key holders, the bidders of this tender and monitors follow the opening before its record is published."))
    return tender, op


def _refuse_early(session: Session, actor: Actor, tender: Tender, op: Opening | None, what: str) -> None:
    """Before the opening time nothing about a sealed bid is served and no part is taken (E27): refuse and log
    the attempt with its window, which the monitors' alert panel reads."""
    now = clock.now()
    if op is not None and now >= clock.as_utc(op.opens_at):
        return
    when = op.opens_at if op is not None else tender.bid_deadline
    record(session, EventTag.access_refused, actor=actor, subject=f"tender:{tender.id}",
           details={"reason": what, "window": "opening_time", "rule": "E27", "opens_at": when.isoformat() if when else None})
    raise AuditedRefusal.one("opening_not_yet", N_("The bids are opened at the bid deadline (%(when)s). Nothing about a sealed bid is served and no key part is accepted before then."),
                             rule="E27", when=clock.to_cst(when).strftime("%Y-%m-%d %H:%M") if when else "")


# ---------------------------------------------------------------- the start (called when bidding closes)


def _interested(session: Session, tender: Tender) -> set[int]:
    orgs = {b.organisation_id for b in bids.counted_bids(session, tender.id)} | {tender.agency_id}
    staff = set(session.scalars(select(User.id).where(User.organisation_id.in_(orgs))))
    return participation.interested_users(session, tender.id) | staff | set(_holders(tender))


def start(session: Session, tender: Tender, now: datetime) -> Opening | None:
    """L34: the opening is at the deadline. R44/L28: with fewer than 3 bids nothing is opened and the tender
    fails; per lot, a lot with fewer than 3 bids is not opened and the record says so."""
    counted = bids.counted_bids(session, tender.id)
    by_lot: dict[int, list[Bid]] = {}
    for bid in counted:
        by_lot.setdefault(bid.lot_id, []).append(bid)
    counts = {lot.number: len(by_lot.get(lot.id, [])) for lot in tender.lots}
    opened_lots = [lot for lot in tender.lots if rules.enough_bids(len(by_lot.get(lot.id, [])))]
    if not opened_lots:
        lifecycle.apply(tender, Event.fail)
        tender.cancel_reason = (f"截至投标截止时间共收到 {len(counted)} 份有效投标文件，少于 3 家，依法不予开标，本次招标失败，将依法重新招标"
                                f"（R44、L28）。Fewer than 3 bids ({len(counted)}) were received by the deadline: no bid is opened "
                                "and the tender failed (R44, L28).")
        op = Opening(tender_id=tender.id, status=OpeningStatus.failed, opens_at=tender.bid_deadline or now, bids_count=0, finished_at=now)
        session.add(op)
        session.flush()
        record(session, EventTag.tender_failed, actor=SYSTEM, subject=f"tender:{tender.id}",
               details={"reason": "fewer than 3 bids", "rule": "R44", "bids": len(counted), "bids_by_lot": {str(k): v for k, v in counts.items()}})
        notify(session, _interested(session, tender), "tender.failed", title=f"{tender.reference} {tender.title}: 投标人少于3家，招标失败",
               body=tender.cancel_reason, link=f"/tenders/{tender.id}")
        return op
    lifecycle.apply(tender, Event.start_opening)
    opened_ids = {lot.id for lot in opened_lots}
    to_open = [b for b in counted if b.lot_id in opened_ids]
    op = Opening(tender_id=tender.id, status=OpeningStatus.awaiting_parts, opens_at=tender.bid_deadline or now, bids_count=len(to_open))
    session.add(op)
    session.flush()
    for bid in to_open:
        session.add(OpenedBid(opening_id=op.id, bid_id=bid.id))
    session.flush()
    record(session, EventTag.opening_started, actor=SYSTEM, subject=f"tender:{tender.id}",
           details={"bids": len(to_open), "bids_by_lot": {str(k): v for k, v in counts.items()},
                    "lots_not_opened": [lot.number for lot in tender.lots if lot.id not in opened_ids], "rule": "L34"})
    notify(session, _interested(session, tender), "tender.opening.started", title=f"{tender.reference} {tender.title}: 开标开始",
           body="", link=f"/tenders/{tender.id}/opening")
    return op


# ---------------------------------------------------------------- check-in (E29: bidders attend online)


def check_in(session: Session, actor: Actor, tender_id: int) -> OpeningCheckIn:
    access.require_role(actor, Role.bidder)
    tender = _tender(session, actor, tender_id)
    if not _has_counted_bid(session, actor, tender):
        raise Forbidden.one("opening_no_bid", N_("Only a company whose bid counts checks in at this opening."))
    op = opening_of(session, tender.id)
    if op is None or op.status == OpeningStatus.failed:
        raise Conflict.one("opening_not_started", N_("The opening has not started: it starts by itself at the bid deadline."))
    assert actor.organisation_id is not None and actor.user_id is not None
    existing = session.scalar(select(OpeningCheckIn).where(OpeningCheckIn.opening_id == op.id, OpeningCheckIn.organisation_id == actor.organisation_id))
    if existing is not None:
        return existing
    row = OpeningCheckIn(opening_id=op.id, organisation_id=actor.organisation_id, user_id=actor.user_id, at=clock.now())
    session.add(row)
    session.flush()
    record(session, EventTag.opening_checked_in, actor=actor, subject=f"tender:{tender.id}", details={"opening": op.id},
           conceal_actor=not is_published(op))
    return row


# ---------------------------------------------------------------- headers and key parts


def headers(session: Session, actor: Actor, blobs: BlobStore, tender_id: int) -> dict[str, Any]:
    """Each counted bid's header (its preamble, base64) with its platform bid id: what a key holder unwraps its
    parts from. No ciphertext payload is ever served."""
    access.require_login(actor)
    tender = _tender(session, actor, tender_id)
    op = opening_of(session, tender.id)
    _refuse_early(session, actor, tender, op, "headers_before_opening")
    assert op is not None
    holder = is_holder(actor, tender)
    own_only = not holder and tender.opening_policy == "quorum+bidder" and _has_counted_bid(session, actor, tender)
    if not holder and not own_only:
        raise Forbidden.one("not_key_holder", N_("Only the tender's key holders (and, when the policy needs it, each bidder for its own bid) receive the bids' headers."))
    rows = session.execute(select(OpenedBid, Bid).join(Bid, Bid.id == OpenedBid.bid_id).where(OpenedBid.opening_id == op.id).order_by(Bid.lot_id, Bid.id)).all()
    out = []
    for ob, bid in rows:
        if own_only and bid.organisation_id != actor.organisation_id:
            continue
        header = bids.header_of(blobs, bid)
        out.append({"bid": bid.id, "lot_id": bid.lot_id, "bid_id": bid.sealed_bid_id or header.bid_id, "status": ob.status,
                    "header": base64.b64encode(header.preamble).decode()})
    return {"format": HEADERS_FORMAT, "version": 1, "tender_id": tender.id, "reference": tender.reference, "bids": out}


@dataclass
class PartsResult:
    accepted: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)  # platform bid ids sent to decryption

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "refused": self.refused, "queued": self.queued}


PART_MESSAGES = {
    "part_doc_invalid": N_("This is not a key parts file (%(what)s): upload the file your key tool made."),
    "part_other_tender": N_("These parts are for tender %(other)s, not this one."),
    "bid_unknown": N_("No bid of this opening has the sealed bid id %(bid_id)s."),
    "part_unknown_slot": N_("Bid %(bid)s has no key part at subset %(subset)s, position %(position)s."),
    "not_your_part": N_("The part of bid %(bid)s at subset %(subset)s, position %(position)s belongs to someone else: submit only your own parts."),
    "part_commitment_mismatch": N_("The part of bid %(bid)s at subset %(subset)s, position %(position)s is not the one sealed into the bid: unwrap it again with your own key file."),
    "part_duplicate": N_("The part of bid %(bid)s at subset %(subset)s, position %(position)s was already submitted."),
    "bid_has_outcome": N_("Bid %(bid)s already has its outcome; no more parts are needed."),
}


def _docs(doc: Any) -> list[Any]:
    if isinstance(doc, dict) and isinstance(doc.get("bids"), list) and doc.get("format") != PARTS_FORMAT:
        return list(doc["bids"])
    if isinstance(doc, list):
        return list(doc)
    return [doc]


def _complete_subsets(parts: list[tuple[int, int]], per_subset: int) -> bool:
    seen: dict[int, set[int]] = {}
    for s, p in parts:
        seen.setdefault(s, set()).add(p)
    return any(len(v) >= per_subset for v in seen.values())


def _per_subset(tender: Tender) -> int:
    return tender.key_threshold + (1 if tender.opening_policy == "quorum+bidder" else 0)


def submit_parts(session: Session, actor: Actor, blobs: BlobStore, tender_id: int, doc: Any,
                 window_seconds: int = DEFAULT_WINDOW_SECONDS) -> PartsResult:
    """Take a holder's (or, under quorum+bidder, a bidder's) unwrapped parts: one `etender-key-parts` document,
    a list of them, or {"bids": [...]}. Each part is checked on its own; a refused one never stops the others."""
    from tender import tasks as tender_tasks

    access.require_login(actor)
    tender = _tender(session, actor, tender_id)
    op = opening_of(session, tender.id, lock=True)
    _refuse_early(session, actor, tender, op, "parts_before_opening")
    assert op is not None
    holders = _holders(tender)
    holder_index = holders.index(actor.user_id) if actor.user_id in holders else None
    bidder = tender.opening_policy == "quorum+bidder" and _has_counted_bid(session, actor, tender)
    if holder_index is None and not bidder:
        record(session, EventTag.key_part_refused, actor=actor, subject=f"tender:{tender.id}", details={"reason": "not_key_holder", "parts": 0})
        raise AuditedRefusal.one("not_key_holder", N_("You are not a key holder of this tender: only its key holders (and, when the policy needs it, each bidder for its own bid) submit key parts."))
    my_key = session.scalar(select(HolderKey.key_id).where(HolderKey.tender_id == tender.id, HolderKey.user_id == actor.user_id)) if holder_index is not None else None
    now = clock.now()
    result = PartsResult()
    touched: dict[int, OpenedBid] = {}

    def refuse(code: str, **params: Any) -> None:
        result.refused.append({"code": code, "message": PART_MESSAGES[code], "params": params})

    opened = {bid.sealed_bid_id: (ob, bid) for ob, bid in session.execute(
        select(OpenedBid, Bid).join(Bid, Bid.id == OpenedBid.bid_id).where(OpenedBid.opening_id == op.id)).all()}
    for item in _docs(doc):
        if not isinstance(item, dict) or item.get("format") != PARTS_FORMAT or not isinstance(item.get("parts"), list):
            refuse("part_doc_invalid", what="format")
            continue
        if item.get("tender_id") != tender.id:
            refuse("part_other_tender", other=str(item.get("tender_id")))
            continue
        found = opened.get(str(item.get("bid_id", "")))
        if found is None:
            refuse("bid_unknown", bid_id=str(item.get("bid_id", ""))[:40])
            continue
        ob, bid = found
        if ob.status in TERMINAL:
            refuse("bid_has_outcome", bid=bid.id)
            continue
        header = bids.header_of(blobs, bid)
        slots = {(s.subset_index, s.position): s for s in header.slots()}
        for raw in item["parts"]:
            try:
                part = sealing.UnwrappedPart(int(raw["subset_index"]), int(raw["position"]), sealing.unb64u(raw["part"]))
            except (KeyError, TypeError, ValueError):
                refuse("part_doc_invalid", what="part")
                continue
            where = {"bid": bid.id, "subset": part.subset_index, "position": part.position}
            slot = slots.get((part.subset_index, part.position))
            if slot is None:
                refuse("part_unknown_slot", **where)
                continue
            mine = (slot.party is not None and slot.party == holder_index and slot.recipient == my_key) or \
                   (slot.party is None and bidder and bid.organisation_id == actor.organisation_id)
            if not mine:
                refuse("not_your_part", **where)
                continue
            try:
                sealing.check_part(header, part)
            except sealing.WrongKey:
                refuse("part_commitment_mismatch", **where)
                continue
            exists = session.scalar(select(KeyPart.id).where(KeyPart.bid_id == bid.id, KeyPart.subset_index == part.subset_index, KeyPart.position == part.position))
            if exists:
                refuse("part_duplicate", **where)
                continue
            assert actor.user_id is not None
            try:
                with session.begin_nested():
                    session.add(KeyPart(opening_id=op.id, bid_id=bid.id, user_id=actor.user_id, party=slot.party, subset_index=part.subset_index,
                                        position=part.position, part=sealing.b64u(part.part), submitted_at=now))
            except IntegrityError:  # the same part arrived at the same moment from another request
                refuse("part_duplicate", **where)
                continue
            result.accepted += 1
            touched[ob.id] = ob
    as_bidder = holder_index is None
    if result.accepted:
        record(session, EventTag.key_part_submitted, actor=actor, subject=f"tender:{tender.id}",
               details={"parts": result.accepted, "bids": len(touched), "party": "bidder" if as_bidder else f"holder {holder_index}"},
               conceal_actor=as_bidder and not is_published(op))
    if result.refused:
        record(session, EventTag.key_part_refused, actor=actor, subject=f"tender:{tender.id}",
               details={"refused": [{"code": r["code"], **{k: v for k, v in r["params"].items() if k in ("bid", "subset", "position")}} for r in result.refused][:200]},
               conceal_actor=as_bidder and not is_published(op))
    session.flush()
    if op.quorum_at is None:
        submitted = set(session.scalars(select(KeyPart.user_id).where(KeyPart.opening_id == op.id, KeyPart.party.is_not(None)).distinct()))
        if len(submitted & set(holders)) >= tender.key_threshold:
            op.quorum_at = now
            op.status = OpeningStatus.decrypting
            if tender.opening_policy == "quorum+bidder":
                op.window_ends_at = now + timedelta(seconds=window_seconds)
    per_subset = _per_subset(tender)
    for ob in touched.values():
        have = [(s, p) for s, p in session.execute(select(KeyPart.subset_index, KeyPart.position).where(KeyPart.bid_id == ob.bid_id)).all()]
        if ob.status == OpenedBidStatus.pending and _complete_subsets(have, per_subset):
            from core.tasks import enqueue

            enqueue(session, tender_tasks.decrypt_bid, ob.id)
            result.queued.append(ob.bid_id)
    return result


# ---------------------------------------------------------------- decryption (the task's three steps)


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
    status: str  # an OpenedBidStatus; "incomplete" (parts missing: back to pending); RETRY (store unreadable now)
    code: str = ""
    detail: str = ""
    price_form: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)


def claim(session: Session, opened_bid_id: int) -> Job | None:
    """pending -> decrypting, conditionally: only one task gets a bid. On PostgreSQL the claim's commit does not wait
    for the disk (synchronous_commit off for this transaction only): a claim lost in a crash leaves the bid pending,
    which the sweep sends again, so nothing depends on it surviving; the outcome's commit does wait."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
    now = clock.now()
    row = session.execute(
        update(OpenedBid).where(OpenedBid.id == opened_bid_id, OpenedBid.status == OpenedBidStatus.pending)
        .values(status=OpenedBidStatus.decrypting, claimed_at=now, attempts=OpenedBid.attempts + 1)
        .returning(OpenedBid.attempts, OpenedBid.bid_id)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        return None
    attempts, bid_id = row
    blob_key, size = session.execute(select(Bid.blob_key, Bid.size).where(Bid.id == bid_id)).one()
    parts = [sealing.UnwrappedPart(k.subset_index, k.position, sealing.unb64u(k.part))
             for k in session.execute(select(KeyPart.subset_index, KeyPart.position, KeyPart.part)
                                      .where(KeyPart.bid_id == bid_id).order_by(KeyPart.subset_index, KeyPart.position))]
    return Job(opened_bid_id, attempts, bid_id, blob_key, size, parts)


class _HashingReader:
    """A file-like reader over the blob store's chunks that hashes every byte it pulls (E31: the stored file must
    still be the one on the receipt). Each chunk is hashed whole as it arrives (1 MiB from the local store:
    hashlib releases the GIL for it) and reads are views of it: nothing is copied but a read that spans two."""

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
            take = self._cur[:size - have]
            pieces.append(take)
            self._cur = self._cur[len(take):]
            have += len(take)
        return b"".join(pieces)

    def drain(self) -> None:
        while self._pull():
            pass
        self._cur = memoryview(b"")


def decrypt(blobs: BlobStore, job: Job) -> Outcome:
    """Decrypt and check one bid; the outcome per E31. No database here.

    One pass, one thread: the stored file is read in the store's chunks and hashed as read (it must still be the
    file on the receipt: a bidder who kept its data key could otherwise have a different bid swapped in); each chunk
    is decrypted and authenticated and the content list and price form are read. With the receipt's hash and the
    chunks' authentication every decrypted byte is fixed, so the files are not hashed again. Nothing decrypted is
    stored: the plaintext is derived again, on demand and only then, from the sealed file and the key parts kept at
    the opening (`read_file`). So no blob store, an S3 bucket included, ever holds a readable bid."""
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
        failure = Outcome("incomplete", e.code, str(e)) if e.code == "quorum_incomplete" else Outcome(OpenedBidStatus.withdrawn, "key_check_failed", str(e))
    except sealing.DecryptionFailed as e:
        failure = Outcome(OpenedBidStatus.revoked, e.code if e.code in REASONS else "container_invalid", str(e))
    except OSError as e:
        return Outcome(RETRY, "blob_unreadable", type(e).__name__)
    try:
        stream.drain()
    except OSError as e:
        return Outcome(RETRY, "blob_unreadable", type(e).__name__)
    if stream.digest.hexdigest() != job.blob_key or (job.size and stream.size != job.size):
        # checked last and over everything: a stored file that changed is never held against the bidder
        return Outcome(OpenedBidStatus.withdrawn, "blob_hash_mismatch", f"sha256 {stream.digest.hexdigest()} != receipt {job.blob_key}")
    if failure is not None:
        return failure
    assert opened is not None
    files = [{"role": f.role, "name": f.name, "media_type": f.media_type, "size": f.size} for f in opened.files]
    return Outcome(OpenedBidStatus.opened, price_form=opened.price_form, files=files)


class FileChanged(Exception):
    """The sealed file is no longer the one on the receipt."""


def read_file(session: Session, blobs: BlobStore, opened_bid_id: int, index: int, write: Callable[[bytes], Any]) -> dict[str, Any]:
    """Decrypt one file of an opened bid now, from the sealed file and the parts kept at the opening, streaming it
    to `write` (memory stays at one chunk). Who may read it is the caller's decision (the evaluation room). Raises
    FileChanged, after the last byte, if the sealed file is no longer the one on the receipt (the caller then
    discards what it was given); DecryptionFailed if it does not decrypt. Returns the file's entry in the record."""
    ob = session.get(OpenedBid, opened_bid_id)
    if ob is None or ob.status != OpenedBidStatus.opened or not 0 <= index < len(ob.files):
        raise NotFound.one("opened_file_not_found", N_("No such file of an opened bid."))
    bid = session.get(Bid, ob.bid_id)
    assert bid is not None
    parts = [sealing.UnwrappedPart(k.subset_index, k.position, sealing.unb64u(k.part))
             for k in session.scalars(select(KeyPart).where(KeyPart.bid_id == bid.id))]
    positions = iter(range(len(ob.files)))

    def sink(_f: sealing.OpenedFile) -> Callable[[bytes], Any]:
        return write if next(positions) == index else (lambda _piece: None)

    reader = _HashingReader(iter(blobs.open(bid.blob_key)))
    header = sealing.read_header(reader)  # type: ignore[arg-type]
    sealing.open_bid(reader, header, sealing.combine(header, parts), sink, hash_files=False)  # type: ignore[arg-type]
    reader.drain()
    if reader.digest.hexdigest() != bid.blob_key:
        raise FileChanged(f"the sealed file's SHA-256 {reader.digest.hexdigest()} is not the receipt's {bid.blob_key}")
    return dict(ob.files[index])


def finish_bid(session: Session, job: Job, outcome: Outcome) -> bool:
    """Record a decryption's outcome, only if this task still holds the claim; publish the record when it was the
    last bid. Returns whether the outcome was recorded."""
    now = clock.now()
    if outcome.status == RETRY:
        # the store could not be read (a network store's outage, a disk error): try again later; only after
        # READ_ATTEMPTS tries is it recorded, as the platform's fault and never the bidder's (E31: withdrawn)
        if job.attempt < READ_ATTEMPTS:
            outcome = Outcome("incomplete", outcome.code, outcome.detail)
        else:
            outcome = Outcome(OpenedBidStatus.withdrawn, outcome.code, f"{outcome.detail} ({job.attempt} attempts)")
    if outcome.status == "incomplete":
        session.execute(update(OpenedBid).where(OpenedBid.id == job.opened_bid_id, OpenedBid.status == OpenedBidStatus.decrypting,
                                                OpenedBid.attempts == job.attempt)
                        .values(status=OpenedBidStatus.pending, claimed_at=None).execution_options(synchronize_session=False))
        return False
    ob = session.get(OpenedBid, job.opened_bid_id)
    assert ob is not None
    op = session.scalars(select(Opening).where(Opening.id == ob.opening_id).with_for_update().execution_options(populate_existing=True)).one()
    result = session.execute(
        update(OpenedBid).where(OpenedBid.id == job.opened_bid_id, OpenedBid.status == OpenedBidStatus.decrypting, OpenedBid.attempts == job.attempt)
        .values(status=outcome.status, reason_code=outcome.code, reason=outcome.detail[:2000], price_form=outcome.price_form, files=outcome.files,
                decrypted_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        return False
    tag = EventTag.bid_decrypted if outcome.status == OpenedBidStatus.opened else EventTag.bid_decryption_failed
    record(session, tag, actor=SYSTEM, subject=f"tender:{op.tender_id}",
           details={"bid": job.bid_id, "outcome": outcome.status, "reason_code": outcome.code, "files": len(outcome.files), "attempt": job.attempt,
                    **({"rule": "E31"} if outcome.status != OpenedBidStatus.opened else {})})
    _publish_if_done(session, op, now)
    return True


def _set_outcome(session: Session, op: Opening, ob: OpenedBid, status: str, code: str, now: datetime) -> None:
    ob.status, ob.reason_code, ob.decrypted_at = status, code, now
    record(session, EventTag.bid_decryption_failed, actor=SYSTEM, subject=f"tender:{op.tender_id}",
           details={"bid": ob.bid_id, "outcome": status, "reason_code": code, "rule": "E31"})


def _publish_if_done(session: Session, op: Opening, now: datetime) -> None:
    session.flush()
    left = session.scalar(select(func.count()).select_from(OpenedBid).where(OpenedBid.opening_id == op.id, OpenedBid.status.not_in(TERMINAL)))
    if left or op.status == OpeningStatus.done:
        return
    op.status, op.finished_at = OpeningStatus.done, now
    session.flush()
    tender = session.get(Tender, op.tender_id)
    assert tender is not None
    body = record_body(session, tender, op)
    op.record_sha256 = hashlib.sha256(sealing.canonical_json(body)).hexdigest()
    statuses = [b["outcome"] for lot in body["lots"] for b in lot["bids"]]
    record(session, EventTag.opening_record_published, actor=SYSTEM, subject=f"tender:{tender.id}",
           details={"sha256": op.record_sha256, "bids": len(statuses), **{s: statuses.count(s) for s in TERMINAL}, "rule": "E32"})
    # E29: names and prices are published once decryption is done: so are the entries that said who bid
    disclose_where(session, SYSTEM, subject=f"tender:{tender.id}", tags=DISCLOSED_AT_PUBLICATION)
    notify(session, _interested(session, tender), "tender.opening.record", title=f"{tender.reference} {tender.title}: 开标记录已公布",
           link=f"/tenders/{tender.id}/opening")


# ---------------------------------------------------------------- the sweep (crash resume, E31 window)


def sweep(session: Session, now: datetime | None = None) -> dict[str, int]:
    """(a) claims older than CLAIM_TIMEOUT go back to pending and are sent again; pending bids whose parts are
    complete are sent (an opening killed halfway resumes where it stopped; terminal bids are never redone);
    (b) quorum+bidder: after the decryption window, a bid still without its bidder's part is revoked (E31)."""
    from core.tasks import enqueue
    from tender import tasks as tender_tasks

    now = now or clock.now()
    out = {"reclaimed": 0, "sent": 0, "revoked": 0}
    active = session.scalars(select(Opening.id).where(Opening.status.in_([OpeningStatus.awaiting_parts, OpeningStatus.decrypting])).order_by(Opening.id)).all()
    for opening_id in active:
        # the opening's row first, as finish_bid takes it, so that the two never wait on each other's bid rows
        op = session.scalars(select(Opening).where(Opening.id == opening_id).with_for_update().execution_options(populate_existing=True)).one()
        if op.status not in (OpeningStatus.awaiting_parts, OpeningStatus.decrypting):
            continue
        stale = session.execute(
            update(OpenedBid).where(OpenedBid.opening_id == op.id, OpenedBid.status == OpenedBidStatus.decrypting, OpenedBid.claimed_at < now - CLAIM_TIMEOUT)
            .values(status=OpenedBidStatus.pending, claimed_at=None).execution_options(synchronize_session=False)
        )
        out["reclaimed"] += int(stale.rowcount or 0)  # type: ignore[attr-defined]
        tender = session.get(Tender, op.tender_id)
        assert tender is not None
        per_subset = _per_subset(tender)
        pending = session.scalars(select(OpenedBid).where(OpenedBid.opening_id == op.id, OpenedBid.status == OpenedBidStatus.pending)
                                  .execution_options(populate_existing=True)).all()
        if not pending:
            _publish_if_done(session, op, now)
            continue
        have: dict[int, list[tuple[int, int]]] = {}
        latest: dict[int, datetime] = {}
        for bid_id, s, p, at in session.execute(select(KeyPart.bid_id, KeyPart.subset_index, KeyPart.position, KeyPart.submitted_at)
                                                .where(KeyPart.opening_id == op.id)):
            have.setdefault(bid_id, []).append((s, p))
            latest[bid_id] = max(latest.get(bid_id, at), at)
        window_over = op.window_ends_at is not None and clock.as_utc(op.window_ends_at) <= now
        revoked = False
        for ob in pending:
            # submit_parts sent it when its parts became complete: send it again only if that was a while ago (lost)
            if _complete_subsets(have.get(ob.bid_id, []), per_subset) and clock.as_utc(latest[ob.bid_id]) <= now - RESEND_AFTER:
                enqueue(session, tender_tasks.decrypt_bid, ob.id)
                out["sent"] += 1
            elif window_over and tender.opening_policy == "quorum+bidder":
                _set_outcome(session, op, ob, OpenedBidStatus.revoked, "bidder_part_missing", now)
                out["revoked"] += 1
                revoked = True
        if revoked:
            _publish_if_done(session, op, now)
    return out


# ---------------------------------------------------------------- objections at the opening (R44) and closing


def raise_objection(session: Session, actor: Actor, tender_id: int, text: str) -> OpeningObjection:
    access.require_role(actor, Role.bidder)
    tender = _tender(session, actor, tender_id)
    if not _has_counted_bid(session, actor, tender):
        raise Forbidden.one("opening_no_bid", N_("Only a company whose bid counts raises an objection at this opening."))
    op = opening_of(session, tender.id)
    if op is None or tender.status != Status.opening:
        raise Conflict.one("opening_not_open", N_("Objections to the opening are raised while the opening is under way."), rule="R44")
    if not text.strip():
        raise ValidationFailed.one("objection_text_missing", N_("Write what your objection is."), "text")
    assert actor.user_id is not None and actor.organisation_id is not None
    obj = OpeningObjection(opening_id=op.id, raised_by=actor.user_id, organisation_id=actor.organisation_id, text=text.strip()[:5000], raised_at=clock.now())
    session.add(obj)
    session.flush()
    record(session, EventTag.opening_objection_recorded, actor=actor, subject=f"tender:{tender.id}",
           details={"objection": obj.id, "kind": "raised", "text": obj.text, "rule": "R44"}, conceal_actor=not is_published(op))
    return obj


def answer_objection(session: Session, actor: Actor, tender_id: int, objection_id: int, answer: str) -> OpeningObjection:
    tender = _tender(session, actor, tender_id)
    access.require_tender_agency(actor, tender)
    op = opening_of(session, tender.id)
    obj = session.get(OpeningObjection, objection_id)
    if op is None or obj is None or obj.opening_id != op.id:
        raise NotFound.one("objection_not_found", N_("No such objection."))
    if obj.answered_at is not None:
        raise Conflict.one("objection_answered", N_("This objection was already answered."))
    if not answer.strip():
        raise ValidationFailed.one("answer_missing", N_("Write the answer."), "answer")
    obj.answer, obj.answered_by, obj.answered_at = answer.strip()[:5000], actor.user_id, clock.now()
    record(session, EventTag.opening_objection_recorded, actor=actor, subject=f"tender:{tender.id}",
           details={"objection": obj.id, "kind": "answered", "answer": obj.answer, "rule": "R44"})
    return obj


def close(session: Session, actor: Actor, tender_id: int) -> Tender:
    """The agency closes the ceremony once every bid has its outcome and every objection its answer."""
    tender = _tender(session, actor, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    op = opening_of(session, tender.id)
    if op is None or not is_published(op):
        raise Conflict.one("opening_not_done", N_("The opening can be closed once every bid has its outcome and the record is published."))
    unanswered = session.scalar(select(func.count()).select_from(OpeningObjection).where(OpeningObjection.opening_id == op.id, OpeningObjection.answered_at.is_(None)))
    if unanswered:
        raise Conflict.one("objections_unanswered", N_("%(count)s objections raised at the opening await their answer: answer them before closing."), rule="R44", count=unanswered)
    lifecycle.apply(tender, Event.start_evaluation)
    record(session, EventTag.opening_closed, actor=actor, subject=f"tender:{tender.id}", details={"record_sha256": op.record_sha256})
    return tender


# ---------------------------------------------------------------- the record (E32)


def _iso(value: datetime | None) -> str | None:
    return clock.as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def record_body(session: Session, tender: Tender, op: Opening) -> dict[str, Any]:
    """The opening record's content, the part whose canonical JSON is hashed (record_sha256)."""
    rows = session.execute(
        select(OpenedBid, Bid, Organisation).join(Bid, Bid.id == OpenedBid.bid_id).join(Organisation, Organisation.id == Bid.organisation_id)
        .where(OpenedBid.opening_id == op.id).order_by(Bid.lot_id, Bid.id).execution_options(populate_existing=True)
    ).all()
    counted = bids.counted_bids(session, tender.id)
    lots = []
    for lot in session.scalars(select(Lot).where(Lot.tender_id == tender.id).order_by(Lot.number)):
        entries = []
        for ob, bid, org in rows:
            if bid.lot_id != lot.id:
                continue
            form = ob.price_form or {}
            entries.append({
                "bid": bid.id, "bidder": org.name, "credit_code": org.credit_code, "sha256": bid.blob_key, "size": bid.size,
                "submitted_at": _iso(bid.submitted_at), "outcome": ob.status, "reason_code": ob.reason_code,
                "total_price_fen": form.get("total_price_fen"), "duration_days": form.get("duration_days"),
                "quality_commitment": form.get("quality_commitment"), "bid_security_reference": form.get("bid_security_reference"),
                "bid_security_status": ("provided" if form.get("bid_security_reference") else "not_provided") if ob.status == OpenedBidStatus.opened else "unknown",
                "files": [{"role": f["role"], "name": f["name"], "size": f["size"]} for f in ob.files or []],
            })
        count = sum(1 for b in counted if b.lot_id == lot.id)
        lots.append({"lot": lot.number, "name": lot.name, "bids_received": count, "opened": bool(entries),
                     "not_opened_reason": "" if entries else "fewer_than_3_bids",
                     "bids": entries})
    holders = _holders(tender)
    quorum_users = list(session.scalars(select(KeyPart.user_id).where(KeyPart.opening_id == op.id, KeyPart.party.is_not(None)).distinct()))
    names = {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(holders)))} if holders else {}
    checked = session.execute(select(Organisation.name, OpeningCheckIn.at).join(Organisation, Organisation.id == OpeningCheckIn.organisation_id)
                              .where(OpeningCheckIn.opening_id == op.id).order_by(OpeningCheckIn.at)).all()
    return {
        "format": RECORD_FORMAT, "version": 1,
        "tender": {"id": tender.id, "reference": tender.reference, "title": tender.title, "policy": tender.opening_policy, "k": tender.key_threshold},
        "opens_at": _iso(op.opens_at), "quorum_at": _iso(op.quorum_at), "window_ends_at": _iso(op.window_ends_at), "finished_at": _iso(op.finished_at),
        "key_holders": [{"name": names.get(uid, ""), "submitted": uid in quorum_users} for uid in holders],
        "check_ins": [{"bidder": name, "at": _iso(at)} for name, at in checked],
        "lots": lots,
    }


def objections_of(session: Session, op: Opening, named: bool) -> list[dict[str, Any]]:
    rows = session.execute(select(OpeningObjection, Organisation).join(Organisation, Organisation.id == OpeningObjection.organisation_id)
                           .where(OpeningObjection.opening_id == op.id).order_by(OpeningObjection.id)).all()
    return [{"id": o.id, "bidder": org.name if named else None, "text": o.text, "raised_at": _iso(o.raised_at), "answer": o.answer,
             "answered_at": _iso(o.answered_at)} for o, org in rows]


def progress(session: Session, tender: Tender, op: Opening) -> dict[str, Any]:
    """What anyone watching may see before the record is published: counts only, never who bid or a price."""
    statuses = list(session.scalars(select(OpenedBid.status).join(Bid, Bid.id == OpenedBid.bid_id).where(OpenedBid.opening_id == op.id).order_by(Bid.lot_id, Bid.id)))
    holders = _holders(tender)
    names = {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(holders)))} if holders else {}
    parts = dict(session.execute(select(KeyPart.user_id, func.count()).where(KeyPart.opening_id == op.id, KeyPart.party.is_not(None)).group_by(KeyPart.user_id)).all())
    checkins = session.scalar(select(func.count()).select_from(OpeningCheckIn).where(OpeningCheckIn.opening_id == op.id)) or 0
    return {
        "status": op.status, "opens_at": _iso(op.opens_at), "quorum_at": _iso(op.quorum_at), "window_ends_at": _iso(op.window_ends_at),
        "finished_at": _iso(op.finished_at), "bids": len(statuses), "k": tender.key_threshold, "policy": tender.opening_policy,
        "outcomes": {s: statuses.count(s) for s in (OpenedBidStatus.pending, OpenedBidStatus.decrypting, *TERMINAL)},
        "bid_statuses": [{"n": i + 1, "status": s} for i, s in enumerate(statuses)],
        "key_holders": [{"name": names.get(uid, ""), "parts": int(parts.get(uid, 0))} for uid in holders],
        "check_ins": int(checkins),
    }


def record_document(session: Session, tender_id: int, actor: Actor | None = None) -> dict[str, Any]:
    """The opening record (E32) as served: public once published; before that only progress (counts)."""
    tender = session.get(Tender, tender_id)
    if tender is None or tender.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    op = opening_of(session, tender.id)
    if op is None:
        raise NotFound.one("opening_not_started", N_("The opening has not started: it starts by itself at the bid deadline."))
    doc: dict[str, Any] = {"format": RECORD_FORMAT, "tender_id": tender.id, "reference": tender.reference, "title": tender.title,
                           "status": op.status, "published": is_published(op)}
    if op.status == OpeningStatus.failed:
        doc["failed"] = tender.cancel_reason
        return doc
    doc["progress"] = progress(session, tender, op)
    if is_published(op):
        doc["record"] = record_body(session, tender, op)
        doc["sha256"] = op.record_sha256
        doc["objections"] = objections_of(session, op, named=True)
    else:
        doc["objections"] = objections_of(session, op, named=False)
    return doc


def published_record(session: Session, tender_id: int) -> dict[str, Any]:
    doc = record_document(session, tender_id)
    if doc["status"] == OpeningStatus.failed:
        raise Conflict.one("opening_failed", N_("No bid was opened: fewer than 3 bids were received and the tender failed (R44). The notice says why."), rule="R44")
    if not doc["published"]:
        raise Conflict.one("record_not_published", N_("The opening record is published once every bid has its outcome; follow the opening page until then."), rule="E32")
    return doc


def version(session: Session, tender_id: int) -> tuple[Any, ...]:
    """A cheap fingerprint of everything the ceremony page shows (the live stream sends a snapshot when it changes)."""
    op = opening_of(session, tender_id)
    if op is None:
        return (None,)
    parts = session.execute(select(func.count(), func.max(KeyPart.id)).where(KeyPart.opening_id == op.id)).one()
    checkins = session.scalar(select(func.count()).select_from(OpeningCheckIn).where(OpeningCheckIn.opening_id == op.id))
    outcomes = tuple(session.execute(select(OpenedBid.status, func.count()).where(OpenedBid.opening_id == op.id).group_by(OpenedBid.status).order_by(OpenedBid.status)).all())
    objections = session.execute(select(func.count(), func.count(OpeningObjection.answered_at)).where(OpeningObjection.opening_id == op.id)).one()
    return (op.status, op.quorum_at, tuple(parts), checkins, outcomes, tuple(objections))


# ---------------------------------------------------------------- the PDF of the record


def font_path() -> str | None:
    import os

    return next((p for p in FONT_PATHS if os.path.exists(p)), None)


def record_pdf(doc: dict[str, Any]) -> bytes | None:
    """The published record as PDF, in Chinese with the Noto CJK font; None when the font is not installed."""
    path = font_path()
    if path is None:
        return None
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    rec = doc["record"]
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=clock.CST))  # deterministic bytes: the date is in the content
    pdf.set_producer("etender")
    pdf.add_font("noto", fname=path, collection_font_number=2)  # index 2 of the collection: Noto Sans CJK SC
    pdf.set_font("noto", size=10)
    pdf.add_page()
    pdf.set_font_size(15)
    pdf.multi_cell(0, 8, f"开标记录 Opening record — {rec['tender']['reference']} {rec['tender']['title']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(9)
    lines = [
        f"开标时间 opens at: {rec['opens_at']}   密钥持有人法定人数到齐 quorum: {rec['quorum_at'] or '-'}   完成 finished: {rec['finished_at'] or '-'}",
        "密钥持有人 key holders: " + "、".join(f"{h['name']}{'（已提交）' if h['submitted'] else ''}" for h in rec["key_holders"]),
        f"记录 SHA-256: {doc['sha256']}",
    ]
    for line in lines:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    outcome_zh = {"opened": "已开启", "revoked": "撤销（投标人原因）", "withdrawn": "撤回（非投标人原因）"}
    for lot in rec["lots"]:
        pdf.ln(2)
        pdf.set_font_size(11)
        pdf.multi_cell(0, 6, f"标段 {lot['lot']} {lot['name']}：收到 {lot['bids_received']} 份投标" + ("" if lot["opened"] else "，不足3家，未开标（R44）"),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(8)
        if not lot["bids"]:
            continue
        heading = FontFace(emphasis=None, fill_color=(230, 230, 230))  # the CJK font has no bold face loaded
        with pdf.table(col_widths=(40, 30, 25, 15, 50, 30, 40), text_align="LEFT", headings_style=heading) as table:
            table.row(["投标人 Bidder", "统一社会信用代码", "投标总价（元）", "工期（天）", "质量承诺", "投标保证金", "结果 Outcome"])
            for b in lot["bids"]:
                price = f"{b['total_price_fen'] / 100:,.2f}" if isinstance(b["total_price_fen"], int) else "-"
                table.row([b["bidder"], b["credit_code"], price, str(b["duration_days"] or "-"), b["quality_commitment"] or "-",
                           b["bid_security_reference"] or "-", outcome_zh.get(b["outcome"], b["outcome"]) + (f" {b['reason_code']}" if b["reason_code"] else "")])
    if doc.get("objections"):
        pdf.ln(2)
        pdf.set_font_size(11)
        pdf.multi_cell(0, 6, "开标现场异议及答复 Objections and answers (R44)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(8)
        for o in doc["objections"]:
            pdf.multi_cell(0, 5, f"{o['bidder'] or ''}（{o['raised_at']}）：{o['text']}\n答复：{o['answer'] or '待答复'}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# ---------------------------------------------------------------- the ceremony page


@dataclass
class CeremonyView:
    tender: Tender
    opening: Opening | None
    doc: dict[str, Any] | None  # record_document(): progress before publication, the record after
    holder: bool
    bidder: bool  # a company with a counted bid
    bidder_part_needed: bool  # quorum+bidder: this bidder submits its own part
    agency: bool
    checked_in: bool
    started: bool  # at or after the opening time, with an opening under way or done

    @property
    def published(self) -> bool:
        return is_published(self.opening)


def ceremony(session: Session, actor: Actor, tender_id: int) -> CeremonyView:
    tender, op = require_watch(session, actor, tender_id)
    bidder = _has_counted_bid(session, actor, tender)
    checked = bool(op and actor.organisation_id and session.scalar(select(OpeningCheckIn.id).where(
        OpeningCheckIn.opening_id == op.id, OpeningCheckIn.organisation_id == actor.organisation_id)))
    doc = record_document(session, tender.id) if op is not None else None
    started = op is not None and op.status != OpeningStatus.failed and clock.now() >= clock.as_utc(op.opens_at)
    return CeremonyView(tender, op, doc, is_holder(actor, tender), bidder, bidder and tender.opening_policy == "quorum+bidder",
                        access.is_tender_agency(actor, tender), checked, started)
