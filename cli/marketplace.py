"""`etender marketplace ...`: the intermediary marketplace from the command line
(docs/marketplace-selection.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group("marketplace")
def marketplace() -> None:
    """The intermediary marketplace (中介超市) and its selections."""


@marketplace.command("verify-selection")
@click.argument("record", type=click.Path(dir_okay=False, path_type=Path))
def verify_selection(record: Path) -> None:
    """Re-run the selection from its published RECORD (a JSON file) and compare every result. Exit 0 when it
    reproduces exactly, 1 when the record is ill-formed or differs (each field or difference named), 2 when
    the file cannot be read or is not JSON."""
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
    if differences:
        for d in differences:
            click.echo(f"DIFFERENT: {d}")
        sys.exit(1)
    result = doc["result"]
    if result["winner"] is None:
        what = f"the purchase failed ({result['reason']})"
    else:
        what = f"selected organisation {result['winner']}"
    version, method = doc["algorithm_version"], doc["method"]
    click.echo(f"OK: the record reproduces the selection exactly ({version}, {method}); {what}")
