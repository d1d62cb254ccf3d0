"""ONE table of container manifests (docs/sealed-bid-format.md §6) with the verdict each must get: None (a
sealer writes it, the opening opens it) or the code of the first content rule it breaks, with the message's
parameters. Run through tender/bidcontent.py (tests/tender/test_content_rules.py), through the browser's
checkContainer under Node (same file) and in Chromium (tests/e2e/test_sealing_in_browser.py): all must agree.

Every case is plain JSON, so both sides receive the same value. (JSON that only a text-level reader can tell
apart, such as 1.0 for 1, is tested on the Python side alone: a JavaScript reader sees the same number.)"""

from __future__ import annotations

import copy
from typing import Any

from tender import bidcontent

PRICE = {
    "total_price_fen": 123_456_789,
    "duration_days": 60,
    "quality_commitment": "合格",
    "bid_security_reference": "BG-2026-001",
}
FILE = {"role": "technical", "name": "技术标.pdf", "media_type": "application/pdf", "size": 1234}


def manifest(
    price: dict[str, Any] | None = None, files: list[Any] | None = None, **top: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": "etender-bid-container",
        "version": 1,
        "price_form": copy.deepcopy(PRICE if price is None else price),
        "files": copy.deepcopy([FILE] if files is None else files),
    }
    out.update(top)
    return out


def price(**changes: Any) -> dict[str, Any]:
    out = dict(PRICE, **changes)
    return {k: v for k, v in out.items() if v is not DROP}


def file(**changes: Any) -> dict[str, Any]:
    out = dict(FILE, **changes)
    return {k: v for k, v in out.items() if v is not DROP}


DROP = object()
MAX = 10**15
LONG = "标" * 255  # 255 code points: the limit, whatever their UTF-8 or UTF-16 length
EMOJI = "📄" * 255  # 255 code points, 510 UTF-16 units: counted as 255


def _many(n: int, name_length: int) -> list[dict[str, Any]]:
    return [file(name=f"{i:06d}" + "x" * (name_length - 6)) for i in range(n)]


