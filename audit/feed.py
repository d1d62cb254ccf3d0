"""What the public audit API, the live stream and the monitors' feed show of each entry.

One function decides it (published()): the entry bytes and their hash, the decoded entry, the non-confidential
details that the entry's details_digest commits to, and the confidential part only once disclosed. Before
disclosure only its salted digest shows; concealed actors are concealed in the entry bytes themselves, so no
filter or page can reveal them (filters work on the hashed, public columns only)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from audit import tree
from audit.checkpoints import AuditCheckpoint
from audit.checkpoints import latest as latest_checkpoint
from audit.log import AuditConfidential, AuditEntry, AuditHead, format_time
from audit.merkle import leaf_hash
from core.errors import N_, DomainError, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from core.identity import Actor, Role

MAX_PAGE = 1000  # entries per API call


def published(entry: AuditEntry, secret: AuditConfidential | None) -> dict[str, Any]:
    raw = bytes(entry.entry_bytes)
    out: dict[str, Any] = {
        "index": entry.index,
        "leaf_hash": leaf_hash(raw).hex(),
        "entry": base64.b64encode(raw).decode(),
        "decoded": json.loads(raw),
        "details": entry.details,
    }
    if secret is not None and secret.disclosed_at is not None:
        out["disclosed"] = {
            "salt": secret.salt,
            "data": secret.data,
            "disclosed_at": format_time(secret.disclosed_at),
        }
    return out


def _with_secrets(session: Session, entries: list[AuditEntry]) -> list[dict[str, Any]]:
    indexes = [e.index for e in entries if "confidential_digest" in (e.details or {})]
    secrets = {}
    if indexes:
        rows = session.scalars(
            select(AuditConfidential).where(
                AuditConfidential.entry_index.in_(indexes), AuditConfidential.disclosed_at.is_not(None)
            )
        )
        secrets = {s.entry_index: s for s in rows}
    return [published(e, secrets.get(e.index)) for e in entries]


def size(session: Session) -> int:
    head = session.get(AuditHead, 1)
    return head.size if head is not None else 0


def entries(session: Session, start: int, end: int) -> list[dict[str, Any]]:
    """Entries start <= i < end (at most MAX_PAGE; end beyond the log is cut to its size)."""
    if start < 0 or end < start:
        raise ValidationFailed.one("audit_bad_range", N_("Give 0 <= start <= end."), "start")
    end = min(end, start + MAX_PAGE, size(session))
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.index >= start, AuditEntry.index < end).order_by(AuditEntry.index)
    )
    return _with_secrets(session, list(rows))


def entry(session: Session, index: int) -> dict[str, Any]:
    found = session.get(AuditEntry, index)
    if found is None:
        raise NotFound.one("audit_entry_not_found", N_("There is no audit entry %(index)s."), index=index)
    return _with_secrets(session, [found])[0]


def _bad(code: str, message: str, field: str) -> DomainError:
    return ValidationFailed.one(code, message, field)


def inclusion(session: Session, index: int, tree_size: int) -> list[bytes]:
    if not 0 <= index < tree_size:
        raise _bad(
            "audit_bad_index", N_("The index must be at least 0 and smaller than the tree size."), "index"
        )
    if tree_size > size(session):
        raise _bad(
            "audit_tree_too_large",
            N_("The log is not that large yet: ask for a tree size the checkpoint shows."),
            "tree_size",
        )
    return tree.inclusion_proof(session, index, tree_size)


def consistency(session: Session, first: int, second: int) -> list[bytes]:
    if not 0 <= first <= second:
        raise _bad(
            "audit_bad_sizes",
            N_("The first tree size must be at least 0 and not larger than the second."),
            "first",
        )
    if second > size(session):
        raise _bad(
            "audit_tree_too_large",
            N_("The log is not that large yet: ask for a tree size the checkpoint shows."),
            "second",
        )
    return tree.consistency_proof(session, first, second)


# ---------------------------------------------------------------- the feed


@dataclass(frozen=True)
class FeedFilter:
    tender: int | None = None
    tag: str = ""  # a tag or a tag prefix ("tender.bid")
    organisation: int | None = None
    actor: str = ""

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.tender is not None:
            stmt = stmt.where(AuditEntry.subject == f"tender:{self.tender}")
        if self.tag:
            stmt = stmt.where(
                (AuditEntry.tag == self.tag)
                | AuditEntry.tag.startswith(self.tag.rstrip(".") + ".", autoescape=True)
            )
        if self.organisation is not None:
            stmt = stmt.where(AuditEntry.organisation_id == self.organisation)
        if self.actor:
            stmt = stmt.where(AuditEntry.actor == self.actor)
        return stmt


def after(session: Session, last_index: int, filt: FeedFilter, limit: int = 200) -> list[dict[str, Any]]:
    """Entries after last_index that pass the filter, oldest first: what the live stream sends next."""
    stmt = (
        filt.apply(select(AuditEntry).where(AuditEntry.index > last_index))
        .order_by(AuditEntry.index)
        .limit(limit)
    )
    return _with_secrets(session, list(session.scalars(stmt)))


def require_supervisor(actor: Actor) -> None:
    if actor.anonymous:
        raise NotAuthenticated.one("login_required", N_("Please log in first."))
    if not actor.has(Role.monitor, Role.admin):
        raise Forbidden.one(
            "supervisor_required", N_("Only monitors and administrators may watch the audit feed.")
        )


def recent(session: Session, actor: Actor, filt: FeedFilter, limit: int = 100) -> list[dict[str, Any]]:
    """The newest entries that pass the filter, newest first (the feed page's first screen)."""
    require_supervisor(actor)
    stmt = filt.apply(select(AuditEntry)).order_by(AuditEntry.index.desc()).limit(limit)
    return _with_secrets(session, list(session.scalars(stmt)))


def latest_signed(session: Session) -> AuditCheckpoint | None:
    return latest_checkpoint(session)
