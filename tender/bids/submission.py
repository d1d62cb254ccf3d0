"""Sealed-bid submission (issue 3, E26/E27): staged uploads, the structural check, receipts, replace and
withdraw, and the deadline. Only ciphertext is ever stored.

The functions the opening (tender/opening/) relies on are at the top: counted_bids, expire_unfinished and
header_of."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, cast

from sqlalchemy import Table, and_, bindparam, func, select, text, union_all, update
from sqlalchemy.orm import Session, lazyload

from accounts.models import Organisation, User
from audit import record, refused
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, DomainError, NotFound, ValidationFailed, is_kept
from core.identity import Actor, Role, anonymous, make_actor
from core.signing import SigningKey
from storage.base import BlobInfo, BlobStore, PartBeyondSize, PartInfo, PartsMissing, TooLarge, UploadNotFound
from tender import access, receipts, rules, sealing
from tender.events import TenderTag
from tender.keyholders import PublishedBundle
from tender.lifecycle import Status
from tender.models import Bid, BidStatus, Lot, Registration, Tender

_BIDS = cast(Table, Bid.__table__)  # the table, for the statements that write many rows at once

# ---------------------------------------------------------------- what the opening relies on


def counted_bids(session: Session, tender_id: int) -> list[Bid]:
    """The bids that count (E27: the newest complete submission of each company for each lot), by lot then
    id."""
    stmt = (
        select(Bid)
        .where(Bid.tender_id == tender_id, Bid.status == BidStatus.submitted)
        .order_by(Bid.lot_id, Bid.id)
    )
    return list(session.scalars(stmt))


def expire_unfinished(session: Session, tender_id: int, now: datetime) -> int:
    """E27: an upload not completed by the deadline counts as withdrawn. Returns how many there were."""
    result = session.execute(
        update(Bid)
        .where(Bid.tender_id == tender_id, Bid.status == BidStatus.uploading)
        .values(status=BidStatus.withdrawn, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def header_of(blobs: BlobStore, bid: Bid) -> sealing.Header:
    """The sealed bid's header (its preamble), read from the start of the stored ciphertext."""
    buffer = bytearray()
    for chunk in blobs.open(bid.blob_key):
        buffer.extend(chunk)
        if len(buffer) >= sealing.PREAMBLE_FIXED.size:
            _magic, _version, length = sealing.PREAMBLE_FIXED.unpack_from(buffer)
            if len(buffer) >= sealing.PREAMBLE_FIXED.size + min(length, sealing.MAX_HEADER_SIZE):
                break
    return sealing.read_header(io.BytesIO(bytes(buffer)))


# ---------------------------------------------------------------- submission (E26/E27)
# Services never commit. A refusal that must stay on record (late, or not a sealed bid for this tender) is
# audited and then raised kept (core.errors.DomainError.kept): the unit of work commits its record, then
# answers. Any other refusal of a bid step is recorded by the web layer for every route (request.refused,
# after the rollback); both are folded (audit.refusals).


