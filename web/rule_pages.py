"""The public page explaining the legal rules the platform enforces (/rules, one anchor per code: /rules#R44),
which every rule reference on the other pages links to. Its content is docs/rules.md's tables (web.rule_refs),
in the reader's language: each rule's meaning and each statute's name are translated in
translations/zh/rules.po, keyed by docs/rules.md's English."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request, get
from litestar.response import Template
from markupsafe import Markup

from web import i18n, rule_refs
from web.deps import locale_of, page


@dataclass(frozen=True)
class Row:
    anchor: str  # the row's id: its (first) code
    more: list[str]  # the other codes of a range (P31, P32, P33 of P30–33), each an anchor too
    reference: str
    article: str
    says: Markup


@dataclass(frozen=True)
class Statute:
    name: str
    rows: list[Row]


def statutes(locale: str) -> list[Statute]:
    out = []
    for _law, rules in rule_refs.statutes():
        rows = []
        for rule in rules:
            ref = rule_refs.Ref(rule.law, rule.first, rule.last)
            says = rule_refs.linked(i18n.gettext(locale, rule.says), locale)
            rows.append(Row(rule.anchor, rule.codes[1:], ref.text(locale), ref.article(locale), says))
        first = rules[0]
        name = i18n.gettext(locale, first.statute_en) if locale != "zh" else _zh_name(first)
        out.append(Statute(name, rows))
    return out


def _zh_name(rule: rule_refs.Rule) -> str:
    translated = i18n.gettext("zh", rule.statute_en)
    return translated if translated != rule.statute_en else rule.statute_zh


@get("/rules", sync_to_thread=False, include_in_schema=False)
def rules_page(request: Request) -> Template:
    return page(request, "rules.html", statutes=statutes(locale_of(request)))


ROUTES = [rules_page]
