"""`etender experts ...`: the expert pool from the command line. The draw's commands (export-draw,
verify-draw) join this group."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("experts")
def experts() -> None:
    """The expert pool and its draws."""


def _english(message: str, params: dict) -> str:  # type: ignore[type-arg]
    try:
        return message % params if params else message
    except (KeyError, ValueError, TypeError):
        return message


@experts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "username",
    default="admin",
    show_default=True,
    help="The administrator recorded in the audit log as the importer.",
)
@click.option("--show", default=20, show_default=True, help="How many row problems to print.")
def import_command(file: Path, username: str, show: int) -> None:
    """Import experts from an .xlsx or .csv FILE (UTF-8 or GBK). Good rows are kept, bad rows are listed;
    exit 0 when every row was good, 1 when some row was bad, 2 when the file could not be read."""
    from sqlalchemy import select

    from accounts.models import User, actor_for
    from cli.database import upgrade_database
    from core.db import make_engine, make_sessionmaker, transaction
    from core.errors import DomainError
    from core.settings import load_settings
    from evaluation.pool import catalogue, importing

    settings = load_settings()
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    data = file.read_bytes()
    try:
        with transaction(make_sessionmaker(engine)) as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or "admin" not in (user.roles or []) or not user.active:
                click.echo(f"no active administrator named {username!r}; give one with --as NAME", err=True)
                sys.exit(2)
            catalogue.load_catalogue(session)
            bar_holder: dict[str, object] = {}

            def start(total: int) -> None:
                bar = click.progressbar(
                    length=total, label=f"importing {file.name}", show_pos=True, file=sys.stderr
                )
                bar.__enter__()
                bar_holder["bar"] = bar

            def advance(n: int) -> None:
                bar = bar_holder.get("bar")
                if bar is not None:
                    bar.update(n)  # type: ignore[attr-defined]

            try:
                report = importing.import_experts(
                    session, actor_for(user, "cli"), str(file), data, progress=advance, total_hint=start
                )
            finally:
                bar = bar_holder.get("bar")
                if bar is not None:
                    bar.__exit__(None, None, None)  # type: ignore[attr-defined]
    except DomainError as e:
        click.echo(
            f"the file was not imported: {'; '.join(_english(p.message, p.params) for p in e.problems)}",
            err=True,
        )
        sys.exit(2)
    finally:
        engine.dispose()
    click.echo(
        f"{report.rows} rows read ({report.encoding}) in {report.seconds:.1f} s: {report.created} experts "
        f"added, {report.updated} updated, {report.unchanged} unchanged, {report.bad_rows} bad rows not "
        "imported"
    )
    for p in report.problems[:show]:
        click.echo(
            f"  row {p.row}, column {p.column or '-'}: {_english(p.message, p.params)}"
            + (f" (value: {p.value})" if p.value else ""),
            err=True,
        )
    more = len(report.problems) - show + report.problems_left_out
    if more > 0:
        click.echo(f"  ... and {more} more problems", err=True)
    sys.exit(0 if report.ok else 1)


def load_specialties(url: str) -> None:
    """Add the shipped specialty catalogue's missing entries (idempotent; run after every migration)."""
    from core.db import make_engine, make_sessionmaker, transaction
    from evaluation.pool import catalogue

    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            catalogue.load_catalogue(session)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the draw's record (docs/expert-draw.md)


@experts.command("export-draw")
@click.argument("draw_id", type=int)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def export_draw(draw_id: int, output: Path | None) -> None:
    """Print the public record of draw DRAW_ID as JSON (available once the tender's result is final)."""
    import json

    from core.db import make_engine, make_sessionmaker, transaction
    from core.errors import DomainError
    from core.settings import load_settings
    from evaluation.committee import draws

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            doc = draws.public_record(session, draw_id)
    except DomainError as e:
        p = e.problems[0]
        click.echo(f"{p.code}: {_english(p.message, p.params)}", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@experts.command("verify-draw")
@click.argument("record", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--offline",
    is_flag=True,
    help="Only re-run the draw from the record; do not compare with this platform's audit log.",
)
def verify_draw(record: Path, offline: bool) -> None:
    """Re-run the draw from its published RECORD. Exit 0 when it reproduces the committee exactly, 1 naming
    each difference (seed, pool, exclusions, members, substitutes), 2 when the file is not a JSON record."""
    import json

    from evaluation.committee import draw as pure

    try:
        doc = json.loads(record.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        click.echo(f"{record} is not a JSON draw record: {exc}", err=True)
        sys.exit(2)
    if not isinstance(doc, dict):
        click.echo(f"{record} is not a JSON draw record (expected an object)", err=True)
        sys.exit(2)
    differences = pure.verify(doc)
    if not offline:
        from core.db import make_engine, make_sessionmaker
        from core.settings import load_settings
        from evaluation.committee import draws

        engine = make_engine(load_settings().database_url)
        try:
            with make_sessionmaker(engine)() as session:
                differences += draws.check_against_log(session, doc)
        finally:
            engine.dispose()
    if differences:
        for d in differences:
            click.echo(f"DIFFERENT: {d}")
        sys.exit(1)
    members = ", ".join(f"{i} ({s})" for i, s in doc["result"]["members"])
    click.echo(f"OK: the record reproduces the draw exactly ({doc['algorithm_version']}); members: {members}")
