"""Deleting what the retention triggers keep (alembic 6d4e8f0a2b35: tenders, bids and the audit log's tables),
for the tests that must: emptying the tables between tests, and the tamper tests that play an attacker with
the database's own access (who can drop a trigger). Nothing in the product does this.

PostgreSQL: `SET LOCAL session_replication_role = replica` (a superuser's setting, as the test database's user
is) keeps ordinary triggers from firing until the transaction ends. SQLite cannot switch a trigger off: the
guard's triggers are dropped inside the transaction and created again from their own text at the end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text


def _connection(bind: Any) -> Any:
    """A Connection from a Session or a Connection."""
    return bind.connection() if hasattr(bind, "connection") and not hasattr(bind, "dialect") else bind


@contextmanager
def deletes_allowed(bind: Any) -> Iterator[None]:
    """Within this block, on `bind`'s transaction, DELETE (and TRUNCATE) on the guarded tables go through."""
    conn = _connection(bind)
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        try:
            yield
        finally:
            conn.execute(text("SET LOCAL session_replication_role = origin"))
        return
    guards = list(
        conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'etender_keep_%'")
        )
    )
    for name, _ in guards:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    try:
        yield
    finally:
        for _, sql in guards:
            conn.execute(text(sql))


def deleting(bind: Any, statement: Any) -> Any:
    """Execute one DELETE on a guarded table (a tamper test's attacker): deletes_allowed around it."""
    with deletes_allowed(bind):
        return bind.execute(statement)
