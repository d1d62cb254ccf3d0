"""The rule codes the product cites (R44, E27, G87-55...) and the ones docs/rules.md lists: the scanner that
tests/test_rules_table.py and tests/web/test_rule_refs.py share.

The scanner reads the product's Python packages (the top-level folders with an __init__.py, except tests,
bench and alembic) and, inside them, the templates, translations and scripts: every .py, .html, .po, .js file.
"""

from __future__ import annotations

import bisect
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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
