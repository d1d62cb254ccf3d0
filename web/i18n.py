"""Translations: English message ids, a Chinese catalogue (the default language) under web/translations/zh/*.po.

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


def problem_text(locale: str, problem: Problem) -> str:
    return translate(locale, problem.message, problem.params)


def normalise(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    value = value.lower()
    if value.startswith("en"):
        return "en"
    return "zh"
