"""docs/rules.md lists every legal rule code the product cites (R44, E27, G87-55...), with its article.

The scanner (tests/factories/rule_citations.py) reads the product's Python packages (the top-level folders
with an __init__.py, except tests, bench and alembic) and, inside them, the templates, translations and
scripts: every .py, .html, .po, .js file.
"""

from __future__ import annotations

import re

from tests.factories.rule_citations import (
    COLUMNS,
    NOT_CITATIONS,
    SUFFIXES,
    TABLE,
    _article,
    cited_codes,
    expand,
    first_citations,
    product_files,
    table_codes,
    table_rows,
)

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