class _BlobReader(io.RawIOBase):
    """A read-only file over a blob's chunks, for sealing.inspect (it reads the header only)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._buffer = chunks, b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        while n < 0 or len(self._buffer) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if n < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def is_recorded(error: BaseException) -> bool:
    """True for a refusal whose audit record must be committed although the request failed (it is kept)."""
    return is_kept(error)


def _recorded(error: DomainError) -> DomainError:
    return error.keep()


def _size_text(size: int) -> str:
    return f"{size:,} bytes ({size / 1024**2:,.1f} MiB)"


def _refuse_late(
    session: Session, actor: Actor, tender: Tender | _Target, bid: Bid | None, step: str
) -> DomainError:
    """E27/L28: anything after the deadline is refused; the refusal is audited with its window
    (audit/alerts)."""
    refused(  # folded: one actor's repeated late attempts make one entry with their count (audit.refusals)
        session,
        TenderTag.bid_refused,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"reason": "bid_deadline_passed", "window": "bid_deadline", "step": step},
        confidential={"bid": bid.id if bid else None, "lot": bid.lot_id if bid else None},
        conceal_actor=True,
        withhold=Fact.participation,
    )
    return _recorded(_late(tender))


def _late(tender: Tender | _Target) -> DomainError:
    deadline = clock.to_cst(tender.bid_deadline).strftime("%Y-%m-%d %H:%M:%S") if tender.bid_deadline else ""
    return Conflict.one(
        "bid_deadline_passed",
        N_(
            "The bid deadline (%(deadline)s China Standard Time) has passed: bids are no longer accepted. "
            "An upload not completed by the deadline counts as withdrawn (E27)."
        ),
        rule="E27",
        deadline=deadline,
    )


def _tender(session: Session, tender_id: int) -> Tender | None:
    """The tender row alone (its lots, documents and clarifications are not needed here)."""
    return session.get(Tender, tender_id, options=[lazyload("*")])


def _lock_tender(session: Session, tender_id: int) -> Any:
    """The tender's id, status and bid_deadline (what _check_accepting reads), read with a shared lock: taken
    by every write that makes or unmakes a counted bid, before the bid's row, so that the closing of bidding
    (deadlines.close_due_tenders, FOR UPDATE, tender then bids) waits for it and counts what it did. On SQLite
    the writers take turns anyway."""
    return session.connection().execute(_LOCKED_TENDER, {"tender_id": tender_id}).first()


_bundles: dict[tuple[int, str], sealing.KeyBundle] = {}


def _bundle(session: Session, tender_id: int, sha256: str | None = None) -> sealing.KeyBundle | None:
    """The published key bundle (fixed at publication), parsed once per process and bundle. `sha256`: its
    hash, when the caller read it already."""
    if sha256 is None:
        sha256 = session.scalar(select(PublishedBundle.sha256).where(PublishedBundle.tender_id == tender_id))
    if sha256 is None:
        return None
    key = (tender_id, sha256)
    if key not in _bundles:  # the body (the holders' keys, some KiB) is read only when it is not parsed yet
        body = session.scalar(
            select(PublishedBundle.body).where(
                PublishedBundle.tender_id == tender_id, PublishedBundle.sha256 == sha256
            )
        )
        if body is None:
            return None
        if len(_bundles) > 1000:
            _bundles.clear()
        _bundles[key] = sealing.KeyBundle.from_json(json.loads(body))
    return _bundles[key]


def _bidding_tender(session: Session, actor: Actor, tender_id: int) -> Tender:
    access.require_role(actor, Role.bidder)
    tender = _tender(session, tender_id)
    if tender is None or tender.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


def _check_accepting(
    session: Session,
    actor: Actor,
    tender: Tender | _Target,
    bid: Bid | None,
    step: str,
    *,
    audit: bool = True,
) -> None:
    """E27 (server clock) and E52. audit=False (a read-only pre-check) raises a late refusal without recording
    it: the writing unit of work that follows refuses again, and records it."""
    if not rules.bids_open(clock.now(), tender.bid_deadline):
        if not audit:
            raise _late(tender)
        raise _refuse_late(session, actor, tender, bid, step)
    if tender.status == Status.suspended:
        raise Conflict.one(
            "tender_suspended",
            N_("This tender is suspended: bids cannot be uploaded until it resumes. You will be notified."),
            rule="E52",
        )
    if tender.status != Status.published:
        raise Conflict.one(
            "bidding_not_open",
            N_("This tender does not accept bids now (it is %(status)s)."),
            status=tender.status,
        )


def _own_bid(session: Session, actor: Actor, bid_id: int, *, lock: bool = False) -> Bid:
    """The actor's company's bid; any other bid does not exist for it (E21: never confirm another company's
    bid)."""
    access.require_role(actor, Role.bidder)
    stmt = select(Bid).where(Bid.id == bid_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    bid = session.scalars(stmt).one_or_none()
    if bid is None or actor.organisation_id is None or bid.organisation_id != actor.organisation_id:
        raise NotFound.one("bid_not_found", N_("No such bid."))
    return bid


def _locked_with_tender(session: Session, actor: Actor, bid_id: int) -> tuple[Bid, Tender]:
    """The actor's company's bid, locked, and its tender with a shared lock (see _lock_tender), in the order
    the closing of bidding takes them (the tender, then its bids): neither waits for the other in a
    deadlock."""
    tender_id = _own_bid(session, actor, bid_id).tender_id
    _lock_tender(session, tender_id)
    tender = _tender(session, tender_id)
    assert tender is not None
    return _own_bid(session, actor, bid_id, lock=True), tender


def _uploading(bid: Bid) -> None:
    if bid.status != BidStatus.uploading:
        raise Conflict.one(
            "bid_not_uploading",
            N_("This upload is no longer open (it is %(status)s). Start a new upload of your sealed bid."),
            status=bid.status,
        )


def _rows(session: Session) -> dict[Any, Any]:
    """Rows read once per transaction by submit_prepared (the tenders, locked, by id; and under "reuse_locked"
    the tenders whose reuse lock it holds, see _serialise_reuse): a group of one-request bids
    (tender/bids/writer.py) is one transaction. A new transaction starts afresh."""
    transaction = session.get_transaction()
    held = session.info.get("bid_rows")
    if held is None or held[0] is not transaction:
        held = session.info["bid_rows"] = (transaction, {})
    rows: dict[Any, Any] = held[1]
    return rows


@dataclass(frozen=True)
class _Target:
    """What the checks before a submission read, in one query (_target): the user and their company (the
    acting person, and the bidder on the receipt), the tender (`id`, `status`, `bid_deadline`, as
    _check_accepting reads them; `id` None: no such tender), the lot (`lot_id` None: not a lot of this
    tender), whether the company registered for it, and the published key bundle's hash."""

    user_id: int
    username: str
    roles: list[str] | None
    org_id: int | None
    org_kind: str | None
    org_name: str
    org_credit_code: str
    id: int | None
    status: str
    bid_deadline: datetime | None
    reference: str
    title: str
    lot_id: int | None
    lot_number: int
    lot_name: str
    registered: bool
    bundle_sha256: str | None

    def actor(self, ip: str, role: str | None) -> Actor:
        return make_actor(self.user_id, self.username, self.roles, self.org_id, self.org_kind, ip, role)

    def receipt_fields(self) -> dict[str, dict[str, Any]]:
        return _receipt_fields(
            self.id,
            self.reference,
            self.title,
            self.lot_id,
            self.lot_number,
            self.lot_name,
            self.org_id,
            self.org_name,
            self.org_credit_code,
        )


def _receipt_fields(
    tender_id: Any,
    reference: str,
    title: str,
    lot_id: Any,
    lot_number: int,
    lot_name: str,
    org_id: Any,
    org_name: str,
    credit_code: str,
) -> dict[str, dict[str, Any]]:
    """What a receipt says of the tender, the lot and the bidder (receipts.receipt_body)."""
    return {
        "tender": {"id": tender_id, "reference": reference, "title": title},
        "lot": {"id": lot_id, "number": lot_number, "name": lot_name},
        "bidder": {"id": org_id, "name": org_name, "credit_code": credit_code},
    }


