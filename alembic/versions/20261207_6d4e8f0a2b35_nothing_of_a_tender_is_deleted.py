"""Nothing of a tender is ever deleted (issue 14): triggers refusing DELETE (and, on PostgreSQL, TRUNCATE) on
tenders, bids and the audit log's tables

Records are archived and may not be altered (E49); procurement files are kept at least 15 years (Government
Procurement Law art. 42). No code path deletes these rows (grep: docs/archive.md, "Retention"); the triggers
make a mistake or a stray script fail loudly instead of losing history. They guard against the application
and its operators' tools, not against the database's superuser, who can drop them: that is what the audit
log's checkpoints and the archives' proofs are for.

A later migration that rebuilds one of these tables on SQLite (alembic's batch mode copies the table and drops
the old one) drops its trigger with it: tests/test_retention.py fails until the migration creates it again.

Revision ID: 6d4e8f0a2b35
Revises: 2b8d4f6a0c13
Create Date: 2026-12-07 15:10:00
"""

from __future__ import annotations

from alembic import op

revision = "6d4e8f0a2b35"
down_revision = "2b8d4f6a0c13"
branch_labels = None
depends_on = None

# the guarded tables; the trigger of table T is etender_keep_T on both databases
TABLES = (
    "tenders",
    "bids",
    "audit_entries",
    "audit_confidential",
    "audit_nodes",
    "audit_checkpoints",
    "audit_head",
)
MESSAGE = "etender: %s rows are never deleted (records are kept at least 15 years: E49)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # one function for every table: statement-level, so that a DELETE matching nothing is refused too
        op.execute(
            """
            CREATE FUNCTION etender_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING
                    ERRCODE = 'restrict_violation',
                    MESSAGE = format('etender: %s rows are never deleted (records are kept at least 15 '
                                     'years: E49)', TG_TABLE_NAME);
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER etender_keep_{table} BEFORE DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION etender_refuse_delete()"
            )
        return
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER etender_keep_{table} BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE % table}'); END"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS etender_keep_{table}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS etender_refuse_delete()")
