"""The page-words checker: what a person reads on a page, and the words on it that are not for people.

Issue 16: no internal code, id, tag or enum value is shown to a person, and a page is in its reader's
language. tests/web/test_page_words.py renders every page of the seeded world and runs these on each; the
functions are pure (HTML in, findings out), so tests/web/test_page_words.py also tests them on samples.

What a person reads (`segments`): the text of the page's elements, except <script> and <style> (what a
script shows later, a hidden dialog or a <template>, is read too), plus the attributes a browser shows or
reads aloud (title, placeholder, aria-label, alt, an input button's value). Every other attribute (href,
name, value, data-*, class) is machinery.

User-entered text is excepted: a tender's title, an organisation's name, a question someone wrote is in the
language its author wrote it in, and may hold anything. Two ways mark it:
- in the page, an element with a `data-user` attribute (its whole subtree), or one whose `lang` says it is in
  another language than the page's (HTML's own way to mark a foreign-language passage: the language switch,
  "English" on a Chinese page) is not held to the page's language;
- outside the page, the caller passes the texts the seeded world holds as data (`UserTexts`): a finding that
  is part of one of them is the data's, not the product's words (the templates mark none today, and a
  template cannot know whether a field holds a person's text or the product's label; the data can). Each
  name of a list ("甲公司、乙公司") is read on its own; a code must be the data's with its neighbours, so
  that a code some stored text happens to hold does not excuse the same code in the product's words.
A gloss is not the other language slipped in: a term in brackets beside the words it explains
("Avoidance (回避)", "开标记录（Opening record）"), or followed by its translation in brackets
("姓名 (Name)", a file's column that is named in Chinese).
Literal text is not read at all: what sits in <code>, <kbd>, <samp> or <pre> is shown as the exact
characters of a record or of something to type (an audit entry's bytes and tag beside its name, a hash, a
command), which a person copies rather than reads; so is an `etender ...` command line in running text
(the commands people run to verify the product's records themselves).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from web.rule_refs import CITATION

HIDDEN = {"script", "style"}
LITERAL = {"code", "kbd", "samp", "pre"}
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


@dataclass(frozen=True)
class Segment:
    """One piece of text a person reads: `lang` is the language the page declares for it ("zh" or "en"),
    `literal` whether it sits in <code>/<pre>..."""

    text: str
    lang: str
    literal: bool = False


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    text: str  # the offending words
    context: str  # the segment they were found in, shortened

    def __str__(self) -> str:
        return f"{self.kind}: {self.text!r} in {self.context!r}"


def _lang(value: str) -> str:
    return "en" if value.lower().startswith("en") else "zh"


@dataclass
class _Open:
    tag: str
    lang: str
    hidden: bool
    literal: bool


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Open] = []
        self.out: list[Segment] = []
        self.root_lang = "zh"

    def _top(self) -> _Open:
        return self.stack[-1] if self.stack else _Open("", self.root_lang, False, False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        top = self._top()
        if tag == "html" and "lang" in a:
            self.root_lang = _lang(a["lang"])
        lang = _lang(a["lang"]) if a.get("lang") else top.lang
        hidden = top.hidden or tag in HIDDEN or "data-user" in a
        if tag == "input" and a.get("type") == "hidden":
            hidden = True
        literal = top.literal or tag in LITERAL
        if not hidden:
            for name in SHOWN_ATTRIBUTES:
                if a.get(name, "").strip():
                    self.out.append(Segment(a[name].strip(), lang, literal))
            if tag == "input" and a.get("type") in {"submit", "button", "reset"}:
                if a.get("value", "").strip():
                    self.out.append(Segment(a["value"].strip(), lang, literal))
        if tag not in VOID:
            self.stack.append(_Open(tag, lang, hidden, literal))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching element: an unclosed <p> or <li> before it ends with it.
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        top = self._top()
        text = " ".join(data.split())
        if text and not top.hidden:
            self.out.append(Segment(text, top.lang, top.literal))


def segments(html: str) -> list[Segment]:
    """The text a person reads on the page, piece by piece, each with the language the page declares for
    it; the page's own language is its <html lang>."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.out


def page_lang(html: str) -> str:
    m = re.search(r"<html[^>]*\blang=\"([^\"]+)\"", html)
    return _lang(m.group(1)) if m else "zh"


# ------------------------------------------------------------------------------------------------ detectors