# The statements of the busiest paths are built once (bound parameters): building one costs more than running
# it.
_TARGET = (
    select(
        User.id,
        User.username,
        User.roles,
        User.organisation_id,
        Organisation.kind,
        Organisation.name,
        Organisation.credit_code,
        Tender.id,
        Tender.status,
        Tender.bid_deadline,
        Tender.reference,
        Tender.title,
        Lot.id,
        Lot.number,
        Lot.name,
        Registration.id,
        PublishedBundle.sha256,
        User.session_epoch,
    )
    .select_from(User)
    .outerjoin(Organisation, Organisation.id == User.organisation_id)
    .outerjoin(Tender, Tender.id == bindparam("tender_id"))
    .outerjoin(Lot, and_(Lot.id == bindparam("lot_id"), Lot.tender_id == Tender.id))
    .outerjoin(
        Registration,
        and_(Registration.lot_id == Lot.id, Registration.organisation_id == User.organisation_id),
    )
    .outerjoin(PublishedBundle, PublishedBundle.tender_id == Tender.id)
    .where(User.id == bindparam("user_id"), User.active.is_(True))
)
_PREVIOUS = (
    select(Bid.id, Bid.lot_id, Bid.organisation_id)
    .where(
        Bid.status == BidStatus.submitted,
        Bid.lot_id.in_(bindparam("lots", expanding=True)),
        Bid.organisation_id.in_(bindparam("orgs", expanding=True)),
    )
    .order_by(Bid.id)
    .with_for_update()
)
# RETURNING makes SQLAlchemy send many rows as one INSERT ... VALUES (...), (...) ("insertmanyvalues") instead
# of a statement per row; the ids it returns are the ones given.
_INSERT = _BIDS.insert().returning(_BIDS.c.id, sort_by_parameter_order=True)
_LOCKED_TENDER = (  # see _lock_tender
    select(Tender.id, Tender.status, Tender.bid_deadline)
    .where(Tender.id == bindparam("tender_id"))
    .with_for_update(read=True)
)
_REUSE_LOCK = text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:tender_id AS integer))")
_REUSE_SPACE = 0x62696473  # "bids": the advisory-lock space of _serialise_reuse, apart from any other use
# A submitted file's digest and header bid id: each is looked up by its own index (ix_bids_tender_blob_key,
# ix_bids_tender_sealed_bid_id), never by a scan of the tender's bids. Two selects, not one with an OR, which
# the planners (SQLite's always, PostgreSQL's by its estimates) answer from the tender_id index alone.
_COMPLETED = [BidStatus.submitted, BidStatus.replaced, BidStatus.withdrawn]
_USED_COLUMNS = (Bid.id, Bid.tender_id, Bid.organisation_id, Bid.blob_key, Bid.sealed_bid_id)
_USED = union_all(
    select(*_USED_COLUMNS).where(
        Bid.tender_id.in_(bindparam("tenders", expanding=True)),
        Bid.blob_key.in_(bindparam("keys", expanding=True)),
        Bid.status.in_(_COMPLETED),
    ),
    select(*_USED_COLUMNS).where(
        Bid.tender_id.in_(bindparam("tenders", expanding=True)),
        Bid.sealed_bid_id.in_(bindparam("sealed", expanding=True)),
        Bid.status.in_(_COMPLETED),
    ),
)
_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence('bids', 'id')) FROM generate_series(1, :n)")
_TOP_ID = select(func.max(_BIDS.c.id))
_REPLACED = (
    _BIDS.update()
    .where(_BIDS.c.id == bindparam("b_id"))
    .values(status=BidStatus.replaced, ended_at=bindparam("b_at"))
)


def _target(
    session: Session, tender_id: int, lot_id: int, user_id: int, epoch: int | None = None
) -> _Target | None:
    """None: no such active user, or (`epoch` given) a session of an earlier epoch
    (accounts.services.load_actor)."""
    row = (
        session.connection()
        .execute(_TARGET, {"tender_id": tender_id, "lot_id": lot_id, "user_id": user_id})
        .first()
    )  # Core rows
    if row is None:
        return None
    (
        uid,
        username,
        roles,
        org_id,
        org_kind,
        org_name,
        credit_code,
        tid,
        status,
        deadline,
        reference,
        title,
        lid,
        number,
        name,
        registration,
        sha256,
        session_epoch,
    ) = row
    if epoch is not None and session_epoch != epoch:
        return None
    return _Target(
        uid,
        username,
        roles,
        org_id,
        org_kind,
        org_name or "",
        credit_code or "",
        tid,
        status or "",
        deadline,
        reference or "",
        title or "",
        lid,
        number or 0,
        name or "",
        registration is not None,
        sha256,
    )


def _lot_checks(
    session: Session,
    actor: Actor,
    tender_id: int,
    lot_id: int,
    size: int,
    max_bytes: int,
    step: str,
    *,
    audit: bool = True,
    target: _Target | None = None,
) -> tuple[_Target, sealing.KeyBundle]:
    """Before any submission of `size` bytes for a lot, in this order: a bidder, a tender that is not a draft,
    a lot of it, the tender accepting bids (E27 by the server clock now, E52), the company registered for the
    lot, a size within the limit, and a published key bundle. One query (_target), unless the caller made
    it."""
    access.require_role(actor, Role.bidder)
    assert actor.organisation_id is not None and actor.user_id is not None
    if target is None:
        target = _target(session, tender_id, lot_id, actor.user_id)
    if target is None or target.id is None or target.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    if target.lot_id is None:
        raise ValidationFailed.one("lot_invalid", N_("Choose a lot of this tender."), "lot_id")
    _check_accepting(session, actor, target, None, step, audit=audit)
    if not target.registered:
        raise Conflict.one(
            "not_registered",
            N_(
                "Your company is not registered for lot %(number)s. Register for the lot on the tender "
                "page first, then upload your bid."
            ),
            "lot_id",
            number=target.lot_number,
        )
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValidationFailed.one(
            "bid_size_invalid",
            N_("Give the size of the sealed file in bytes (a whole number above zero)."),
            "size",
        )
    if size > max_bytes:
        raise ValidationFailed.one(
            "bid_too_large",
            N_(
                "The sealed bid is %(size)s; the largest accepted is %(limit)s. Reduce the "
                "attached files and seal the bid again."
            ),
            "size",
            size=_size_text(size),
            limit=_size_text(max_bytes),
        )
    bundle = _bundle(session, target.id, target.bundle_sha256)
    if bundle is None:
        raise Conflict.one("bundle_not_found", N_("This tender has no published key bundle."))
    return target, bundle


def begin(
    session: Session,
    actor: Actor,
    blobs: BlobStore,
    tender_id: int,
    lot_id: int,
    size: int,
    *,
    max_bytes: int,
) -> Bid:
    """Start a sealed-bid upload of `size` bytes for a lot: the company registered for it, before the
    deadline."""
    target, _ = _lot_checks(session, actor, tender_id, lot_id, size, max_bytes, "begin")
    assert actor.organisation_id is not None and actor.user_id is not None
    now = clock.now()
    earlier = session.scalars(
        select(Bid)
        .where(
            Bid.lot_id == lot_id,
            Bid.organisation_id == actor.organisation_id,
            Bid.status == BidStatus.uploading,
        )
        .with_for_update()
    )
    for old in earlier:
        old.status, old.ended_at = BidStatus.abandoned, now
        with contextlib.suppress(UploadNotFound):
            blobs.abort_upload(old.upload_id)
    bid = Bid(
        tender_id=target.id,
        lot_id=lot_id,
        organisation_id=actor.organisation_id,
        user_id=actor.user_id,
        status=BidStatus.uploading,
        upload_id=blobs.begin_upload(max_size=size),
        declared_size=size,
        ip=actor.ip or "",
        started_at=now,
    )
    session.add(bid)
    session.flush()
    record(
        session,
        TenderTag.bid_upload_started,
        actor=actor,
        subject=f"tender:{target.id}",
        confidential={"bid": bid.id, "lot": lot_id, "size": size},
        conceal_actor=True,
        withhold=Fact.participation,
    )
    return bid