# (label, manifest, expected code or None, expected params)
CASES: list[tuple[str, Any, str | None, dict[str, Any]]] = [
    ("the example", manifest(), None, {}),
    ("no files at all", manifest(files=[]), None, {}),
    (
        "several files, every role",
        manifest(
            files=[
                file(role=r, name=f"{r}.pdf") for r in ("qualification", "technical", "commercial", "other")
            ]
        ),
        None,
        {},
    ),
    ("extra members are ignored", manifest(note="x", files=[file(comment="ignored")]), None, {}),
    # the manifest itself
    ("not an object", ["etender-bid-container"], "container_manifest_json", {}),
    ("null", None, "container_manifest_json", {}),
    ("another format", manifest(format="etender-bid"), "container_format", {}),
    ("version 2", manifest(version=2), "container_format", {}),
    ("version true", manifest(version=True), "container_format", {}),
    ("version as text", manifest(version="1"), "container_format", {}),
    (
        "no price form",
        {"format": "etender-bid-container", "version": 1, "files": []},
        "container_price_form",
        {},
    ),
    ("price form a list", manifest(price=[]), "container_price_form", {}),  # type: ignore[arg-type]
    ("price form with an extra field", manifest(price=price(discount=3)), "container_price_form", {}),
    # the price
    ("price zero", manifest(price=price(total_price_fen=0)), "container_price", {"limit": MAX}),
    ("price negative", manifest(price=price(total_price_fen=-5)), "container_price", {"limit": MAX}),
    ("price at the limit", manifest(price=price(total_price_fen=MAX)), None, {}),
    (
        "price above the limit",
        manifest(price=price(total_price_fen=MAX + 1)),
        "container_price",
        {"limit": MAX},
    ),
    ("price with a fraction", manifest(price=price(total_price_fen=12.5)), "container_price", {"limit": MAX}),
    ("price as text", manifest(price=price(total_price_fen="100")), "container_price", {"limit": MAX}),
    ("price true", manifest(price=price(total_price_fen=True)), "container_price", {"limit": MAX}),
    ("price missing", manifest(price=price(total_price_fen=DROP)), "container_price", {"limit": MAX}),
    # the duration
    ("duration zero", manifest(price=price(duration_days=0)), "container_duration", {"limit": 36500}),
    ("duration 100 years", manifest(price=price(duration_days=36500)), None, {}),
    ("duration above", manifest(price=price(duration_days=36501)), "container_duration", {"limit": 36500}),
    ("duration null", manifest(price=price(duration_days=None)), "container_duration", {"limit": 36500}),
    # the quality commitment: trimmed exactly, then required
    (
        "quality of spaces",
        manifest(price=price(quality_commitment="   ")),
        "container_quality",
        {"limit": 500},
    ),
    (
        "quality of ideographic spaces",
        manifest(price=price(quality_commitment="\u3000\u3000")),
        "container_quality",
        {"limit": 500},
    ),
    ("quality empty", manifest(price=price(quality_commitment="")), "container_quality", {"limit": 500}),
    ("quality missing", manifest(price=price(quality_commitment=DROP)), "container_quality", {"limit": 500}),
    ("quality null", manifest(price=price(quality_commitment=None)), "container_quality", {"limit": 500}),
    (
        "quality surrounded by spaces and a BOM",
        manifest(price=price(quality_commitment="\ufeff 合格\u3000\n")),
        None,
        {},
    ),
    (
        "quality with a tab inside",
        manifest(price=price(quality_commitment="合\t格")),
        "container_quality",
        {"limit": 500},
    ),
    (
        "quality ending in NEL (a control character, not trimmed)",
        manifest(price=price(quality_commitment="合格\u0085")),
        "container_quality",
        {"limit": 500},
    ),
    (
        "quality ending in U+001F (not trimmed)",
        manifest(price=price(quality_commitment="合格\u001f")),
        "container_quality",
        {"limit": 500},
    ),
    ("quality of 500 characters", manifest(price=price(quality_commitment="优" * 500)), None, {}),
    (
        "quality of 500 characters inside spaces",
        manifest(price=price(quality_commitment=" " + "优" * 500 + " ")),
        None,
        {},
    ),
    (
        "quality of 501 characters",
        manifest(price=price(quality_commitment="优" * 501)),
        "container_quality",
        {"limit": 500},
    ),
    (
        "quality of 500 emoji (1000 UTF-16 units)",
        manifest(price=price(quality_commitment="✅" * 250 + "📄" * 250)),
        None,
        {},
    ),
    # the bid security reference: may be empty or absent
    ("security absent", manifest(price=price(bid_security_reference=DROP)), None, {}),
    ("security empty", manifest(price=price(bid_security_reference="")), None, {}),
    ("security of spaces", manifest(price=price(bid_security_reference="  ")), None, {}),
    (
        "security of 201",
        manifest(price=price(bid_security_reference="x" * 201)),
        "container_security",
        {"limit": 200},
    ),
    (
        "security a number",
        manifest(price=price(bid_security_reference=5)),
        "container_security",
        {"limit": 200},
    ),
    (
        "security with a line break",
        manifest(price=price(bid_security_reference="BG\n1")),
        "container_security",
        {"limit": 200},
    ),
    # the files list
    (
        "files missing",
        {"format": "etender-bid-container", "version": 1, "price_form": PRICE},
        "container_files",
        {},
    ),
    ("files an object", manifest(files={"a": FILE}), "container_files", {}),  # type: ignore[arg-type]
    ("a file entry that is text", manifest(files=[FILE, "x.pdf"]), "container_files", {}),
    ("a file without a role", manifest(files=[file(role=DROP)]), "container_file_role", {"n": 1}),
    (
        "a file of role 'price'",
        manifest(files=[FILE, file(name="b.pdf", role="price")]),
        "container_file_role",
        {"n": 2},
    ),
    # file names
    ("name empty", manifest(files=[file(name="")]), "container_file_name_empty", {"n": 1}),
    ("name missing", manifest(files=[file(name=DROP)]), "container_file_name_empty", {"n": 1}),
    ("name a number", manifest(files=[file(name=7)]), "container_file_name_empty", {"n": 1}),
    ("name .", manifest(files=[file(name=".")]), "container_file_name_dot", {"n": 1}),
    ("name ..", manifest(files=[FILE, file(name="..")]), "container_file_name_dot", {"n": 2}),
    ("name ... is a name", manifest(files=[file(name="...")]), None, {}),
    ("name .hidden is a name", manifest(files=[file(name=".hidden")]), None, {}),
    (
        "name with /",
        manifest(files=[file(name="a/b.pdf")]),
        "container_file_name_separator",
        {"name": "a/b.pdf"},
    ),
    (
        "name ../x",
        manifest(files=[file(name="../x.pdf")]),
        "container_file_name_separator",
        {"name": "../x.pdf"},
    ),
    (
        "name with \\",
        manifest(files=[file(name="c:\\x.pdf")]),
        "container_file_name_separator",
        {"name": "c:\\x.pdf"},
    ),
    (
        "name with a line break",
        manifest(files=[file(name="a\nb.pdf")]),
        "container_file_name_control",
        {"n": 1},
    ),
    ("name with a tab", manifest(files=[file(name="a\tb.pdf")]), "container_file_name_control", {"n": 1}),
    ("name with NUL", manifest(files=[file(name="a\u0000.pdf")]), "container_file_name_control", {"n": 1}),
    ("name with DEL", manifest(files=[file(name="a\u007f.pdf")]), "container_file_name_control", {"n": 1}),
    ("name with U+009F", manifest(files=[file(name="a\u009f.pdf")]), "container_file_name_control", {"n": 1}),
    (
        "name with a lone surrogate",
        manifest(files=[file(name="a\ud800.pdf")]),
        "container_file_name_control",
        {"n": 1},
    ),
    ("name with spaces around is kept", manifest(files=[file(name=" a.pdf ")]), None, {}),
    ("name of spaces only is a name", manifest(files=[file(name="   ")]), None, {}),
    ("name with quotes and colon", manifest(files=[file(name='报价"表":1.pdf')]), None, {}),
    ("name of 255 characters", manifest(files=[file(name=LONG)]), None, {}),
    ("name of 255 emoji", manifest(files=[file(name=EMOJI)]), None, {}),
    (
        "name of 256 characters",
        manifest(files=[file(name=LONG + "x")]),
        "container_file_name_long",
        {"name": "标" * 79 + "…", "limit": 255},
    ),
    (
        "name of 256 emoji",
        manifest(files=[file(name=EMOJI + "📄")]),
        "container_file_name_long",
        {"name": "📄" * 79 + "…", "limit": 255},
    ),
    # uniqueness: exact, code point by code point
    (
        "two files of the same name",
        manifest(files=[FILE, file(role="commercial")]),
        "container_file_name_duplicate",
        {"name": "技术标.pdf"},
    ),
    ("names differing in case", manifest(files=[file(name="A.pdf"), file(name="a.pdf")]), None, {}),
    (
        "names differing in Unicode form (NFC, NFD)",
        manifest(files=[file(name="é.pdf"), file(name="e\u0301.pdf")]),
        None,
        {},
    ),
    (
        "a duplicate after a bad entry names the bad entry",
        manifest(files=[FILE, file(name=""), FILE]),
        "container_file_name_empty",
        {"n": 2},
    ),
    # media types
    (
        "media type missing",
        manifest(files=[file(media_type=DROP)]),
        "container_media_type",
        {"name": "技术标.pdf"},
    ),
    (
        "media type empty",
        manifest(files=[file(media_type="")]),
        "container_media_type",
        {"name": "技术标.pdf"},
    ),
    (
        "media type without subtype",
        manifest(files=[file(media_type="application")]),
        "container_media_type",
        {"name": "技术标.pdf"},
    ),
    (
        "media type with parameters",
        manifest(files=[file(media_type="text/plain; charset=utf-8")]),
        "container_media_type",
        {"name": "技术标.pdf"},
    ),
    (
        "media type with a trailing line break",
        manifest(files=[file(media_type="application/pdf\n")]),
        "container_media_type",
        {"name": "技术标.pdf"},
    ),
    ("media type in capitals", manifest(files=[file(media_type="Application/PDF")]), None, {}),
    (
        "media type of a Word file",
        manifest(
            files=[file(media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
        ),
        None,
        {},
    ),
    ("media type with + and .", manifest(files=[file(media_type="application/vnd.api+json")]), None, {}),
    (
        "media type a number",
        manifest(files=[file(media_type=1)]),
        "container_media_type",
        {"name": "技术标.pdf"},
    ),
    # sizes
    ("size zero", manifest(files=[file(size=0)]), None, {}),
    ("size negative", manifest(files=[file(size=-1)]), "container_file_size", {"name": "技术标.pdf"}),
    ("size as text", manifest(files=[file(size="12")]), "container_file_size", {"name": "技术标.pdf"}),
    ("size missing", manifest(files=[file(size=DROP)]), "container_file_size", {"name": "技术标.pdf"}),
    ("size with a fraction", manifest(files=[file(size=1.5)]), "container_file_size", {"name": "技术标.pdf"}),
    ("size 2^53", manifest(files=[file(size=2**53)]), "container_file_size", {"name": "技术标.pdf"}),
    # the manifest's size limit (1 MiB), measured on what the sealer writes
    ("3,500 files of 200-character names (about 0.9 MiB)", manifest(files=_many(3500, 200)), None, {}),
    (
        "5,000 files of 250-character names (about 1.5 MiB)",
        manifest(files=_many(5000, 250)),
        "container_manifest_size",
        {"limit": 1024 * 1024},
    ),
]


def python_verdict(value: Any) -> dict[str, Any]:
    try:
        bidcontent.serialise(bidcontent.check_manifest(value))
    except bidcontent.ContentInvalid as e:
        return {"code": e.code, "params": e.params}
    return {"code": None, "params": {}}
