"""The files of a purchase after its selection (rules.md §5.4): the signed contract, uploaded by either side
with its number and amount and confirmed by the other, and the intermediary's service result, which the
owner accepts or records as failed. The bytes go to blob storage first (content-addressed by SHA-256, the
same store as the bids'); the row and its audit entry name the file by that digest, so that the file the
other side confirmed or accepted is provably the one kept. Nothing is deleted: a later upload of the same kind
is the current one and the earlier stay readable. Services take a session and never commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import N_, ValidationFailed
from core.identity import Actor
from marketplace.models import DocumentKind, MarketDocument, Purchase
from storage import BlobStore, TooLarge

MAX_FILE = 50 << 20  # policy: 50 MB, the award contract's limit too
# the formats a trading centre archives: PDF and OFD (the national e-document format), scans as images
SUFFIXES = (".pdf", ".ofd", ".jpg", ".jpeg", ".png")

REFUSALS = {
    "document_missing": N_("Attach the file (PDF, OFD, JPG or PNG)."),
    "document_large": N_("The file is larger than %(mb)s MB; attach a smaller scan."),
    "document_type": N_("Attach a PDF, OFD, JPG or PNG file; %(name)s is not one of them."),
}


@dataclass(frozen=True)
class Stored:
    """A file already in blob storage, not yet attached to anything."""

    filename: str
    key: str  # its SHA-256, hex
    size: int


def clean_name(filename: str) -> str:
    """The file's own name, without any folder a browser sent, at most 200 characters."""
    return PurePath(filename.replace("\\", "/")).name.strip()[:200]


def store_file(store: BlobStore, filename: str, chunks: Iterable[bytes], field: str = "file") -> Stored:
    """Check the file's name and size and put its bytes into blob storage (storing it twice is harmless)."""
    name = clean_name(filename or "")
    if not name:
        raise ValidationFailed.one("document_missing", REFUSALS["document_missing"], field)
    if not name.lower().endswith(SUFFIXES):
        raise ValidationFailed.one("document_type", REFUSALS["document_type"], field, name=name)
    try:
        info = store.put(chunks, max_size=MAX_FILE)
    except TooLarge as e:
        raise ValidationFailed.one(
            "document_large", REFUSALS["document_large"], field, mb=MAX_FILE >> 20
        ) from e
    if info.size == 0:
        raise ValidationFailed.one("document_missing", REFUSALS["document_missing"], field)
    return Stored(name, info.key, info.size)


def attach(
    session: Session, actor: Actor, purchase: Purchase, kind: DocumentKind, file: Stored
) -> MarketDocument:
    """The row of a stored file for the purchase; the caller has checked who may attach it, and audits it."""
    assert actor.organisation_id is not None and actor.user_id is not None
    doc = MarketDocument(
        purchase_id=purchase.id,
        kind=kind.value,
        organisation_id=actor.organisation_id,
        filename=file.filename,
        size=file.size,
        sha256=file.key,
        uploaded_by=actor.user_id,
    )
    session.add(doc)
    session.flush()
    return doc


def of_purchase(session: Session, purchase_id: int) -> list[MarketDocument]:
    """Every file of the purchase, oldest first."""
    return list(
        session.scalars(
            select(MarketDocument)
            .where(MarketDocument.purchase_id == purchase_id)
            .order_by(MarketDocument.id)
        )
    )


def current(session: Session, purchase_id: int, kind: DocumentKind) -> MarketDocument | None:
    """The purchase's latest file of this kind."""
    return session.scalar(
        select(MarketDocument)
        .where(MarketDocument.purchase_id == purchase_id, MarketDocument.kind == kind.value)
        .order_by(MarketDocument.id.desc())
        .limit(1)
    )
