"""Jinja set-up: gettext from our catalogue, formatting of money and China Standard Time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar.contrib.jinja import JinjaTemplateEngine

from core import clock, money
from web import i18n


def _locale(ctx: Context) -> str:
    request = ctx.get("request")
    return i18n.normalise(request.cookies.get("lang")) if request is not None else i18n.DEFAULT_LOCALE


# Jinja's newstyle gettext formats with the keyword arguments itself (so a literal % is written %%).
@pass_context
def _gettext(ctx: Context, message: str) -> str:
    return i18n.gettext(_locale(ctx), message)


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    return i18n.gettext(_locale(ctx), singular if n == 1 else plural)


@pass_context
def _problem(ctx: Context, problem: Any) -> str:
    return i18n.problem_text(_locale(ctx), problem)


@pass_context
def _message(ctx: Context, key: str, params: dict[str, Any] | None = None) -> str:
    """A stored message (a notification's key and parameters) in the page's language."""
    return i18n.message_text(_locale(ctx), key, params)


@pass_context
def _end_reason(ctx: Context, tender: Any) -> str:
    """Why a tender ended: the platform's reason (a message key and parameters) in the page's language, else
    the words a person gave (a cancellation)."""
    if getattr(tender, "end_reason_key", ""):
        return i18n.message_text(_locale(ctx), tender.end_reason_key, tender.end_reason_params)
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


def configure(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        problem_text=_problem,
        message_text=_message,
        end_reason=_end_reason,
        current_locale=_current_locale,
        query=_query,
        now=clock.now,
    )
    env.filters.update(cst=cst, cst_input=cst_input, yuan=money.format_yuan, yuan_plain=money.yuan_plain)
    env.trim_blocks = True
    env.lstrip_blocks = True