def write_part(
    session: Session, actor: Actor, blobs: BlobStore, bid_id: int, number: int, chunks: Iterable[bytes]
) -> PartInfo:
    """Store part `number` (from 1) of an open upload; a retried part replaces the same part."""
    bid = _own_bid(session, actor, bid_id)
    _uploading(bid)
    tender = _tender(session, bid.tender_id)
    assert tender is not None
    _check_accepting(session, actor, tender, bid, "part")
    try:
        return blobs.write_part(bid.upload_id, number, chunks)
    except TooLarge as e:
        if e.part:
            raise ValidationFailed.one(
                "part_too_large",
                N_("A part holds at most %(limit)s; send the file in parts of that size."),
                "part",
                limit=_size_text(e.limit),
            ) from e
        raise ValidationFailed.one(
            "bid_larger_than_declared",
            N_(
                "The upload is larger than the %(limit)s announced when it started. Start a new "
                "upload with the file's real size."
            ),
            "part",
            limit=_size_text(e.limit),
        ) from e
    except UploadNotFound as e:
        raise Conflict.one(
            "upload_gone", N_("This upload is no longer open. Start a new upload of your sealed bid.")
        ) from e
    except PartBeyondSize as e:
        # stored, such a part would make the upload impossible to complete: nothing of it is kept
        raise ValidationFailed.one(
            "part_beyond_size",
            N_(
                "A file of %(size)s is sent in %(count)s parts, so there is no part %(number)s. Number "
                "the parts from 1 to %(count)s."
            ),
            "part",
            size=_size_text(bid.declared_size),
            count=e.count,
            number=number,
        ) from e
    except ValueError as e:
        raise ValidationFailed.one(
            "part_number_invalid", N_("Part numbers run from 1 to %(max)s."), "part", max=10_000
        ) from e


def received_parts(session: Session, actor: Actor, blobs: BlobStore, bid_id: int) -> list[PartInfo]:
    """The parts stored so far, to resume an upload after a dropped connection."""
    bid = _own_bid(session, actor, bid_id)
    if bid.status != BidStatus.uploading:
        return []
    try:
        return blobs.parts(bid.upload_id)
    except UploadNotFound:
        return []


def prepare_complete(session: Session, actor: Actor, blobs: BlobStore, bid_id: int) -> None:
    """Optional, read-only: assemble and hash the staged upload of the actor's own open upload before the unit
    of work that completes it, so that the (long, for a large bid) hashing holds no write lock. complete()
    decides everything; an upload assembled here and then refused stays in the store, and complete_upload is
    idempotent."""
    bid = _own_bid(session, actor, bid_id)
    tender = _tender(session, bid.tender_id)
    if (
        bid.status != BidStatus.uploading
        or tender is None
        or not rules.bids_open(clock.now(), tender.bid_deadline)
    ):
        return
    with contextlib.suppress(PartsMissing, UploadNotFound, TooLarge):
        blobs.complete_upload(bid.upload_id)


def complete(session: Session, actor: Actor, blobs: BlobStore, bid_id: int, signer: SigningKey) -> Bid:
    """Commit the upload before the deadline, check it is a sealed bid for this tender and lot (E26), make it
    the company's bid for the lot (the previous one is replaced) and sign the receipt (E27). Calling it again
    on a submitted bid returns it unchanged (a client whose connection dropped asks again)."""
    # the reuse check's turn (R40) first, as submit_prepared takes it: before the tender's lock and any audit
    # entry
    _serialise_reuse(session, [_own_bid(session, actor, bid_id).tender_id])
    bid, tender = _locked_with_tender(session, actor, bid_id)
    if bid.status == BidStatus.submitted and bid.receipt:
        return bid
    _uploading(bid)
    lot = session.get(Lot, bid.lot_id)
    org = session.get(Organisation, bid.organisation_id)
    assert tender is not None and lot is not None and org is not None
    _check_accepting(session, actor, tender, bid, "complete")
    try:
        info = blobs.complete_upload(bid.upload_id)
    except PartsMissing as e:
        raise Conflict.one(
            "parts_missing",
            N_("The upload is missing parts %(parts)s. Send them, then complete the upload."),
            parts=", ".join(str(n) for n in e.missing[:20]),
        ) from e
    except UploadNotFound as e:
        raise Conflict.one(
            "upload_gone", N_("This upload is no longer open. Start a new upload of your sealed bid.")
        ) from e
    except TooLarge as e:
        raise ValidationFailed.one(
            "bid_larger_than_declared",
            N_(
                "The upload is larger than the %(limit)s announced when it started. Start a new "
                "upload with the file's real size."
            ),
            "part",
            limit=_size_text(e.limit),
        ) from e
    now = clock.now()
    bid.blob_key, bid.size = info.key, info.size
    bundle = _bundle(session, tender.id)
    assert bundle is not None
    reader = cast(BinaryIO, _BlobReader(blobs.open(info.key)))  # reads like a file: all the check needs
    header = _inspect_or_refuse(session, actor, tender.id, bid, bundle, reader, info, now)
    reused = _claims(session, [(tender.id, info.key, header.bid_id)]).other(
        tender.id, bid.organisation_id, info.key, header.bid_id
    )
    if reused is not None:
        bid.status, bid.ended_at = (
            BidStatus.abandoned,
            now,
        )  # the file stays stored, as for a refused E26 check
        raise _refuse_reused(session, actor, tender.id, bid.id, bid.lot_id, info, header, *reused)
    _make_submitted(session, actor, tender, lot, org, bid, info, header, signer, now)
    return bid


