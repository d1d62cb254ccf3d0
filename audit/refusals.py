"""Refused attempts, recorded without letting anyone flood the log (E49: every operation is recorded;
docs/audit-log.md, "Refused attempts").

refused() is record() for a refusal. The first refusal of one actor (a user; an anonymous visitor by
network address) with one tag, subject and public details (its reason, step, route) is recorded at once.
Further ones within FOLD_WINDOW of it are only counted, in one row of audit_refusal_folds; when the window
has ended (at the next such refusal, or at the periodic sweep, audit.tasks) one more entry with the same tag
and subject says how many more times it was refused and between which times: details {..the first's
details.., "repeated": N, "first_at", "last_at", "folded_into": the first entry's index}. However many
attempts, one actor's refusals of one kind make at most two entries per window.

Both ways a refusal is recorded go through here: a service that records its refusal and raises it kept (the
unit of work commits the record, with what the refusal itself keeps: a late bid's state), and the web layer
recording a refusal that was not recorded (a write refused as forbidden or not found, a failed CSRF check) in
a short transaction of its own after the request's transaction was rolled back (record_after_rollback)."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.events import registered_tag
from audit.log import AuditEntry, _head_for_append, canonical, format_time, record
from core import clock
from core.db import Base
from core.disclosure import Fact
from core.identity import Actor

# Policy: one actor's repeated refusals of one kind within this window become one entry with their count.
FOLD_WINDOW = timedelta(minutes=10)


class RefusalFold(Base):
    """The refusals of one actor, tag, subject and public details since the first of the current window was
    recorded: how many more came (`count`), the first and last of them, what the summary entry repeats."""

    __tablename__ = "audit_refusal_folds"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of (actor, tag, subject, details)
    tag: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    conceal_actor: Mapped[bool] = mapped_column(Boolean, default=False)
    withhold: Mapped[str | None] = mapped_column(String(20), default=None)
    first_index: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_repeat_at: Mapped[datetime | None] = mapped_column(default=None)
    last_at: Mapped[datetime | None] = mapped_column(default=None)


def _key(actor: Actor, tag: str, subject: str, details: dict[str, Any]) -> str:
    """One fold per actor, tag, subject and public details (the reason, the step, the route): the same
    refusal again. The confidential part (which bid) may differ."""
    who = f"user:{actor.user_id}" if actor.user_id is not None else f"ip:{actor.ip}"
    return hashlib.sha256("\x00".join((who, tag, subject, canonical(details).decode())).encode()).hexdigest()


def refused(
    session: Session,
    tag: enum.StrEnum,
    *,
    actor: Actor,
    subject: str,
    details: dict[str, Any] | None = None,
    confidential: dict[str, Any] | None = None,
    conceal_actor: bool = False,
    withhold: Fact | None = None,
    window: timedelta = FOLD_WINDOW,
) -> AuditEntry | None:
    """Record a refusal in the caller's transaction, folded (see the module): the entry, or None when this
    refusal was only counted. Arguments as audit.record()'s."""
    tag = registered_tag(tag)
    args: dict[str, Any] = {
        "actor": actor,
        "subject": subject,
        "details": details,
        "confidential": confidential,
        "conceal_actor": conceal_actor,
        "withhold": withhold,
    }
    if session.connection().get_execution_options().get("etender_read_only"):
        # a reading unit of work (core.db.read_only_sessionmaker), whose appends are never written: the
        # caller refuses again in a writing one, which folds (on PostgreSQL a reading one may run each
        # statement on its own, so a fold row written here would stay without its entry)
        return record(session, tag, **args)
    # The head first, as record() takes it: every writer of the log and of the folds locks in that order.
    _head_for_append(session)
    now = clock.now()
    key = _key(actor, tag.value, subject, dict(details or {}))
    fold = session.get(RefusalFold, key, with_for_update=True, populate_existing=True)
    if fold is not None and now - clock.as_utc(fold.started_at) < window:
        fold.count += 1
        fold.first_repeat_at = fold.first_repeat_at or now
        fold.last_at = now
        return None
    if fold is not None:
        _close(session, fold)
    entry = record(session, tag, **args)
    values = {
        "key": key,
        "tag": tag.value,
        "subject": subject,
        "actor_user_id": actor.user_id,
        "actor": actor.username,
        "role": actor.role,
        "organisation_id": actor.organisation_id,
        "ip": actor.ip,
        "details": dict(details or {}),
        "conceal_actor": conceal_actor,
        "withhold": None if withhold is None else Fact(withhold).value,
        "first_index": entry.index,
        "started_at": now,
        "count": 0,
    }
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # a concurrent first refusal of the same kind may have inserted it meanwhile: its row counts from then
    session.execute(ins(RefusalFold).values(**values).on_conflict_do_nothing(index_elements=["key"]))
    return entry


def _close(session: Session, fold: RefusalFold) -> AuditEntry | None:
    """The window of `fold` has ended: record how many more times it was refused (if it was); forget it."""
    entry = None
    if fold.count > 0:
        assert fold.first_repeat_at is not None and fold.last_at is not None
        entry = record(
            session,
            registered_tag(fold.tag),
            actor=Actor(
                user_id=fold.actor_user_id,
                username=fold.actor,
                role=fold.role,
                organisation_id=fold.organisation_id,
                ip=fold.ip,
            ),
            subject=fold.subject,
            details={
                **(fold.details or {}),
                "repeated": fold.count,
                "first_at": format_time(fold.first_repeat_at),
                "last_at": format_time(fold.last_at),
                "folded_into": fold.first_index,
            },
            conceal_actor=fold.conceal_actor,
            withhold=Fact(fold.withhold) if fold.withhold else None,
        )
    session.delete(fold)
    session.flush()
    return entry


def sweep(session: Session, *, window: timedelta = FOLD_WINDOW, limit: int = 1000) -> int:
    """Close every fold whose window has ended (the periodic task audit.fold_refusals): returns how many
    summary entries it recorded."""
    _head_for_append(session)
    cutoff = clock.now() - window
    folds = session.scalars(
        select(RefusalFold)
        .where(RefusalFold.started_at <= cutoff)
        .order_by(RefusalFold.started_at)
        .limit(limit)
        .with_for_update()
    ).all()
    return sum(_close(session, fold) is not None for fold in folds)


def record_after_rollback(factory: Callable[[], Session], tag: enum.StrEnum, **kwargs: Any) -> None:
    """Record a refusal in a short transaction of its own (`factory` makes a session): for a refusal whose
    request's transaction was rolled back, so that nothing it wrote before being refused is kept with it."""
    with factory() as session:
        refused(session, tag, **kwargs)
        session.commit()
