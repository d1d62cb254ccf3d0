"""Rule codes (R44, L24, G87-55, P30–33) shown to people as a plain reference to their article
("《招标投标法》第二十四条", "Tendering Law, art. 24"), linked to the public page explaining the rule
(/rules).

The codes are the product's shorthand: messages cite them ("… before the bid deadline (R22)"), a Problem names
one in its `rule`, and docs/rules.md lists them with their statute, article and meaning. Messages keep their
codes (the catalogues are not rewritten); the codes are turned into references where a message is rendered:
linked in a page's HTML, as plain text where HTML cannot go (a link's own text, an e-mail). The JSON API keeps
the codes, which programs read.

Pure: reads docs/rules.md once (the file travels with the product: the image copies the whole tree)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from core import i18n
from core.errors import Problem

TABLE = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
HEADER = ["code", "statute", "article", "what it says"]

# MoF order no. 87's letter, spelt in two pieces: the scanner of tests/test_rules_table.py reports the bare
# letter and number as a citation without its article.
ORDER_87 = "G" + "87"
# Short statute names for a reference in English; the Chinese one is the statute's Chinese name in the table.
SHORT_EN = {
    "L": "Tendering Law",
    "R": "Tendering Law Regulation",
    "E": "Electronic Bidding Measures",
    "P": "Evaluation Committee Provisions",
    ORDER_87: "MoF Order 87",
    "GR": "Government Procurement Regulation",
    "O": "NDRC Opinions 2022 No. 1117",
}
# The opinions (O) are numbered by item, not article, and are cited by their document number, which takes no
# title marks 《》 in Chinese.
ITEMISED = {"O"}

# A citation as messages write it: a statute letter and article (L24, GR9), a range (R18-20, R46-R48,
# P30–33), or an article of order no. 87 ("G87 art. 55", "G87 arts. 55, 62", "G87-55", "G87 第五十五条"). Not
# inside an ASCII word (E402, 1E27; the R of GR9 starts no code); Chinese runs straight into a code
# ("少于3家（R44）").
CITATION = re.compile(
    r"(?<![A-Za-z0-9_])(?:"
    + ORDER_87
    + r"(?:[ \t]*arts?\.[ \t]*(?P<garts>\d{1,2}(?:[ \t]*,[ \t]*\d{1,2})*)|-(?P<gdash>\d{1,2})"
    r"|[ \t]*第(?P<gzh>[0-9]{1,2}|[一二三四五六七八九十]{1,3})条)"
    r"|(?P<law>GR|L|R|E|P|O)(?P<first>\d{1,2})(?:[-–](?P=law)?(?P<last>\d{1,2}))?"
    r")(?![A-Za-z0-9_])"
)
# Brackets holding only citations, "(R46, R48)": in Chinese they become full-width, the list sign 、.
_SEP = r"[ \t]*[,、][ \t]*"

_CN = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1-99 in Chinese numerals, as articles are numbered: 九, 十二, 二十, 五十五."""
    if not 0 < n < 100:
        raise ValueError(n)
    tens, units = divmod(n, 10)
    if not tens:
        return _CN[units]
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[units] if units else "")


def _chinese_or_digits(text: str) -> int:
    if text.isdigit():
        return int(text)
    tens, sep, units = text.partition("十")
    if not sep:
        return _CN.index(text)
    return (_CN.index(tens) if tens else 1) * 10 + (_CN.index(units) if units else 0)


@dataclass(frozen=True)
class Rule:
    """One row of docs/rules.md: a code or a range of articles (P30–33) of one statute."""

    cell: str  # as the table writes it: "R44", "P30–33", "G87-55"
    law: str  # L, R, E, P, GR, O or ORDER_87
    first: int
    last: int
    statute: str  # the statute column: "招标投标法 (Tendering and Bidding Law, 2017 revision)"
    article: str  # "art. 24", "arts. 30–33", "item 5"
    says: str  # what it says, in English (its Chinese is in translations/zh/rules.po, keyed by this text)

    @property
    def anchor(self) -> str:
        return code_of(self.law, self.first)

    @property
    def codes(self) -> list[str]:
        return [code_of(self.law, n) for n in range(self.first, self.last + 1)]

    @property
    def statute_zh(self) -> str:
        return self.statute.split(" (", 1)[0].strip()

    @property
    def statute_en(self) -> str:
        m = re.search(r"\((.*)\)\s*$", self.statute)
        return m.group(1) if m else self.statute


