"""Pure rules of the expert pool (rules.md §3): who may be registered as an evaluation expert, and the
checks on the data that describes them. No database, no clock."""

from __future__ import annotations

import operator
import re
from datetime import date

from core.errors import N_

# L37 (招标投标法 art. 37), 评标专家和评标专家库管理暂行办法 art. 7: an expert has worked in the field for
# at least 8 years and holds a senior professional title (高级职称: associate senior 副高级 or above).
MIN_YEARS = 8
MAX_YEARS = 70
SENIOR_LEVELS = ("senior", "associate_senior")  # 正高级, 副高级
TITLE_LEVELS = ("senior", "associate_senior", "intermediate", "junior")
STATUSES = ("active", "suspended", "retired", "penalised")
CONFLICT_KINDS = ("relative_employer", "shareholding", "other_interest")

LEVEL_LABELS = {
    "senior": N_("Full senior (正高级)"),
    "associate_senior": N_("Associate senior (副高级)"),
    "intermediate": N_("Intermediate (中级)"),
    "junior": N_("Junior (初级)"),
}
STATUS_LABELS = {
    "active": N_("Active"),
    "suspended": N_("Suspended"),
    "retired": N_("Retired"),
    "penalised": N_("Penalised"),
}
CONFLICT_LABELS = {
    "relative_employer": N_("A near relative works there"),
    "shareholding": N_("Shareholding (own or a relative's)"),
    "other_interest": N_("Other economic interest"),
}

# Words of a title, most specific first, and the level they mean (人社部 title series).
_TITLE_WORDS: list[tuple[str, str]] = [
    ("正高级", "senior"),
    ("教授级", "senior"),
    ("副教授", "associate_senior"),
    ("教授", "senior"),
    ("副主任", "associate_senior"),
    ("主任医师", "senior"),
    ("主任药师", "senior"),
    ("主任护师", "senior"),
    ("副研究员", "associate_senior"),
    ("研究员", "senior"),
    ("高级", "associate_senior"),
    ("主治医师", "intermediate"),
    ("讲师", "intermediate"),
    ("工程师", "intermediate"),
    ("经济师", "intermediate"),
    ("会计师", "intermediate"),
    ("助理", "junior"),
    ("技术员", "junior"),
]
_LEVEL_WORDS = {
    "senior": "senior",
    "正高": "senior",
    "正高级": "senior",
    "associate_senior": "associate_senior",
    "associate senior": "associate_senior",
    "副高": "associate_senior",
    "副高级": "associate_senior",
    "intermediate": "intermediate",
    "中级": "intermediate",
    "junior": "junior",
    "初级": "junior",
}


def level_of_title(title: str) -> str:
    """The level a Chinese professional title names ('' when it does not say)."""
    for word, level in _TITLE_WORDS:
        if word in title:
            return level
    return ""


def parse_level(text: str) -> str | None:
    """A level written as a code or in Chinese; None when it is not one."""
    return _LEVEL_WORDS.get(text.strip().lower())


def has_senior_title(level: str) -> bool:
    return level in SENIOR_LEVELS  # L37: 高级职称


def has_enough_years(years: int) -> bool:
    return years >= MIN_YEARS  # L37: 从事相关领域工作满八年


def eligible(level: str, years: int) -> bool:
    """May this person be registered in the pool (L37)?"""
    return has_senior_title(level) and has_enough_years(years)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
_CERTIFICATE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")


def resident_id_check(first17: str) -> str:
    """GB 11643-1999: the 18th character of a resident identity number."""
    if len(first17) != len(_ID_WEIGHTS):
        raise ValueError("a resident identity number has 17 digits before its check character")
    return _ID_CHECK[sum(map(operator.mul, map(int, first17), _ID_WEIGHTS)) % 11]


def normalise_id_number(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def id_number_problem(number: str) -> str | None:
    """Why an identity or expert-certificate number cannot be right (a message id), or None."""
    if not number:
        return N_("Give the expert's resident identity number or expert certificate number.")
    if len(number) == 18 and number[:17].isdigit():
        if not _RESIDENT_ID.match(number):
            return N_("A resident identity number has 17 digits and then a digit or X.")
        try:
            date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            return N_(
                "Characters 7 to 14 of a resident identity number are the birth date (YYYYMMDD); this one is "
                "not a date."
            )
        if resident_id_check(number[:17]) != number[17]:
            return N_(
                "The last character of the resident identity number does not match the others (GB 11643): a "
                "digit was mistyped."
            )
        return None
    if not _CERTIFICATE.match(number):
        return N_(
            "Use the 18-character resident identity number, or a certificate number of 4 to 40 letters, "
            "digits and hyphens."
        )
    return None


_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,18}[0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def phone_ok(phone: str) -> bool:
    return not phone or bool(_PHONE.match(phone))


def email_ok(email: str) -> bool:
    return not email or bool(_EMAIL.match(email))


def period_ok(start: date | None, end: date | None) -> bool:
    return start is None or end is None or end >= start


def status_needs_reason(status: str) -> bool:
    # A suspension, a retirement or a penalty is a decision about a person: its reason is kept (P12, R46).
    return status != "active"