def _inspect_or_refuse(
    session: Session,
    actor: Actor,
    tender_id: int,
    bid: Bid,
    bundle: sealing.KeyBundle,
    stream: BinaryIO,
    info: BlobInfo,
    now: datetime,
) -> sealing.Header:
    """E26: the stored file must be a well-formed sealed bid for this tender and lot. A refusal is recorded
    and the bid abandoned; the blob stays, so nothing uploaded is lost."""
    try:
        return sealing.inspect(stream, bundle, lot_id=bid.lot_id, total_size=info.size)
    except sealing.SealedBidInvalid as e:
        bid.status, bid.ended_at = BidStatus.abandoned, now
        raise _refuse_invalid(session, actor, tender_id, bid.id, bid.lot_id, info, e) from None


def _refuse_invalid(
    session: Session,
    actor: Actor,
    tender_id: int,
    bid_id: int,
    lot_id: int,
    info: BlobInfo,
    error: sealing.SealedBidInvalid,
) -> DomainError:
    """E26: the refusal of a file that is not a sealed bid for this tender and lot, recorded (the file is
    kept)."""
    refused(  # folded, as a late attempt is
        session,
        TenderTag.bid_refused,
        actor=actor,
        subject=f"tender:{tender_id}",
        details={"reason": error.code},
        confidential={"bid": bid_id, "lot": lot_id, "sha256": info.key, "size": info.size},
        conceal_actor=True,
        withhold=Fact.participation,
    )
    return _recorded(error)


