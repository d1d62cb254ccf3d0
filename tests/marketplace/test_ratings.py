"""The rating rules (rules.md §5.4): 5 : 3 : 2 weights, the 180-day window at its boundary, the stars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from marketplace import ratings as r

ALL5 = dict.fromkeys(r.INDICATORS, 5)


def test_the_weights_are_5_3_2_over_the_raters_present():
    assert (
        r.combined({r.OWNER: Decimal(5), r.AUTHORITY: Decimal(3), r.CENTRE: Decimal(1)}) == Decimal(36) / 10
    )
    assert r.combined({r.OWNER: Decimal(4), r.CENTRE: Decimal(1)}) == Decimal(22) / 7
    assert r.combined({r.AUTHORITY: Decimal(2)}) == 2


def test_overall_is_the_mean_of_the_indicators():
    assert r.overall({**ALL5, "fees": 1}) == Decimal(21) / 5


def test_stars_round_half_up_within_1_to_5():
    assert r.stars([]) is None
    assert r.stars([Decimal("4.5")]) == 5
    assert r.stars([Decimal("4.49")]) == 4
    assert r.stars([Decimal("1"), Decimal("2")]) == 2  # 1.5 rounds up
    assert r.stars([Decimal("0.2")]) == 1


def test_every_indicator_needs_a_score_from_1_to_5():
    assert r.score_problems(ALL5) == []
    assert {p.field for p in r.score_problems({**ALL5, "fees": 0, "quality": None})} == {"fees", "quality"}


def test_the_window_is_180_days_from_acceptance():
    accepted = datetime(2026, 1, 1, tzinfo=UTC)
    assert r.window_problems(accepted, accepted + timedelta(days=180)) == []
    assert (
        r.window_problems(accepted, accepted + timedelta(days=180, seconds=1))[0].code
        == "rating_window_closed"
    )
    assert r.window_problems(None, accepted)[0].code == "not_accepted"
