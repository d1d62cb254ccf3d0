"""The audit log: an RFC 9162 Merkle tree over canonical JSON entries (see docs/audit-log.md).

record() appends one entry in the caller's transaction. The head row (size and the tree's right edge) is
locked by every writer, at the first record() of a transaction: it is the serialisation point, so concurrent
transactions never produce a gap or a duplicate index. Every complete subtree hash is stored as it appears
(audit/tree.py), so proofs take O(log n) reads.

record() itself works in memory: the entry gets its index, bytes and tree nodes at once, but the rows
(entries, confidential parts, subtree hashes: one executemany each) and the head (one UPDATE) are written when
they are needed (write_pending): before the transaction or a savepoint commits, before a savepoint begins,
before every statement run through the session (Session.execute, ORM loads, flushes), and before anything in
this package reads the log. Only a statement run on the bare connection (session.connection().execute) in the
same transaction could miss them; nothing outside audit/ touches the audit tables."""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Connection,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    make_transient_to_detached,
    mapped_column,
)
from sqlalchemy.types import TypeDecorator

from audit import tree
from audit.events import AuditTag, registered_tag
from audit.merkle import leaf_hash
from core import clock
from core.db import Base
from core.disclosure import Fact
from core.errors import N_, Conflict, NotFound
from core.identity import Actor


class AuditHead(Base):
    """One row: the size of the log and the right edge of its tree (the perfect subtree hashes of the binary
    decomposition of size, largest first). Locked by every writer."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")

    @property
    def root(self) -> bytes:
        return tree.frontier_root(tree.split_frontier(self.frontier or b""))


class AuditEntry(Base):
    """An entry. entry_bytes is what the leaf hashes; the other columns repeat it for querying (verify checks
    that they agree) and details are the non-confidential details that details_digest commits to."""

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
    # A withheld entry (record(withhold=...)): the random salt its bytes carry (so that its leaf hash cannot
    # be guessed from a few likely tags, subjects and times), the fact it is withheld as and when it was
    # released. NULL for an ordinary entry, whose bytes have no salt key.
    salt: Mapped[str | None] = mapped_column(String(32), default=None)
    withheld: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    # Network addresses are never public (E49 records them; Fact.login, docs/disclosure.md). An entry since
    # they left the bytes carries the address's salted digest there instead ("address_digest"); the address
    # itself and its salt stay here, for monitors, administrators and the server-side alerts. `ip` is the
    # address as monitors are shown it ("(confidential)" for a concealed actor), `address` what was
    # committed. Both NULL for an entry written before: its bytes hold "ip" itself.
    address: Mapped[str | None] = mapped_column(String(64), default=None)
    address_salt: Mapped[str | None] = mapped_column(String(32), default=None)

    @property
    def address_in_bytes(self) -> bool:
        """An entry written before addresses left the bytes, whose bytes name a real address: the public
        gets only its leaf hash (audit.feed)."""
        return self.address_salt is None and self.ip not in ("", CONCEALED)

    @property
    def hidden(self) -> bool:
        """Withheld and not yet released: the public sees only its index and leaf hash."""
        return self.withheld is not None and self.released_at is None

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.entry_bytes)


class AuditConfidential(Base):
    """Details committed to by an entry but disclosed only later (who bid, who sits on a committee)."""

    __tablename__ = "audit_confidential"

    entry_index: Mapped[int] = mapped_column(ForeignKey("audit_entries.index"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    disclosed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


class _CanonicalJSON(TypeDecorator[Any]):
    """The details column as record() writes it: the canonical JSON text whose SHA-256 is the details digest
    (given as that text), so that verification hashes the stored text instead of parsing and re-serialising
    it. Read back as any JSON column; rows written otherwise still verify, the slow way."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        return lambda value: value if value is None or isinstance(value, str) else canonical(value).decode()


def confidential_digest(salt: str, data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({"salt": salt, "data": data})).hexdigest()


