"""tender.rules.check_draft: what a draft needs before it is saved (asked by the form and the service)."""

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from tender.rules import check_draft


@dataclass
class Lot:
    name: str


@dataclass
class Draft:
    title: str = "Furniture for the county school"
    purchaser_id: int | None = 7
    category: str = "goods"
    evaluation_method: str = "comprehensive"
    lots: list[Lot] = field(default_factory=lambda: [Lot("Desks"), Lot("Chairs")])
    criteria: dict[str, Any] = field(default_factory=lambda: {"factors": [{"name": "Tech", "points": 40}]})
    opening_policy: str = "quorum"


def found(draft):
    return [(p.code, p.field, p.params) for p in check_draft(draft)]


def test_a_draft_may_leave_what_publication_needs_for_later():
    # no prices, dates, documents, key holders or 100 points yet: those wait for publication
    assert check_draft(Draft(criteria={})) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": "  "}, ("title_missing", "title", {})),
        ({"purchaser_id": None}, ("purchaser_invalid", "purchaser_id", {})),
        ({"category": "weapons"}, ("category_invalid", "category", {})),
        ({"evaluation_method": "dice"}, ("method_unknown", "evaluation_method", {})),
        ({"lots": []}, ("lots_missing", "lots", {})),
        ({"lots": [Lot("Desks"), Lot(" ")]}, ("lot_name_missing", "lots.1.name", {"number": 2})),
        (
            {"criteria": {"factors": [{"name": "A", "points": 60}, {"name": "B", "points": None}]}},
            ("points_missing", "criteria.factors.1.points", {"n": 2}),
        ),
        ({"opening_policy": "anyone"}, ("policy_invalid", "opening_policy", {})),
    ],
)
def test_each_problem_names_its_field(change, expected):
    assert found(replace(Draft(), **change)) == [expected]


def test_every_problem_at_once_in_the_forms_order():
    draft = Draft(
        title="",
        purchaser_id=None,
        category="",
        evaluation_method="",
        lots=[Lot("")],
        criteria={"factors": [{"name": "", "points": None}]},
        opening_policy="",
    )
    assert [p.code for p in check_draft(draft)] == [
        "title_missing",
        "purchaser_invalid",
        "category_invalid",
        "method_unknown",
        "lot_name_missing",
        "points_missing",
        "policy_invalid",
    ]


def test_messages_are_those_of_publication():
    draft = Draft(title="", lots=[])
    messages = {p.code: p.message for p in check_draft(draft)}
    assert messages == {
        "title_missing": "Give the tender a title.",
        "lots_missing": "A tender needs at least one lot.",
    }
