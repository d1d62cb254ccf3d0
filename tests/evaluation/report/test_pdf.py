"""The report's PDF: deterministic bytes for the same content, Chinese text, page numbers, the signatures."""

from __future__ import annotations

import pytest

from evaluation.report import signing
from tender.opening.record import font_path
from tests.factories.report import public_hex, report_world, sign_as


def test_the_pdf_is_deterministic_and_carries_the_signatures(r, db):
    if font_path() is None:
        pytest.skip("the Noto CJK font is not installed: no PDF")
    report_world(r)
    signing.generate(db, r.members[0][1], r.tender.id)
    for seat, actor in r.members[:2]:
        signing.register_key(db, actor, r.tender.id, public_hex(r.private[seat.id]))
    sign_as(r, 0)
    _, first = signing.pdf(db, r.members[1][1], r.tender.id)
    _, again = signing.pdf(db, r.members[1][1], r.tender.id)
    assert first is not None and first.startswith(b"%PDF") and first == again
    sign_as(r, 1, dissent="不同意")
    _, later = signing.pdf(db, r.members[1][1], r.tender.id)
    assert later is not None and later != first  # a new signature changes the signature block
