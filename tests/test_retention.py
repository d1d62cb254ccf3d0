"""Nothing of a tender is ever deleted (alembic 6d4e8f0a2b35): the database refuses DELETE on tenders, bids
and the audit log's tables (and TRUNCATE on PostgreSQL), on both databases; and no code of the product deletes
them (a grep over the packages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import DatabaseError

from audit.queries import latest_checkpoint
from tender.models import Bid, Tender
from tests.factories.archive import failed_world
from tests.factories.retention import deletes_allowed

ROOT = Path(__file__).resolve().parents[1]
GUARDED = (
    "tenders",
    "bids",
    "audit_entries",
    "audit_confidential",
    "audit_nodes",
    "audit_checkpoints",
    "audit_head",
)


@pytest.fixture
def failed(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    w = failed_world(db, make, blobs, tmp_path)
    from audit import sign_checkpoint

    sign_checkpoint(db, w.key, "etender.test")
    db.commit()
    return w


def _refused(db, statement) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DatabaseError) as e, db.begin_nested():
        db.execute(statement)
    return str(e.value)


@pytest.mark.parametrize("table", GUARDED)
def test_the_database_refuses_to_delete_a_kept_row(failed, db, table):
    assert db.scalar(text(f"SELECT count(*) FROM {table}")) > 0
    message = _refused(db, text(f"DELETE FROM {table}"))
    assert f"etender: {table} rows are never deleted" in message
    assert db.scalar(text(f"SELECT count(*) FROM {table}")) > 0


def test_the_orm_cannot_delete_a_tender_or_a_bid_either(failed, db):
    assert "never deleted" in _refused(db, delete(Bid).where(Bid.id == failed.bid.id))
    assert "never deleted" in _refused(db, delete(Tender).where(Tender.id == failed.tender.id))
    assert db.get(Tender, failed.tender.id) is not None and latest_checkpoint(db) is not None


def test_truncate_is_refused_on_postgresql(failed, db):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    assert "never deleted" in _refused(db, text("TRUNCATE audit_entries CASCADE"))


def test_the_escape_for_tests_lets_a_delete_through_and_the_guard_comes_back(failed, db):
    before = db.scalar(select(func.count()).select_from(Bid))
    with deletes_allowed(db):
        nested = db.begin_nested()
        db.execute(delete(Bid).where(Bid.id == failed.bid.id))
        assert db.scalar(select(func.count()).select_from(Bid)) == before - 1
        nested.rollback()
    assert db.scalar(select(func.count()).select_from(Bid)) == before
    assert "never deleted" in _refused(db, delete(Bid).where(Bid.id == failed.bid.id))  # the guard is back


# A DELETE in the product's code: SQLAlchemy's delete(), session.delete(), Table.delete() or SQL text.
_DELETE = re.compile(r"\bdelete\(|\.delete\(\)|DELETE\s+FROM|TRUNCATE", re.IGNORECASE)
_GUARDED_MODELS = re.compile(
    r"\b(Tender|Bid|AuditEntry|AuditConfidential|AuditNode|AuditCheckpoint|AuditHead|tenders|bids|audit_\w+)\b"
)
PACKAGES = (
    "core",
    "storage",
    "audit",
    "accounts",
    "tender",
    "evaluation",
    "award",
    "marketplace",
    "supervision",
    "opendata",
    "demo",
    "web",
    "cli",
)


def test_no_code_of_the_product_deletes_a_kept_row():
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if _DELETE.search(line) and _GUARDED_MODELS.search(line) and "audit_refusal" not in line:
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
