"""The evaluation report's pure rules (docs/evaluation-report.md): the canonical bytes of the report document,
their SHA-256 (the signed object), the message a member's Ed25519 key signs, the signing deadline after which
a silent member counts as agreeing (R53), and the offline check of a report bundle against its audit entries.

No database, no clock: the services (evaluation.report.signing) and the verifier (`etender evaluation
verify-report`) both call these, so that the platform and an outside checker agree byte for byte."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.merkle import verify_inclusion
from audit.verify import check_published_entry

DOCUMENT_FORMAT = "etender-evaluation-report"
BUNDLE_FORMAT = "etender-evaluation-report-bundle"
VERSION = 1
# The signed message: this fixed prefix (domain separation: a key made for the report signs nothing else the
# platform could take for something else) followed by the report's SHA-256 in lowercase hex, as UTF-8.
SIGNING_PREFIX = "etender-report-1\n"

# R53: a member who neither signs nor gives reasons in writing counts as agreeing. Policy: by the later of the
# session's booked end and this long after the report was generated.
SIGNING_WINDOW = timedelta(hours=2)

# The audit tags the bundle's entries carry (evaluation.report.events.ReportTag; repeated here as text so the
# verifier needs nothing but this module).
TAG_GENERATED = "evaluation.report.generated"
TAG_KEY = "evaluation.report.key.registered"
TAG_SIGNED = "evaluation.report.signed"
TAG_DEEMED = "evaluation.report.signature.deemed"

SIGNED = "signed"  # the member signed (with or without a written dissent)
DEEMED = "deemed"  # R53: the member neither signed nor gave reasons by the deadline: counts as agreeing


def canonical(document: Mapping[str, Any]) -> bytes:
    """The report's canonical bytes: JSON with keys sorted at every level, no whitespace, UTF-8 (not \\u
    escapes for non-ASCII), numbers as Python writes them (integers in decimal)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def report_sha256(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def signing_message(sha256_hex: str) -> bytes:
    """What a member's key signs: "etender-report-1\\n" followed by the 64 lowercase hex digits."""
    return (SIGNING_PREFIX + sha256_hex.lower()).encode("utf-8")


def public_key_problem(public_key_hex: str) -> str | None:
    """Why a public key is not an Ed25519 key in the expected form (32 bytes, lowercase hex), or None."""
    if len(public_key_hex) != 64 or public_key_hex.strip("0123456789abcdef"):
        return "not 64 lowercase hex digits"
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    except ValueError:
        return "not an Ed25519 public key"
    return None


def signature_valid(public_key_hex: str, sha256_hex: str, signature_hex: str) -> bool:
    """Whether `signature_hex` (64 bytes in hex) is the key's Ed25519 signature of the report's message."""
    if public_key_problem(public_key_hex) is not None:
        return False
    if len(signature_hex) != 128 or signature_hex.strip("0123456789abcdef"):
        return False
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    try:
        key.verify(bytes.fromhex(signature_hex), signing_message(sha256_hex))
    except InvalidSignature:
        return False
    return True


def deadline(generated_at: datetime, session_ends_at: datetime) -> datetime:
    """R53's deadline for signing (policy): the later of the session's booked end and SIGNING_WINDOW after
    generation."""
    return max(session_ends_at, generated_at + SIGNING_WINDOW)


def outstanding(members: Sequence[int], done: Sequence[int]) -> list[int]:
    """The members' seats (in the report's order) that have neither signed nor been deemed to agree."""
    have = set(done)
    return [m for m in members if m not in have]


def complete(members: Sequence[int], done: Sequence[int]) -> bool:
    return bool(members) and not outstanding(members, done)


# ------------------------------------------------------------ the bundle's check (docs/evaluation-report.md)


def _entry_doc(item: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed entry (its bytes, decoded), not the convenience copy beside them."""
    return json.loads(base64.b64decode(item["entry"]))  # type: ignore[no-any-return]


def _matches(details: Mapping[str, Any], wanted: Mapping[str, Any]) -> str | None:
    for key, value in wanted.items():
        if details.get(key) != value:
            return f"{key} is {details.get(key)!r} in the audit entry but {value!r} in the bundle"
    return None


def bundle_differences(bundle: Mapping[str, Any], checkpoint_size: int, checkpoint_root: bytes) -> list[str]:
    """What is wrong with a report bundle, the first difference first (empty when it verifies): the document's
    hash, each signature over it, every member accounted for, and each audit entry (its bytes, its inclusion
    in the signed checkpoint of `checkpoint_size` leaves and `checkpoint_root`, and that it says what the
    bundle says). The checkpoint's own signature is the caller's (audit.remote opens the note)."""
    try:
        return _differences(bundle, checkpoint_size, checkpoint_root)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return [f"the bundle is malformed: {e!r}"]


def _differences(bundle: Mapping[str, Any], size: int, root: bytes) -> list[str]:
    if bundle.get("format") != BUNDLE_FORMAT or bundle.get("version") != VERSION:
        return [f"not a report bundle ({BUNDLE_FORMAT} version {VERSION})"]
    doc = bundle["document"]
    claimed = bundle["report_sha256"]
    actual = report_sha256(doc)
    if actual != claimed:
        return [
            f"the document's SHA-256 is {actual} but the bundle says {claimed}: the document was changed "
            "after it was signed"
        ]
    members = [m["seat"] for m in doc["committee"]["members"]]
    keys = {k["seat"]: k for k in bundle["keys"]}
    out: list[str] = []
    for s in bundle["signatures"]:
        seat = s["seat"]
        if seat not in members:
            out.append(f"seat {seat} signed but is not one of the report's members")
        if s["kind"] == SIGNED:
            key = keys.get(seat)
            if key is None or key["public_key"] != s["public_key"]:
                out.append(f"seat {seat}'s signature is made with a key not registered for that seat")
            elif not signature_valid(s["public_key"], claimed, s["signature"]):
                out.append(f"seat {seat}'s signature does not verify over SHA-256 {claimed}")
        elif s["kind"] != DEEMED:
            out.append(f"seat {seat}'s signature is of an unknown kind {s['kind']!r}")
    signed = [s["seat"] for s in bundle["signatures"]]
    if len(set(signed)) != len(signed):
        out.append("a member has more than one signature in the bundle")
    if missing := outstanding(members, signed):
        out.append(f"seats {missing} have neither signed nor been deemed to agree")
    out += _audit_differences(bundle, claimed, size, root)
    return out


def _audit_differences(bundle: Mapping[str, Any], claimed: str, size: int, root: bytes) -> list[str]:
    entries = bundle["audit"]["entries"]
    by_index = {item["index"]: item for item in entries}
    out: list[str] = []
    for item in entries:
        index = item["index"]
        if (problem := check_published_entry(item)) is not None:
            out.append(f"audit entry {index}: {problem}")
            continue
        if index >= size:
            out.append(f"audit entry {index} is not covered by the bundle's checkpoint (size {size})")
            continue
        proof = [bytes.fromhex(h) for h in item["proof"]]
        if not verify_inclusion(bytes.fromhex(item["leaf_hash"]), index, size, proof, root):
            out.append(f"audit entry {index} is not included in the signed checkpoint of size {size}")
    if out:
        return out
    subject = f"tender:{bundle['document']['tender']['id']}"

    def entry(index: Any, tag: str, what: str) -> dict[str, Any] | str:
        item = by_index.get(index)
        if item is None:
            return f"the bundle holds no audit entry {index} ({what})"
        doc = _entry_doc(item)
        if doc.get("tag") != tag or doc.get("subject") != subject:
            return f"audit entry {index} is not {what} (it is {doc.get('tag')} about {doc.get('subject')})"
        return dict(item.get("details") or {})

    found = entry(bundle["audit_index"], TAG_GENERATED, "the report's generation")
    if isinstance(found, str):
        return [found]
    if problem := _matches(found, {"report_sha256": claimed}):
        return [f"the report's generation: {problem}"]
    for k in bundle["keys"]:
        got = entry(k["audit_index"], TAG_KEY, f"seat {k['seat']}'s key registration")
        if isinstance(got, str):
            out.append(got)
        elif problem := _matches(got, {"seat": k["seat"], "public_key": k["public_key"]}):
            out.append(f"seat {k['seat']}'s key registration: {problem}")
    for s in bundle["signatures"]:
        what = f"seat {s['seat']}'s {'signature' if s['kind'] == SIGNED else 'deemed agreement'}"
        got = entry(s["audit_index"], TAG_SIGNED if s["kind"] == SIGNED else TAG_DEEMED, what)
        if isinstance(got, str):
            out.append(got)
            continue
        wanted: dict[str, Any] = {"seat": s["seat"], "report_sha256": claimed}
        if s["kind"] == SIGNED:
            wanted.update(public_key=s["public_key"], signature=s["signature"])
            wanted["dissent_sha256"] = (
                hashlib.sha256(s["dissent"].encode("utf-8")).hexdigest() if s.get("dissent") else None
            )
        if problem := _matches(got, wanted):
            out.append(f"{what}: {problem}")
    return out
