"""Signed checkpoints: the C2SP tlog-checkpoint body ("<origin>\\n<size>\\n<base64 root>\\n") signed as a C2SP
signed note with the platform's Ed25519 key (core.signing). Every checkpoint the platform signs is kept."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.log import locked_head
from core import clock
from core.db import Base
from core.signing import SigningKey, VerifierKey

SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space start every signature line of a signed note
STALE_AFTER = timedelta(
    seconds=2
)  # a checkpoint older than this, with entries after it, is re-signed on demand


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    time: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)


def body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(text: str, key: SigningKey) -> str:
    signature = base64.b64encode(key.id + key.sign(text.encode())).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{key.name} {signature}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    key_id: str  # hex of the key that signed it (the first one that verified)


class NoteError(ValueError):
    """The note is malformed or no known key signed it; the message says which."""


def open_note(note: str, keys: list[VerifierKey]) -> Checkpoint:
    """Parse a signed checkpoint note and check its signature with one of `keys` (matched by name and key
    id)."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("not a signed note: no blank line before the signatures, or no final newline")
    text += "\n"
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root hash line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
        raise NoteError(f"the tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError as e:
        raise NoteError("the root hash is not base64") from e
    if len(root) != 32:
        raise NoteError("the root hash is not 32 bytes")
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line does not start with an em dash")
        name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except ValueError:
            continue
        for key in keys:
            if key.name == name and raw[:4] == key.id and key.verify(raw[4:], text.encode()):
                return Checkpoint(origin, int(size_text), root, key.id.hex())
    raise NoteError("no known key signed this checkpoint")


def latest(session: Session) -> AuditCheckpoint | None:
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc(), AuditCheckpoint.id.desc()).limit(1)
    ).first()


def sign(
    session: Session, key: SigningKey, origin: str, *, stale_after: timedelta | None = None
) -> AuditCheckpoint | None:
    """Sign a checkpoint of the log as it stands, if it grew since the latest one (and, with stale_after, only
    if that one is at least that old). Holds the head lock, so concurrent signers never sign the same size
    twice."""
    head = locked_head(session)
    last = latest(session)
    if last is not None and last.size >= head.size:
        return None
    if last is not None and stale_after is not None and clock.now() - last.time < stale_after:
        return None
    root = head.root
    cp = AuditCheckpoint(
        size=head.size,
        root=root,
        time=clock.now(),
        key_id=key.id.hex(),
        note=sign_note(body(origin, head.size, root), key),
    )
    session.add(cp)
    session.flush()
    return cp


@dataclass(frozen=True)
class SignedCheckpoint:
    """A signed checkpoint as the other packages get it: plain values (the table is private to audit)."""

    size: int
    root: bytes
    time: datetime
    key_id: str
    note: str

    @classmethod
    def of(cls, cp: AuditCheckpoint) -> SignedCheckpoint:
        return cls(cp.size, cp.root, cp.time, cp.key_id, cp.note)


def sign_checkpoint(
    session: Session, key: SigningKey, origin: str, *, stale_after: timedelta | None = None
) -> SignedCheckpoint | None:
    """sign(), for the other packages (the CLI, the web API and its background signer)."""
    cp = sign(session, key, origin, stale_after=stale_after)
    return None if cp is None else SignedCheckpoint.of(cp)


def all_checkpoints(session: Session, *, after_size: int = -1, limit: int = 1000) -> list[AuditCheckpoint]:
    stmt = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.size > after_size)
        .order_by(AuditCheckpoint.size, AuditCheckpoint.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
