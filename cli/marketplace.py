"""`etender marketplace ...`: the intermediary marketplace from the command line
(docs/marketplace-selection.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


@click.group("marketplace")
def marketplace() -> None:
    """The intermediary marketplace (中介超市) and its selections."""


def load_catalogue(url: str) -> None:
    """Add the shipped service catalogue's missing entries (idempotent; run after every migration)."""
    from core.db import make_engine, make_sessionmaker, transaction
    from marketplace import entries

    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            entries.load_catalogue(session)
    finally:
        engine.dispose()


def _log_entries(purchase_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    """The audit log's entries of the purchase, from this platform's database (exit 2 when unreadable)."""
    from sqlalchemy.exc import SQLAlchemyError

    from audit.queries import entries_tagged
    from core.db import make_engine, make_sessionmaker
    from core.settings import load_settings
    from marketplace import selection

    tags = [
        selection.TAG_COMMITTED,
        selection.TAG_CONTRIBUTION_COMMITTED,
        selection.TAG_CONTRIBUTION_REVEALED,
        selection.TAG_SHORTLISTED,
        *selection.TAGS_DONE,
    ]

    try:
        engine = make_engine(load_settings().database_url)
        try:
            with make_sessionmaker(engine)() as session:
                found = entries_tagged(session, tags, subject=f"purchase:{purchase_id}")
                return [(e.index, e.tag, dict(e.details or {})) for e in found]
        finally:
            engine.dispose()
    except (SQLAlchemyError, OSError, ValueError) as e:
        click.echo(
            f"could not check: this platform's database could not be read ({type(e).__name__}); "
            "use --offline to re-run the record alone",
            err=True,
        )
        sys.exit(2)


@marketplace.command("verify-selection")
@click.argument("record", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--offline", is_flag=True, help="Only re-run the record; do not compare with the audit log.")
def verify_selection(record: Path, offline: bool) -> None:
    """Re-run the selection from its published RECORD (a JSON file) and compare every result, then (unless
    --offline) compare the record with this platform's audit log: the commitment logged when sign-up closed,
    the owner's commitment and reveal, a credit short list's drawing, the completion with the record's
    SHA-256. Exit 0 when it reproduces exactly, 1 when the record is ill-formed or differs (each field or
    difference named), 2 when the file cannot be read or is not JSON, or the database cannot be read."""
    from marketplace import selection

    try:
        doc = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        click.echo(f"could not check: {record}: {e}", err=True)
        sys.exit(2)
    problems = selection.schema_problems(doc)
    if problems:
        for p in problems:
            click.echo(f"INVALID: {p}")
        sys.exit(1)
    differences = selection.verify(doc)
    if not offline:
        differences += selection.log_differences(doc, _log_entries(doc["purchase"]["id"]))
    if differences:
        for d in differences:
            click.echo(f"DIFFERENT: {d}")
        sys.exit(1)
    result = doc["result"]
    if result["outcome"] == "shortlisted":
        what = f"short list {result['short_list']} drawn, the owner's choice not made yet"
    elif result["winner"] is None:
        what = f"the purchase failed ({result['reason']})"
    else:
        what = f"selected organisation {result['winner']}"
    version, method = doc["algorithm_version"], doc["method"]
    against = "offline" if offline else "against this platform's audit log"
    click.echo(f"OK: the record reproduces the selection exactly ({version}, {method}, {against}); {what}")