def address_digest(salt: str, ip: str) -> str:
    """The commitment to an entry's network address that its bytes carry (docs/audit-log.md)."""
    return hashlib.sha256(canonical({"ip": ip, "salt": salt})).hexdigest()


def format_time(value: datetime) -> str:
    return clock.as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


CONCEALED = "(confidential)"


def locked_head(session: Session) -> AuditHead:
    """The head row, locked for this transaction (see _lock_head), with what this session appended written."""
    write_pending(session)
    _lock_head(session.connection())
    # populate_existing: what the row holds now that it is locked, not what the identity map remembers
    return session.execute(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()


_SELECT_HEAD = select(AuditHead.size, AuditHead.frontier).where(AuditHead.id == 1).with_for_update()


def _lock_head(conn: Connection) -> tuple[int, bytes]:
    """Lock the head row for this transaction and read it (size, frontier). Created on first use without a
    race: two first writers both try the insert, one wins, and both then wait on the same row lock."""
    row = conn.execute(_SELECT_HEAD).first()
    if row is None:
        ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            ins(AuditHead).values(id=1, size=0, frontier=b"").on_conflict_do_nothing(index_elements=["id"])
        )
        row = conn.execute(_SELECT_HEAD).one()
    return row[0], bytes(row[1] or b"")


class _Head:
    """The head as this transaction holds it: locked once per transaction, then kept in session.info so that
    further appends in the same transaction read nothing (the lock is held until the transaction ends). The
    rows appended since the head row was last written wait in `entries`, `confidential` and `nodes` (dirty:
    the tables are behind)."""

    __slots__ = ("confidential", "connection", "dirty", "entries", "frontier", "nodes", "size", "transaction")

    def __init__(
        self, transaction: SessionTransaction | None, connection: Connection, size: int, frontier: list[bytes]
    ):
        self.transaction, self.connection, self.size, self.frontier = transaction, connection, size, frontier
        self.entries: list[dict[str, Any]] = []
        self.confidential: list[dict[str, Any]] = []
        self.nodes: list[dict[str, Any]] = []
        self.dirty = False


def _head_for_append(session: Session) -> _Head:
    # Keyed on the innermost transaction: after a savepoint is rolled back (or released) the head is read
    # again, so an append undone with its savepoint leaves no gap and no stale tree edge behind.
    held: _Head | None = session.info.get("audit_head")
    transaction = session.get_nested_transaction() or session.get_transaction()
    if (
        held is not None
        and transaction is not None
        and held.transaction is transaction
        and transaction.is_active
    ):
        return held
    write_pending(session)
    conn = session.connection()
    size, frontier = _lock_head(conn)
    held = _Head(
        session.get_nested_transaction() or session.get_transaction(),
        conn,
        size,
        tree.split_frontier(frontier),
    )
    session.info["audit_head"] = held
    return held


def write_pending(session: Session) -> None:
    """Write what this session's appends keep in memory: entries, confidential parts, subtree hashes (one
    executemany each) and the head (one UPDATE). Those of a transaction that is no longer active were either
    written before it committed or undone with it."""
    held: _Head | None = session.info.get("audit_head")
    if held is None or not held.dirty:
        return
    held.dirty = False
    entries, confidential, nodes = held.entries, held.confidential, held.nodes
    held.entries, held.confidential, held.nodes = [], [], []
    if held.transaction is None or not held.transaction.is_active:
        return
    conn = held.connection
    conn.execute(INSERT_ENTRY, entries)
    if confidential:  # after the entries they refer to
        conn.execute(_INSERT_CONFIDENTIAL, confidential)
    conn.execute(_INSERT_NODE, nodes)
    conn.execute(_UPDATE_HEAD, {"size": held.size, "frontier": b"".join(held.frontier)})


@event.listens_for(Session, "before_commit")
def _before_commit(
    session: Session,
) -> None:  # the transaction or a savepoint commits (a savepoint: before RELEASE)
    write_pending(session)


