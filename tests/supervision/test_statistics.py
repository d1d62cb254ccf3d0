"""The centre's trading statistics: awards in a Beijing-time period, the award that stands counted once,
savings and their rate, published, failed and cancelled procedures."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from award.models import AwardStatus
from core.clock import CST
from supervision import statistics
from tests.factories.accounts import cast
from tests.factories.statistics import awarded


@pytest.fixture
def world(db, make):  # type: ignore[no-untyped-def]
    return cast(db, make)


def test_a_period_counts_the_awards_made_in_it_by_beijing_time(db, world, blobs):
    # 2026-03-31 23:30 in Beijing is 15:30 UTC: inside March, however UTC dates it
    awarded(
        world, blobs, amount=900_000_00, estimate=1_000_000_00, at=datetime(2026, 3, 31, 23, 30, tzinfo=CST)
    )
    awarded(
        world,
        blobs,
        amount=480_000_00,
        estimate=500_000_00,
        at=datetime(2026, 4, 1, 0, 0, tzinfo=CST),
        category="works",
        government_procurement=False,
    )
    db.flush()
    march = statistics.report(db, date(2026, 3, 1), date(2026, 3, 31))
    assert (march.total.projects, march.total.amount, march.total.savings) == (1, 900_000_00, 100_000_00)
    assert march.total.savings_rate == Decimal("10.00")
    assert march.by_category["goods"].projects == 1 and march.by_category["works"].projects == 0
    assert march.government_procurement.projects == 1 and march.construction.projects == 0
    april = statistics.report(db, date(2026, 4, 1), date(2026, 4, 30))
    assert (april.total.projects, april.by_category["works"].amount) == (1, 480_000_00)
    assert april.construction.savings == 20_000_00 and april.total.savings_rate == Decimal("4.00")
    both = statistics.report(db, date(2026, 3, 1), date(2026, 4, 30))
    assert both.total.projects == 2 and both.total.estimate == 1_500_000_00
    assert both.total.savings_rate == Decimal("8.00")  # 120,000 of 1,500,000


def test_a_declined_award_is_left_out_and_an_award_above_its_estimate_saves_a_negative_amount(
    db, world, blobs
):
    at = datetime(2026, 5, 10, 10, 0, tzinfo=CST)
    awarded(world, blobs, amount=100_00, estimate=1_000_00, at=at, status=AwardStatus.declined)
    awarded(world, blobs, amount=1_050_00, estimate=1_000_00, at=at)
    db.flush()
    out = statistics.report(db, date(2026, 5, 1), date(2026, 5, 31))
    assert out.total.projects == 1
    assert out.total.savings == -50_00 and out.total.savings_rate == Decimal("-5.00")


def test_an_empty_period_has_no_rate_and_a_reversed_period_is_refused(db, world):
    out = statistics.report(db, date(2020, 1, 1), date(2020, 12, 31))
    assert out.total.projects == 0 and out.total.savings_rate is None and out.published == 0
    with pytest.raises(ValueError):
        statistics.report(db, date(2026, 2, 1), date(2026, 1, 31))


def test_published_failed_and_cancelled_are_counted_by_publication_date(db, world, blobs):
    first = awarded(world, blobs, amount=1, estimate=2, at=datetime(2026, 6, 1, tzinfo=CST))
    second = awarded(world, blobs, amount=1, estimate=2, at=datetime(2026, 6, 1, tzinfo=CST))
    second.status = "failed"
    db.flush()
    day = first.published_at.astimezone(CST).date()
    out = statistics.report(db, day, day)
    assert (out.published, out.failed, out.cancelled) == (2, 1, 0)


def test_an_award_counts_only_once_the_public_may_see_it(db, world, blobs):
    at = datetime(2026, 7, 1, 10, 0, tzinfo=CST)
    tender = awarded(world, blobs, amount=1_000_00, estimate=2_000_00, at=at)
    tender.status = "publicity"  # not final yet: the award is not public (core.disclosure, Fact.award)
    db.flush()
    assert statistics.report(db, date(2026, 7, 1), date(2026, 7, 31)).total.projects == 0
    tender.status = "awarded"
    db.flush()
    assert statistics.report(db, date(2026, 7, 1), date(2026, 7, 31)).total.projects == 1
