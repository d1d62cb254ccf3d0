"""Reading the opened bids in the room (E33): every file of every opened bid, decrypted on demand from the
sealed file and the key parts kept at the opening (tender.opening.decryption.read_file), for the checked-in
members of this tender's committee while the session is open, every read audited. Nothing decrypted is kept:
the caller gets the file in a temporary buffer it sends and closes."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Organisation
from audit import record
from core.errors import N_, Conflict, Forbidden, NotFound
from core.identity import Actor
from evaluation.events import EvaluationTag
from evaluation.room import sessions
from evaluation.room.models import AttendanceStatus
from evaluation.room.rules import State
from storage.base import BlobStore
from tender import sealing
from tender.lifecycle import Status
from tender.models import Bid, Lot, OpenedBid, OpenedBidStatus, Opening
from tender.notices import criteria_of
from tender.opening import decryption
from tender.opening.record import published_record

SPOOL_BYTES = 8 * 1024 * 1024  # a file up to this size stays in memory; a larger one in a temporary file

REFUSALS = {
    "room_not_member": N_("The evaluation room is open only to the members of this tender's committee."),
    "room_no_session": N_(
        "The agency has not booked the evaluation session yet; you will be told when it has."
    ),
    "room_not_evaluating": N_(
        "The bids are read once the opening is closed and the tender is being evaluated."
    ),
    "room_not_checked_in": N_("Check in and sign the declaration first; then the bids open to you."),
    "room_paused": N_("A monitor has paused the session: nobody reads the bids until it is resumed."),
    "room_not_started": N_("The session has not started yet: the bids open to the members at its start."),
}


def _refuse(code: str) -> Forbidden:
    return Forbidden.one(code, REFUSALS[code])


def opened_bids(session: Session, tender_id: int) -> list[dict[str, Any]]:
    """Each opened bid of the tender: its lot, bidder, price form and files (names, types, sizes)."""
    rows = session.execute(
        select(OpenedBid, Bid, Organisation, Lot)
        .join(Bid, Bid.id == OpenedBid.bid_id)
        .join(Organisation, Organisation.id == Bid.organisation_id)
        .join(Lot, Lot.id == Bid.lot_id)
        .join(Opening, Opening.id == OpenedBid.opening_id)
        .where(Opening.tender_id == tender_id, OpenedBid.status == OpenedBidStatus.opened)
        .order_by(Lot.number, Bid.id)
    ).all()
    return [
        {
            "opened_bid": ob.id,
            "lot": lot.number,
            "lot_name": lot.name,
            "bidder": org.name,
            "price_form": dict(ob.price_form or {}),
            "files": [
                {
                    "index": i,
                    "name": f["name"],
                    "role": f["role"],
                    "media_type": f["media_type"],
                    "size": f["size"],
                }
                for i, f in enumerate(ob.files or [])
            ],
        }
        for ob, bid, org, lot in rows
    ]


def room(session: Session, actor: Actor, tender_id: int) -> sessions.RoomView:
    """The member's workbench: the session, and once they may read, the opened bids, the opening record and
    the tender's criteria beside them."""
    view = sessions.workbench(session, actor, tender_id)
    if view.read_refusal is None:
        view.bids = opened_bids(session, view.tender.id)
        view.record = published_record(session, view.tender.id)
        view.criteria = criteria_of(view.tender)
    return view


def _refusal(session: Session, actor: Actor, tender_id: int) -> tuple[sessions.RoomView, str | None]:
    view = sessions.workbench(session, actor, tender_id)
    return view, view.read_refusal


@dataclass
class ReadFile:
    name: str
    media_type: str
    size: int
    body: IO[bytes]  # positioned at the start; the caller closes it


def read_bid_file(
    session: Session, actor: Actor, blobs: BlobStore, tender_id: int, opened_bid_id: int, index: int
) -> ReadFile:
    """One file of an opened bid of this tender, decrypted now for a member who may read (rules.read_refusal),
    the read recorded (time, address and member, concealed until the result is final: L37, E49)."""
    view, refusal = _refusal(session, actor, tender_id)
    if refusal is not None:
        raise _refuse(refusal)
    assert view.session is not None and view.seat is not None and view.attendance is not None
    assert view.attendance.status == AttendanceStatus.present and view.state is State.open
    assert Status(view.tender.status) == Status.evaluating
    ob = session.scalars(
        select(OpenedBid)
        .join(Opening, Opening.id == OpenedBid.opening_id)
        .where(OpenedBid.id == opened_bid_id, Opening.tender_id == view.tender.id)
    ).one_or_none()
    if ob is None or ob.status != OpenedBidStatus.opened or not 0 <= index < len(ob.files or []):
        raise NotFound.one("opened_file_not_found", N_("No such file of an opened bid of this tender."))
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the response closes it
    digest = hashlib.sha256()

    def write(piece: bytes) -> None:
        digest.update(piece)
        body.write(piece)

    try:
        entry = decryption.read_file(session, blobs, ob.id, index, write)
    except (
        decryption.FileChanged,
        sealing.DecryptionFailed,
        sealing.WrongKey,
        sealing.SealedBidInvalid,
    ) as e:
        # the sealed file or its kept parts no longer give the bid opened at the opening: nothing is shown
        body.close()
        record(
            session,
            EvaluationTag.room_read_refused,
            actor=actor,
            subject=f"tender:{view.tender.id}",
            details={"opened_bid": ob.id, "file": index, "reason": type(e).__name__},
            conceal_actor=True,
        )
        raise Conflict.one(
            "room_sealed_file_changed",
            N_(
                "The stored sealed bid no longer matches its receipt, so the file was not shown. The "
                "refusal is recorded; tell the monitors."
            ),
        ).keep() from e
    except BaseException:
        body.close()
        raise
    record(
        session,
        EvaluationTag.room_bid_file_read,
        actor=actor,
        subject=f"tender:{view.tender.id}",
        details={
            "session": view.session.id,
            "opened_bid": ob.id,
            "file": index,
            "sha256": digest.hexdigest(),
        },
        conceal_actor=True,  # L37: who reads is a committee member's name; E49: still recorded
    )
    body.seek(0)
    return ReadFile(str(entry["name"]), str(entry["media_type"]), int(entry["size"]), body)
