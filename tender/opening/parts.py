"""Key parts (issue 3, E30): the bids' headers a key holder unwraps its parts from, and the parts it sends
back, each checked on its own and taken only at or after the opening time. Once a bid's parts complete a
subset, the bid is sent to decryption (decryption.decrypt_bid)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.errors import N_, Forbidden
from core.identity import Actor
from core.tasks import enqueue
from storage.base import BlobStore
from tender import access, sealing
from tender.bids import submission as bids
from tender.events import TenderTag
from tender.keyholders import HolderKey, is_holder
from tender.models import Bid, KeyPart, OpenedBid, OpenedBidStatus, OpeningStatus
from tender.opening import decryption
from tender.opening.base import (
    TERMINAL,
    AuditedRefusal,
    has_counted_bid,
    is_published,
    key_holders,
    opening_of,
    refuse_early,
    tender_for,
)
from tender.rules import OpeningPolicy

DEFAULT_WINDOW_SECONDS = 1800
HEADERS_FORMAT = "etender-opening-headers"
PARTS_FORMAT = "etender-key-parts"


def headers(session: Session, actor: Actor, blobs: BlobStore, tender_id: int) -> dict[str, Any]:
    """Each counted bid's header (its preamble, base64) with its platform bid id: what a key holder unwraps
    its parts from. No ciphertext payload is ever served."""
    access.require_login(actor)
    tender = tender_for(session, actor, tender_id)
    op = opening_of(session, tender.id)
    refuse_early(session, actor, tender, op, "headers_before_opening")
    assert op is not None
    holder = is_holder(actor, tender)
    own_only = (
        not holder
        and tender.opening_policy == OpeningPolicy.quorum_bidder
        and has_counted_bid(session, actor, tender)
    )
    if not holder and not own_only:
        raise Forbidden.one(
            "not_key_holder",
            N_(
                "Only the tender's key holders (and, when the policy needs it, each bidder for its own "
                "bid) receive the bids' headers."
            ),
        )
    rows = session.execute(
        select(OpenedBid, Bid)
        .join(Bid, Bid.id == OpenedBid.bid_id)
        .where(OpenedBid.opening_id == op.id)
        .order_by(Bid.lot_id, Bid.id)
    ).all()
    out = []
    for ob, bid in rows:
        if own_only and bid.organisation_id != actor.organisation_id:
            continue
        header = bids.header_of(blobs, bid)
        out.append(
            {
                "bid": bid.id,
                "lot_id": bid.lot_id,
                "bid_id": bid.sealed_bid_id or header.bid_id,
                "status": ob.status,
                "header": base64.b64encode(header.preamble).decode(),
            }
        )
    return {
        "format": HEADERS_FORMAT,
        "version": 1,
        "tender_id": tender.id,
        "reference": tender.reference,
        "bids": out,
    }


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
    "bid_number_unknown": N_(
        "No bid of this opening has the number %(bid)s: download the bids' headers again from the opening "
        "page and unwrap your parts from them."
    ),
    "bid_id_ambiguous": N_(
        "Several bids of this opening carry the sealed bid id %(bid_id)s: download the bids' headers from "
        "the opening page and unwrap your parts from them (each bid's parts then name its number)."
    ),
    "part_unknown_slot": N_("Bid %(bid)s has no key part at subset %(subset)s, position %(position)s."),
    "not_your_part": N_(
        "The part of bid %(bid)s at subset %(subset)s, position %(position)s belongs to someone "
        "else: submit only your own parts."
    ),
    "part_commitment_mismatch": N_(
        "The part of bid %(bid)s at subset %(subset)s, position %(position)s is not the one sealed into "
        "the bid: unwrap it again with your own key file."
    ),
    "part_duplicate": N_(
        "The part of bid %(bid)s at subset %(subset)s, position %(position)s was already submitted."
    ),
    "bid_has_outcome": N_("Bid %(bid)s already has its outcome; no more parts are needed."),
}


def _docs(doc: Any) -> list[Any]:
    if isinstance(doc, dict) and isinstance(doc.get("bids"), list) and doc.get("format") != PARTS_FORMAT:
        return list(doc["bids"])
    if isinstance(doc, list):
        return list(doc)
    return [doc]


def _opened_bid(
    item: dict[str, Any],
    opened: dict[int, tuple[OpenedBid, Bid]],
    by_sealed_id: dict[str, list[int]],
    refuse: Callable[..., None],
) -> tuple[OpenedBid, Bid] | None:
    """The opened bid a parts document is for: the one its `bid` names (the platform's bid id, from the
    headers document). A document without `bid` (made from a sealed file alone, or by an older tool) is
    matched by its header `bid_id` only when exactly one bid of the opening carries it; otherwise it is
    refused and the holder unwraps again from the headers document, so no bidder-written id can hold a bid's
    parts back."""
    if "bid" in item:
        platform_id = item["bid"]
        found = (
            opened.get(platform_id)
            if isinstance(platform_id, int) and not isinstance(platform_id, bool)
            else None
        )
        if found is None:
            refuse("bid_number_unknown", bid=str(platform_id)[:40])
        return found
    sealed_id = str(item.get("bid_id", ""))
    candidates = by_sealed_id.get(sealed_id, []) if sealed_id else []
    if len(candidates) > 1:
        refuse("bid_id_ambiguous", bid_id=sealed_id[:40])
        return None
    if not candidates:
        refuse("bid_unknown", bid_id=sealed_id[:40])
        return None
    return opened[candidates[0]]


def submit_parts(
    session: Session,
    actor: Actor,
    blobs: BlobStore,
    tender_id: int,
    doc: Any,
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
) -> PartsResult:
    """Take a holder's (or, under quorum+bidder, a bidder's) unwrapped parts: one `etender-key-parts`
    document, a list of them, or {"bids": [...]}. Each part is checked on its own; a refused one never stops
    the others."""
    access.require_login(actor)
    tender = tender_for(session, actor, tender_id)
    op = opening_of(session, tender.id, lock=True)
    refuse_early(session, actor, tender, op, "parts_before_opening")
    assert op is not None
    holders = key_holders(tender)
    holder_index = holders.index(actor.user_id) if actor.user_id in holders else None
    bidder = tender.opening_policy == OpeningPolicy.quorum_bidder and has_counted_bid(session, actor, tender)
    if holder_index is None and not bidder:
        record(
            session,
            TenderTag.key_part_refused,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={"reason": "not_key_holder", "parts": 0},
        )
        raise AuditedRefusal.one(
            "not_key_holder",
            N_(
                "You are not a key holder of this tender: only its key holders (and, when the policy needs "
                "it, each bidder for its own bid) submit key parts."
            ),
        )
    my_key = (
        session.scalar(
            select(HolderKey.key_id).where(
                HolderKey.tender_id == tender.id, HolderKey.user_id == actor.user_id
            )
        )
        if holder_index is not None
        else None
    )
    now = clock.now()
    result = PartsResult()
    touched: dict[int, OpenedBid] = {}

    def refuse(code: str, **params: Any) -> None:
        result.refused.append({"code": code, "message": PART_MESSAGES[code], "params": params})

    # Keyed by the platform's bid ids: the header's bid_id is written by the bidder, and two bids may carry
    # the same one (a copied file, or on purpose), so it must never decide which bid a part is credited to.
    opened: dict[int, tuple[OpenedBid, Bid]] = {
        bid.id: (ob, bid)
        for ob, bid in session.execute(
            select(OpenedBid, Bid).join(Bid, Bid.id == OpenedBid.bid_id).where(OpenedBid.opening_id == op.id)
        ).all()
    }
    by_sealed_id: dict[str, list[int]] = {}
    for _ob, bid in opened.values():
        by_sealed_id.setdefault(bid.sealed_bid_id, []).append(bid.id)
    for item in _docs(doc):
        if (
            not isinstance(item, dict)
            or item.get("format") != PARTS_FORMAT
            or not isinstance(item.get("parts"), list)
        ):
            refuse("part_doc_invalid", what="format")
            continue
        if item.get("tender_id") != tender.id:
            refuse("part_other_tender", other=str(item.get("tender_id")))
            continue
        found = _opened_bid(item, opened, by_sealed_id, refuse)
        if found is None:
            continue
        ob, bid = found
        if ob.status in TERMINAL:
            refuse("bid_has_outcome", bid=bid.id)
            continue
        header = bids.header_of(blobs, bid)
        slots = {(s.subset_index, s.position): s for s in header.slots()}
        for raw in item["parts"]:
            try:
                part = sealing.UnwrappedPart(
                    int(raw["subset_index"]), int(raw["position"]), sealing.unb64u(raw["part"])
                )
            except (KeyError, TypeError, ValueError):
                refuse("part_doc_invalid", what="part")
                continue
            where = {"bid": bid.id, "subset": part.subset_index, "position": part.position}
            slot = slots.get((part.subset_index, part.position))
            if slot is None:
                refuse("part_unknown_slot", **where)
                continue
            mine = (slot.party is not None and slot.party == holder_index and slot.recipient == my_key) or (
                slot.party is None and bidder and bid.organisation_id == actor.organisation_id
            )
            if not mine:
                refuse("not_your_part", **where)
                continue
            try:
                sealing.check_part(header, part)
            except sealing.WrongKey:
                refuse("part_commitment_mismatch", **where)
                continue
            exists = session.scalar(
                select(KeyPart.id).where(
                    KeyPart.bid_id == bid.id,
                    KeyPart.subset_index == part.subset_index,
                    KeyPart.position == part.position,
                )
            )
            if exists:
                refuse("part_duplicate", **where)
                continue
            assert actor.user_id is not None
            try:
                with session.begin_nested():
                    session.add(
                        KeyPart(
                            opening_id=op.id,
                            bid_id=bid.id,
                            user_id=actor.user_id,
                            party=slot.party,
                            subset_index=part.subset_index,
                            position=part.position,
                            part=sealing.b64u(part.part),
                            submitted_at=now,
                        )
                    )
            except IntegrityError:  # the same part arrived at the same moment from another request
                refuse("part_duplicate", **where)
                continue
            result.accepted += 1
            touched[ob.id] = ob
    as_bidder = holder_index is None
    if result.accepted:
        record(
            session,
            TenderTag.key_part_submitted,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={
                "parts": result.accepted,
                "bids": len(touched),
                "party": "bidder" if as_bidder else f"holder {holder_index}",
            },
            conceal_actor=as_bidder and not is_published(op),
        )
    if result.refused:
        record(
            session,
            TenderTag.key_part_refused,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={
                "refused": [
                    {
                        "code": r["code"],
                        **{k: v for k, v in r["params"].items() if k in ("bid", "subset", "position")},
                    }
                    for r in result.refused
                ][:200]
            },
            conceal_actor=as_bidder and not is_published(op),
        )
    session.flush()
    if op.quorum_at is None:
        submitted = set(
            session.scalars(
                select(KeyPart.user_id)
                .where(KeyPart.opening_id == op.id, KeyPart.party.is_not(None))
                .distinct()
            )
        )
        if len(submitted & set(holders)) >= tender.key_threshold:
            op.quorum_at = now
            op.status = OpeningStatus.decrypting
            if tender.opening_policy == OpeningPolicy.quorum_bidder:
                op.window_ends_at = now + timedelta(seconds=window_seconds)
    per_subset = decryption.parts_per_subset(tender)
    for ob in touched.values():
        have = [
            (s, p)
            for s, p in session.execute(
                select(KeyPart.subset_index, KeyPart.position).where(KeyPart.bid_id == ob.bid_id)
            ).all()
        ]
        if ob.status == OpenedBidStatus.pending and decryption.has_complete_subset(have, per_subset):
            enqueue(session, decryption.decrypt_bid, ob.id)
            result.queued.append(ob.bid_id)
    return result
