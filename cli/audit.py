"""`etender audit ...`: verify the log (local database or --url), watch a platform as a witness, sign a
checkpoint (cron), rotate the signing key. Exit codes: 0 all holds, 1 something was altered (ALARM), 2 could
not check."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


def _echo_result(result, what: str) -> None:  # type: ignore[no-untyped-def]
    if result.ok:
        click.echo(
            f"ok: {result.size} entries, {result.checkpoints} signed checkpoints and {result.disclosed} "
            f"disclosed details verified ({what})"
        )
        if result.withheld:
            # the public log shows these only as their leaf hash until their disclosure time
            click.echo(
                f"{result.withheld} entries withheld: their hashes are in the tree, "
                "their content is not public yet"
            )
        return
    where = f"entry {result.first_bad}" if result.first_bad is not None else "the checkpoints"
    click.echo(f"ALTERED: {where}: {result.reason}", err=True)
    sys.exit(1)


@audit.command("verify")
@click.option(
    "--url",
    default=None,
    help="Verify a running platform through its public API instead of the local database.",
)
@click.option(
    "--key",
    "key_text",
    default=None,
    help="The verifier key to trust (<name>+<id>+<base64>); default: the platform's.",
)
def audit_verify(url: str | None, key_text: str | None) -> None:
    """Recompute the tree, check every signed checkpoint, their consistency and the disclosed details; name
    the first entry that does not hold. Exit 0 ok, 1 altered, 2 could not check."""
    from audit.remote import Unreachable, http_fetch, verify_remote
    from core.signing import VerifierKey

    try:
        keys = [VerifierKey.parse(key_text)] if key_text else None
        result = verify_remote(http_fetch(url), keys) if url else _verify_local(keys)
    except (Unreachable, ValueError, OSError) as e:
        click.echo(f"could not check the log: {e}", err=True)
        sys.exit(2)
    except Exception as e:  # noqa: BLE001 - a database that cannot be read: say so, exit 2
        click.echo(f"could not check the log: {type(e).__name__}: {e}", err=True)
        sys.exit(2)
    _echo_result(result, url or "local database")


def _verify_local(keys):  # type: ignore[no-untyped-def]
    from audit.verify import verify_log
    from core.db import make_engine, read_only_sessionmaker
    from core.settings import load_settings
    from core.signing import verifier_keys

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        with read_only_sessionmaker(engine)() as session:  # never holds the write lock
            return verify_log(
                session, keys or verifier_keys(settings.data_dir, settings.origin), settings.origin
            )
    finally:
        engine.dispose()


@audit.command("watch")
@click.option("--url", required=True, help="The platform to watch.")
@click.option(
    "--state",
    "state_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="This witness's directory: pinned keys and every checkpoint seen.",
)
@click.option("--interval", default=10.0, type=float, help="Seconds between polls.")
@click.option("--once", is_flag=True, help="Poll once and exit (for cron).")
def audit_watch(url: str, state_dir: Path, interval: float, once: bool) -> None:
    """Poll the platform's checkpoints, check each extends the last one seen, keep them; exit 1 with an ALARM
    line when the platform shows a history that does not extend what this witness saw."""
    from audit.remote import Unreachable, Witness, http_fetch

    witness = Witness(state_dir, http_fetch(url))
    while True:
        try:
            result = witness.poll()
        except Unreachable as e:
            click.echo(f"could not check: {e}", err=True)
            if once:
                sys.exit(2)
        else:
            if not result.ok:
                click.echo(f"ALARM: {result.message}")
                sys.exit(1)
            click.echo(result.message)
            if once:
                return
        time.sleep(interval)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint now if the log grew since the last one (for deployments without the in-process
    signer)."""
    from audit import sign_checkpoint
    from core.db import make_engine, make_sessionmaker, transaction
    from core.settings import load_settings
    from core.signing import signing_key

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            cp = sign_checkpoint(session, signing_key(settings.data_dir, settings.origin), settings.origin)
            click.echo(
                f"signed a checkpoint of {cp.size} entries" if cp else "the latest checkpoint is current"
            )
    finally:
        engine.dispose()


@audit.command("rotate-key")
def audit_rotate_key() -> None:
    """Make a new checkpoint signing key current; earlier keys stay valid for what they signed."""
    from audit import record, sign_checkpoint
    from audit.events import AuditTag
    from core.db import make_engine, make_sessionmaker, transaction
    from core.identity import SYSTEM
    from core.settings import load_settings
    from core.signing import rotate

    settings = load_settings()
    key = rotate(settings.data_dir, settings.origin)
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            record(
                session,
                AuditTag.audit_key_rotated,
                actor=SYSTEM,
                subject="audit:key",
                details={"verifier_key": key.verifier.encode()},
            )
            sign_checkpoint(session, key, settings.origin)
    finally:
        engine.dispose()
    click.echo(f"new signing key {key.id.hex()}: {key.verifier.encode()}")


@audit.command("verify-bundle")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--key",
    "key_file",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="A file holding the platform's verifier key (<name>+<id>+<base64>, one a line); default: the keys "
    "the bundle carries, which shows it is whole but not whose it is.",
)
def audit_verify_bundle(file: str, key_file: str | None) -> None:
    """Check a procedure file (docs/archive.md) offline: every file against the manifest, every audit entry's
    inclusion proof against the signed checkpoint, the checkpoint's signature against the key, the entries
    the procedure's. Exit 0 verified, 1 a difference (every one named), 2 could not check."""
    from award.archive.bundle import Unreadable, verify
    from core.signing import VerifierKey

    keys = None
    if key_file is not None:
        try:
            lines = [x.strip() for x in Path(key_file).read_text(encoding="utf-8").splitlines()]
            keys = [VerifierKey.parse(x) for x in lines if x and not x.startswith("#")]
        except (OSError, UnicodeDecodeError, ValueError) as e:
            click.echo(f"could not check: the key file {key_file} is not usable: {e}", err=True)
            sys.exit(2)
        if not keys:
            click.echo(f"could not check: the key file {key_file} holds no key", err=True)
            sys.exit(2)
    try:
        verdict = verify(file, keys)
    except Unreadable as e:
        click.echo(f"could not check: {e}", err=True)
        sys.exit(2)
    if not verdict.ok:
        click.echo(f"DIFFERENT: {len(verdict.problems)} differences in {file}")
        for problem in verdict.problems:
            click.echo(f"  {problem}")
        sys.exit(1)
    tender = verdict.tender
    against = (
        "with the given key"
        if key_file
        else "with the bundle's own key (whole, but not proved to be the platform's: pass --key)"
    )
    click.echo(
        f"OK: the procedure file of {tender.get('reference')} verifies {against}: {verdict.files} files "
        f"match the manifest, {verdict.entries} audit entries of the procedure ({verdict.withheld} withheld) "
        f"and the archive's own entry are included in the signed checkpoint of {verdict.checkpoint_size} "
        f"entries (key {verdict.key_id})"
    )
