"""`etender receipt verify`: check a bid receipt (E27) offline or against a running platform.

    etender receipt verify RECEIPT.json [--bid FILE.sealed] [--key VERIFIER_KEY | --url URL]

The signature is checked against the platform's verifier key: the one given with --key, the ones the platform
publishes at /api/v1/audit/key with --url, or else this installation's own keys (the local data directory).
With --bid the file's SHA-256 and size must match the receipt. With --url the audit entry the receipt names
must exist, be the submission's entry, and be included in the latest signed checkpoint (RFC 9162 inclusion
proof). Exit codes: 0 valid, 1 invalid (the message names what), 2 could not check."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click


def _invalid(message: str) -> NoReturn:
    click.echo(f"INVALID: {message}")
    sys.exit(1)


def _unchecked(message: str) -> NoReturn:
    click.echo(f"could not check: {message}", err=True)
    sys.exit(2)


@click.group()
def receipt() -> None:
    """Signed bid receipts."""


def _local_keys() -> list[Any]:
    from core.settings import load_settings
    from core.signing import verifier_keys

    settings = load_settings()
    if not (settings.data_dir / "keys" / "signing" / "current").exists():
        _unchecked(
            f"no platform key in {settings.data_dir}; give the platform's verifier key with --key or its "
            "address with --url"
        )
    return verifier_keys(settings.data_dir, settings.origin)


def _check_file(body: dict[str, Any], path: Path) -> None:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    if size != body["size"]:
        _invalid(
            f"{path} is {size:,} bytes but the receipt says {body['size']:,}: it is not the file the "
            "platform received"
        )
    if digest.hexdigest() != body["sha256"]:
        _invalid(
            f"the SHA-256 of {path} is {digest.hexdigest()} but the receipt says {body['sha256']}: it is not "
            "the file the platform received"
        )


def _check_log(fetch: Any, keys: list[Any], body: dict[str, Any]) -> str:
    from audit.merkle import verify_inclusion
    from audit.remote import Unreachable, latest_checkpoint
    from audit.verify import check_published_entry

    index = body["audit_index"]
    try:
        checkpoint, _note = latest_checkpoint(fetch, keys)
        if index >= checkpoint.size:
            _unchecked(
                f"audit entry {index} is not in the latest signed checkpoint yet (size {checkpoint.size}); "
                "try again in a minute"
            )
        item = json.loads(fetch(f"/api/v1/audit/entries/{index}"))
        proof = json.loads(fetch(f"/api/v1/audit/proof/inclusion?index={index}&tree_size={checkpoint.size}"))
    except Unreachable as e:
        _unchecked(str(e))
    except ValueError as e:  # a checkpoint signed by no known key, or a malformed answer
        _invalid(f"the platform's audit log could not be read as signed: {e}")
    if (problem := check_published_entry(item)) is not None:
        _invalid(f"audit entry {index}: {problem}")
    leaf = body.get("audit_leaf_hash")
    if leaf is not None and item["leaf_hash"] != leaf:
        _invalid(f"audit entry {index} is not the entry this receipt names (its leaf hash differs)")
    if item.get("withheld") is True:
        # withheld from the public log until the opening record (E21): the receipt's signed leaf hash stands
        # for its content, and the inclusion proof below checks that hash
        if leaf is None:
            _unchecked(
                f"audit entry {index} is withheld until the opening record is published; check again then"
            )
        entry = {"tag": "tender.bid.submitted", "subject": f"tender:{body['tender']['id']}"}
    else:
        entry = json.loads(base64.b64decode(item["entry"]))  # the hashed bytes, not the convenience copy
    if entry.get("tag") != "tender.bid.submitted" or entry.get("subject") != f"tender:{body['tender']['id']}":
        _invalid(
            f"audit entry {index} is not the submission of a bid for tender {body['tender']['id']} "
            f"(it is {entry.get('tag')} about {entry.get('subject')})"
        )
    hashes = [bytes.fromhex(h) for h in proof.get("hashes", [])]
    if not verify_inclusion(
        bytes.fromhex(item["leaf_hash"]), index, checkpoint.size, hashes, checkpoint.root
    ):
        _invalid(f"audit entry {index} is not included in the signed checkpoint of size {checkpoint.size}")
    return f"audit entry {index} is included in the signed checkpoint of size {checkpoint.size}"


@receipt.command("verify")
@click.argument("receipt_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--bid",
    "bid_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The sealed bid file: its SHA-256 and size must match the receipt.",
)
@click.option("--key", "key_text", default=None, help="The platform's verifier key (<name>+<id>+<base64>).")
@click.option(
    "--url",
    default=None,
    help="The platform's address: its published key, and the audit entry's inclusion in the log.",
)
def receipt_verify(receipt_path: Path, bid_path: Path | None, key_text: str | None, url: str | None) -> None:
    """Check a bid receipt's signature (and the file, and the audit log). Exit 0 valid, 1 invalid, 2 could not
    check."""
    from audit.remote import Unreachable, http_fetch, server_keys
    from core.signing import VerifierKey
    from tender.receipts import ReceiptInvalid, verify_receipt

    try:
        doc = json.loads(receipt_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        _unchecked(f"{receipt_path} could not be read as JSON: {e}")
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
        body = verify_receipt(doc, keys)
    except ReceiptInvalid as e:
        _invalid(str(e))
    lines = [
        f"signature ok: bid {body['bid']} for {body['tender']['reference']} lot {body['lot']['number']} by "
        f"{body['bidder']['name']}, received {body['server_time']}"
    ]
    if bid_path is not None:
        _check_file(body, bid_path)
        lines.append(f"file ok: {bid_path} matches SHA-256 {body['sha256']} and {body['size']:,} bytes")
    if fetch is not None:
        lines.append(_check_log(fetch, keys, body))
    click.echo("VALID: " + "; ".join(lines))