def _previous(session: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """The submitted bids of these (lot, company) pairs, locked, oldest first: the bids a new submission
    replaces (usually none, at most one each). One indexed query (ix_bids_lot_org_status) for any number of
    pairs."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rows = session.execute(
        _PREVIOUS, {"lots": sorted({lot for lot, _ in pairs}), "orgs": sorted({org for _, org in pairs})}
    ).all()
    out: dict[tuple[int, int], list[int]] = {}
    for bid_id, lot_id, org_id in rows:
        if (lot_id, org_id) in pairs:
            out.setdefault((lot_id, org_id), []).append(bid_id)
    return out


# ---------------------------------------------------------------- one sealed file, one company (R40)
# A sealed file (its SHA-256, the blob key) and the bid id in its header belong to the company that submitted
# them first on a tender. Another company's submission of the same file, or of a file with the same header
# bid_id, is refused, recorded and kept, and the monitors are alerted (supervision.alerts.reused_sealed_bids):
# identical bid files from different bidders are deemed collusion (R40), and before the opening was keyed by
# platform bid ids a shared header bid_id froze it. The same company submitting the same file again replaces
# its own bid as any resubmission does (E27). Submitted, replaced and withdrawn bids keep their claim: a file
# passed on after its first owner withdrew it is no less a shared file.

REUSE_RULE = "R40"


@dataclass(frozen=True, slots=True)
class _Used:
    """A completed bid that holds a sealed file or header bid id on its tender."""

    bid_id: int
    organisation_id: int


class _Claims:
    """The sealed files and header bid ids used on some tenders, as read under _serialise_reuse, and those of
    the bids accepted since in the same transaction (a group of one-request bids)."""

    def __init__(self) -> None:
        self._by: dict[tuple[str, int, str], list[_Used]] = {}

    def add(self, tender_id: int, blob_key: str, sealed_bid_id: str, used: _Used) -> None:
        for what, value in (("file", blob_key), ("bid_id", sealed_bid_id)):
            if value:
                self._by.setdefault((what, tender_id, value), []).append(used)

    def other(
        self, tender_id: int, organisation_id: int | None, blob_key: str, sealed_bid_id: str
    ) -> tuple[str, _Used] | None:
        """What of this file another company used already on the tender ("file" first, then "bid_id"), and its
        bid."""
        for what, value in (("file", blob_key), ("bid_id", sealed_bid_id)):
            for used in self._by.get((what, tender_id, value), []):
                if used.organisation_id != organisation_id:
                    return what, used
        return None


def _serialise_reuse(session: Session, tender_ids: Iterable[int]) -> None:
    """Make the submissions to these tenders take turns until their transactions end, so that the check for a
    reused file and the insert that follows it are one step: two companies sending the same file at the same
    moment cannot both pass. On PostgreSQL a transaction-scoped advisory lock per tender, taken in id order
    (no two groups wait for each other); SQLite's writers take turns anyway (BEGIN IMMEDIATE, core/db.py)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    held = _rows(session).setdefault("reuse_locked", set())
    for tender_id in sorted(set(tender_ids) - held):
        connection.execute(_REUSE_LOCK, {"space": _REUSE_SPACE, "tender_id": tender_id})
        held.add(tender_id)


def _claims(session: Session, wanted: list[tuple[int, str, str]]) -> _Claims:
    """The completed bids holding any of these (tender, sealed file digest, header bid id): one indexed
    query."""
    claims = _Claims()
    if not wanted:
        return claims
    params = {
        "tenders": sorted({t for t, _, _ in wanted}),
        "keys": sorted({k for _, k, _ in wanted if k}) or [""],
        "sealed": sorted({b for _, _, b in wanted if b}) or [""],
    }
    for bid_id, tender_id, org_id, blob_key, sealed_bid_id in sorted(
        session.connection().execute(_USED, params)
    ):  # oldest first
        claims.add(tender_id, blob_key, sealed_bid_id, _Used(bid_id, org_id))
    return claims


_REUSE_MESSAGES = {
    "file": (
        "sealed_file_reused",
        N_(
            "This sealed file was already submitted for this tender by another company. Identical "
            "bid files from different bidders are deemed collusion (R40): the attempt is recorded "
            "and the monitors are alerted. Seal your own bid afresh on the sealing page or with "
            "`etender bid seal`, and upload the new file."
        ),
    ),
    "bid_id": (
        "sealed_bid_id_reused",
        N_(
            "The bid id in this sealed file's header is already used for this tender by another company's "
            "bid. Bid files shared between bidders are deemed collusion (R40): the attempt is recorded and "
            "the monitors are alerted. Seal your own bid afresh on the sealing page or with `etender bid "
            "seal`: each sealing gives a new bid id."
        ),
    ),
}


def _refuse_reused(
    session: Session,
    actor: Actor,
    tender_id: int,
    bid_id: int,
    lot_id: int,
    info: BlobInfo,
    header: sealing.Header,
    what: str,
    used: _Used,
) -> DomainError:
    """R40: the refusal of a sealed file (or header bid id) another company's bid holds, recorded with both
    bids for the monitors' alert and kept. The reason and the other bid stay in the confidential part with the
    actor: that a file is another company's says that this tender has another bid (E21)."""
    code, message = _REUSE_MESSAGES[what]
    record(
        session,
        TenderTag.bid_refused,
        actor=actor,
        subject=f"tender:{tender_id}",
        confidential={
            "reason": code,
            "rule": REUSE_RULE,
            "bid": bid_id,
            "lot": lot_id,
            "sha256": info.key,
            "size": info.size,
            "sealed_bid_id": header.bid_id,
            "same_as_bid": used.bid_id,
            "same_as_organisation": used.organisation_id,
        },
        conceal_actor=True,
    )
    return _recorded(Conflict.one(code, message, rule=REUSE_RULE))


def _submission(
    session: Session,
    actor: Actor,
    signer: SigningKey,
    *,
    bid_id: int,
    lot_id: int,
    fields: dict[str, dict[str, Any]],
    info: BlobInfo,
    header: sealing.Header,
    now: datetime,
    replaces: list[int],
) -> tuple[int, dict[str, Any]]:
    """E27, what makes a checked sealed bid the company's bid for its lot: a bid_replaced entry for each bid
    it replaces (the caller marks them replaced), one bid_submitted entry, and the signed receipt. Returns the
    entry's index and the receipt document."""
    tender_id = fields["tender"]["id"]
    for old_id in replaces:
        record(
            session,
            TenderTag.bid_replaced,
            actor=actor,
            subject=f"tender:{tender_id}",
            confidential={"bid": old_id, "lot": lot_id, "replaced_by": bid_id},
            conceal_actor=True,
            withhold=Fact.participation,
        )
    entry = record(
        session,
        TenderTag.bid_submitted,
        actor=actor,
        subject=f"tender:{tender_id}",
        confidential={
            "bid": bid_id,
            "tender": tender_id,
            "lot": lot_id,
            "sha256": info.key,
            "size": info.size,
        },
        conceal_actor=True,
        withhold=Fact.participation,
    )
    body = receipts.receipt_body(
        origin=signer.name,
        bid_id=bid_id,
        **fields,
        sha256=info.key,
        size=info.size,
        sealed_bid_id=header.bid_id,
        server_time=now,
        audit_index=entry.index,
        audit_leaf_hash=entry.leaf_hash.hex(),
    )
    return entry.index, receipts.sign_receipt(body, signer)


def _mark_replaced(session: Session, replaced: list[tuple[int, datetime]]) -> None:
    """(bid id, when) pairs: each bid replaced by a newer submission at that time (E27)."""
    if replaced:
        session.execute(_REPLACED, [{"b_id": bid_id, "b_at": at} for bid_id, at in replaced])


def _make_submitted(
    session: Session,
    actor: Actor,
    tender: Tender,
    lot: Lot,
    org: Organisation,
    bid: Bid,
    info: BlobInfo,
    header: sealing.Header,
    signer: SigningKey,
    now: datetime,
) -> None:
    """E27 for a completed resumable upload: the bid becomes the company's bid for the lot (see
    _submission)."""
    previous = [
        i
        for i in _previous(session, [(bid.lot_id, bid.organisation_id)]).get(
            (bid.lot_id, bid.organisation_id), []
        )
        if i != bid.id
    ]
    _mark_replaced(session, [(old_id, now) for old_id in previous])
    bid.status, bid.submitted_at, bid.sealed_bid_id = BidStatus.submitted, now, header.bid_id
    bid.audit_index, doc = _submission(
        session,
        actor,
        signer,
        bid_id=bid.id,
        lot_id=bid.lot_id,
        fields=_receipt_fields(
            tender.id,
            tender.reference,
            tender.title,
            lot.id,
            lot.number,
            lot.name,
            org.id,
            org.name,
            org.credit_code,
        ),
        info=info,
        header=header,
        now=now,
        replaces=previous,
    )
    bid.receipt, bid.receipt_signature, bid.receipt_signer = doc["body"], doc["signature"], doc["signer"]
    session.flush()


# ---------------------------------------------------------------- one request for a small bid (E26/E27)
# A sealed bid of at most one part (blobs.part_limit) may be sent whole in one request: the same checks and
# the same result as begin + one part + complete, with one audit entry (bid_submitted; no bid_upload_started,
# as nothing stays open). A deadline burst of small bids then costs a third of the requests. It is done in two
# steps: prepare_whole, read-only and outside the database's write lock, checks all that cannot change (the
# registration, the lot, the size, E26's structural check) and stores the ciphertext; submit_prepared then
# decides a whole group of prepared bids under the write lock, in one transaction, with one statement per kind
# of write for the group: the group writer queues the bids that arrive together (group commit,
# tender/bids/writer.py).


def _whole_size(data: bytes, part_limit: int) -> int:
    if len(data) > part_limit:
        raise ValidationFailed.one(
            "bid_too_large_for_one_request",
            N_(
                "A sealed bid sent in one request holds at most %(limit)s; this one is larger. Send it "
                "with the resumable upload in parts (the upload page does this by itself)."
            ),
            "body",
            limit=_size_text(part_limit),
        )
    if not data:
        raise ValidationFailed.one(
            "bid_body_empty",
            N_("The request holds no sealed bid: send the sealed file itself as the request body."),
            "body",
        )
    return len(data)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A bid submit_prepared accepted, as its receipt states it: the row written, and the signed receipt."""

    id: int
    tender_id: int
    lot_id: int
    organisation_id: int
    status: str
    blob_key: str
    size: int
    audit_index: int
    receipt: str
    receipt_signature: str
    receipt_signer: str


@dataclass(frozen=True)
class WholeBid:
    """A small sealed bid as prepare_whole leaves it for submit_prepared. `info` is None for a bid that came
    after the deadline (submit_prepared records the refusal); `invalid` is set for a file that is not a sealed
    bid for this tender and lot (E26: refused, recorded and kept)."""

    actor: Actor
    tender_id: int
    lot_id: int
    info: BlobInfo | None = None
    header: sealing.Header | None = None
    invalid: sealing.SealedBidInvalid | None = None
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # the receipt's tender, lot and bidder


def prepare_whole(
    session: Session,
    actor: Actor,
    blobs: BlobStore,
    tender_id: int,
    lot_id: int,
    data: bytes,
    *,
    max_bytes: int,
) -> WholeBid:
    """Read-only, before the writing unit of work: begin's checks (a bidder whose company registered for this
    lot of this published tender, within the size limits, the tender accepting bids) and E26's structural
    check, then the ciphertext stored durably (blobs.put, fsynced; so this slow step holds no write lock). A
    refusal that is not recorded is raised here; a late one (E27) is left to submit_prepared, which records
    it. What can change meanwhile (the tender's status, the deadline) is decided again by submit_prepared;
    what cannot is not: a registration is never removed, the published key bundle never changes."""
    return _prepare(session, actor, blobs, tender_id, lot_id, data, max_bytes, None)


def prepare_whole_as(
    session: Session,
    user_id: int | None,
    ip: str,
    role: str | None,
    blobs: BlobStore,
    tender_id: int,
    lot_id: int,
    data: bytes,
    *,
    max_bytes: int,
    epoch: int = 0,
) -> tuple[Actor, WholeBid | DomainError]:
    """prepare_whole for the logged-in user `user_id` (None: nobody) whose session has `epoch`, whose acting
    person is read by the same query as the checks: the acting person, and the prepared bid or its refusal."""
    target = _target(session, tender_id, lot_id, user_id, epoch) if user_id is not None else None
    actor = target.actor(ip, role) if target is not None else anonymous(ip)
    try:
        return actor, _prepare(session, actor, blobs, tender_id, lot_id, data, max_bytes, target)
    except DomainError as e:
        return actor, e


def _prepare(
    session: Session,
    actor: Actor,
    blobs: BlobStore,
    tender_id: int,
    lot_id: int,
    data: bytes,
    max_bytes: int,
    target: _Target | None,
) -> WholeBid:
    size = _whole_size(data, blobs.part_limit)
    try:
        target, bundle = _lot_checks(
            session, actor, tender_id, lot_id, size, max_bytes, "whole", audit=False, target=target
        )
    except DomainError as e:
        if e.problems[0].code != "bid_deadline_passed":
            raise
        return WholeBid(actor, tender_id, lot_id)
    info = blobs.put([data], max_size=size)
    try:
        header, invalid = sealing.inspect(io.BytesIO(data), bundle, lot_id=lot_id, total_size=size), None
    except sealing.SealedBidInvalid as e:
        header, invalid = None, e
    return WholeBid(actor, tender_id, lot_id, info, header, invalid, target.receipt_fields())


def submit_prepared(
    session: Session, signer: SigningKey, items: list[WholeBid]
) -> list[Submitted | DomainError]:
    """Decide prepared bids in the caller's transaction, in order (E27 by the server clock as each is
    decided): for each, the company's new bid with its signed receipt (Submitted), or its refusal (recorded
    where it must be: late, or not a sealed bid, whose file is kept and whose row is abandoned). A later bid
    of the same company and lot replaces an earlier one, here as across groups. Nothing is written for an
    unrecorded refusal. The tenders are read with a shared lock, so that the closing of bidding
    (deadlines.close_due_tenders, FOR UPDATE) waits for these bids to be committed and counts them."""
    rows = _rows(session)
    results: list[Submitted | DomainError | None] = [None] * len(items)
    inserts: list[tuple[int, dict[str, Any]]] = []  # (position, row)
    _serialise_reuse(session, [item.tender_id for item in items if item.header is not None])
    for i, item in enumerate(items):
        actor = item.actor
        if item.tender_id not in rows:
            rows[item.tender_id] = _lock_tender(session, item.tender_id)
        tender = rows[item.tender_id]
        try:
            if tender is None:
                raise NotFound.one("tender_not_found", N_("No such tender."))
            if (
                item.info is None
            ):  # after the deadline when it was prepared: the server clock does not go back
                raise _refuse_late(session, actor, tender, None, "whole")
            _check_accepting(session, actor, tender, None, "whole")
        except DomainError as e:
            results[i] = e
            continue
        now = clock.now()
        info = item.info
        inserts.append(
            (
                i,
                {
                    "tender_id": item.tender_id,
                    "lot_id": item.lot_id,
                    "organisation_id": actor.organisation_id,
                    "user_id": actor.user_id,
                    "upload_id": "",
                    "declared_size": info.size,
                    "blob_key": info.key,
                    "size": info.size,
                    "ip": actor.ip or "",
                    "started_at": now,
                    "audit_index": None,
                    "receipt": "",
                    "receipt_signature": "",
                    "receipt_signer": "",
                    **(
                        {
                            "status": BidStatus.abandoned,
                            "ended_at": now,
                            "sealed_bid_id": "",
                            "submitted_at": None,
                        }
                        if item.invalid
                        else {
                            "status": BidStatus.submitted,
                            "ended_at": None,
                            "sealed_bid_id": item.header.bid_id,  # type: ignore[union-attr]
                            "submitted_at": now,
                        }
                    ),
                },
            )
        )  # type: ignore[union-attr]
    if not inserts:
        return results  # type: ignore[return-value]
    previous = _previous(
        session,
        [
            (row["lot_id"], row["organisation_id"])
            for _, row in inserts
            if row["status"] == BidStatus.submitted
        ],
    )
    claims = _claims(
        session,
        [
            (row["tender_id"], row["blob_key"], row["sealed_bid_id"])
            for _, row in inserts
            if row["status"] == BidStatus.submitted
        ],
    )
    ids = _new_ids(session, len(inserts))
    in_group: dict[int, dict[str, Any]] = {}
    replaced: list[tuple[int, datetime]] = []  # bids already in the database
    for (i, row), bid_id in zip(inserts, ids, strict=True):
        row["id"] = bid_id
        item = items[i]
        assert item.info is not None
        if item.invalid is not None:
            results[i] = _refuse_invalid(
                session, item.actor, item.tender_id, bid_id, item.lot_id, item.info, item.invalid
            )
            continue
        assert item.header is not None
        reused = claims.other(row["tender_id"], row["organisation_id"], row["blob_key"], row["sealed_bid_id"])
        if reused is not None:  # R40: written as abandoned, its file kept, like a refused E26 check
            row.update(
                status=BidStatus.abandoned, ended_at=row["started_at"], sealed_bid_id="", submitted_at=None
            )
            results[i] = _refuse_reused(
                session, item.actor, item.tender_id, bid_id, item.lot_id, item.info, item.header, *reused
            )
            continue
        claims.add(
            row["tender_id"], row["blob_key"], row["sealed_bid_id"], _Used(bid_id, row["organisation_id"])
        )
        pair = (row["lot_id"], row["organisation_id"])
        replaces = previous.get(pair, [])
        for old_id in replaces:
            if old_id in in_group:  # an earlier bid of this group: written as replaced
                in_group[old_id].update(status=BidStatus.replaced, ended_at=row["started_at"])
            else:
                replaced.append((old_id, row["started_at"]))
        previous[pair] = [bid_id]  # a later bid of the group for the same lot replaces this one
        in_group[bid_id] = row
        index, doc = _submission(
            session,
            item.actor,
            signer,
            bid_id=bid_id,
            lot_id=item.lot_id,
            fields=item.fields,
            info=item.info,
            header=item.header,
            now=row["started_at"],
            replaces=replaces,
        )
        row.update(
            audit_index=index,
            receipt=doc["body"],
            receipt_signature=doc["signature"],
            receipt_signer=doc["signer"],
        )
    written = (
        session.execute(_INSERT, [row for _, row in inserts]).scalars().all()
    )  # each row whole, its receipt included
    assert list(written) == ids
    _mark_replaced(session, replaced)
    for i, row in inserts:
        if results[i] is None:
            results[i] = Submitted(
                row["id"],
                row["tender_id"],
                row["lot_id"],
                row["organisation_id"],
                row["status"],
                row["blob_key"],
                row["size"],
                row["audit_index"],
                row["receipt"],
                row["receipt_signature"],
                row["receipt_signer"],
            )
    return results  # type: ignore[return-value]


def _new_ids(session: Session, n: int) -> list[int]:
    """Ids for n new bids, taken before their rows are written, so that each row is inserted whole: from the
    sequence on PostgreSQL; on SQLite, above the largest id, under the write lock the transaction holds from
    its BEGIN IMMEDIATE (core/db.py), which is how SQLite numbers a row itself."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return sorted(connection.execute(_NEXT_IDS, {"n": n}).scalars())
    top = connection.execute(_TOP_ID).scalar() or 0
    return list(range(top + 1, top + 1 + n))


