"""Contract, acceptance and ratings (rules.md §5.4): the contract entered by one side and confirmed by the
other, acceptance by the owner only, ratings by the owner, authority and centre once each within 180 days of
acceptance, combined 5 : 3 : 2 into stars, 5-star intermediaries first in the directory."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from marketplace import aftercare
from tests.factories.marketplace import RESULT, selected_world, stored

ALL = {"quality": 5, "timeliness": 5, "attitude": 5, "fees": 5, "conduct": 5}


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    w = selected_world(db, make)
    return w


def accept(w, db) -> None:  # type: ignore[no-untyped-def]
    aftercare.enter_contract(db, w.chosen, w.p.id, "HT-2026-001", 900_000, stored(w.blobs))
    aftercare.confirm_contract(db, w.owner, w.p.id)
    aftercare.upload_result(db, w.chosen, w.p.id, stored(w.blobs, "检测报告.pdf", RESULT))
    aftercare.record_acceptance(db, w.owner, w.p.id, True, "")


def test_the_contract_is_entered_by_one_side_and_confirmed_by_the_other(w, db):
    with pytest.raises(Forbidden):
        aftercare.enter_contract(db, w.other, w.p.id, "HT-1", 1000, stored(w.blobs))
    with pytest.raises(ValidationFailed) as e:
        aftercare.enter_contract(db, w.chosen, w.p.id, "", 2_000_000, None)
    assert {p.code for p in e.value.problems} == {
        "contract_number_missing",
        "contract_above_ceiling",
        "contract_file_missing",
    }
    aftercare.enter_contract(db, w.chosen, w.p.id, "HT-1", 900_000, stored(w.blobs))
    with pytest.raises(Conflict):
        aftercare.confirm_contract(db, w.chosen, w.p.id)  # its own entry
    with pytest.raises(Conflict):
        aftercare.record_acceptance(db, w.owner, w.p.id, True, "")  # not confirmed yet
    aftercare.confirm_contract(db, w.owner, w.p.id)
    with pytest.raises(Forbidden):
        aftercare.record_acceptance(db, w.chosen, w.p.id, True, "")
    with pytest.raises(Conflict) as c:
        aftercare.record_acceptance(db, w.owner, w.p.id, True, "")  # no service result uploaded yet
    assert c.value.problems[0].code == "result_missing"
    aftercare.upload_result(db, w.chosen, w.p.id, stored(w.blobs, "检测报告.pdf", RESULT))
    with pytest.raises(ValidationFailed):
        aftercare.record_acceptance(db, w.owner, w.p.id, False, " ")
    assert aftercare.record_acceptance(db, w.owner, w.p.id, True, "").acceptance == "accepted"


def test_ratings_once_per_side_within_180_days_weighted_into_stars(w, db):
    with pytest.raises(ValidationFailed):
        aftercare.rate(db, w.owner, w.p.id, ALL, "")  # not accepted yet
    accept(w, db)
    with pytest.raises(Forbidden):
        aftercare.rate(db, w.chosen, w.p.id, ALL, "")
    with pytest.raises(ValidationFailed):
        aftercare.rate(db, w.owner, w.p.id, {**ALL, "fees": 6}, "")
    aftercare.rate(db, w.owner, w.p.id, ALL, "按时完成")
    with pytest.raises(Conflict):
        aftercare.rate(db, w.owner, w.p.id, ALL, "")
    aftercare.rate(db, w.monitor, w.p.id, dict.fromkeys(ALL, 1), "")
    aftercare.rate(db, w.admin, w.p.id, dict.fromkeys(ALL, 1), "")
    # (5 x 5 + 3 x 1 + 2 x 1) / 10 = 3.0 -> 3 stars, 3 ratings
    assert aftercare.standing(db)[w.p.chosen_org_id] == (3, 3)
    rows = aftercare.ranked_directory(db)
    assert rows[0][0].organisation.id == w.p.chosen_org_id and rows[0][1:] == (3, 3)


def test_the_window_closes_after_180_days(w, db):
    accept(w, db)
    clock.shift(timedelta(days=180, seconds=1))
    with pytest.raises(ValidationFailed) as e:
        aftercare.rate(db, w.owner, w.p.id, ALL, "")
    assert e.value.problems[0].code == "rating_window_closed"
