"""The JSON API's error body, built in one place:

    {"error": {"code": ..., "message": ..., "problems": [{"code", "field", "rule", "message"}, ...]}}

(documented for OpenAPI as web.tender.api.ErrorResponse). The code and message lead with the first problem;
an HTTP error that has no problem of its own (a page not found, a form sent from another site) gives them
directly, with an empty list of problems."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.errors import Problem
from web import i18n


def error_json(
    code: str,
    message: str,
    problems: Sequence[Problem] = (),
    locale: str = i18n.DEFAULT_LOCALE,
) -> dict[str, Any]:
    """`message` is already in the reader's language; each problem is translated into `locale`."""
    items = [
        {"code": p.code, "field": p.field, "rule": p.rule, "message": i18n.problem_text(locale, p)}
        for p in problems
    ]
    return {"error": {"code": code, "message": message, "problems": items}}


def problems_json(locale: str, problems: Sequence[Problem]) -> dict[str, Any]:
    """The body for refused problems (a DomainError's, a bad query parameter's): the first one leads."""
    first = problems[0]
    return error_json(first.code, i18n.problem_text(locale, first), problems, locale)
