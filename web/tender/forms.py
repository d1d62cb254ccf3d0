"""The tender form: raw posted values <-> tender.drafting.TenderInput, with a Problem per bad field.

This module only reads the form: it reports what cannot be read (an amount that is not an amount, a date that
is not a date, a number that is not a number). Whether the values make a draft is tender.rules.check_draft's
to say, the one judge that the service asks too; parse_tender_form adds its verdict so that the page names
every problem at once.

Field names are the same in the HTML (name="..." and id="f-...") and in Problem.field, so that the
error list links to the input: "lots.0.price_ceiling", "criteria.factors.1.points", "bid_deadline"."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core import clock, money
from core.errors import N_, Problem
from tender import rules
from tender.drafting import LotInput, TenderInput
from tender.models import Tender

MIN_ROWS = 3
LOT_FIELDS = ("name", "estimated_price", "price_ceiling", "bid_security", "description")
FACTOR_FIELDS = ("name", "points", "kind")
SCALAR_FIELDS = (
    "title",
    "purchaser_id",
    "category",
    "region",
    "description",
    "contact_name",
    "contact_phone",
    "evaluation_method",
    "criteria.qualification",
    "criteria.compliance",
    "criteria.price.points",
    "criteria.benchmark.e1",
    "criteria.benchmark.e2",
    "doc_issue_start",
    "doc_issue_end",
    "question_deadline",
    "bid_deadline",
    "opening_place",
    "key_threshold",
    "opening_policy",
)
CHECKBOXES = ("government_procurement", "state_funded")
DATE_FIELDS = {
    "doc_issue_start": N_(
        "The first day of document issue is not a valid date and time, e.g. 2025-06-03 09:00."
    ),
    "doc_issue_end": N_(
        "The last day of document issue is not a valid date and time, e.g. 2025-06-10 17:00."
    ),
    "question_deadline": N_(
        "The deadline for questions is not a valid date and time, e.g. 2025-06-20 17:00."
    ),
    "bid_deadline": N_("The bid deadline is not a valid date and time, e.g. 2025-06-30 09:30."),
}
MONEY_MESSAGES = {
    "estimated_price": N_("Lot %(n)s: the estimated price is not an amount in yuan, e.g. 1000000.00"),
    "price_ceiling": N_("Lot %(n)s: the price ceiling is not an amount in yuan, e.g. 1200000.00"),
    "bid_security": N_("Lot %(n)s: the bid security is not an amount in yuan, e.g. 20000.00"),
}
_ROW = re.compile(r"^(lots|criteria\.factors)\.(\d+)\.(\w+)$")
MAX_ROWS = 200


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[-1] if value else ""
    return "" if value is None else str(value)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _rows(data: Mapping[str, Any], prefix: str, fields: tuple[str, ...]) -> tuple[list[dict[str, str]], int]:
    """The posted rows in order, empty ones dropped, and how many rows the form showed."""
    found: dict[int, dict[str, str]] = {}
    shown = 0
    for key, value in data.items():
        m = _ROW.match(key)
        if not m or m.group(1) != prefix or m.group(3) not in fields:
            continue
        i = int(m.group(2))
        if i >= MAX_ROWS:
            continue
        shown = max(shown, i + 1)
        found.setdefault(i, {})[m.group(3)] = (
            _text(value).strip() if m.group(3) != "description" else _text(value)
        )
    filled = []
    for i in sorted(found):
        row = {f: found[i].get(f, "") for f in fields}
        if any(row[f].strip() for f in fields if f != "kind"):
            filled.append(row)
    return filled, shown


class FormValues(dict[str, Any]):
    """The tender form's values, already read (see read_form)."""


def read_form(data: Mapping[str, Any]) -> FormValues:
    """Posted values as the form shows them again: strings, lot and factor rows compacted (empty rows
    dropped, so that row i of the form is lot i of the TenderInput and of the service's problems)."""
    if isinstance(data, FormValues):
        return data
    form = FormValues()
    for name in SCALAR_FIELDS:
        form[name] = _text(data.get(name))
    for name in CHECKBOXES:
        form[name] = bool(_text(data.get(name)))
    form["key_holder_ids"] = [v for v in _list(data.get("key_holder_ids")) if v.strip()]
    lots, lots_shown = _rows(data, "lots", LOT_FIELDS)
    factors, factors_shown = _rows(data, "criteria.factors", FACTOR_FIELDS)
    form["lots"], form["factors"] = lots, factors
    form["lot_rows"] = max(MIN_ROWS, lots_shown, len(lots))
    form["factor_rows"] = max(MIN_ROWS, factors_shown, len(factors))
    return form