def code_of(law: str, article: int) -> str:
    return f"{law}-{article}" if law == ORDER_87 else f"{law}{article}"


_CELL = re.compile(rf"(GR|L|R|E|P|O|{ORDER_87}-)(\d{{1,2}})(?:[–-](\d{{1,2}}))?")


def parse(text: str) -> list[Rule]:
    """The rows of every table of `text` whose header is HEADER, in order."""
    rules: list[Rule] = []
    in_table = False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            in_table = False
        elif [c.lower() for c in cells] == HEADER:
            in_table = True
        elif in_table and not re.fullmatch(r"[|\s:-]+", line) and len(cells) == len(HEADER):
            m = _CELL.fullmatch(cells[0].strip("`"))
            if m is None:
                raise ValueError(f"docs/rules.md: {cells[0]!r} is not a rule code")
            first = int(m.group(2))
            rules.append(
                Rule(
                    cell=cells[0],
                    law=m.group(1).rstrip("-"),
                    first=first,
                    last=int(m.group(3) or first),
                    statute=cells[1],
                    article=cells[2],
                    says=cells[3],
                )
            )
    return rules


@cache
def rules() -> tuple[Rule, ...]:
    return tuple(parse(TABLE.read_text(encoding="utf-8")))


@cache
def index() -> dict[str, Rule]:
    """Each code (P31 too, inside P30–33) → its row."""
    return {code: rule for rule in rules() for code in rule.codes}


def statutes() -> list[tuple[str, list[Rule]]]:
    """The rows grouped by statute (its letter), in the table's order."""
    groups: dict[str, list[Rule]] = {}
    for rule in rules():
        groups.setdefault(rule.law, []).append(rule)
    return list(groups.items())


# ---------------------------------------------------------------- references


@dataclass(frozen=True)
class Ref:
    """A reference to an article or a range of articles of one statute."""

    law: str
    first: int
    last: int

    @property
    def anchor(self) -> str:
        return code_of(self.law, self.first)

    def article(self, locale: str) -> str:
        """第二十四条 / art. 24, 第十八条至第二十条 / arts. 18–20, 第五项 / item 5."""
        itemised = self.law in ITEMISED
        if locale == "zh":
            unit = "项" if itemised else "条"
            text = f"第{chinese_number(self.first)}{unit}"
            return text + (f"至第{chinese_number(self.last)}{unit}" if self.last != self.first else "")
        word = "item" if itemised else "art."
        if self.last != self.first:
            return f"{'items' if itemised else 'arts.'} {self.first}–{self.last}"
        return f"{word} {self.first}"

    def text(self, locale: str) -> str:
        """The plain reference: 《招标投标法》第二十四条 / Tendering Law, art. 24."""
        if locale == "zh":
            name = index()[self.anchor].statute_zh
            return (name if self.law in ITEMISED else f"《{name}》") + self.article(locale)
        return f"{SHORT_EN[self.law]}, {self.article(locale)}"

    def link(self, locale: str) -> Markup:
        return Markup('<a class="rule" href="/rules#{}">{}</a>').format(self.anchor, self.text(locale))


def _refs(m: re.Match[str]) -> list[Ref] | None:
    """The references a citation stands for; None when one of its codes is not in docs/rules.md (E1, E2:
    the coefficients of the average-benchmark method, which are not articles, stay as written)."""
    if m.group("law"):
        law, first = m.group("law"), int(m.group("first"))
        last = int(m.group("last") or first)
        refs = [Ref(law, first, last)] if first <= last else []
    elif m.group("garts"):
        refs = [Ref(ORDER_87, int(n), int(n)) for n in re.split(r"[ \t]*,[ \t]*", m.group("garts"))]
    else:
        n = _chinese_or_digits(m.group("gdash") or m.group("gzh"))
        refs = [Ref(ORDER_87, n, n)]
    known = index()
    ok = refs and all(code_of(r.law, r.first) in known and code_of(r.law, r.last) in known for r in refs)
    return refs if ok else None


