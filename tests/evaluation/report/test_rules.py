"""The report's pure rules against the test vector of docs/evaluation-report.md: the canonical bytes, their
SHA-256, the signed message and the Ed25519 signature; and the deadline and completion rules."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evaluation.report import rules

DOC = (Path(__file__).parents[3] / "docs" / "evaluation-report.md").read_text(encoding="utf-8")


def _vector() -> dict[str, str]:
    text = DOC.split("```json report-vector\n")[1].split("\n```")[0]
    found = dict(re.findall(r"^- ([^:]+): `([^`]+)`", DOC, re.M))
    return {"canonical": text, **found}


def test_the_product_reproduces_the_documented_vector():
    v = _vector()
    doc = json.loads(v["canonical"])
    assert rules.canonical(doc).decode("utf-8") == v["canonical"]  # the documented bytes are canonical
    assert rules.report_sha256(doc) == v["SHA-256"]
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["Ed25519 private key (seed)"]))
    assert key.public_key().public_bytes_raw().hex() == v["public key"]
    message = rules.signing_message(v["SHA-256"])
    assert message.decode() == v["message"].replace("\\n", "\n") and len(message) == 81
    assert key.sign(message).hex() == v["signature"]  # Ed25519 is deterministic
    assert rules.signature_valid(v["public key"], v["SHA-256"], v["signature"])


def test_a_signature_over_another_hash_or_with_another_key_does_not_verify():
    v = _vector()
    other_hash = "0" * 64
    assert not rules.signature_valid(v["public key"], other_hash, v["signature"])
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    assert not rules.signature_valid(other, v["SHA-256"], v["signature"])
    assert not rules.signature_valid(v["public key"], v["SHA-256"], v["signature"][:-2] + "00")
    assert not rules.signature_valid("zz" * 32, v["SHA-256"], v["signature"])


def test_any_changed_value_changes_the_hash():
    doc = json.loads(_vector()["canonical"])
    before = rules.report_sha256(doc)
    doc["committee"]["members"][0]["name"] = "张四"
    assert rules.report_sha256(doc) != before


def test_the_deadline_is_the_later_of_the_session_end_and_two_hours():
    t = datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert rules.deadline(t, t + timedelta(hours=5)) == t + timedelta(hours=5)
    assert rules.deadline(t, t - timedelta(hours=1)) == t + rules.SIGNING_WINDOW


def test_complete_only_when_every_member_is_accounted_for():
    assert rules.outstanding([3, 1, 2], [2]) == [3, 1]
    assert not rules.complete([1, 2], [1]) and rules.complete([1, 2], [2, 1]) and not rules.complete([], [])


def test_public_keys_must_be_ed25519_in_hex():
    assert rules.public_key_problem("AB" * 32) == "not 64 lowercase hex digits"
    assert rules.public_key_problem("ab" * 31) == "not 64 lowercase hex digits"
    assert rules.public_key_problem(_vector()["public key"]) is None
