"""Read-only queries on the audit log for the other packages, which never touch the audit tables themselves
(an import-linter contract keeps audit.log, audit.tree and audit.checkpoints private). Nothing here writes.

Entries come back as the session's entry objects typed as Entry, a read-only view; checkpoints as plain
values. Confidential details (audit_confidential) are returned only by confidential_parts(), for rules the
server computes without showing them (supervision's same-address alert)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.checkpoints import SignedCheckpoint
from audit.checkpoints import all_checkpoints as _all_checkpoints
from audit.checkpoints import latest as _latest
from audit.log import AuditConfidential, AuditEntry
from audit.refusals import RefusalFold
from core.errors import N_, Forbidden, NotAuthenticated
from core.identity import Actor, Role


class Entry(Protocol):
    """An audit entry as read outside audit: its columns, read-only."""

    @property
    def index(self) -> int: ...
    @property
    def time(self) -> datetime: ...
    @property
    def tag(self) -> str: ...
    @property
    def actor_user_id(self) -> int | None: ...
    @property
    def actor(self) -> str: ...
    @property
    def role(self) -> str | None: ...
    @property
    def organisation_id(self) -> int | None: ...
    @property
    def ip(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def details_digest(self) -> str: ...


@dataclass(frozen=True)
class ConfidentialPart:
    """An entry's public columns with the confidential details it committed to (disclosed or not)."""

    index: int
    time: datetime
    subject: str
    details: dict[str, Any]
    data: dict[str, Any]
    # the network address the entry committed to (NULL before addresses left the bytes: a concealed actor's
    # address is then in `data`): for server-side rules only, never shown
    address: str | None = None


def _require_supervisor(actor: Actor) -> None:
    if actor.anonymous:
        raise NotAuthenticated.one("login_required", N_("Please log in first."))
    if not actor.has(Role.monitor, Role.admin):
        raise Forbidden.one(
            "supervisor_required",
            N_("Only monitors and administrators may read the audit trail of a procedure."),
        )


def entries_for_subject(
    session: Session, actor: Actor, subject: str, *, exclude_tags: Iterable[str] = ()
) -> list[Entry]:
    """Every entry about one subject (e.g. "tender:12"), oldest first, for the supervising authority (E48: the
    platform exposes its data to supervisors). `exclude_tags` lets the caller leave out entries whose mere
    number is confidential at that moment (downloads and registrations before the bid deadline, E21/L22)."""
    _require_supervisor(actor)
    stmt = select(AuditEntry).where(AuditEntry.subject == subject)
    excluded = [str(t) for t in exclude_tags]
    if excluded:
        stmt = stmt.where(AuditEntry.tag.not_in(excluded))
    return list(session.scalars(stmt.order_by(AuditEntry.index)))


def entries_tagged(
    session: Session,
    tags: Iterable[str],
    *,
    subject: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[Entry]:
    """The entries with one of `tags` (about `subject`, from `since` on, at most `limit`), oldest first. An
    entry's columns are public (the audit API serves them to anyone); the caller decides who sees what it
    derives from them."""
    stmt = select(AuditEntry).where(AuditEntry.tag.in_([str(t) for t in tags]))
    if subject is not None:
        stmt = stmt.where(AuditEntry.subject == subject)
    if since is not None:
        stmt = stmt.where(AuditEntry.time >= since)
    return list(session.scalars(stmt.order_by(AuditEntry.index).limit(limit)))


def confidential_parts(session: Session, tag: str, *, since: datetime, limit: int) -> list[ConfidentialPart]:
    """The entries with `tag` from `since` on (at most `limit`, oldest first) that have confidential details,
    with those details. For rules the server computes: what they show must not reveal the details."""
    stmt = (
        select(
            AuditEntry.index,
            AuditEntry.time,
            AuditEntry.subject,
            AuditEntry.details,
            AuditConfidential.data,
            AuditEntry.address,
        )
        .join(AuditConfidential, AuditConfidential.entry_index == AuditEntry.index)
        .where(AuditEntry.tag == str(tag), AuditEntry.time >= since)
        .order_by(AuditEntry.index)
        .limit(limit)
    )
    return [ConfidentialPart(*row) for row in session.execute(stmt)]


def pending_repeats(session: Session) -> dict[int, int]:
    """The refusals counted but not yet recorded (audit.refusals: a fold whose window has not ended): the
    index of the entry they repeat -> how many. For the monitors' alerts, which add them to the count."""
    rows = session.execute(select(RefusalFold.first_index, RefusalFold.count).where(RefusalFold.count > 0))
    return {index: count for index, count in rows}


def latest_checkpoint(session: Session) -> SignedCheckpoint | None:
    cp = _latest(session)
    return None if cp is None else SignedCheckpoint.of(cp)


def checkpoints_after(session: Session, after_size: int = -1, *, limit: int = 1000) -> list[SignedCheckpoint]:
    """The signed checkpoints of trees larger than `after_size`, smallest first."""
    return [SignedCheckpoint.of(cp) for cp in _all_checkpoints(session, after_size=after_size, limit=limit)]
