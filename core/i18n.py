"""The interface's message catalogues, read where a message is rendered: pages (web.i18n, web.templating) and
messages that leave the product (accounts.notifications renders an e-mail in its reader's language). English
message ids, a Chinese catalogue (the default language) under web/translations/zh/*.po: the catalogues are
the interface's and stay beside its templates; this module only reads them.

Several .po files are merged so that each part of the interface keeps its own catalogue file."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from core.errors import Problem

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
# a file path, not an import: core does not depend on web, the catalogues live beside the templates
ROOT = Path(__file__).resolve().parent.parent / "web" / "translations"


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


def labelled(locale: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters with the codes of LABELLED_PARAMS replaced by their labels in `locale`."""
    params = {  # a parameter given in both languages ({"zh": ..., "en": ...}: a specialty's name)
        k: (v.get(locale) or v.get(DEFAULT_LOCALE, "")) if isinstance(v, dict) else v
        for k, v in params.items()
    }
    for key, prefix in LABELLED_PARAMS.items():
        if isinstance(params.get(key), str):
            sep = "、" if locale == "zh" else ", "
            parts = [v.strip() for v in params[key].split(",")]
            if all(f"{prefix}:{v}" in catalogue(locale) for v in parts):
                params[key] = sep.join(catalogue(locale)[f"{prefix}:{v}"] for v in parts)
    return params


def problem_text(locale: str, problem: Problem) -> str:
    return translate(locale, problem.message, labelled(locale, problem.params))


def message_text(locale: str, key: str, params: Mapping[str, Any] | None = None) -> str:
    """A stored message (a key and its parameters: notifications) in the reader's language."""
    return translate(locale, key, labelled(locale, params or {}))
