"""A purchase's excluded intermediaries (issue 15: "any excluded intermediaries with their reasons"): each
named by its unified social credit code with a reason, published with the purchase, kept from signing up
and from its list of open purchases; a short list only (rules.md §5.1: no designation by elimination)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core.errors import ValidationFailed
from marketplace import purchases, rules
from tests.factories.marketplace import approved, market_world, purchase_input


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    w = market_world(db, make)
    w.firms = [approved(db, make, w.admin, f"检测公司{i}") for i in range(4)]
    return w


def test_the_text_form_is_one_code_and_reason_a_line():
    got, problems = rules.parse_exclusions(" 91130200ma0abc | 承担了本项目的设计 \n\n没有竖线的一行\n")
    assert got == (("91130200MA0ABC", "承担了本项目的设计"),)
    assert [p.code for p in problems] == ["excluded_format"]


def test_each_exclusion_needs_an_intermediary_and_a_reason_and_the_list_is_short():
    known = {"A1", "B2"}
    assert rules.exclusion_problems([("A1", "设计单位")], known) == []
    codes = [p.code for p in rules.exclusion_problems([("A1", " "), ("ZZ", "x"), ("B2", "长" * 301)], known)]
    assert codes == ["excluded_reason_missing", "excluded_unknown", "excluded_reason_long"]
    many = [("A1", "x")] * (rules.MAX_EXCLUDED + 1)
    assert "excluded_too_many" in [p.code for p in rules.exclusion_problems(many, known)]
    assert "excluded_too_many" not in [p.code for p in rules.exclusion_problems(many[:-1], known)]


def test_an_excluded_intermediary_cannot_sign_up_and_does_not_see_the_purchase(w, db):
    (out_org, out), (_, ok) = w.firms[0], w.firms[1]
    p = purchases.post(
        db, w.owner, purchase_input("random", excluded=((out_org.credit_code, "承担了本项目的设计"),))
    )
    assert p.excluded == [
        {
            "organisation_id": out_org.id,
            "name": out_org.name,
            "credit_code": out_org.credit_code,
            "reason": "承担了本项目的设计",
        }
    ]
    assert p.id not in [x.id for x in purchases.open_for(db, out)]
    assert p.id in [x.id for x in purchases.open_for(db, ok)]
    with pytest.raises(ValidationFailed) as e:
        purchases.sign_up(db, out, p.id, None)
    problem = e.value.problems[0]
    assert problem.code == "intermediary_excluded" and problem.params == {"reason": "承担了本项目的设计"}
    purchases.sign_up(db, ok, p.id, None)
    posted = db.scalars(select(AuditEntry).where(AuditEntry.tag == "marketplace.purchase.posted")).all()[-1]
    assert posted.details["excluded"] == p.excluded  # published with the purchase, in the log too


def test_an_unknown_code_or_a_directly_chosen_excluded_firm_is_refused(w, db):
    org = w.firms[0][0]
    with pytest.raises(ValidationFailed) as e:
        purchases.post(db, w.owner, purchase_input("random", excluded=(("91000000000000000X", "理由"),)))
    assert [p.code for p in e.value.problems] == ["excluded_unknown"]
    with pytest.raises(ValidationFailed) as e:
        purchases.post(
            db,
            w.owner,
            purchase_input(
                "direct", 1_000_000, chosen_org_id=org.id, excluded=((org.credit_code, "关联关系"),)
            ),
        )
    assert "chosen_excluded" in [p.code for p in e.value.problems]