# E1 and E2 are the average-benchmark method's deduction coefficients, named so on the forms (see
# tests/factories/rule_citations.py NOT_CITATIONS), not articles of the Electronic Measures.
NOT_CODES = {"E1", "E2"}
# An audit tag or a dotted key: two or more lowercase words joined by dots ("auth.logout",
# "tender.bid.refused"), not a file name ("report.pdf": one dot and a known extension) nor a host name.
DOTTED = re.compile(r"(?<![\w./@:-])[a-z][a-z_]+(?:\.[a-z][a-z_]+)+(?![\w/@-]|\.\w)", re.ASCII)
FILE_OR_HOST = re.compile(
    r"\.(?:pdf|docx?|xlsx?|csv|zip|json|txt|png|jpe?g|html?|xml|etkey|com|cn|org|net|localhost)$"
)
# An enum value or a field name: lowercase words joined by underscores ("sealed_not_sealed").
SNAKE = re.compile(r"(?<![\w.:/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w-]|\.\w)", re.ASCII)
# A message key or a subject: "role:agency", "status:bidding_closed", "tender:13".
KEYED = re.compile(r"(?<![\w./:-])[a-z][a-z_]*:(?:\d+|[a-z][a-z_]*)(?![\w/.:-])", re.ASCII)
# Chinese (CJK ideographs, and the full-width punctuation only Chinese text uses).
_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
# A run of Chinese: ideographs joined by spaces, digits and the punctuation inside a Chinese sentence (not
# brackets: a bracketed term is read apart, see GLOSS).
CJK = re.compile(rf"{_HAN}(?:[\s\d\u3000-\u303f，。：；！？]*{_HAN})*")
# A gloss: a term in the other language in brackets, beside the words it explains ("Avoidance (回避)",
# "姓名 (Name)" for a file's column that is named in Chinese): a bracket holding no letter of the page's own
# script. A name in a list is read on its own ("甲公司、乙公司": the names are data one by one).
GLOSS_ZH = re.compile(r"[(（][^()（）A-Za-z]*[)）]")
GLOSS_EN = re.compile(r"[(（][^()（）\u3400-\u9fff]*[)）]")
# An English phrase: three or more words of two or more letters, separated by spaces and the punctuation of
# a sentence. A Chinese page names a few things in Latin letters (PDF, OCDS, RFC 9162): those are one or two
# words, or capitalised acronyms, which the count skips.
WORD = r"[A-Za-z][a-z]+(?:'[a-z]+)?"
LATIN_PHRASE = re.compile(rf"(?<![A-Za-z]){WORD}(?:[ ,;:'()-]+{WORD}){{2,}}(?![A-Za-z])")

KINDS = (
    "rule code",
    "audit tag",
    "enum value",
    "message key",
    "English on a Chinese page",
    "Chinese on an English page",
)


class UserTexts:
    """The texts the world holds as data (titles, names, what people wrote): a finding inside one of them is
    the data's. One string searched with `in`, so that each finding costs one scan."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._all = "\x00".join(t for t in texts if t)

    def holds(self, words: str) -> bool:
        return bool(words) and words in self._all


NO_USER_TEXTS = UserTexts(())


def _short(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - 40), min(len(text), end + 40)
    return ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")


# A command line of the product's verifier: `etender`, its subcommands, arguments and options.
COMMAND = re.compile(r"(?<![\w-])etender(?: +--?[\w.:/@=-]+| +[\w.:/@=-]+)+", re.ASCII)


def _codes(seg: Segment) -> Iterator[tuple[str, re.Match[str]]]:
    for m in CITATION.finditer(seg.text):
        if m.group(0) not in NOT_CODES:
            yield "rule code", m
    for m in DOTTED.finditer(seg.text):
        if not FILE_OR_HOST.search(m.group(0)):
            yield "audit tag", m
    for m in SNAKE.finditer(seg.text):
        yield "enum value", m
    for m in KEYED.finditer(seg.text):
        yield "message key", m


def _blank(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _glossed(text: str, m: re.Match[str], inside: re.Pattern[str], after: re.Pattern[str]) -> bool:
    """The words are a term in the other language explained beside them: inside brackets among the page's
    words ("Avoidance (回避)"), or followed by their translation in brackets ("姓名 (Name)": a file's column
    that is named in Chinese)."""
    if any(g.start() <= m.start() and m.end() <= g.end() for g in inside.finditer(text)):
        return True
    return after.match(text, m.end()) is not None


GLOSS_AFTER_EN = re.compile(r"\s*[(（][^()（）\u3400-\u9fff]*[A-Za-z][^()（）\u3400-\u9fff]*[)）]")
GLOSS_AFTER_ZH = re.compile(r"\s*[(（][^()（）A-Za-z]*[\u3400-\u9fff][^()（）A-Za-z]*[)）]")


def _language(seg: Segment) -> Iterator[tuple[str, re.Match[str]]]:
    if seg.lang == "zh":
        for m in LATIN_PHRASE.finditer(seg.text):
            if not _glossed(seg.text, m, GLOSS_EN, GLOSS_AFTER_ZH):
                yield "English on a Chinese page", m
    else:
        for m in CJK.finditer(seg.text):
            if not _glossed(seg.text, m, GLOSS_ZH, GLOSS_AFTER_EN):
                yield "Chinese on an English page", m


CODE_CONTEXT = 3  # characters on each side of a code that must be the data's too


def _held(user: UserTexts, kind: str, words: str) -> bool:
    """Whether the words are the data's: each name of a list of Chinese names (甲、乙) on its own."""
    if kind == "Chinese on an English page":
        return all(user.holds(w.strip()) for w in words.split("、") if w.strip())
    return user.holds(words)


def findings(html: str, user: UserTexts = NO_USER_TEXTS) -> list[Finding]:
    """Every word on the page that is not for its reader: raw rule codes, audit tags, enum values, message
    keys or subjects, and words in the other language (three English words on a Chinese page, any Chinese on
    an English one), except user-entered text."""
    out: list[Finding] = []
    for seg in segments(html):
        if seg.literal:
            continue
        # a command keeps its place (the findings' context is the text as shown) but is read as blanks
        shown = seg.text
        seg = Segment(_blank(COMMAND, seg.text), seg.lang)
        for kind, m in _codes(seg):
            # a code is the data's only with its neighbours: "R44" alone is in many a stored text
            if not user.holds(shown[max(0, m.start() - CODE_CONTEXT) : m.end() + CODE_CONTEXT]):
                out.append(Finding(kind, m.group(0), _short(shown, m.start(), m.end())))
        for kind, m in _language(seg):
            if not _held(user, kind, m.group(0)):
                out.append(Finding(kind, m.group(0), _short(shown, m.start(), m.end())))
    return out