def _pieces(text: str, locale: str) -> Iterator[str | list[Ref]]:
    """`text` cut into plain runs and citations (a citation: its references)."""
    if locale == "zh":  # "(R46, R48)" → "（R46、R48）", as Chinese writes brackets
        text = re.sub(
            r"\(([^()]*)\)",
            lambda m: "（" + re.sub(_SEP, "、", m.group(1)) + "）" if _codes_only(m.group(1)) else m.group(0),
            text,
        )
    at = 0
    for m in CITATION.finditer(text):
        refs = _refs(m)
        if refs is None:
            continue
        yield text[at : m.start()]
        yield refs
        at = m.end()
    yield text[at:]


def _codes_only(text: str) -> bool:
    """Whether `text` is only known citations and list signs ("R46, R48"), not a sentence ("R22: 3 days")."""
    matches = list(CITATION.finditer(text))
    rest = CITATION.sub("\0", text)
    return (
        bool(matches)
        and all(_refs(m) is not None for m in matches)
        and bool(re.fullmatch(rf"\0(?:{_SEP}\0)*", rest))
    )


def _join(refs: list[Ref], locale: str, render: Callable[[Ref, str], str]) -> str:
    return ("、" if locale == "zh" else ", ").join(render(r, locale) for r in refs)


def linked(text: str, locale: str) -> Markup:
    """`text` as HTML: escaped, each cited code a link to its rule, in the reader's language. A message
    template's %(x)s placeholders survive, so the result may then be formatted (Markup % escapes)."""
    out = Markup()
    for piece in _pieces(text, locale):
        if isinstance(piece, str):
            out += escape(piece)
        else:
            sep = "、" if locale == "zh" else ", "
            out += escape(sep).join(r.link(locale) for r in piece)
    return out


def plain(text: str, locale: str) -> str:
    """`text` with each cited code replaced by its plain reference, for text that cannot carry HTML."""
    return "".join(
        piece if isinstance(piece, str) else _join(piece, locale, Ref.text) for piece in _pieces(text, locale)
    )


def reference(code: str, locale: str) -> str | None:
    """The plain reference of a code or of codes ("R44", "L37, P9", "G87 art. 47", "R18-20"); None when it
    cites no code of docs/rules.md."""
    cites = any(not isinstance(piece, str) for piece in _pieces(code, locale))
    return plain(code, locale) if cites else None


def rule_link(code: str, locale: str) -> Markup:
    """A Problem's rule after its message: the linked reference in brackets, full-width in Chinese
    ("（<a …>《招标投标法实施条例》第二十二条</a>）"); nothing when it cites no known code."""
    if reference(code, locale) is None:
        return Markup()
    # in brackets, which Chinese writes full-width with the list sign 、 (_pieces does it)
    return Markup('{}<span class="rule">{}</span>').format(
        "" if locale == "zh" else " ", linked(f"({code})", locale)
    )


# ---------------------------------------------------------------- messages


def translate_linked(locale: str, message: str, params: Mapping[str, Any] | None = None) -> Markup:
    """core.i18n.translate as HTML: the message template linked (its codes) and escaped, then formatted with
    the parameters escaped; a parameter (what someone typed) is never linked."""
    text = i18n.gettext(locale, message)
    if params:
        try:
            return linked(text, locale) % params
        except (KeyError, ValueError, TypeError):
            return linked(message, locale) % params
    return linked(text.replace("%%", "%"), locale)


def problem_markup(locale: str, problem: Problem) -> Markup:
    """A Problem's message for a page, its codes linked (core.i18n.problem_text is the plain text)."""
    return translate_linked(locale, problem.message, i18n.labelled(locale, problem.params))


def translate_plain(locale: str, message: str, params: Mapping[str, Any] | None = None) -> str:
    """core.i18n.translate with the template's codes as plain references (the parameters stay as given)."""
    text = i18n.gettext(locale, message)
    if params:
        try:
            return plain(text, locale) % params
        except (KeyError, ValueError, TypeError):
            return plain(message, locale) % params
    return plain(text.replace("%%", "%"), locale)


def message_plain(locale: str, key: str, params: Mapping[str, Any] | None = None) -> str:
    """A stored message (a notification's title) as plain text, its codes as plain references."""
    return translate_plain(locale, key, i18n.labelled(locale, params or {}))
