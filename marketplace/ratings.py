"""Ratings of intermediaries (rules.md §5.4), pure: the indicator classes, the 5 : 3 : 2 weights of the
owner, the supervising authority and the centre (policy weights, Haizhou), the 180-day window after
acceptance (Haizhou), and the stars shown in the directory (1 to 5, 5-star intermediaries first)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from core.errors import N_, Problem

OWNER, AUTHORITY, CENTRE = "owner", "authority", "centre"
# policy: owner : authority : centre = 5 : 3 : 2 (rules.md §5.4)
WEIGHTS = {OWNER: 5, AUTHORITY: 3, CENTRE: 2}
WINDOW = timedelta(days=180)  # Haizhou: the owner rates within 180 days of acceptance

# the indicator classes, each scored 1 to 5
INDICATORS = {
    "quality": N_("Quality of the result"),
    "timeliness": N_("Timeliness"),
    "attitude": N_("Service attitude"),
    "fees": N_("Fees"),
    "conduct": N_("Professional conduct"),
}


def score_problems(scores: Mapping[str, int | None]) -> list[Problem]:
    out = []
    for key in INDICATORS:
        value = scores.get(key)
        if value is None or not 1 <= value <= 5:
            out.append(Problem("score_invalid", N_("Give every indicator a score from 1 to 5."), key))
    return out


def window_problems(accepted_at: datetime | None, now: datetime) -> list[Problem]:
    if accepted_at is None:
        return [
            Problem("not_accepted", N_("A service is rated once its result has been accepted."), rule="§5.4")
        ]
    if now > accepted_at + WINDOW:
        return [
            Problem("rating_window_closed", N_("The 180 days to rate this service have passed."), rule="§5.4")
        ]
    return []


def overall(scores: Mapping[str, int]) -> Decimal:
    """One rater's score: the mean of its indicators."""
    return Decimal(sum(scores[k] for k in INDICATORS)) / len(INDICATORS)


def combined(by_kind: Mapping[str, Decimal]) -> Decimal:
    """A purchase's score from its raters' scores, weighted 5 : 3 : 2 over the raters that rated (a missing
    rater's weight is left out, not counted as zero)."""
    weight = sum(WEIGHTS[k] for k in by_kind)
    if not weight:
        raise ValueError("no rating")
    return sum((WEIGHTS[k] * v for k, v in by_kind.items()), Decimal(0)) / weight


def combined_of_sums(weighted: int, weight: int) -> Decimal:
    """combined() from two integer sums over a purchase's raters: `weighted`, Σ weight × the sum of the
    rater's indicator scores, and `weight`, Σ weight of the raters that rated. The same value as combined()
    of their overall() scores: each overall score is exact (a sum of integers over 5), so combined() is one
    rounded division of the same number, Σ weight × sum / (5 × Σ weight). What the bulk recomputation
    (marketplace.credit.all_scores) adds up in the database."""
    if not weight:
        raise ValueError("no rating")
    return Decimal(weighted) / (weight * len(INDICATORS))


def stars(purchase_scores: Iterable[Decimal]) -> int | None:
    """An intermediary's stars: the mean of its purchases' combined scores, rounded half up, from 1 to 5;
    None without any rating."""
    values = list(purchase_scores)
    if not values:
        return None
    mean = sum(values, Decimal(0)) / len(values)
    return max(1, min(5, int(mean.quantize(Decimal(1), ROUND_HALF_UP))))
