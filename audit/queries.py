"""Read-only queries on the audit log for the supervising authority (E48: the platform exposes its data to
supervisors). Nothing here writes; confidential details (audit_confidential) are never returned."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import AuditEntry
from core.errors import N_, Forbidden, NotAuthenticated
from core.identity import Actor, Role


def _require_supervisor(actor: Actor) -> None:
    if actor.anonymous:
        raise NotAuthenticated.one("login_required", N_("Please log in first."))
    if not actor.has(Role.monitor, Role.admin):
        raise Forbidden.one("supervisor_required", N_("Only monitors and administrators may read the audit trail of a procedure."))


def entries_for_subject(session: Session, actor: Actor, subject: str, *, exclude_tags: Iterable[str] = ()) -> list[AuditEntry]:
    """Every entry about one subject (e.g. "tender:12"), oldest first. `exclude_tags` lets the caller leave out
    entries whose mere number is confidential at that moment (downloads and registrations before the bid
    deadline, E21/L22)."""
    _require_supervisor(actor)
    stmt = select(AuditEntry).where(AuditEntry.subject == subject)
    excluded = [str(t) for t in exclude_tags]
    if excluded:
        stmt = stmt.where(AuditEntry.tag.not_in(excluded))
    return list(session.scalars(stmt.order_by(AuditEntry.index)))
