"""`etender evaluation verify-report FILE [--url BASE] [--key KEY]`: check an evaluation report bundle
(docs/evaluation-report.md) as the platform serves it at /api/v1/notices/{id}/evaluation/report.json.

Offline: the document's SHA-256, every member's Ed25519 signature over it with the key registered for their
seat, every member signed or deemed to agree, and each audit entry (its bytes, its inclusion in the bundle's
signed checkpoint, and that it says what the bundle says); the checkpoint is checked with --key, else with the
verifier keys the bundle carries. With --url the platform's published keys sign the bundle's checkpoint, and
each entry is fetched again and proved included in the platform's latest checkpoint, which must extend the
bundle's. Exit 0 verified (a summary), 1 a difference (the first one named), 2 could not check."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click


@click.group("evaluation")
def evaluation() -> None:
    """The committee's evaluation and its report."""


def _cannot_check(message: str) -> NoReturn:
    click.echo(f"could not check: {message}", err=True)
    sys.exit(2)


def _different(problems: list[str]) -> NoReturn:
    click.echo(f"DIFFERENT: {problems[0]}")
    for p in problems[1:]:
        click.echo(f"  and: {p}")
    sys.exit(1)


def _read(file: str, fetch: Any) -> Any:
    from audit.remote import Unreachable

    path = Path(file)
    if fetch is not None and file.isdigit() and not path.exists():
        try:
            return json.loads(fetch(f"/api/v1/notices/{int(file)}/evaluation/report.json"))
        except Unreachable as e:
            _cannot_check(f"the platform did not serve tender {file}'s report: {e}")
        except ValueError as e:
            _cannot_check(f"the platform's answer for tender {file} is not JSON: {e}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        _cannot_check(f"{file} could not be read: {e}")
    except (ValueError, UnicodeDecodeError) as e:
        _cannot_check(f"{file} is not a JSON report bundle: {e}")


def _open_checkpoint(note: str, keys: list[Any]) -> Any:
    """The bundle's signed checkpoint, opened with audit's own note check (audit.remote.latest_checkpoint,
    given the note instead of fetching it)."""
    from audit.remote import latest_checkpoint

    checkpoint, _ = latest_checkpoint(lambda _path: note.encode("utf-8"), keys)
    return checkpoint


def _remote(fetch: Any, bundle: dict[str, Any], ours: Any) -> list[str]:
    """The bundle against the platform: its checkpoint signed by a key the platform publishes, the platform's
    latest checkpoint extending it, and each entry the same there and included in the latest checkpoint."""
    from audit.merkle import verify_consistency, verify_inclusion
    from audit.remote import Unreachable, server_keys

    try:
        keys = server_keys(fetch)
        try:
            _open_checkpoint(bundle["audit"]["checkpoint"], keys)
        except ValueError as e:
            return [f"the bundle's checkpoint is not signed by a key the platform publishes: {e}"]
        try:
            latest = _open_checkpoint(fetch("/api/v1/audit/checkpoint").decode(), keys)
        except ValueError as e:
            return [f"the platform's latest checkpoint does not verify: {e}"]
        if latest.size < ours.size:
            return [
                f"the platform's latest checkpoint ({latest.size}) is smaller than the bundle's ({ours.size})"
            ]
        proof = json.loads(fetch(f"/api/v1/audit/proof/consistency?first={ours.size}&second={latest.size}"))
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        if not verify_consistency(ours.size, latest.size, ours.root, latest.root, hashes):
            return [
                f"the platform's log of {latest.size} entries does not extend the bundle's checkpoint of "
                f"{ours.size}: the history was rewritten"
            ]
        out = []
        for item in bundle["audit"]["entries"]:
            index = item["index"]
            there = json.loads(fetch(f"/api/v1/audit/entries/{index}"))
            if there.get("leaf_hash") != item["leaf_hash"]:
                out.append(f"audit entry {index} differs from the platform's entry {index}")
                continue
            proof = json.loads(fetch(f"/api/v1/audit/proof/inclusion?index={index}&tree_size={latest.size}"))
            hashes = [bytes.fromhex(h) for h in proof["hashes"]]
            if not verify_inclusion(
                bytes.fromhex(item["leaf_hash"]), index, latest.size, hashes, latest.root
            ):
                out.append(
                    f"audit entry {index} is not included in the platform's checkpoint of {latest.size}"
                )
        return out
    except Unreachable as e:
        _cannot_check(str(e))
    except (KeyError, TypeError, ValueError) as e:
        _cannot_check(f"the platform's answer is malformed: {e!r}")


@evaluation.command("verify-report")
@click.argument("file")
@click.option(
    "--url",
    default=None,
    metavar="BASE",
    help="Also check against this platform's public audit API; FILE may then be a tender id.",
)
@click.option("--key", "key_text", default=None, help="The platform's verifier key (<name>+<id>+<base64>).")
def verify_report(file: str, url: str | None, key_text: str | None) -> None:
    """Check an evaluation report bundle FILE: exit 0 verified, 1 a difference (named), 2 could not check."""
    from audit.remote import http_fetch
    from core.signing import VerifierKey
    from evaluation.report import rules

    if url is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            _cannot_check(f"{url!r} is not the address of a platform (http:// or https://, then a host)")
    fetch = http_fetch(url) if url else None
    bundle = _read(file, fetch)
    if not isinstance(bundle, dict) or bundle.get("format") != rules.BUNDLE_FORMAT:
        _different([f"{file} is not an evaluation report bundle ({rules.BUNDLE_FORMAT})"])
    try:
        keys = (
            [VerifierKey.parse(key_text)]
            if key_text
            else [VerifierKey.parse(k) for k in bundle["audit"]["verifier_keys"]]
        )
        note = bundle["audit"]["checkpoint"]
    except (KeyError, TypeError) as e:
        _different([f"the bundle is malformed: {e!r}"])
    except ValueError as e:
        _cannot_check(f"the verifier key is not usable: {e}")
    try:
        checkpoint = _open_checkpoint(note, keys)
    except ValueError as e:
        _different([f"the bundle's checkpoint does not verify: {e}"])
    problems = rules.bundle_differences(bundle, checkpoint.size, checkpoint.root)
    if not problems and fetch is not None:
        problems = _remote(fetch, bundle, checkpoint)
    if problems:
        _different(problems)
    doc = bundle["document"]
    sigs = bundle["signatures"]
    signed = sum(1 for s in sigs if s["kind"] == rules.SIGNED)
    deemed = sum(1 for s in sigs if s["kind"] == rules.DEEMED)
    dissents = sum(1 for s in sigs if s.get("dissent"))
    against = f"against {url}" if url else ("with the given key" if key_text else "with the bundle's key")
    click.echo(
        f"OK: the evaluation report of {doc['tender']['reference']} (SHA-256 {bundle['report_sha256']}) "
        f"verifies ({against}): {len(doc['committee']['members'])} members, {signed} signed, {deemed} deemed "
        f"to agree, {dissents} with a written dissent; {len(bundle['audit']['entries'])} audit entries in "
        "the "
        f"signed checkpoint of {checkpoint.size}"
    )