@event.listens_for(Session, "before_flush")
def _before_flush(
    session: Session, flush_context: Any, instances: Any
) -> None:  # what the ORM writes may refer to entries
    write_pending(session)


@event.listens_for(Session, "after_transaction_create")
def _after_transaction_create(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint begins: what its parent appended is written now, outside it (SAVEPOINT is emitted later,
    # with the savepoint's first statement), so that rolling the savepoint back cannot undo it.
    if transaction.nested:
        write_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Still dirty here means it did not commit: its appends were undone with it. Either way the next append
    # reads the head again.
    held: _Head | None = session.info.get("audit_head")
    if held is not None and held.transaction is transaction:
        del session.info["audit_head"]


@event.listens_for(Session, "do_orm_execute")
def _before_session_statement(orm_execute_state: ORMExecuteState) -> None:  # queries see the log as it stands
    write_pending(orm_execute_state.session)


INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__)).values(
    details=bindparam("details", type_=_CanonicalJSON())
)
_INSERT_NODE = insert(cast(Table, tree.AuditNode.__table__))
_INSERT_CONFIDENTIAL = insert(cast(Table, AuditConfidential.__table__))
_UPDATE_HEAD = (
    update(cast(Table, AuditHead.__table__))
    .where(AuditHead.id == 1)
    .values(size=bindparam("size"), frontier=bindparam("frontier"))
)


