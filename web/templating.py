"""Jinja set-up: gettext from our catalogue, formatting of money and China Standard Time."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar.contrib.jinja import JinjaTemplateEngine
from markupsafe import Markup

from core import clock, money
from web import i18n, rule_refs


def _locale(ctx: Context) -> str:
    request = ctx.get("request")
    return i18n.normalise(request.cookies.get("lang")) if request is not None else i18n.DEFAULT_LOCALE


TEMPLATES = Path(__file__).resolve().parent / "templates"
# A message written inside a tag, an attribute's value (data-msg="{{ _('…') }}": the text a script shows),
# cannot hold a link: its codes become plain references.
_MESSAGE = re.compile(r"\b_\((['\"])((?:(?!\1).)*)\1")


@cache
def attribute_messages(root: Path = TEMPLATES) -> frozenset[str]:
    """The message ids the templates write inside a tag (after a "<" with no ">" since). A "<" in a Jinja
    test ({% if n < 3 %}) only makes a message plain, never an attribute linked."""
    found: set[str] = set()
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for m in _MESSAGE.finditer(text):
            if text.rfind("<", 0, m.start()) > text.rfind(">", 0, m.start()):
                found.add(m.group(2).replace("\\'", "'").replace('\\"', '"'))
    return frozenset(found)


def _rendered(ctx: Context, message: str, locale: str) -> str:
    return _translation(message, locale, bool(ctx.eval_ctx.autoescape))


# A message's rendering depends only on the message, the language and escaping, all fixed while the process
# runs (the catalogues and the rules table are read once): computed once, not for each of the hundreds of
# _() calls a listing page makes (issue 15: the directory's 50 rows). Bounded: a few templates pass a
# message they were given (a flash), still from the catalogue's finite set.
@lru_cache(maxsize=8192)
def _translation(message: str, locale: str, autoescape: bool) -> str:
    text = i18n.gettext(locale, message)
    plain = rule_refs.plain(text, locale)
    if plain == text:
        # no rule code: the translation as Jinja takes it (trusted, not escaped), so that a label embedded
        # with tojson (a script's messages) keeps its apostrophes instead of showing &#39;
        return text
    if autoescape and message not in attribute_messages():
        return rule_refs.linked(text, locale)
    return plain


# Jinja's newstyle gettext (jinja2.ext._make_new_gettext) formats with the keyword arguments itself, so a
# literal % is written %%; with autoescape on it takes what this returns as Markup and formats it with the
# arguments escaped. So the translation is escaped here, its rule codes made links to /rules (web.rule_refs);
# a template rendered without autoescape (plain text) gets the plain references.
@pass_context
def _gettext(ctx: Context, message: str) -> str:
    locale = _locale(ctx)
    return _rendered(ctx, message, locale)


@pass_context
def _newstyle_gettext(ctx: Context, message: str, **variables: Any) -> str:
    """What jinja2.ext's newstyle gettext does around _gettext, inline: the translation, as Markup under
    autoescape, always %-formatted with the keyword arguments (escaped by Markup's %)."""
    autoescape = bool(ctx.eval_ctx.autoescape)
    text = _translation(message, _locale(ctx), autoescape)
    # the catalogue's trusted translation (a linked rule already escaped), as jinja2.ext takes it too
    return (Markup(text) if autoescape else text) % variables  # noqa: S704


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    locale = _locale(ctx)
    message = singular if n == 1 else plural
    return _rendered(ctx, message, locale)


@pass_context
def _problem(ctx: Context, problem: Any, links: bool = True) -> str:
    """A Problem's message, its rule codes linked to /rules; plain references without autoescape or with
    links=False (the message is itself a link's text, to its field)."""
    locale = _locale(ctx)
    if ctx.eval_ctx.autoescape and links:
        return rule_refs.problem_markup(locale, problem)
    return rule_refs.translate_plain(locale, problem.message, i18n.labelled(locale, problem.params))


@pass_context
def _rule(ctx: Context, code: str | None) -> str:
    """A Problem's rule after its message: its linked plain reference in brackets."""
    return rule_refs.rule_link(code, _locale(ctx)) if code else ""


@pass_context
def _rule_reference(ctx: Context, code: str) -> str:
    """A rule named on its own (a record's legal basis): its linked plain reference, no brackets."""
    return rule_refs.linked(code, _locale(ctx))


@pass_context
def _message(ctx: Context, key: str, params: dict[str, Any] | None = None) -> str:
    """A stored message (a notification's key and parameters) in the page's language. Plain text, codes as
    plain references: it is shown as a link's text, where another link cannot go."""
    return rule_refs.message_plain(_locale(ctx), key, params)


@pass_context
def _end_reason(ctx: Context, tender: Any) -> str:
    """Why a tender ended: the platform's reason (a message key and parameters) in the page's language, else
    the words a person gave (a cancellation)."""
    if getattr(tender, "end_reason_key", ""):
        # codes as plain references (rule_refs): the reason is read, never a raw code
        return rule_refs.message_plain(_locale(ctx), tender.end_reason_key, tender.end_reason_params)
    return str(getattr(tender, "cancel_reason", "") or "")


@pass_context
def _current_locale(ctx: Context) -> str:
    return _locale(ctx)


def cst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.to_cst(value).strftime(fmt) if value else ""


def cst_input(value: datetime | None) -> str:
    """For <input type="datetime-local">."""
    return clock.to_cst(value).strftime("%Y-%m-%dT%H:%M") if value else ""


@pass_context
def _query(ctx: Context, **changes: Any) -> str:
    """The current query string with some parameters changed (pagination, filters)."""
    request = ctx.get("request")
    params = dict(request.query_params) if request is not None else {}
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(params) if params else "?"


@pass_context
def _page_after_post(ctx: Context) -> str:
    """Where a page answering a POST (a refused form shown again, a confirmation asked) really lives: the page
    the form was posted from (the same-origin Referer's path and query; the site sends Referer only to
    itself), else the posted path. Its base template puts it in the history in place of the POST, so that a
    reload reads the page again and never posts the action a second time (web/static/js/after-post.js)."""
    request = ctx.get("request")
    if request is None:
        return "/"
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc and referer.netloc.lower() == request.url.netloc.lower()
    if same_site and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return str(request.url.path)


def configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)  # type: ignore[attr-defined]
    # _() is the extension's newstyle gettext in one call instead of three nested context calls (its alias,
    # its wrapper, ours): the same translation, escaping and %-formatting (_newstyle_gettext)
    env.globals.update(_=_newstyle_gettext, gettext=_newstyle_gettext)
    env.globals.update(
        problem_text=_problem,
        rule_ref=_rule,
        rule_reference=_rule_reference,
        message_text=_message,
        end_reason=_end_reason,
        current_locale=_current_locale,
        query=_query,
        page_after_post=_page_after_post,
        now=clock.now,
    )
    env.filters.update(cst=cst, cst_input=cst_input, yuan=money.format_yuan, yuan_plain=money.yuan_plain)
    env.trim_blocks = True
    env.lstrip_blocks = True
