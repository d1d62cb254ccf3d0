"""The audit log's storage: for now a SHA-256 hash chain over canonical JSON entries.

The Merkle log (RFC 9162) replaces this module's internals, not record()'s signature."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.events import EventTag
from core import clock
from core.db import Base
from core.identity import Actor

GENESIS = b"\x00" * 32


class AuditHead(Base):
    """One row: the size of the log and the hash of its last entry. Locked by every writer, so that
    concurrent transactions never produce a gap or a duplicate index."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary(32), default=GENESIS)


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[datetime]
    tag: Mapped[str] = mapped_column(String(60), index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ip: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(120), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    details_digest: Mapped[str] = mapped_column(String(64))
    entry_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditConfidential(Base):
    """Details committed to by an entry but disclosed only later (who bid, who sits on a committee)."""

    __tablename__ = "audit_confidential"

    entry_index: Mapped[int] = mapped_column(ForeignKey("audit_entries.index"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    disclosed_at: Mapped[datetime | None] = mapped_column(default=None)


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def confidential_digest(salt: str, data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({"salt": salt, "data": data})).hexdigest()


def chain_hash(prev: bytes, entry_bytes: bytes) -> bytes:
    return hashlib.sha256(prev + entry_bytes).digest()


def _time(value: datetime) -> str:
    return clock.as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


CONCEALED = "(confidential)"


def _locked_head(session: Session) -> AuditHead:
    """The head row, locked for this transaction. Created on first use without a race: two first writers
    both try the insert, one wins, and both then wait on the same row lock."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is not None:
        return head
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(AuditHead).values(id=1, size=0, last_hash=GENESIS).on_conflict_do_nothing(index_elements=["id"]))
    return session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()


def record(
    session: Session,
    tag: EventTag,
    *,
    actor: Actor,
    subject: str,
    details: dict[str, Any] | None = None,
    confidential: dict[str, Any] | None = None,
    conceal_actor: bool = False,
) -> AuditEntry:
    """Append one entry in the caller's transaction. `confidential` is committed to by a salted digest
    and kept access-controlled beside the entry until it may be disclosed. With `conceal_actor` the person,
    organisation and network address go into that confidential part too: the entry then shows only the
    role (E21/L22: who registered, downloaded or asked is not disclosed before the deadline; E49: it is
    still recorded, with time, address and person)."""
    tag = EventTag(tag)
    details = dict(details or {})
    salt = ""
    if conceal_actor:
        confidential = {
            **(confidential or {}),
            "actor": {"user_id": actor.user_id, "username": actor.username, "organisation": actor.organisation_id, "ip": actor.ip},
        }
        actor = Actor(user_id=None, username=CONCEALED, role=actor.role, organisation_id=None, ip=CONCEALED)
    if confidential is not None:
        salt = secrets.token_hex(16)
        details["confidential_digest"] = confidential_digest(salt, confidential)
    head = _locked_head(session)
    now = clock.now()
    details_bytes = canonical(details)
    doc = {
        "index": head.size,
        "tag": tag.value,
        "time": _time(now),
        "actor": actor.username or "anonymous",
        "actor_id": actor.user_id,
        "role": actor.role,
        "organisation": actor.organisation_id,
        "ip": actor.ip,
        "subject": subject,
        "details_digest": hashlib.sha256(details_bytes).hexdigest(),
    }
    entry_bytes = canonical(doc)
    digest = chain_hash(head.last_hash, entry_bytes)
    entry = AuditEntry(
        index=head.size,
        time=now,
        tag=tag.value,
        actor_user_id=actor.user_id,
        actor=doc["actor"],
        role=actor.role,
        organisation_id=actor.organisation_id,
        ip=actor.ip,
        subject=subject,
        details=details,
        details_digest=doc["details_digest"],
        entry_bytes=entry_bytes,
        prev_hash=head.last_hash,
        hash=digest,
    )
    session.add(entry)
    session.flush()  # the entry row must exist before the confidential row that refers to it
    if confidential is not None:
        session.add(AuditConfidential(entry_index=entry.index, salt=salt, data=confidential))
    head.size += 1
    head.last_hash = digest
    return entry


@dataclass
class VerifyResult:
    ok: bool
    size: int
    first_bad: int | None = None
    reason: str = ""


def verify_chain(session: Session) -> VerifyResult:
    """Recompute the chain from the stored rows; name the first entry that does not hold."""
    prev = GENESIS
    expected_index = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.index)).yield_per(1000):
        if entry.index != expected_index:
            return VerifyResult(False, expected_index, expected_index, "entry %d is missing" % expected_index)
        doc = json.loads(entry.entry_bytes)
        if doc.get("index") != entry.index or canonical(doc) != entry.entry_bytes:
            return VerifyResult(False, entry.index, entry.index, "entry bytes are not canonical or carry another index")
        if hashlib.sha256(canonical(entry.details)).hexdigest() != doc["details_digest"]:
            return VerifyResult(False, entry.index, entry.index, "details do not match their digest")
        columns = (entry.tag, _time(entry.time), entry.actor, entry.actor_user_id, entry.role, entry.organisation_id, entry.ip,
                   entry.subject, entry.details_digest)
        hashed = tuple(doc.get(k) for k in ("tag", "time", "actor", "actor_id", "role", "organisation", "ip", "subject", "details_digest"))
        if columns != hashed:
            return VerifyResult(False, entry.index, entry.index, "columns differ from the hashed entry")
        if entry.prev_hash != prev or chain_hash(prev, entry.entry_bytes) != entry.hash:
            return VerifyResult(False, entry.index, entry.index, "hash chain broken")
        prev = entry.hash
        expected_index += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.size != expected_index or head.last_hash != prev):
        return VerifyResult(False, expected_index, expected_index, "log is shorter than its head says: entries removed")
    return VerifyResult(True, expected_index)
