"""docs/sealed-bid-format.md states what the code does: every result code the upload check, the key tools, the
parts submission and the opening can give is listed in §9 (read from the code, so a new code cannot be left
out), and the content rules of §6 state tender/bidcontent.py's figures."""

from __future__ import annotations

import re
from pathlib import Path

from tender import bidcontent
from tender.opening import decryption, parts

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "sealed-bid-format.md").read_text()


def _section(number: int) -> str:
    return DOC.split(f"\n## {number}. ", 1)[1].split("\n## ", 1)[0]


def _codes_in(path: str, *patterns: str) -> set[str]:
    text = (ROOT / path).read_text()
    return {m for p in patterns for m in re.findall(p, text)}


def result_codes() -> set[str]:
    codes = set()
    # the upload check and the key tools (tender/sealing.py)
    codes |= _codes_in(
        "tender/sealing.py",
        r'_invalid\(\s*"(\w+)"',
        r'WrongKey\(\s*"(\w+)"',
        r'DecryptionFailed\(\s*"(\w+)"',
    )
    # the submission's refusals of a reused sealed file (R40)
    codes |= _codes_in("tender/bids/submission.py", r'"(sealed_\w+_reused)"')
    # the opening's outcomes (E31) and the codes its steps set
    codes |= set(decryption.REASONS)
    codes |= _codes_in(
        "tender/opening/decryption.py",
        r'Outcome\(\s*(?:RETRY|OpenedBidStatus\.\w+),\s*"(\w+)"',
        r'_set_outcome\([^)]*"(\w+)"',
    )
    # submitting key parts, and the refusals of the request as a whole
    codes |= set(parts.PART_MESSAGES)
    codes |= _codes_in("tender/opening/parts.py", r'\.one\(\s*"(\w+)"')
    codes |= _codes_in("tender/opening/base.py", r'\.one\(\s*"(opening_not_yet)"')
    # the container's content rules
    codes |= set(bidcontent.CODES)
    return codes


def test_section_9_lists_every_result_code_the_code_can_give():
    codes = result_codes()
    assert len(codes) > 50  # the scan found them: the upload check, tools, parts, outcomes and content rules
    section = _section(9)
    listed = set(re.findall(r"`(\w+)`", section))
    missing = sorted(codes - listed)
    assert missing == [], f"docs/sealed-bid-format.md §9 does not list: {missing}"


def test_section_6_states_the_content_rules_figures_and_codes():
    section = _section(6)
    for code in bidcontent.CODES:
        assert f"`{code}`" in section, code
    assert "1,048,576 bytes (1 MiB)" in section and bidcontent.MAX_MANIFEST_SIZE == 1_048_576
    assert f"`{bidcontent.MEDIA_TYPE}`" in section
    assert "255 characters" in section and bidcontent.MAX_NAME_CHARS == 255
    assert "1 to 500 characters" in section and bidcontent.MAX_QUALITY_CHARS == 500
    assert "0 to 200 characters" in section and bidcontent.MAX_SECURITY_CHARS == 200
    assert "1 to 10^15" in section and bidcontent.MAX_PRICE_FEN == 10**15
    assert "1 to 36,500" in section and bidcontent.MAX_DURATION_DAYS == 36_500
    assert "2^53 - 1" in section and bidcontent.MAX_FILE_SIZE == 2**53 - 1
    # every trimmed character is named (singly or in the U+2000 to U+200A range)
    for ch in bidcontent.TRIMMED:
        point = f"U+{ord(ch):04X}"
        assert point in section or 0x2000 <= ord(ch) <= 0x200A, point
    assert "U+2000 to U+200A" in section
    for role in bidcontent.FILE_ROLES:
        assert f"`{role}`" in section
    assert "exactly, code point by code point" in section


def test_the_headers_and_key_parts_documents_are_described_field_by_field():
    section = _section(7)
    assert "etender-opening-headers" in section and "etender-key-parts" in section
    assert "GET /tenders/{tender_id}/opening/headers" in section
    assert "POST /tenders/{tender_id}/opening/parts" in section
    for field in ("bid", "lot_id", "bid_id", "status", "header", "tender_id", "reference"):
        assert f"| `{field}`" in section or f"`{field}`" in section, field
    for field in ("subset_index", "position", "part", "key_id"):
        assert f"`{field}`" in section, field
    assert parts.HEADERS_FORMAT == "etender-opening-headers" and parts.PARTS_FORMAT == "etender-key-parts"
