"""The signed notice file (docs/award-notice.md): the document's test vector, a real notice's round trip, and
a notice failing on any changed byte."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from award.decision import notice_format as nf
from award.decision import pdf
from core.signing import SigningKey, VerifierKey
from tender.opening.record import font_path

DOC = Path(__file__).parents[3] / "docs" / "award-notice.md"
KEY = SigningKey("etender.example/audit", Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def vector() -> bytes:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"```notice-vector\n(.*?)```", text, re.S)
    assert found, "docs/award-notice.md has no notice-vector block"
    return found.group(1).encode("utf-8")


def test_the_documented_vector_verifies_and_is_what_the_seed_signs():
    data = vector()
    documented = DOC.read_text(encoding="utf-8")
    assert KEY.verifier.encode() in documented
    body = nf.verify(data, [VerifierKey.parse(KEY.verifier.encode())])
    assert body["kind"] == "award" and body["winner"]["amount_fen"] == 98765432
    parts = nf.split(data)
    content = {k: v for k, v in body.items() if k not in ("type", "version", "pdf")}
    assert nf.sign(content, parts.pdf, KEY).file == data  # Ed25519 is deterministic: the same bytes again
    assert len(parts.pdf) == 67


def test_a_changed_byte_anywhere_in_the_vector_fails():
    data = vector()
    for i in range(len(data)):
        changed = bytearray(data)
        changed[i] ^= 0x01
        with pytest.raises(nf.NoticeInvalid):
            nf.verify(bytes(changed), [KEY.verifier])


def test_another_key_or_an_altered_field_is_named():
    data = vector()
    other = SigningKey("etender.example/audit", Ed25519PrivateKey.generate())
    with pytest.raises(nf.NoticeInvalid) as e:
        nf.verify(data, [other.verifier])
    assert "not one of the platform keys" in str(e.value)
    altered = data.replace(b'"amount_fen":98765432', b'"amount_fen":98765433')
    with pytest.raises(nf.NoticeInvalid) as e:
        nf.verify(altered, [KEY.verifier])
    assert "signature does not verify" in str(e.value)
    with pytest.raises(nf.NoticeInvalid) as e:
        nf.verify(data.replace(b"stand-in", b"stand_in"), [KEY.verifier])
    assert "PDF's SHA-256" in str(e.value)
    with pytest.raises(nf.NoticeInvalid) as e:
        nf.verify(nf.split(data).pdf, [KEY.verifier])
    assert "no etender signature block" in str(e.value)
    assert nf.differences({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}}) == ["b.c"]


CONTENT = {
    "origin": "etender.example/audit",
    "number": "ET-2026-000001-A1-002",
    "kind": "result",
    "issued_at": "2026-12-07T02:00:00Z",
    "issued_at_cst": "2026-12-07 10:00",
    "tender": {"id": 1, "reference": "ET-2026-000001", "title": "县第一中学课桌椅采购"},
    "purchaser": {"name": "县教育局", "credit_code": "11330000MB0000001X"},
    "agency": {"name": "县招标代理有限公司", "credit_code": "91330000MA0000002X"},
    "recipient": {"id": 8, "name": "二号投标有限公司", "credit_code": "91330000MA0000008X"},
    "winner": {
        "name": "一号投标有限公司",
        "credit_code": "91330000MA0000007X",
        "rank": 1,
        "amount_fen": 98765432,
    },
    "award": 1,
    "audit_index": 42,
    "contract_deadline": "2027-01-06",
}


@pytest.mark.skipif(font_path() is None, reason="the Noto CJK font is not installed")
def test_a_real_notice_is_deterministic_and_fails_on_changed_bytes_throughout():
    first = pdf.notice_pdf(CONTENT)
    assert first is not None and first == pdf.notice_pdf(CONTENT) and first.startswith(b"%PDF-")
    data = nf.sign(CONTENT, first, KEY).file
    assert nf.verify(data, [KEY.verifier])["recipient"]["name"] == "二号投标有限公司"
    block = len(data) - len(first)
    # every byte of the signature block, and the PDF at a stride (each check hashes the whole PDF)
    positions = list(range(len(first), len(data))) + list(range(0, len(first), max(1, len(first) // 400)))
    assert block > 300
    for i in positions:
        changed = bytearray(data)
        changed[i] = (changed[i] + 1) % 256
        with pytest.raises(nf.NoticeInvalid):
            nf.verify(bytes(changed), [KEY.verifier])