def blank_form() -> FormValues:
    form = read_form({})
    form.update(
        state_funded=True,
        key_threshold="2",
        opening_policy=rules.OpeningPolicy.quorum,
        evaluation_method="comprehensive",
    )
    return form


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _number(text: str) -> int | float:
    value = float(text.replace(",", ""))
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    return int(value) if value.is_integer() else value


def _plain(value: int | float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _date(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace(" ", "T"))
    if value.tzinfo is not None:
        raise ValueError("the form gives China Standard Time without an offset")
    return value.replace(tzinfo=clock.CST)


# The order the form shows its fields in, for the list of problems at the top of the page.
_ORDER = (
    "title",
    "purchaser_id",
    "category",
    "evaluation_method",
    "lots",
    "criteria.factors",
    "criteria.price.points",
    "criteria.benchmark.e1",
    "criteria.benchmark.e2",
    *DATE_FIELDS,
    "key_holder_ids",
    "key_threshold",
    "opening_policy",
)
_LOT_ORDER = ("estimated_price", "price_ceiling", "bid_security", "name")


def _place(problem: Problem) -> tuple[int, int, int]:
    name = problem.field or ""
    m = _ROW.match(name)
    if m:
        column = _LOT_ORDER.index(m.group(3)) if m.group(3) in _LOT_ORDER else 0
        return _ORDER.index(m.group(1)), int(m.group(2)), column
    return (_ORDER.index(name) if name in _ORDER else len(_ORDER)), 0, 0


def _on_form(problem: Problem) -> Problem:
    # "A tender needs at least one lot" is shown at the first lot's name, where the agency types one.
    return dataclasses.replace(problem, field="lots.0.name") if problem.field == "lots" else problem


def parse_tender_form(data: Mapping[str, Any]) -> tuple[TenderInput, list[Problem]]:
    """Parse the posted tender form. Problems name the field, in the form's order: what could not be read,
    then tender.rules.check_draft on what could (a field that could not be read is not also reported as
    missing). The TenderInput holds what could be read."""
    form = read_form(data)
    problems: list[Problem] = []

    def problem(code: str, message: str, field: str, **params: Any) -> None:
        problems.append(Problem(code=code, message=message, field=field, params=params))

    title = form["title"].strip()
    purchaser_id = int(form["purchaser_id"]) if form["purchaser_id"].strip().isdigit() else None
    category = form["category"].strip()
    method = form["evaluation_method"].strip()

    lots: list[LotInput] = []
    for i, row in enumerate(form["lots"]):
        amounts: dict[str, int | None] = {}
        for name in ("estimated_price", "price_ceiling", "bid_security"):
            amounts[name] = None
            if row[name]:
                try:
                    amounts[name] = money.parse_yuan(row[name])
                except ValueError:
                    problem("amount_invalid", MONEY_MESSAGES[name], f"lots.{i}.{name}", n=i + 1)
        lots.append(
            LotInput(
                row["name"],
                amounts["estimated_price"],
                amounts["price_ceiling"],
                amounts["bid_security"],
                row["description"].strip(),
            )
        )

    criteria: dict[str, Any] = {
        "qualification": _lines(form["criteria.qualification"]),
        "compliance": _lines(form["criteria.compliance"]),
    }
    factors = []
    for i, row in enumerate(form["factors"]):
        points: int | float | None = None
        if row["points"]:
            try:
                points = _number(row["points"])
            except ValueError:
                problem(
                    "points_invalid",
                    N_("Scoring factor %(n)s: the points are not a number, e.g. 10."),
                    f"criteria.factors.{i}.points",
                    n=i + 1,
                )
        kind = row["kind"] if row["kind"] in ("objective", "subjective") else "objective"
        factors.append({"name": row["name"], "points": points, "kind": kind})
    criteria["factors"] = factors
    if form["criteria.price.points"].strip():
        try:
            criteria["price"] = {"points": _number(form["criteria.price.points"])}
        except ValueError:
            problem(
                "price_points_invalid",
                N_("The points for price are not a number, e.g. 60."),
                "criteria.price.points",
            )
    if method == "average_benchmark":
        bench: dict[str, int | float] = {}
        for key in ("e1", "e2"):
            raw = form[f"criteria.benchmark.{key}"].strip()
            if not raw:
                continue
            try:
                bench[key] = _number(raw)
            except ValueError:
                problem(
                    "coefficient_invalid",
                    N_("Deduction coefficient %(name)s is not a number, e.g. 0.5."),
                    f"criteria.benchmark.{key}",
                    name=key.upper(),
                )
        criteria["benchmark"] = bench

    dates: dict[str, datetime | None] = {}
    for name, message in DATE_FIELDS.items():
        dates[name] = None
        if form[name].strip():
            try:
                dates[name] = _date(form[name])
            except ValueError:
                problem("date_invalid", message, name)

    key_holder_ids = []
    for v in form["key_holder_ids"]:
        if v.strip().isdigit():
            key_holder_ids.append(int(v))
        else:
            problem("key_holder_unknown", N_("A key holder is not a known user."), "key_holder_ids")
    threshold = 2
    if form["key_threshold"].strip():
        try:
            threshold = int(form["key_threshold"].strip())
        except ValueError:
            problem(
                "threshold_not_number",
                N_("The number of key holders needed is not a whole number, e.g. 2."),
                "key_threshold",
            )
    policy = form["opening_policy"].strip() or rules.OpeningPolicy.quorum

    data_in = TenderInput(
        title=title,
        purchaser_id=purchaser_id,
        category=category,
        evaluation_method=method,
        lots=lots,
        description=form["description"].strip(),
        government_procurement=form["government_procurement"],
        state_funded=form["state_funded"],
        region=form["region"].strip(),
        criteria=criteria,
        doc_issue_start=dates["doc_issue_start"],
        doc_issue_end=dates["doc_issue_end"],
        question_deadline=dates["question_deadline"],
        bid_deadline=dates["bid_deadline"],
        opening_place=form["opening_place"].strip(),
        key_holder_ids=key_holder_ids,
        key_threshold=threshold,
        opening_policy=policy,
        contact_name=form["contact_name"].strip(),
        contact_phone=form["contact_phone"].strip(),
    )
    unread = {p.field for p in problems}
    problems += [p for p in map(_on_form, rules.check_draft(data_in)) if p.field not in unread]
    return data_in, sorted(problems, key=_place)


def form_of(tender: Tender) -> FormValues:
    """A saved tender as the form shows it (for editing a draft)."""
    criteria = tender.criteria or {}
    data: dict[str, Any] = {
        "title": tender.title,
        "purchaser_id": str(tender.purchaser_id or ""),
        "category": tender.category,
        "region": tender.region,
        "description": tender.description,
        "contact_name": tender.contact_name,
        "contact_phone": tender.contact_phone,
        "evaluation_method": tender.evaluation_method,
        "criteria.qualification": "\n".join(str(q) for q in criteria.get("qualification") or []),
        "criteria.compliance": "\n".join(str(c) for c in criteria.get("compliance") or []),
        "criteria.price.points": _plain((criteria.get("price") or {}).get("points")),
        "criteria.benchmark.e1": _plain((criteria.get("benchmark") or {}).get("e1")),
        "criteria.benchmark.e2": _plain((criteria.get("benchmark") or {}).get("e2")),
        "opening_place": tender.opening_place,
        "key_threshold": str(tender.key_threshold),
        "opening_policy": tender.opening_policy,
        "key_holder_ids": [str(i) for i in tender.key_holder_ids or []],
        "government_procurement": "1" if tender.government_procurement else "",
        "state_funded": "1" if tender.state_funded else "",
    }
    for name in DATE_FIELDS:
        value = getattr(tender, name)
        data[name] = clock.to_cst(value).strftime("%Y-%m-%dT%H:%M") if value else ""
    for i, lot in enumerate(tender.lots):
        data[f"lots.{i}.name"] = lot.name
        data[f"lots.{i}.description"] = lot.description
        for name in ("estimated_price", "price_ceiling", "bid_security"):
            data[f"lots.{i}.{name}"] = money.yuan_plain(getattr(lot, name)) if getattr(lot, name) else ""
    for i, f in enumerate(criteria.get("factors") or []):
        data[f"criteria.factors.{i}.name"] = str(f.get("name", ""))
        data[f"criteria.factors.{i}.points"] = _plain(f.get("points"))
        data[f"criteria.factors.{i}.kind"] = str(f.get("kind", "objective"))
    form = read_form(data)
    form["lot_rows"] = max(form["lot_rows"], len(form["lots"]) + 1)
    return form