def submit_whole(
    session: Session,
    actor: Actor,
    blobs: BlobStore,
    tender_id: int,
    lot_id: int,
    data: bytes,
    signer: SigningKey,
    *,
    max_bytes: int,
) -> Bid:
    """Submit a small sealed bid whole (at most blobs.part_limit bytes), prepared and decided in the caller's
    transaction: the company's new bid (the session's row), or the refusal raised. An upload of the same lot
    still in progress is left open: if it is completed later it is the newer bid and replaces this one
    (E27)."""
    result = submit_prepared(
        session, signer, [prepare_whole(session, actor, blobs, tender_id, lot_id, data, max_bytes=max_bytes)]
    )[0]
    if isinstance(result, DomainError):
        raise result
    bid = session.get(Bid, result.id)
    assert bid is not None
    return bid


def withdraw(session: Session, actor: Actor, bid_id: int) -> Bid:
    """E27: a bidder may withdraw its own bid before the deadline; then the company has no bid on that lot."""
    bid, tender = _locked_with_tender(session, actor, bid_id)
    if bid.status not in (BidStatus.submitted, BidStatus.uploading):
        raise Conflict.one(
            "bid_not_withdrawable",
            N_("Only a submitted bid or an upload in progress can be withdrawn; this one is %(status)s."),
            status=bid.status,
        )
    _check_accepting(session, actor, tender, bid, "withdraw")
    was = bid.status
    bid.status, bid.ended_at = BidStatus.withdrawn, clock.now()
    # A staged upload is left to the upload sweep: aborting it before the commit could lose it on a rollback.
    record(
        session,
        TenderTag.bid_withdrawn,
        actor=actor,
        subject=f"tender:{tender.id}",
        confidential={"bid": bid.id, "lot": bid.lot_id, "was": was},
        conceal_actor=True,
        withhold=Fact.participation,
    )
    session.flush()
    return bid


