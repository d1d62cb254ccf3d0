"""Translations: English message ids, a Chinese catalogue (the default language) under
web/translations/zh/*.po.

Several .po files are merged so that each part of the interface keeps its own catalogue file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from core.errors import Problem

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
ROOT = Path(__file__).parent / "translations"


@cache
def catalogue(locale: str) -> dict[str, str]:
    out: dict[str, str] = {}
    folder = ROOT / locale
    if not folder.is_dir():
        return out
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as f:
            cat = read_po(f, locale=locale)
        for message in cat:
            if message.id and message.string and not message.fuzzy and isinstance(message.id, str):
                out[message.id] = str(message.string)
    return out


def gettext(locale: str, message: str) -> str:
    # English is the msgid itself, except for labels keyed by code ("status:published"), which the small
    # English catalogue spells out.
    return catalogue(locale).get(message, message)


def translate(locale: str, message: str, params: dict[str, Any] | None = None) -> str:
    text = gettext(locale, message)
    if params:
        try:
            return text % params
        except (KeyError, ValueError, TypeError):
            return message % params
    return text.replace("%%", "%") if "%%" in text else text


# Parameters that carry a code (a status, a category, roles) are shown by their label in the reader's
# language.
LABELLED_PARAMS = {
    "status": "status",
    "category": "category",
    "role": "role",
    "roles": "role",
    "kind": "kind",
    "method": "method",
}


def problem_text(locale: str, problem: Problem) -> str:
    params = dict(problem.params)
    for key, prefix in LABELLED_PARAMS.items():
        if isinstance(params.get(key), str):
            sep = "、" if locale == "zh" else ", "
            parts = [v.strip() for v in params[key].split(",")]
            if all(f"{prefix}:{v}" in catalogue(locale) for v in parts):
                params[key] = sep.join(catalogue(locale)[f"{prefix}:{v}"] for v in parts)
    return translate(locale, problem.message, params)


def normalise(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    value = value.lower()
    if value.startswith("en"):
        return "en"
    return "zh"
