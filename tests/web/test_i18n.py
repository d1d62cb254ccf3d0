"""The Chinese catalogue covers every message the interface can show (templates, handlers, services)."""

from pathlib import Path

from babel.messages.extract import extract_from_dir

from web.i18n import catalogue

ROOT = Path(__file__).resolve().parents[2]
DYNAMIC_PREFIXES = ("role:", "status:", "category:", "method:", "kind:")


def _template_messages() -> dict[str, str]:
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "web" / "templates"),
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "gettext": None},
    ):
        if isinstance(message, str):
            found[message] = f"web/templates/{filename}"
    return found


def _python_messages() -> dict[str, str]:
    found = {}
    packages = ("core", "storage", "audit", "accounts", "tender", "evaluation", "marketplace", "award", "web")
    for package in packages:
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT / package), method_map=[("**.py", "python")], keywords={"N_": None, "_": (2,)}
        ):
            if isinstance(message, str):
                found[message] = f"{package}/{filename}"
    return found


def test_every_message_has_a_chinese_translation():
    catalogue.cache_clear()
    zh = catalogue("zh")
    used = {**_python_messages(), **_template_messages()}
    missing = sorted(
        f"{where}: {msg!r}"
        for msg, where in used.items()
        if msg not in zh and not msg.endswith(DYNAMIC_PREFIXES)
    )
    assert not missing, "messages without a Chinese translation:\n" + "\n".join(missing)


def test_dynamic_labels_are_translated():
    zh = catalogue("zh")
    from core.identity import OrgKind, Role
    from tender.lifecycle import Status
    from tender.rules import CATEGORIES, METHODS

    labels = (
        [f"role:{r.value}" for r in Role]
        + [f"status:{s.value}" for s in Status]
        + [f"kind:{k.value}" for k in OrgKind]
    )
    labels += [f"category:{c}" for c in CATEGORIES] + [f"method:{m}" for m in METHODS]
    missing = [label for label in labels if label not in zh]
    assert not missing, missing
    en = catalogue("en")
    missing_en = [label for label in labels if label not in en]
    assert not missing_en, missing_en


def test_placeholders_survive_translation():
    import re

    zh = catalogue("zh")
    pattern = re.compile(r"%\((\w+)\)s")
    bad = [
        msgid for msgid, text in zh.items() if sorted(pattern.findall(msgid)) != sorted(pattern.findall(text))
    ]
    assert not bad, bad