def record(
    session: Session,
    tag: enum.StrEnum,
    *,
    actor: Actor,
    subject: str,
    details: dict[str, Any] | None = None,
    confidential: dict[str, Any] | None = None,
    conceal_actor: bool = False,
    withhold: Fact | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction. `confidential` is committed to by a salted digest
    and kept access-controlled beside the entry until it may be disclosed. With `conceal_actor` the person,
    organisation and network address go into that confidential part too: the entry then shows only the
    role (E21/L22: who registered, downloaded or asked is not disclosed before the deadline; E49: it is
    still recorded, with time, address and person).

    The network address is never in the entry bytes: they carry its salted digest (address_digest), and the
    address and salt are kept beside the entry for monitors, administrators and the server-side alerts, also
    once a concealed actor's confidential part is disclosed (that part holds no address).

    With `withhold` the whole entry (tag, time, subject, details) is withheld as that fact until
    release_where() releases it: until then the public log shows only its index and leaf hash, and the entry
    bytes carry a random salt so that the hash cannot be matched against guessed contents."""
    tag = registered_tag(tag)
    details = dict(details or {})
    salt = ""
    address = actor.ip or ""
    address_salt = secrets.token_hex(16)
    if conceal_actor:
        confidential = {
            **(confidential or {}),
            "actor": {
                "user_id": actor.user_id,
                "username": actor.username,
                "organisation": actor.organisation_id,
            },
        }
        actor = Actor(user_id=None, username=CONCEALED, role=actor.role, organisation_id=None, ip=CONCEALED)
    if confidential is not None:
        salt = secrets.token_hex(16)
        details["confidential_digest"] = confidential_digest(salt, confidential)
    head = _head_for_append(session)
    index = head.size
    now = clock.now()
    details_text = canonical(details)
    doc = {
        "index": index,
        "tag": tag.value,
        "time": format_time(now),
        "actor": actor.username or "anonymous",
        "actor_id": actor.user_id,
        "role": actor.role,
        "organisation": actor.organisation_id,
        "address_digest": address_digest(address_salt, address),
        "subject": subject,
        "details_digest": hashlib.sha256(details_text).hexdigest(),
    }
    entry_salt = None
    if withhold is not None:
        entry_salt = doc["salt"] = secrets.token_hex(16)
    entry_bytes = canonical(doc)
    values = {
        "index": index,
        "time": now,
        "tag": tag.value,
        "actor_user_id": actor.user_id,
        "actor": doc["actor"],
        "role": actor.role,
        "organisation_id": actor.organisation_id,
        "ip": actor.ip,
        "address": address,
        "address_salt": address_salt,
        "subject": subject,
        "details": details,
        "details_digest": doc["details_digest"],
        "entry_bytes": entry_bytes,
        "salt": entry_salt,
        "withheld": None if withhold is None else Fact(withhold).value,
        "released_at": None,
    }
    # In memory only: the rows are written when they are needed (write_pending), at the latest before commit.
    head.entries.append({**values, "details": details_text.decode()})
    if confidential is not None:
        head.confidential.append(
            {"entry_index": index, "salt": salt, "data": confidential, "disclosed_at": None}
        )
    head.nodes.extend(
        {"key": k, "hash": h} for k, h in tree.extend(head.frontier, index, leaf_hash(entry_bytes))
    )
    head.size = index + 1
    head.dirty = True
    # The caller gets the entry as a persistent object of its session, without loading it back.
    entry = AuditEntry(**values)
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


def disclose(session: Session, entry_index: int, actor: Actor) -> AuditConfidential:
    """Publish the confidential details of one entry (salt and data), so that anyone can check them against
    the digest the entry committed to. The caller decides that the rules allow it now (after the opening,
    after the result is final); this records who disclosed what, and when."""
    secret = session.get(AuditConfidential, entry_index, with_for_update=True)
    if secret is None:
        raise NotFound.one(
            "audit_no_confidential_details",
            N_("Audit entry %(index)s has no confidential details."),
            index=entry_index,
        )
    if secret.disclosed_at is not None:
        raise Conflict.one(
            "audit_already_disclosed",
            N_("The details of audit entry %(index)s were already disclosed."),
            index=entry_index,
        )
    secret.disclosed_at = clock.now()
    entry = session.get(AuditEntry, entry_index)
    assert entry is not None  # the foreign key guarantees it
    record(
        session,
        AuditTag.audit_details_disclosed,
        actor=actor,
        subject=f"audit:{entry_index}",
        details={
            "entry": entry_index,
            "tag": entry.tag,
            "entry_subject": entry.subject,
            "confidential_digest": entry.details.get("confidential_digest"),
        },
    )
    return secret


def disclose_where(session: Session, actor: Actor, *, subject: str, tags: list[str]) -> list[int]:
    """Disclose every still-confidential entry about `subject` with one of `tags` (e.g. all
    tender.bid.submitted of a tender once it is opened). Returns the disclosed indexes."""
    rows = session.scalars(
        select(AuditConfidential.entry_index)
        .join(AuditEntry, AuditEntry.index == AuditConfidential.entry_index)
        .where(
            AuditEntry.subject == subject, AuditEntry.tag.in_(tags), AuditConfidential.disclosed_at.is_(None)
        )
        .order_by(AuditConfidential.entry_index)
    ).all()
    for index in rows:
        disclose(session, index, actor)
    return list(rows)


def release_where(session: Session, actor: Actor, *, subject: str, fact: Fact) -> list[int]:
    """Release every still-withheld entry about `subject` withheld as `fact` (the caller decides that its
    disclosure time has come: a draft's entries at its publication, a tender's participation when its
    opening record is published or it fails at the deadline), and record that it did. From then on the
    public log shows them in full. Returns the released indexes (none: nothing is recorded)."""
    write_pending(session)
    rows = list(
        session.scalars(
            select(AuditEntry.index)
            .where(
                AuditEntry.subject == subject,
                AuditEntry.withheld == Fact(fact).value,
                AuditEntry.released_at.is_(None),
            )
            .order_by(AuditEntry.index)
        )
    )
    if not rows:
        return []
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.index.in_(rows))
        .values(released_at=clock.now())
        .execution_options(synchronize_session="fetch")
    )
    record(
        session,
        AuditTag.audit_entries_released,
        actor=actor,
        subject=subject,
        details={"fact": Fact(fact).value, "count": len(rows), "entries": rows},
    )
    return rows
