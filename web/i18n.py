"""Translations for pages: the catalogues and message rendering are core.i18n's (outbound messages render
with them too); this module adds the reader's language from a request's choice."""

from __future__ import annotations

from core.i18n import (
    DEFAULT_LOCALE,
    LABELLED_PARAMS,
    LOCALES,
    ROOT,
    catalogue,
    gettext,
    labelled,
    message_text,
    problem_text,
    translate,
)

__all__ = [
    "DEFAULT_LOCALE",
    "LABELLED_PARAMS",
    "LOCALES",
    "ROOT",
    "catalogue",
    "gettext",
    "labelled",
    "message_text",
    "normalise",
    "problem_text",
    "translate",
]


def normalise(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    value = value.lower()
    if value.startswith("en"):
        return "en"
    return "zh"
