"""docs/rules.md lists every legal rule code the product cites (R44, E27, G87-55...), with its article.

The scanner reads the product's Python packages (the top-level folders with an __init__.py, except tests,
bench and alembic) and, inside them, the templates, translations and scripts: every .py, .html, .po, .js file.
"""

from __future__ import annotations

import bisect
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "rules.md"
NOT_PRODUCT = {"tests", "bench", "alembic"}  # test code, benchmarks and migrations: not the product
SUFFIXES = {".py", ".html", ".po", ".js"}

# A citation is a statute letter and an article number: L24, R44, E27, P12, GR9, O5 (the shared rules.md
# writes "O 5", so O alone may take a space), or a range of them (R18-20, R46-R48, P30–33). Exclusions:
# - at most 2 digits: no statute here has 100 articles, so "P256" or "P384" (elliptic curves, as the
#   sealing code may name them) and 3-digit lint codes are not read as articles;
# - not inside a word: "GR9" is not also "R9", "E402" is not "E40", "1E27" is a float literal. Words are
#   ASCII (re.ASCII) because Chinese text runs straight into a code, as in "见R44规定" or "（R44、L28）".
CODE = re.compile(r"(?<!\w)(GR|L|R|E|P|O)(?:(?<=O) )?(\d{1,2})(?:[-–]\1?(\d{1,2}))?(?!\w)", re.ASCII)
# G87 (MoF order no. 87) is cited with its article: "G87 art. 55", "G87 arts. 55, 62", "G87-55" or, in the
# Chinese translations, "G87 第五十五条"; all are the code G87-55. A bare "G87" is reported as "G87".
G87 = re.compile(
    r"(?<!\w)G87(?:[ \t]*arts?\.?[ \t]*(\d{1,2}(?:[ \t]*,[ \t]*\d{1,2})*)|-(\d{1,2})"
    r"|[ \t]*第([0-9]{1,2}|[一二三四五六七八九十]{1,3})条)?(?!\w)",
    re.ASCII,
)
# Lint suppression comments (noqa, a colon, then lint codes such as E402, E501 or S311; web/cli.py has them)
# name ruff or flake8 checks, not statutes: the code list after the colon is removed before scanning, and
# any text after it (an explanation, which may cite a rule) is still read.
NOQA = re.compile(r"(?i:noqa)[ \t]*:[ \t]*[A-Z]+\d+(?:[ \t]*[, ][ \t]*[A-Z]+\d+)*")
# E1 and E2 are the deduction coefficients of the average-benchmark scoring method (shared rules.md §4.3),
# named so on the tender form, on the notice page and in their translations. Articles 1 and 2 of the
# Electronic Measures are its purpose and scope, which nothing in the product enforces or cites.
NOT_CITATIONS = {"E1", "E2"}

_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}


def _chinese_number(text: str) -> int:
    """1-99 in Chinese numerals (九, 十二, 四十七) or in digits."""
    if text.isdigit():
        return int(text)
    tens, _, units = text.partition("十")
    if "十" not in text:
        return _DIGITS[text]
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def cited_codes(text: str) -> list[tuple[str, int]]:
    """The rule codes cited in a text, with their line numbers, in order.

    A range cites its two ends only: the articles inside it need not each be a rule of their own (the
    shared rules.md has no E28, which "E26-E32" spans). The patterns run on the whole text at once (one
    pass, not one per line) and never match across a line break."""
    text = NOQA.sub("", text)
    hits: list[tuple[int, str]] = []
    for m in CODE.finditer(text):
        hits += [(m.start(), f"{m.group(1)}{int(n)}") for n in m.group(2, 3) if n]
    for m in G87.finditer(text):
        if m.group(1):
            hits += [(m.start(), f"G87-{int(n)}") for n in re.split(r"[ \t]*,[ \t]*", m.group(1))]
        elif m.group(2) or m.group(3):
            hits.append((m.start(), f"G87-{_chinese_number(m.group(2) or m.group(3))}"))
        else:
            hits.append((m.start(), "G87"))
    breaks = [m.start() for m in re.finditer("\n", text)]
    return [(code, bisect.bisect(breaks, at) + 1) for at, code in sorted(hits) if code not in NOT_CITATIONS]


def product_files(root: Path = ROOT) -> list[Path]:
    packages = sorted(p.parent for p in root.glob("*/__init__.py") if p.parent.name not in NOT_PRODUCT)
    return [
        path
        for package in packages
        for path in sorted(package.rglob("*"))
        if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts
    ]


@functools.cache
def first_citations(root: Path = ROOT) -> dict[str, str]:
    """Each code cited in the product, with the file and line of its first use ("tender/rules.py:14")."""
    first: dict[str, str] = {}
    for path in product_files(root):
        for code, lineno in cited_codes(path.read_text(encoding="utf-8")):
            first.setdefault(code, f"{path.relative_to(root)}:{lineno}")
    return first


# ---------------------------------------------------------------- docs/rules.md

