"""`etender experts ...`: the expert pool from the command line. The draw's commands (export-draw,
verify-draw) join this group."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

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


def _cannot_check(message: str) -> NoReturn:
    click.echo(f"could not check: {message}", err=True)
    sys.exit(2)


def _read_record(record: str, fetch: Any) -> Any:
    """The record from the file RECORD, or with --url and a draw id, from the platform's public API."""
    import json

    from audit.remote import Unreachable

    path = Path(record)
    if fetch is not None and record.isdigit() and not path.exists():
        try:
            return json.loads(fetch(f"/api/v1/draws/{int(record)}/record"))
        except Unreachable as e:  # 404 no such draw, 403 not public yet, 409 being published, no network...
            _cannot_check(f"the platform did not serve draw {record}'s record: {e}")
        except ValueError as e:
            _cannot_check(f"the platform's answer for draw {record} is not JSON: {e}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        _cannot_check(f"{record} could not be read: {e}")
    except (ValueError, UnicodeDecodeError) as e:
        _cannot_check(f"{record} is not a JSON draw record: {e}")


def _find_entries(fetch: Any, subject: str, tags: set[str], start: int) -> tuple[dict[str, Any], int]:
    """The first public entry of each tag about `subject` from index `start` on (entry bytes decoded from
    their base64, the hashed form), and the log's size; a page of the public API at a time."""
    import base64
    import json

    from audit.remote import PAGE

    found: dict[str, Any] = {}
    size = start + 1
    while start < size and len(found) < len(tags):
        page = json.loads(fetch(f"/api/v1/audit/entries?start={start}&end={start + PAGE}"))
        size = page["size"]
        if not page["entries"]:
            break
        for item in page["entries"]:
            entry = json.loads(base64.b64decode(item["entry"]))
            if entry.get("subject") == subject and entry.get("tag") in tags:
                found.setdefault(entry["tag"], item)
        start = page["entries"][-1]["index"] + 1
    return found, size


def _signed_entry(fetch: Any, checkpoint: Any, item: dict[str, Any], what: str) -> list[str]:
    """What is wrong with one published entry: its bytes against its leaf hash and details digest, and its
    inclusion (RFC 9162 proof) in the latest signed checkpoint. Exit 2 when that checkpoint does not cover it
    yet (signed every few seconds)."""
    import json

    from audit.merkle import verify_inclusion
    from audit.verify import check_published_entry

    index = item["index"]
    if (problem := check_published_entry(item)) is not None:
        return [f"audit entry {index} ({what}): {problem}"]
    if index >= checkpoint.size:
        _cannot_check(
            f"audit entry {index} ({what}) is not in the latest signed checkpoint yet (size "
            f"{checkpoint.size}); try again in a minute"
        )
    proof = json.loads(fetch(f"/api/v1/audit/proof/inclusion?index={index}&tree_size={checkpoint.size}"))
    hashes = [bytes.fromhex(h) for h in proof["hashes"]]
    if not verify_inclusion(
        bytes.fromhex(item["leaf_hash"]), index, checkpoint.size, hashes, checkpoint.root
    ):
        return [
            f"audit entry {index} ({what}) is not included in the signed checkpoint of size {checkpoint.size}"
        ]
    return []


def _check_remote(fetch: Any, doc: dict[str, Any]) -> list[str]:
    """The record against the platform's public audit API (docs/audit-log.md): the draw's commitment entry
    (at draw.commitment_audit_index), the entry that published the record and, for etender-draw-2, each
    contribution's commitment and reveal entries (at the indices the record gives), each included in the
    latest checkpoint signed with a key the platform publishes. Exit 2 when the platform cannot be asked."""
    import base64
    import json

    from audit.remote import Unreachable, latest_checkpoint, server_keys
    from evaluation.committee import draw as pure
    from evaluation.events import EvaluationTag

    committed_tag = EvaluationTag.draw_committed.value
    published_tag = EvaluationTag.draw_record_published.value
    subject = f"draw:{doc['draw']['id']}"
    try:
        keys = server_keys(fetch)
        try:
            checkpoint, _note = latest_checkpoint(fetch, keys)
        except ValueError as e:  # signed by no key the platform publishes, or not a checkpoint
            return [f"the platform's latest checkpoint does not verify: {e}"]
        index = doc["draw"]["commitment_audit_index"]
        if index is None:  # not noted in the record: look for it
            found, _size = _find_entries(fetch, subject, {committed_tag}, 0)
            committed = found.get(committed_tag)
            if committed is None:
                return [f"the audit log holds no commitment for draw {doc['draw']['id']}"]
        else:
            committed = json.loads(fetch(f"/api/v1/audit/entries/{index}"))
            entry = json.loads(base64.b64decode(committed["entry"]))
            if entry.get("tag") != committed_tag or entry.get("subject") != subject:
                return [
                    f"audit entry {index} is not the commitment of {subject} (it is {entry.get('tag')} about "
                    f"{entry.get('subject')})"
                ]
        out = _signed_entry(fetch, checkpoint, committed, "the draw's commitment")
        found, _size = _find_entries(fetch, subject, {published_tag}, committed["index"] + 1)
        published = found.get(published_tag)
        if published is not None:
            out += _signed_entry(fetch, checkpoint, published, "the record's publication")
        out += pure.log_differences(doc, committed, published)
        if doc["algorithm_version"] != pure.ALGORITHM_V1:
            entries: dict[int, dict[str, Any]] = {}
            for c in doc["contributions"]:
                for key, step in (
                    ("committed_audit_index", "commitment"),
                    ("revealed_audit_index", "reveal"),
                ):
                    what = f"{c['party']}'s contribution {step}"
                    item = json.loads(fetch(f"/api/v1/audit/entries/{c[key]}"))
                    out += _signed_entry(fetch, checkpoint, item, what)
                    entry = json.loads(base64.b64decode(item["entry"]))
                    entries[item["index"]] = {
                        "tag": entry.get("tag"),
                        "subject": entry.get("subject"),
                        "details": item.get("details"),
                    }
            out += pure.contribution_log_differences(doc, committed["index"], entries)
        return out
    except Unreachable as e:
        _cannot_check(str(e))
    except (KeyError, TypeError, ValueError) as e:
        _cannot_check(f"the platform's answer is malformed: {e!r}")


def _check_local(doc: dict[str, Any]) -> list[str]:
    """The record against this platform's own database: the same comparison as --url (log_differences) with
    the draw's commitment and publication entries read from the audit log's table."""
    from sqlalchemy.exc import SQLAlchemyError

    from audit.queries import entries_tagged
    from core.db import make_engine, make_sessionmaker
    from core.settings import load_settings
    from evaluation.committee import draw as pure
    from evaluation.events import EvaluationTag

    tags = [EvaluationTag.draw_committed.value, EvaluationTag.draw_record_published.value]
    steps = [pure.TAG_CONTRIBUTION_COMMITTED, pure.TAG_CONTRIBUTION_REVEALED]
    subject = f"draw:{doc['draw']['id']}"
    entries: dict[int, dict[str, Any]] = {}
    try:
        engine = make_engine(load_settings().database_url)
        try:
            with make_sessionmaker(engine)() as session:
                found: dict[str, Any] = {}
                for e in entries_tagged(session, tags, subject=subject):
                    found.setdefault(e.tag, {"index": e.index, "details": e.details})
                for e in entries_tagged(
                    session, [*steps, *tags], subject=subject
                ):  # an index may name another
                    entries[e.index] = {"tag": e.tag, "subject": e.subject, "details": e.details}
        finally:
            engine.dispose()
    except (SQLAlchemyError, OSError, ValueError) as e:
        _cannot_check(
            f"this platform's database could not be read ({type(e).__name__}: "
            f"{str(e).splitlines()[0][:200]}); give the platform's address with --url BASE, or --offline"
        )
    committed = found.get(tags[0])
    if committed is None:
        return [f"the audit log holds no commitment for {subject}"]
    out = pure.log_differences(doc, committed, found.get(tags[1]))
    if doc["algorithm_version"] != pure.ALGORITHM_V1:
        out += pure.contribution_log_differences(doc, committed["index"], entries)
    return out


@experts.command("verify-draw")
@click.argument("record")
@click.option(
    "--offline",
    is_flag=True,
    help="Only re-run the draw from the record; do not compare with any audit log.",
)
@click.option(
    "--url",
    default=None,
    metavar="BASE",
    help=(
        "Check against this platform's public audit API (e.g. https://etender.example); RECORD may then be "
        "a draw id, whose public record is fetched."
    ),
)
def verify_draw(record: str, offline: bool, url: str | None) -> None:
    """Check the published RECORD of a draw (a JSON file; with --url, or a draw id): every field of the record
    format, the draw re-run from it, and the audit log's entries (this platform's database, or with --url
    BASE the platform's public audit API; none with --offline). Exit 0 when it verifies, 1 when the record is
    wrong (each field or difference named), 2 when it could not be checked (unreadable file, no record at that
    address, no network, no database)."""
    from audit.remote import http_fetch
    from evaluation.committee import draw as pure

    if offline and url:
        raise click.UsageError("--offline and --url exclude each other")
    if url is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            _cannot_check(f"{url!r} is not the address of a platform (http:// or https://, then a host)")
    fetch = http_fetch(url) if url else None
    doc = _read_record(record, fetch)
    problems = pure.schema_problems(doc)
    if problems:
        for p in problems:
            click.echo(f"INVALID: {p}")
        sys.exit(1)
    differences = pure.verify(doc)
    if fetch is not None:
        differences += _check_remote(fetch, doc)
    elif not offline:
        differences += _check_local(doc)
    if differences:
        for d in differences:
            click.echo(f"DIFFERENT: {d}")
        sys.exit(1)
    members = ", ".join(f"{i} ({s})" for i, s in doc["result"]["members"])
    if doc["algorithm_version"] != pure.ALGORITHM_V1:
        members += "; contributions: " + ", ".join(c["party"] for c in doc["contributions"])
    against = "offline" if offline else (f"against {url}" if url else "against this platform's audit log")
    click.echo(
        "OK: the record reproduces the draw exactly "
        f"({doc['algorithm_version']}, {against}); members: {members}"
    )
