"""core.db's units of work and the kept-refusal marker (core.errors.DomainError.kept): a kept refusal's record
is committed and the refusal raised on; any other error rolls back what was written."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.events import AccountTag
from audit import record
from audit.log import AuditEntry
from core.db import savepoint, transaction
from core.errors import N_, Conflict, DomainError, Forbidden, is_kept
from core.identity import anonymous


class AlwaysKept(Forbidden):
    kept = True


def _write(session: Session, what: str) -> None:
    record(
        session,
        AccountTag.access_refused,
        actor=anonymous("198.51.100.7"),
        subject="test:uow",
        details={"what": what},
    )


def _on_record(db: Session) -> list[str]:
    db.expire_all()
    found = [
        d["what"] for d in db.scalars(select(AuditEntry.details).where(AuditEntry.subject == "test:uow"))
    ]
    db.rollback()
    return found


def _refusal() -> DomainError:
    return Conflict.one("test_refused", N_("Refused for the test."))


def test_the_marker_is_per_refusal_and_per_class():
    plain, marked = _refusal(), _refusal()
    assert marked.keep() is marked and marked.kept and is_kept(marked)
    assert not plain.kept and not is_kept(plain) and not Conflict.kept  # keep() marks the one refusal only
    assert is_kept(AlwaysKept.one("x", N_("x"))) and not is_kept(RuntimeError("not a refusal"))


def test_transaction_commits_a_kept_refusal_and_raises_it(db, factory):
    with pytest.raises(Conflict) as e, transaction(factory) as session:
        _write(session, "kept")
        raise _refusal().keep()
    assert e.value.problems[0].code == "test_refused"
    with pytest.raises(AlwaysKept), transaction(factory) as session:
        _write(session, "kept by its class")
        raise AlwaysKept.one("x", N_("x"))
    assert _on_record(db) == ["kept", "kept by its class"]


def test_transaction_rolls_back_an_ordinary_refusal_and_any_other_error(db, factory):
    with pytest.raises(Conflict), transaction(factory) as session:
        _write(session, "refused")
        raise _refusal()
    with pytest.raises(RuntimeError), transaction(factory) as session:
        _write(session, "crashed")
        raise RuntimeError("boom")
    with transaction(factory) as session:
        _write(session, "done")
    assert _on_record(db) == ["done"]


def test_savepoint_keeps_a_kept_refusal_and_discards_any_other(db, factory):
    with transaction(factory) as session:
        _write(session, "before")
        with pytest.raises(Conflict), savepoint(session):
            _write(session, "kept")
            raise _refusal().keep()
        with pytest.raises(Conflict), savepoint(session):
            _write(session, "refused")
            raise _refusal()
        with pytest.raises(RuntimeError), savepoint(session):
            _write(session, "crashed")
            raise RuntimeError("boom")
        with savepoint(session):
            _write(session, "done")
    assert _on_record(db) == ["before", "kept", "done"]