COLUMNS = ["code", "statute", "article", "what it says"]
# A code cell: one code (R44, GR9, G87-55) or a range of articles (P30–33, R18–20).
CODE_CELL = re.compile(r"(GR|L|R|E|P|O|G87-)(\d{1,2})(?:[–-](\d{1,2}))?")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_rows(text: str) -> list[tuple[int, list[str]]]:
    """The rows, with their line numbers, of every Markdown table whose header is COLUMNS."""
    rows: list[tuple[int, list[str]]] = []
    in_table = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("|"):
            in_table = False
        elif [c.lower() for c in _cells(line)] == COLUMNS:
            in_table = True
        elif in_table and not re.fullmatch(r"[|\s:-]+", line):
            rows.append((lineno, _cells(line)))
    return rows


def expand(cell: str) -> list[str] | None:
    """The codes a code cell stands for (P30–33: P30, P31, P32, P33), or None when it is not a code."""
    m = CODE_CELL.fullmatch(cell.strip("`"))
    if not m:
        return None
    law, first, last = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
    return [f"{law}{n}" for n in range(first, last + 1)] if first <= last else None


def _article(code: str) -> int:
    """The article number of a code: 44 for R44, 55 for G87-55."""
    return int(re.search(r"\d+$", code).group())  # type: ignore[union-attr]


def table_codes(text: str) -> set[str]:
    return {code for _, cells in table_rows(text) for code in expand(cells[0]) or []}


# ---------------------------------------------------------------- tests


def test_every_cited_code_is_in_the_table():
    listed = table_codes(TABLE.read_text(encoding="utf-8"))
    missing = {code: where for code, where in first_citations().items() if code not in listed}
    assert not missing, "cited in the product but missing from docs/rules.md:\n" + "\n".join(
        f"  {code}, first cited at {where}" for code, where in sorted(missing.items(), key=lambda kv: kv[1])
    )


def test_table_rows_are_complete_and_unique():
    problems: list[str] = []
    seen: dict[str, int] = {}
    statutes: dict[str, str] = {}
    rows = table_rows(TABLE.read_text(encoding="utf-8"))
    for lineno, cells in rows:
        where = f"docs/rules.md:{lineno}"
        if len(cells) != len(COLUMNS):
            problems.append(f"{where}: {len(cells)} cells, not {len(COLUMNS)}")
            continue
        code_cell, statute, article, says = cells
        codes = expand(code_cell)
        if codes is None:
            problems.append(f"{where}: {code_cell!r} is not a rule code")
            continue
        for name, value in (("statute", statute), ("article", article), ("what it says", says)):
            if not value:
                problems.append(f"{where}: {code_cell} has no {name}")
        # The article column gives the code's own number(s): R44 is art. 44, P30–33 arts. 30–33, O5 item 5.
        numbers = [int(n) for n in re.findall(r"\d+", article)]
        if article and numbers != sorted({_article(codes[0]), _article(codes[-1])}):
            problems.append(f"{where}: {code_cell} has article {article!r}")
        letter = re.sub(r"-?\d+$", "", codes[0])  # R, GR, G87...
        if statutes.setdefault(letter, statute) != statute:
            problems.append(f"{where}: {code_cell} names {statute!r}, the {letter} rows {statutes[letter]!r}")
        for code in codes:
            if code in seen:
                problems.append(f"{where}: {code} is already listed at docs/rules.md:{seen[code]}")
            seen.setdefault(code, lineno)
    assert len(rows) >= 10, "no rule tables found in docs/rules.md (header: | code | statute | article | ...)"
    assert not problems, "\n".join(problems)


def test_the_scanner_finds_known_citations_in_the_product():
    cited = first_citations()
    for code in ("E27", "R44", "L37", "GR9", "G87-55", "G87-47", "P30", "P33"):
        assert code in cited, f"the scanner no longer finds {code} in the product: does it still read it?"
    assert "E402" not in cited and not NOT_CITATIONS & set(cited)  # web/cli.py silences E402 several times
    suffixes = {path.suffix for path in product_files()}
    assert suffixes == SUFFIXES, f"no {SUFFIXES - suffixes} files found: is the scanner looking there?"


def test_the_scanner_on_a_sample():
    sample = "\n".join(
        [
            'raise Conflict.one("late", N_("Bids are refused (E27)."), rule="E27")',
            "from web.cli_audit import audit  # noqa: E402 - the group lives in its own module (R44)",
            "x = very_long_call()  # noqa: E501, E26",
            "# R18-20 and R46-R48; P30–33",
            '"rule": "G87 art. 47", "G87-55", G87 第五十五条, G87 arts. 55, 62',
            "GR9, P12; O 5; 见R44规定",
            'curve = "P256"; big = 1E27; see E27s; coefficient E1',
        ]
    )
    assert cited_codes(sample) == [
        ("E27", 1),
        ("E27", 1),
        ("R44", 2),
        ("R18", 4),
        ("R20", 4),
        ("R46", 4),
        ("R48", 4),
        ("P30", 4),
        ("P33", 4),
        ("G87-47", 5),
        ("G87-55", 5),
        ("G87-55", 5),
        ("G87-55", 5),
        ("G87-62", 5),
        ("GR9", 6),
        ("P12", 6),
        ("O5", 6),
        ("R44", 6),
    ]
    assert expand("P30–33") == ["P30", "P31", "P32", "P33"] and expand("G87-55") == ["G87-55"]
    assert expand("E402x") is None
