"""The signed notice file (docs/award-notice.md): a PDF followed by a signature block of PDF comment lines.

Pure: no database. The platform signs a statement, canonical JSON (sorted keys, no spaces, UTF-8) that
carries the notice's facts and the SHA-256 and size of the PDF bytes before the block; the signature is
Ed25519 with the platform's key over a domain-separation prefix followed by the statement, so that it can
never be taken for a receipt's or a checkpoint's. Readers ignore comments after the PDF's end, so the file
opens as the PDF it is; `verify` checks it offline, strictly enough that changing any byte of the file makes
it fail."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.signing import SigningKey, VerifierKey
from tender.sealing import canonical_json

SIGNATURE_PREFIX = b"etender award notice v1\n"
NOTICE_TYPE = "etender-award-notice"
NOTICE_VERSION = 1
MARKER = b"\n%ETENDER-NOTICE-SIGNATURE-V1\n"
END = b"%%EOF\n"


class NoticeInvalid(ValueError):
    """The file does not verify; `problems` names every part that differs."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def statement(content: dict[str, Any], pdf: bytes) -> dict[str, Any]:
    """The signed statement: the notice's content, its type and version, and the PDF's digest and size."""
    return {
        **content,
        "type": NOTICE_TYPE,
        "version": NOTICE_VERSION,
        "pdf": {"sha256": hashlib.sha256(pdf).hexdigest(), "size": len(pdf)},
    }


def signature_block(text: bytes, signature: bytes, signer: VerifierKey) -> bytes:
    return (
        MARKER
        + b"%statement "
        + text
        + b"\n%signer "
        + signer.encode().encode()
        + b"\n%signature "
        + base64.b64encode(signature)
        + b"\n"
        + END
    )


@dataclass(frozen=True)
class Signed:
    file: bytes  # the PDF and its signature block
    statement: dict[str, Any]
    text: str  # the statement's canonical JSON
    signature: str  # base64
    signer: str  # C2SP verifier key


def sign(content: dict[str, Any], pdf: bytes, key: SigningKey) -> Signed:
    body = statement(content, pdf)
    text = canonical_json(body)
    signature = key.sign(SIGNATURE_PREFIX + text)
    return Signed(
        pdf + signature_block(text, signature, key.verifier),
        body,
        text.decode(),
        base64.b64encode(signature).decode(),
        key.verifier.encode(),
    )


@dataclass(frozen=True)
class Parts:
    pdf: bytes
    text: bytes
    signer: str
    signature: str


def split(data: bytes) -> Parts:
    """The PDF and the signature block's lines; NoticeInvalid when the block is missing or malformed."""
    at = data.rfind(MARKER)
    if at < 0:
        raise NoticeInvalid(["the file has no etender signature block: it is not a signed notice"])
    pdf, block = data[:at], data[at + len(MARKER) :]
    if not block.endswith(b"\n" + END):
        raise NoticeInvalid(["the signature block does not end with the line %%EOF"])
    lines = block[: -len(END)].split(b"\n")
    if len(lines) != 4 or lines[3] != b"":
        raise NoticeInvalid(
            ["the signature block does not have its three lines (statement, signer, signature)"]
        )
    fields = {}
    for line, name in zip(lines[:3], (b"%statement ", b"%signer ", b"%signature "), strict=True):
        if not line.startswith(name):
            raise NoticeInvalid(
                [f"the signature block's line {name.decode().strip()!r} is missing or altered"]
            )
        fields[name] = line[len(name) :]
    try:
        signer, signature = fields[b"%signer "].decode("ascii"), fields[b"%signature "].decode("ascii")
    except UnicodeDecodeError as e:
        raise NoticeInvalid(["the signer or the signature is not ASCII text"]) from e
    return Parts(pdf, fields[b"%statement "], signer, signature)


def verify(data: bytes, keys: Iterable[VerifierKey]) -> dict[str, Any]:
    """The signed statement when `data` is a notice file signed by one of `keys`, else NoticeInvalid naming
    every part that differs (the statement, the signature, the signer, the PDF's bytes)."""
    parts = split(data)
    problems: list[str] = []
    try:
        body = json.loads(parts.text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise NoticeInvalid(["the signed statement is not JSON text: it was altered"]) from e
    if not isinstance(body, dict) or body.get("type") != NOTICE_TYPE or body.get("version") != NOTICE_VERSION:
        raise NoticeInvalid([f"the statement is not an {NOTICE_TYPE} version {NOTICE_VERSION}"])
    if canonical_json(body) != parts.text:
        problems.append("the statement is not in canonical form (it was re-encoded or edited)")
    try:
        signature = base64.b64decode(parts.signature, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != 64 or base64.b64encode(signature).decode() != parts.signature:
        problems.append("the signature is not the base64 of a 64-byte Ed25519 signature")
    try:
        signer = VerifierKey.parse(parts.signer)
    except ValueError as e:
        raise NoticeInvalid([*problems, f"the signer is not a verifier key: {e}"]) from e
    if signer.encode() != parts.signer:
        problems.append("the signer's verifier key is not written in its canonical form")
    trusted = list(keys)
    if signer not in trusted:
        problems.append(
            f"the notice names signer {signer.encode()}, which is not one of the platform keys given"
        )
    elif signer.name != body.get("origin"):
        problems.append(
            f"the signer's name {signer.name!r} is not the statement's origin {body.get('origin')!r}"
        )
    elif len(signature) == 64 and not signer.verify(signature, SIGNATURE_PREFIX + parts.text):
        problems.append(
            "the signature does not verify: the signed statement was altered or not signed by this "
            "platform key"
        )
    found = body.get("pdf")
    pdf: dict[str, Any] = found if isinstance(found, dict) else {}
    if pdf.get("size") != len(parts.pdf):
        problems.append(f"the PDF is {len(parts.pdf):,} bytes but the statement says {pdf.get('size')}")
    digest = hashlib.sha256(parts.pdf).hexdigest()
    if pdf.get("sha256") != digest:
        problems.append(
            f"the PDF's SHA-256 is {digest} but the statement says {pdf.get('sha256')}: its bytes were "
            "changed"
        )
    if problems:
        raise NoticeInvalid(problems)
    return body


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """The fields (dotted paths) where two statements differ: a notice against the platform's copy."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = []
        for k in sorted(set(ours) | set(theirs)):
            out += differences(ours.get(k), theirs.get(k), f"{path}.{k}" if path else k)
        return out
    return [] if ours == theirs else [path or "(the whole statement)"]