def abort(session: Session, actor: Actor, blobs: BlobStore, bid_id: int) -> Bid:
    """Give up an upload in progress (nothing was submitted): the staged parts are removed."""
    bid = _own_bid(session, actor, bid_id, lock=True)
    _uploading(bid)
    bid.status, bid.ended_at = BidStatus.abandoned, clock.now()
    with contextlib.suppress(UploadNotFound):
        blobs.abort_upload(bid.upload_id)
    session.flush()
    return bid


def my_bids(session: Session, actor: Actor, tender_id: int) -> list[Bid]:
    """The actor's company's bids for a tender, newest first: the only view of them before the opening
    (E21)."""
    _bidding_tender(session, actor, tender_id)
    if actor.organisation_id is None:
        return []
    stmt = (
        select(Bid)
        .where(Bid.tender_id == tender_id, Bid.organisation_id == actor.organisation_id)
        .order_by(Bid.id.desc())
    )
    return list(session.scalars(stmt))


def my_bid(session: Session, actor: Actor, bid_id: int) -> Bid:
    return _own_bid(session, actor, bid_id)


def receipt_document(session: Session, actor: Actor, bid_id: int) -> dict[str, Any]:
    """The signed receipt of the company's own submitted bid."""
    bid = _own_bid(session, actor, bid_id)
    if not bid.receipt:
        raise NotFound.one(
            "receipt_not_found", N_("This bid has no receipt: only a completed submission gets one.")
        )
    return receipts.document(bid.receipt, bid.receipt_signature, bid.receipt_signer)
