"""`etender award verify-notice`: check a signed award or result notice (L45) offline or against a running
platform (docs/award-notice.md).

    etender award verify-notice NOTICE.pdf [--key VERIFIER_KEY | --url URL]

The signature is checked against the platform's verifier key: the one given with --key, the ones the platform
publishes at /api/v1/audit/key with --url, or else this installation's own keys. With --url the statement is
also compared with the platform's copy, naming the fields that differ. Exit codes: 0 valid, 1 invalid (the
message names every part that differs), 2 could not check."""

from __future__ import annotations

import json
import sys
import urllib.parse
from pathlib import Path
from typing import Any, NoReturn

import click


def _invalid(problems: list[str]) -> NoReturn:
    click.echo("INVALID: " + "; ".join(problems))
    sys.exit(1)


def _unchecked(message: str) -> NoReturn:
    click.echo(f"could not check: {message}", err=True)
    sys.exit(2)


@click.group()
def award() -> None:
    """The award's signed notices."""


def _local_keys() -> list[Any]:
    from core.settings import load_settings
    from core.signing import key_directory, verifier_keys

    settings = load_settings()
    if not (key_directory(settings.data_dir) / "current").exists():
        _unchecked(
            f"no platform key in {settings.data_dir}; give the platform's verifier key with --key or its "
            "address with --url"
        )
    return verifier_keys(settings.data_dir, settings.origin)


@award.command("verify-notice")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_text", default=None, help="The platform's verifier key (<name>+<id>+<base64>).")
@click.option(
    "--url", default=None, help="The platform's address: its published key and its copy of the notice."
)
def verify_notice(path: Path, key_text: str | None, url: str | None) -> None:
    """Check a notice's signature and its PDF's bytes. Exit 0 valid, 1 invalid, 2 could not check."""
    from audit.remote import Unreachable, http_fetch, server_keys
    from award.decision.notice_format import NoticeInvalid, differences, verify
    from core.signing import VerifierKey

    try:
        data = path.read_bytes()
    except OSError as e:
        _unchecked(f"{path} could not be read: {e}")
    fetch = http_fetch(url) if url else None
    try:
        if key_text:
            keys = [VerifierKey.parse(key_text)]
        elif fetch is not None:
            keys = server_keys(fetch)
        else:
            keys = _local_keys()
    except ValueError as e:
        _unchecked(f"the verifier key is not usable: {e}")
    except Unreachable as e:
        _unchecked(str(e))
    try:
        body = verify(data, keys)
    except NoticeInvalid as e:
        _invalid(e.problems)
    kind = "award notice" if body.get("kind") == "award" else "result notice"
    lines = [
        f"signature ok: {kind} {body['number']} to {body['recipient']['name']} for "
        f"{body['tender']['reference']}: "
        f"winner {body['winner']['name']} at {body['winner']['amount_fen'] / 100:,.2f} yuan, issued "
        f"{body['issued_at']}"
    ]
    if fetch is not None:
        try:
            theirs = json.loads(fetch(f"/api/v1/award/notices/{urllib.parse.quote(body['number'])}"))
        except Unreachable as e:
            _unchecked(f"the platform's copy could not be fetched: {e}")
        except ValueError as e:
            _unchecked(f"the platform's copy is not JSON: {e}")
        differ = differences(body, theirs.get("statement") if isinstance(theirs, dict) else None)
        if differ:
            _invalid([f"the notice differs from the platform's copy in: {', '.join(differ)}"])
        lines.append("the platform's copy is the same")
    click.echo("VALID: " + "; ".join(lines))
