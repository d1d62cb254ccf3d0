"""What the public audit API, the live stream and the monitors' feed show of each entry.

One function decides it (published()): the entry bytes and their hash, the decoded entry, the non-confidential
details that the entry's details_digest commits to, and the confidential part only once disclosed. Before
disclosure only its salted digest shows; concealed actors are concealed in the entry bytes themselves, so no
filter or page can reveal them (filters work on the hashed, public columns only).

Network addresses are never public (E49 records them, Fact.login: monitors and administrators only). An
entry's bytes carry only its address's salted digest; a monitor or administrator gets the address and its salt
beside the entry ("address": {"ip", "salt"}, checkable against the digest), unless the actor is concealed. An
entry written before addresses left the bytes names its address there: the public gets it as its leaf hash
only, like a withheld entry ({"index", "leaf_hash", "withheld": true, "reason": "address"}).

A withheld entry (audit.record(withhold=fact)) not yet released is shown as its index and leaf hash only,
{"index", "leaf_hash", "withheld": true}, unless the reader may see that fact before any tender is
published (core.disclosure: monitors and administrators see logins and the expert pool); no filter ever
matches one the reader may not see, so that filtering cannot count them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from audit import tree
from audit.checkpoints import AuditCheckpoint
from audit.checkpoints import latest as latest_checkpoint
from audit.log import CONCEALED, AuditConfidential, AuditEntry, AuditHead, format_time
from audit.merkle import leaf_hash
from core.disclosure import Audience, Fact, Phase, may_see
from core.errors import N_, DomainError, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from core.identity import Actor, Role

MAX_PAGE = 1000  # entries per API call


def readable_facts(reader: Actor | None) -> frozenset[str]:
    """The facts whose withheld entries this reader sees in full before their release: what the policy lets
    the reader's supervising audiences see before any tender is published (login, expert_pool for monitors
    and administrators). Nobody reads a tender's participation or a draft through the log before release:
    the agency that wrote the draft has its own pages."""
    audiences: set[Audience] = set()
    if reader is not None and not reader.anonymous:
        if reader.has(Role.monitor):
            audiences.add(Audience.monitor)
        if reader.has(Role.admin):
            audiences.add(Audience.admin)
    return frozenset(f.value for f in Fact if may_see(f, audiences, Phase.draft))


def _visible(facts: frozenset[str]) -> ColumnElement[bool]:
    """The entries a reader who sees `facts` sees in full (the condition every filter adds)."""
    return or_(
        AuditEntry.withheld.is_(None),
        AuditEntry.released_at.is_not(None),
        AuditEntry.withheld.in_(sorted(facts)),
    )


def reads_addresses(facts: frozenset[str]) -> bool:
    """Whether a reader who sees these withheld facts in full sees network addresses (Fact.login)."""
    return Fact.login.value in facts


def published(
    entry: AuditEntry, secret: AuditConfidential | None, facts: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if entry.hidden and entry.withheld not in facts:
        # Nothing that ties it to a tender, a person or a time: the leaf hash keeps proofs and verification
        # working, and the salt in the bytes keeps the hash from being matched against guessed contents.
        return {"index": entry.index, "leaf_hash": entry.leaf_hash.hex(), "withheld": True}
    addresses = reads_addresses(facts)
    if entry.address_in_bytes and not addresses:
        # written before addresses left the bytes: its bytes, even without the address beside them, would
        # let anyone find the address by trying them all (IPv4 has 2^32)
        return {
            "index": entry.index,
            "leaf_hash": entry.leaf_hash.hex(),
            "withheld": True,
            "reason": "address",
        }
    raw = bytes(entry.entry_bytes)
    out: dict[str, Any] = {
        "index": entry.index,
        "leaf_hash": leaf_hash(raw).hex(),
        "entry": base64.b64encode(raw).decode(),
        "decoded": json.loads(raw),
        "details": entry.details,
    }
    if addresses and entry.address_salt is not None and entry.ip != CONCEALED:
        out["address"] = {"ip": entry.address, "salt": entry.address_salt}
    if secret is not None and secret.disclosed_at is not None:
        out["disclosed"] = {
            "salt": secret.salt,
            "data": secret.data,
            "disclosed_at": format_time(secret.disclosed_at),
        }
    return out


def _with_secrets(
    session: Session, entries: list[AuditEntry], facts: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    indexes = [
        e.index
        for e in entries
        if "confidential_digest" in (e.details or {})
        and not (e.hidden and e.withheld not in facts)
        and not (e.address_in_bytes and not reads_addresses(facts))
    ]
    secrets = {}
    if indexes:
        rows = session.scalars(
            select(AuditConfidential).where(
                AuditConfidential.entry_index.in_(indexes), AuditConfidential.disclosed_at.is_not(None)
            )
        )
        secrets = {s.entry_index: s for s in rows}
    return [published(e, secrets.get(e.index), facts) for e in entries]


def size(session: Session) -> int:
    head = session.get(AuditHead, 1)
    return head.size if head is not None else 0


def entries(session: Session, start: int, end: int, reader: Actor | None = None) -> list[dict[str, Any]]:
    """Entries start <= i < end (at most MAX_PAGE; end beyond the log is cut to its size), as `reader` (None:
    anonymous) may see them."""
    if start < 0 or end < start:
        raise ValidationFailed.one("audit_bad_range", N_("Give 0 <= start <= end."), "start")
    end = min(end, start + MAX_PAGE, size(session))
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.index >= start, AuditEntry.index < end).order_by(AuditEntry.index)
    )
    return _with_secrets(session, list(rows), readable_facts(reader))


def entry(session: Session, index: int, reader: Actor | None = None) -> dict[str, Any]:
    found = session.get(AuditEntry, index)
    if found is None:
        raise NotFound.one("audit_entry_not_found", N_("There is no audit entry %(index)s."), index=index)
    return _with_secrets(session, [found], readable_facts(reader))[0]


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

    @property
    def filtering(self) -> bool:
        return self.tender is not None or bool(self.tag) or self.organisation is not None or bool(self.actor)

    def apply(
        self, stmt: Select[Any], facts: frozenset[str] = frozenset(), *, visible_only: bool = False
    ) -> Select[Any]:
        """The entries that pass the filter, for a reader who sees withheld `facts` in full. A filtered
        view (or `visible_only`) never holds an entry withheld from the reader: its columns must not count."""
        if self.filtering or visible_only:
            stmt = stmt.where(_visible(facts))
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


def after(
    session: Session, last_index: int, filt: FeedFilter, limit: int = 200, reader: Actor | None = None
) -> list[dict[str, Any]]:
    """Entries after last_index that pass the filter, oldest first: what the live stream sends next (the
    unfiltered stream sends withheld entries as placeholders, a filtered one leaves them out)."""
    facts = readable_facts(reader)
    stmt = (
        filt.apply(select(AuditEntry).where(AuditEntry.index > last_index), facts)
        .order_by(AuditEntry.index)
        .limit(limit)
    )
    return _with_secrets(session, list(session.scalars(stmt)), facts)


def require_supervisor(actor: Actor) -> None:
    if actor.anonymous:
        raise NotAuthenticated.one("login_required", N_("Please log in first."))
    if not actor.has(Role.monitor, Role.admin):
        raise Forbidden.one(
            "supervisor_required", N_("Only monitors and administrators may watch the audit feed.")
        )


def recent(
    session: Session, actor: Actor, filt: FeedFilter, limit: int = 100, before: int | None = None
) -> list[dict[str, Any]]:
    """The newest entries that pass the filter and the supervisor may read, newest first (the feed page's
    first screen); with `before`, the page of older entries below that index (paging back through the log)."""
    require_supervisor(actor)
    facts = readable_facts(actor)
    stmt = filt.apply(select(AuditEntry), facts, visible_only=True)
    if before is not None:
        stmt = stmt.where(AuditEntry.index < before)
    stmt = stmt.order_by(AuditEntry.index.desc()).limit(limit)
    return _with_secrets(session, list(session.scalars(stmt)), facts)


def latest_signed(session: Session) -> AuditCheckpoint | None:
    return latest_checkpoint(session)
