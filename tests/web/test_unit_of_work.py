"""The request's unit of work (web.deps.provide_db): one transaction per request, committed when the handler
returns and when it raises a kept refusal (its record stays; the refusal is answered as usual), rolled back
when it raises anything else."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import get
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.events import AccountTag
from accounts.models import LoginAttempt
from audit import record
from audit.log import AuditEntry
from core.errors import N_, Conflict
from core.identity import anonymous
from tests.web.support import zh
from web.app import create_app


def _service(session: Session, how: str) -> dict[str, Any]:
    """A service that writes its record, then refuses (kept or not), fails, or succeeds."""
    record(
        session,
        AccountTag.access_refused,
        actor=anonymous("198.51.100.7"),
        subject="test:uow",
        details={"how": how},
    )
    refusal = Conflict.one("test_refused", N_("Refused for the test (%(how)s)."), how=how)
    if how == "kept":
        raise refusal.keep()
    if how == "refused":
        raise refusal
    if how == "crashed":
        raise RuntimeError("the service failed")
    return {"how": how}


@pytest.fixture
def client(settings, db):
    app = create_app(settings)

    @get("/api/v1/test-uow/{how:str}", sync_to_thread=True, opt={"writes": True})
    def uow_route(db: Session, how: str) -> dict[str, Any]:
        return _service(db, how)

    app.register(uow_route)
    with TestClient(app=app) as c:
        yield c


def _on_record(db: Session) -> list[str]:
    db.expire_all()
    found = [d["how"] for d in db.scalars(select(AuditEntry.details).where(AuditEntry.subject == "test:uow"))]
    db.rollback()
    return found


def test_a_kept_refusal_is_on_record_after_the_request_failed(client, db):
    r = client.get("/api/v1/test-uow/kept")
    assert r.status_code == 409 and r.json()["error"]["code"] == "test_refused"
    assert r.json()["error"]["message"] == zh("Refused for the test (%(how)s).", how="kept")
    assert _on_record(db) == ["kept"]


def test_an_ordinary_refusal_and_a_failure_leave_nothing_behind(client, db):
    r = client.get("/api/v1/test-uow/refused")
    assert r.status_code == 409 and r.json()["error"]["code"] == "test_refused"
    r = client.get("/api/v1/test-uow/crashed")
    assert r.status_code == 500 and r.json()["error"]["code"] == "server_error"
    assert _on_record(db) == []
    assert client.get("/api/v1/test-uow/done").status_code == 200
    assert _on_record(db) == ["done"]


def test_a_refused_login_answered_with_its_page_keeps_its_attempt_and_audit_entry(client, make, db):
    make.user(make.org("bidder"), "bidder", username="erin")
    db.commit()
    client.get("/login")
    token = client.cookies.get("etender_csrf")
    r = client.post("/login", data={"username": "erin", "password": "wrong", "_csrf_token": token})
    assert r.status_code == 422 and 'value="erin"' in r.text
    db.expire_all()
    assert (
        db.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == "erin")) == 1
    )
    assert db.scalars(
        select(AuditEntry.subject).where(AuditEntry.tag == AccountTag.auth_login_failed)
    ).all() == ["login:erin"]
    db.rollback()
