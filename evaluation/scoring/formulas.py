"""The evaluation's arithmetic as pure functions (issue 13): price scores, arithmetic corrections, the
abnormally low price flag, the summary of the members' sheets, the four checks before signing, the ranking
with its verifiable tie lottery, the committee's majority and the canonical digest of a score sheet.

No database, no clock, no randomness of its own (the tie lottery's seed comes from core.fairdraw). Arithmetic
is exact: prices are integers in fen, scores are decimals with at most two places, everything in between is a
fractions.Fraction; a figure is rounded only where it is shown, to two decimals, half away from zero
(ROUND_HALF_UP), by `round2`. docs/evaluation.md states every formula precisely enough to recompute a
published report; docs/evaluation-vectors.json holds test vectors.

Legal sources (rules.md §3, §4): G87 art. 55 (low-price base, independence), 57 (ties: lower price), 61
(majority on matters decided together), 64 and O 5 (the four checks), P19 (arithmetic corrections), P21, R51,
O 13 (abnormally low price), P30-33 (lowest evaluated price), R53 and P45 (1 to 3 candidates), L42 and P27
(failed tender); the average benchmark is local practice for works (rules.md §4.3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from hashlib import sha256
from typing import Any, Protocol, cast

from core import fairdraw

# ---------------------------------------------------------------- constants (policy values say so)

# rules.md §4.3: the benchmark drops the highest and the lowest price "when there are more than 3" valid
# prices: with 4 or more, one highest and one lowest are dropped; with exactly 3 (or fewer) none is.
TRIM_ABOVE = 3
# Policy (P21, R51, O 13 name no figure): a price below 80 % of the mean of the OTHER valid prices is flagged
# as abnormally low; exactly 80 % is not. Checked only with at least 3 valid prices (with 2, "the others" is a
# single price, no yardstick).
ABNORMALLY_LOW_PERCENT = 80
ABNORMALLY_LOW_MIN_PRICES = 3
# Policy (G87 art. 64 (4) names no figure): a member's score on a subjective factor is abnormally high or low
# when it differs from the mean of the OTHER members' scores on that factor and bid by MORE than 30 % of the
# factor's points; exactly 30 % is not flagged. Checked only with at least 3 members.
OUTLIER_PERCENT = 30
OUTLIER_MIN_MEMBERS = 3
# Policy: scores are entered with at most 2 decimals (the sheet digest writes them with exactly 2).
SCORE_DECIMALS = 2
# exact() reads decimals from 10**-100 to 10**100 in magnitude: a typed "1e999999999" is refused, not computed
MAX_MAGNITUDE = 100
# R53, P45: the report recommends 1 to 3 ranked candidates.
MIN_CANDIDATES, MAX_CANDIDATES = 1, 3
# L42, P27: fewer than 3 valid bids left after review: the committee may reject all.
MIN_VALID_BIDS = 3
# The tie lottery's protocol name (docs/evaluation.md §8).
TIE_PROTOCOL = "etender-tie-1"
# P19 (and G87 art. 59): the amount in words wins over the figures; the unit price wins over the total.
CORRECTION_GROUNDS = ("words_over_figures", "unit_price_over_total")

# entry errors (check_entry) and flag kinds (checks)
ENTRY_ERRORS = (
    "score_not_number",
    "score_not_finite",
    "score_decimals",
    "score_negative",
    "score_above_points",
)
SCORE_MISSING = "score_missing"
FLAG_SUM, FLAG_RANGE, FLAG_OBJECTIVE, FLAG_HIGH, FLAG_LOW = "sum", "range", "objective", "high", "low"
# which rule decided a bid's place in the ranking
BY_SCORE, BY_PRICE, BY_LOTTERY = "score", "price", "lottery"
# why a tender fails at evaluation (failed)
FAILED_ALL_REJECTED, FAILED_TOO_FEW = "all_rejected", "too_few_valid"

Number = int | float | Decimal | Fraction | str
HUNDRED = Fraction(100)


# ---------------------------------------------------------------- exact numbers and the one rounding


def exact(value: Any) -> Fraction:
    """A number as an exact fraction. A float is read by its shortest decimal form (repr: 0.1 is 1/10, not the
    binary 0.1000000000000000055...), a string as a decimal. Raises ValueError for a bool, a non-number, an
    infinity, a NaN, or a decimal whose magnitude is beyond 10**±MAX_MAGNITUDE (so that a typed "1e999999999"
    cannot make the platform compute a billion-digit integer)."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return Fraction(repr(value))
    if isinstance(value, Decimal | str):
        try:
            d = Decimal(value.strip()) if isinstance(value, str) else value
        except InvalidOperation as e:
            raise ValueError(f"not a number: {value!r}") from e
        if not d.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        if d and not -MAX_MAGNITUDE <= d.adjusted() <= MAX_MAGNITUDE:
            raise ValueError(f"out of range: {value!r}")
        return Fraction(d)
    raise ValueError(f"not a number: {value!r}")


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded to an integer, halves away from zero."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return -q if numerator < 0 else q


def round2(value: Fraction | int) -> Decimal:
    """The one rounding: to 2 decimals, halves away from zero (Decimal's ROUND_HALF_UP), computed exactly
    (no binary or decimal intermediate): 2.345 -> 2.35, -2.345 -> -2.35, 1/3 -> 0.33, 2/3 -> 0.67."""
    v = Fraction(value)
    return Decimal(_half_up(v.numerator * 100, v.denominator)).scaleb(-2)


def _hundredths(value: Any) -> int | None:
    """A score in hundredths when it is a finite number with at most 2 decimals, else None (the fast path of
    check_entry: the summary converts 108,000 scores)."""
    t = type(value)
    if t is int:
        return int(value) * 100
    if t is float:
        if not -1e12 < value < 1e12:  # NaN, an infinity, or too large to scale exactly
            return None
        h = round(value * 100)
        # value is the 2-decimal number h/100 exactly when h/100 reads back as value: both are then the double
        # nearest to that decimal, whose shortest form (exact() reads a float by it) is that decimal, as a
        # decimal of at most 14 significant digits is recovered from its nearest double
        return h if h / 100 == value else None
    if t is Decimal:
        return _decimal_hundredths(value)
    try:
        f = exact(value)
    except ValueError:
        return None
    f *= 100
    return f.numerator if f.denominator == 1 else None


def _decimal_hundredths(value: Decimal) -> int | None:
    """_hundredths of a Decimal (a Numeric column's score) through its integer ratio, computed only for a
    magnitude from 10**-2 to below 10**12 (0 aside), so that neither a typed "1e999999999" nor "1e-999999999"
    builds a huge integer; NaN and the infinities have no ratio."""
    try:
        a = value.adjusted()
        if a >= 12:
            return None
        if a < -2:
            return 0 if not value else None  # below 0.01 and not 0: a third decimal at least
        n, d = value.as_integer_ratio()
    except (ValueError, OverflowError):
        return None
    n *= 100
    return n // d if n % d == 0 else None


# ---------------------------------------------------------------- price scores


@dataclass(frozen=True)
class PriceScore:
    bid_id: int
    price_fen: int
    exact: Fraction  # the score before rounding; totals add this, not `score`
    score: Decimal  # round2(exact), as shown


@dataclass(frozen=True)
class LowPriceBase:
    """Comprehensive scoring's price scores (G87 art. 55)."""

    base_fen: int  # the lowest valid price
    points: Fraction
    scores: dict[int, PriceScore]


@dataclass(frozen=True)
class Deviation:
    bid_id: int
    price_fen: int
    exact: Fraction  # (price - benchmark) / benchmark × 100, in percent
    percent: Decimal  # round2(exact), as shown
    deduction: Fraction  # E1 × percent above, E2 × |percent| below (before the floor at 0)


@dataclass(frozen=True)
class Benchmark:
    """The average benchmark's workings (rules.md §4.3)."""

    benchmark_exact: Fraction  # fen
    benchmark_fen: Decimal  # round2(benchmark_exact), as shown
    counted_ids: tuple[int, ...]  # the prices the mean is over, ascending by (price, id)
    trimmed_low: int | None  # the bid whose (lowest) price was dropped; None: nothing dropped
    trimmed_high: int | None
    points: Fraction
    e1: Fraction
    e2: Fraction
    deviations: dict[int, Deviation]
    scores: dict[int, PriceScore]


def _check_prices(prices: Mapping[int, int]) -> list[tuple[int, int]]:
    if not prices:
        raise ValueError("no valid prices")
    for bid_id, price in prices.items():
        if type(bid_id) is not int or not 0 <= bid_id <= fairdraw.MAX_ID:
            raise ValueError(f"a bid id is an integer from 0 to 2**64-1, got {bid_id!r}")
        if type(price) is not int or price <= 0:
            raise ValueError(f"bid {bid_id}: a price is a whole number of fen above zero, got {price!r}")
    return sorted(prices.items(), key=lambda kv: (kv[1], kv[0]))


def _points(value: Any, what: str = "price points") -> Fraction:
    v = exact(value)
    if v <= 0:
        raise ValueError(f"{what} must be above zero, got {value!r}")
    return v


def low_price_base(prices: Mapping[int, int], price_points: Number) -> LowPriceBase:
    """G87 art. 55: base = the lowest valid price; score = base / price × price points (the highest and lowest
    prices are not dropped). `prices`: the valid bids' (corrected) prices in fen, by bid id."""
    ordered = _check_prices(prices)
    points = _points(price_points)
    base = ordered[0][1]
    scores = {}
    for bid_id, price in ordered:
        s = Fraction(base, price) * points
        scores[bid_id] = PriceScore(bid_id, price, s, round2(s))
    return LowPriceBase(base, points, scores)


def average_benchmark(prices: Mapping[int, int], price_points: Number, e1: Number, e2: Number) -> Benchmark:
    """rules.md §4.3 (local practice for works): benchmark = mean of the valid prices, after dropping one
    highest and one lowest when there are more than TRIM_ABOVE (3) of them; among equal prices the bid with
    the smaller id is the one dropped as lowest and the one with the larger id as highest (the mean is the
    same either way). deviation = (price - benchmark) / benchmark × 100 (%); score = points - E1 × deviation
    above the benchmark, points - E2 × |deviation| below it, never below 0. E1 and E2 (points per 1 %) come
    from the tender documents."""
    ordered = _check_prices(prices)
    points = _points(price_points)
    c1, c2 = _points(e1, "E1"), _points(e2, "E2")
    low = high = None
    counted = ordered
    if len(ordered) > TRIM_ABOVE:
        low, high = ordered[0][0], ordered[-1][0]
        counted = ordered[1:-1]
    bench = Fraction(sum(p for _, p in counted), len(counted))
    deviations, scores = {}, {}
    for bid_id, price in ordered:
        pct = (price - bench) / bench * HUNDRED
        deduction = c1 * pct if pct > 0 else c2 * -pct
        deviations[bid_id] = Deviation(bid_id, price, pct, round2(pct), deduction)
        s = max(points - deduction, Fraction(0))
        scores[bid_id] = PriceScore(bid_id, price, s, round2(s))
    return Benchmark(
        bench, round2(bench), tuple(b for b, _ in counted), low, high, points, c1, c2, deviations, scores
    )


class PriceCriteria(Protocol):
    """tender.notices.Criteria, or anything with its price fields."""

    @property
    def price_points(self) -> float | None: ...
    @property
    def e1(self) -> float | None: ...
    @property
    def e2(self) -> float | None: ...


def price_scores(method: str, prices: Mapping[int, int], criteria: PriceCriteria) -> dict[int, PriceScore]:
    """The price scores of a score method (comprehensive: low_price_base; average_benchmark:
    average_benchmark), by bid id, for summary(). The lowest evaluated price method scores nothing
    (evaluated_prices, rank_by_price): ValueError, like an unknown method or criteria without the points, E1
    or E2 it needs."""
    if criteria.price_points is None:
        raise ValueError("the criteria give no price points")
    if method == "comprehensive":
        return low_price_base(prices, criteria.price_points).scores
    if method == "average_benchmark":
        if criteria.e1 is None or criteria.e2 is None:
            raise ValueError("the average benchmark needs E1 and E2")
        return average_benchmark(prices, criteria.price_points, criteria.e1, criteria.e2).scores
    raise ValueError(f"{method!r} has no price score")


@dataclass(frozen=True)
class Adjustment:
    """A price adjustment the tender documents allow (P30-33), in fen (negative lowers the price)."""

    bid_id: int
    amount_fen: int
    reason: str


@dataclass(frozen=True)
class PriceRow:
    bid_id: int
    price_fen: int
    adjustments: tuple[Adjustment, ...]
    evaluated_fen: int  # price + the adjustments


def _as_adjustment(a: Adjustment | tuple[int, int, str]) -> Adjustment:
    if isinstance(a, Adjustment):
        return a
    try:
        return Adjustment(*a)
    except TypeError as e:
        raise ValueError(f"an adjustment is (bid id, amount in fen, reason), got {a!r}") from e


def evaluated_prices(
    prices: Mapping[int, int], adjustments: Iterable[Adjustment | tuple[int, int, str]] = ()
) -> list[PriceRow]:
    """The lowest evaluated price method's comparison table (P30-33): each valid bid's price plus the
    adjustments the tender documents allow, ordered by evaluated price ascending, then bid id (the ranking,
    rank_by_price, breaks equal evaluated prices by lottery). An adjustment for a bid not in `prices`, one
    without a reason, or an evaluated price of 0 or less is refused (ValueError)."""
    ordered = _check_prices(prices)
    by_bid: dict[int, list[Adjustment]] = {b: [] for b, _ in ordered}
    for raw in adjustments:
        a = _as_adjustment(raw)
        if a.bid_id not in by_bid:
            raise ValueError(f"adjustment for bid {a.bid_id}, which is not a valid bid")
        if type(a.amount_fen) is not int:
            raise ValueError(f"bid {a.bid_id}: an adjustment is a whole number of fen, got {a.amount_fen!r}")
        if not str(a.reason).strip():
            raise ValueError(f"bid {a.bid_id}: an adjustment needs its reason")
        by_bid[a.bid_id].append(a)
    rows = []
    for bid_id, price in ordered:
        evaluated = price + sum(a.amount_fen for a in by_bid[bid_id])
        if evaluated <= 0:
            raise ValueError(f"bid {bid_id}: the evaluated price must stay above zero, got {evaluated}")
        rows.append(PriceRow(bid_id, price, tuple(by_bid[bid_id]), evaluated))
    rows.sort(key=lambda r: (r.evaluated_fen, r.bid_id))
    return rows


@dataclass(frozen=True)
class Correction:
    """An arithmetic correction the committee records (P19): the bid's corrected price and why."""

    bid_id: int
    price_fen: int
    reason: str


@dataclass(frozen=True)
class Change:
    bid_id: int
    old_fen: int
    new_fen: int
    reason: str


@dataclass(frozen=True)
class Corrected:
    prices: dict[int, int]  # every price, corrected where a correction applies
    changes: list[Change]  # the corrections that changed a price, by bid id


def apply_corrections(
    prices: Mapping[int, int], corrections: Iterable[Correction | tuple[int, int, str]]
) -> Corrected:
    """P19: the amount in words wins over the figures, the unit price over the total (G87 art. 59 likewise).
    The committee records each correction with its reason (CORRECTION_GROUNDS are the usual ones; the reason
    is the committee's text). A correction of a bid not in `prices`, a second one for the same bid, a price
    that is not a whole number of fen above 0 or a blank reason is refused (ValueError). A correction to the
    same price is kept out of `changes` (nothing changed)."""
    _check_prices(prices)
    out = dict(prices)
    seen: set[int] = set()
    changes = []
    for raw in corrections:
        try:
            c = raw if isinstance(raw, Correction) else Correction(*raw)
        except TypeError as e:
            raise ValueError(f"a correction is (bid id, price in fen, reason), got {raw!r}") from e
        if c.bid_id not in out:
            raise ValueError(f"correction for bid {c.bid_id}, which has no price")
        if c.bid_id in seen:
            raise ValueError(f"bid {c.bid_id} has two corrections; record one corrected price")
        seen.add(c.bid_id)
        if type(c.price_fen) is not int or c.price_fen <= 0:
            raise ValueError(f"bid {c.bid_id}: a corrected price is a whole number of fen above zero")
        if not str(c.reason).strip():
            raise ValueError(f"bid {c.bid_id}: a correction needs its reason")
        if c.price_fen != out[c.bid_id]:
            changes.append(Change(c.bid_id, out[c.bid_id], c.price_fen, c.reason))
            out[c.bid_id] = c.price_fen
    changes.sort(key=lambda ch: ch.bid_id)
    return Corrected(out, changes)


# ---------------------------------------------------------------- abnormally low price


@dataclass(frozen=True)
class LowPrice:
    bid_id: int
    price_fen: int
    others_mean_exact: Fraction  # mean of the other valid prices, fen
    others_mean_fen: Decimal  # round2, as shown
    threshold_fen: Decimal  # round2(ABNORMALLY_LOW_PERCENT % of the others' mean)
    percent: Decimal  # round2(price / others' mean × 100)


def abnormally_low(prices: Mapping[int, int]) -> list[LowPrice]:
    """P21, R51, O 13: a valid price below ABNORMALLY_LOW_PERCENT (80) % of the mean of the OTHER valid
    prices is flagged (the bid may not be rejected before its written explanation has been asked for);
    exactly 80 % is not. `prices`: the corrected prices of the bids that passed the compliance review
    (G87 art. 60: 其他通过符合性审查投标人的报价). With fewer than ABNORMALLY_LOW_MIN_PRICES (3)
    valid prices nothing is flagged. By bid id."""
    ordered = _check_prices(prices)
    n = len(ordered)
    if n < ABNORMALLY_LOW_MIN_PRICES:
        return []
    total = sum(p for _, p in ordered)
    out = []
    for bid_id, price in sorted(ordered):
        mean = Fraction(total - price, n - 1)
        if price * 100 < ABNORMALLY_LOW_PERCENT * mean:
            out.append(
                LowPrice(
                    bid_id,
                    price,
                    mean,
                    round2(mean),
                    round2(mean * ABNORMALLY_LOW_PERCENT / 100),
                    round2(price / mean * HUNDRED),
                )
            )
    return out


# ---------------------------------------------------------------- the members' sheets


class FactorLike(Protocol):
    """tender.notices.Factor, or anything with its three fields."""

    @property
    def name(self) -> str: ...
    @property
    def points(self) -> float: ...
    @property
    def kind(self) -> str: ...


Sheets = Mapping[str, Mapping[int, Mapping[str, Any]]]  # member key -> bid id -> factor name -> score


def check_entry(points: Number, value: Any) -> str | None:
    """Why a score typed for a factor worth `points` is refused (an ENTRY_ERRORS key), or None when it is
    accepted: a finite number with at most 2 decimals from 0 to the factor's points inclusive (G87 art. 64
    (2): a score outside the factor's range). A string is read as a decimal ("7.5"); a bool is not a
    number."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction | str):
        return "score_not_number"
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            return "score_not_number"
    if (
        isinstance(value, float)
        and not math.isfinite(value)
        or isinstance(value, Decimal)
        and not value.is_finite()
    ):
        return "score_not_finite"
    if isinstance(value, Decimal) and value:
        # decide on a decimal's form before computing with it (exact() refuses a magnitude beyond 10**±100)
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # finite
        zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        if exponent + zeros < -SCORE_DECIMALS:
            return "score_decimals"
        if value.adjusted() > MAX_MAGNITUDE:
            return "score_negative" if sign else "score_above_points"
    v = exact(value)
    if (v * 10**SCORE_DECIMALS).denominator != 1:
        return "score_decimals"
    if v < 0:
        return "score_negative"
    if v > exact(points):
        return "score_above_points"
    return None


@dataclass
class Table:
    """Sheets read once: each score in hundredths (None where it is missing or not a finite number with at
    most 2 decimals), per bid both ways round: each member's row over the factors and each factor's column
    over the members. Built by `table`; `summary` and the checks take it or the raw sheets."""

    members: tuple[str, ...]  # in the sheets' order
    bids: tuple[int, ...]  # ascending
    factors: tuple[FactorLike, ...]
    rows: dict[int, list[list[int | None]]]  # bid -> [member][factor]
    cols: dict[int, list[tuple[int | None, ...]]]  # bid -> [factor][member]
    raw: Sheets
    limits: list[int]  # each factor's points in hundredths, rounded down

    @property
    def complete(self) -> bool:
        return all(None not in col for cols in self.cols.values() for col in cols)


_MISSING = object()


def _read_row(row: Mapping[str, Any], names: Sequence[str]) -> list[int | None]:
    """_hundredths of each factor's score in a member's row, with the common types inline (108,000 scores)."""
    out: list[int | None] = []
    for n in names:
        v = row.get(n, _MISSING)
        t = type(v)
        if t is float:
            if -1e12 < v < 1e12:  # finite and small enough to scale exactly (NaN compares false)
                h = round(v * 100)
                out.append(h if h / 100 == v else None)
            else:
                out.append(None)
        elif t is Decimal:
            # _decimal_hundredths inline (a Numeric column's 108,000 scores: the call was half the time)
            try:
                a = v.adjusted()
                if -3 < a < 12:
                    num, den = v.as_integer_ratio()
                    num *= 100
                    out.append(num // den if num % den == 0 else None)
                else:
                    out.append(0 if a < 12 and not v else None)
            except (ValueError, OverflowError):
                out.append(None)
        elif t is int:
            out.append(v * 100)
        elif v is _MISSING:
            out.append(None)
        else:
            out.append(_hundredths(v))
    return out


def table(sheets: Sheets | Table, factors: Sequence[FactorLike], bids: Iterable[int] | None = None) -> Table:
    """Read the sheets of the valid, non-void members who submitted (member key -> bid id -> factor name ->
    score) for the valid bids (`bids`; default: every bid any sheet holds). Factor names are unique."""
    if isinstance(sheets, Table):
        return sheets
    names = [f.name for f in factors]
    if len(set(names)) != len(names):
        raise ValueError("factor names must be unique")
    limits = [math.floor(_points(f.points, f"factor {f.name!r}'s points") * 100) for f in factors]
    members = tuple(sheets)
    bid_ids = tuple(sorted(set(bids) if bids is not None else {b for s in sheets.values() for b in s}))
    empty: Mapping[str, Any] = {}
    rows: dict[int, list[list[int | None]]] = {}
    cols: dict[int, list[tuple[int | None, ...]]] = {}
    for bid_id in bid_ids:
        by_member = [_read_row(sheets[m].get(bid_id, empty), names) for m in members]
        rows[bid_id] = by_member
        cols[bid_id] = list(zip(*by_member, strict=True)) if members else [() for _ in names]
    return Table(members, bid_ids, tuple(factors), rows, cols, sheets, limits)


def _known(values: Sequence[int | None]) -> Sequence[int] | None:
    """The values when none is None, else None (typed for the checker)."""
    return None if None in values else cast("Sequence[int]", values)


@dataclass(frozen=True)
class BidSummary:
    bid_id: int
    member_sums: dict[str, Decimal]  # each member's factor sum (the platform's sum), exact: 2 decimals
    factor_means: dict[str, Decimal]  # round2 of each factor's mean over the members
    price_score: Decimal  # round2
    total_exact: Fraction  # price score + Σ factor means, exact
    total: Decimal  # round2(total_exact): what the ranking compares


@dataclass(frozen=True)
class Summary:
    members: tuple[str, ...]
    factors: tuple[str, ...]
    bids: dict[int, BidSummary]

    def totals(self) -> dict[int, Decimal]:
        return {b: s.total for b, s in self.bids.items()}


def _price_exact(value: PriceScore | Number) -> Fraction:
    return value.exact if isinstance(value, PriceScore) else exact(value)


def _d(h: int) -> Decimal:
    return Decimal(h).scaleb(-2)


def summary(
    sheets: Sheets | Table,
    factors: Sequence[FactorLike],
    price_scores: Mapping[int, PriceScore | Number],
) -> Summary:
    """G87 art. 55, 62: each member scores alone; the platform sums each member's sheet per bid (member sum),
    takes each factor's mean over the members (arithmetic mean, every member counts equally), and a bid's
    total = Σ factor means + its price score, all exact; only the shown figures are rounded (round2). The bids
    are those of `price_scores` (the valid bids); every sheet must hold a score, a number with at most 2
    decimals, for every bid and factor (ValueError otherwise). For lowest evaluated price there is no
    summary: rank_by_price ranks the evaluated prices."""
    t = table(sheets, factors, price_scores)
    if set(t.bids) != set(price_scores):
        raise ValueError("the sheets were read for other bids than the price scores'")
    if not t.members:
        raise ValueError("no sheets")
    m = len(t.members)
    names = tuple(f.name for f in t.factors)
    out = {}
    for bid_id in t.bids:
        member_sums = {}
        for member, row in zip(t.members, t.rows[bid_id], strict=True):
            known = _known(row)
            if known is None:
                factor = names[row.index(None)]
                raise ValueError(f"member {member!r}, bid {bid_id}, factor {factor!r}: no valid score")
            member_sums[member] = _d(sum(known))
        column_sums = [sum(cast("Sequence[int]", col)) for col in t.cols[bid_id]]
        means = {name: _d(_half_up(s, m)) for name, s in zip(names, column_sums, strict=True)}
        price = _price_exact(price_scores[bid_id])
        total = price + Fraction(sum(column_sums), 100 * m)
        out[bid_id] = BidSummary(bid_id, member_sums, means, round2(price), total, round2(total))
    return Summary(t.members, names, out)


# ---------------------------------------------------------------- the four checks before signing


@dataclass(frozen=True)
class Flag:
    """A finding of the checks before signing (G87 art. 64, O 5), shown to `member`, who corrects the score or
    confirms it with a reason. `figures` holds the numbers the message shows (Decimals, 2 places)."""

    kind: str  # FLAG_SUM | FLAG_RANGE | FLAG_OBJECTIVE | FLAG_HIGH | FLAG_LOW
    member: str
    bid_id: int
    factor: str | None  # None for a sum
    figures: dict[str, Any]


def check_sums(
    sheets: Sheets | Table, factors: Sequence[FactorLike], stated: Mapping[str, Mapping[int, Any]]
) -> list[Flag]:
    """G87 art. 64 (1): a total a member states (on a paper or typed sheet) differs from the platform's sum of
    that member's scores for the bid (compared exactly: "50.5" states 50.50). `stated`: member key -> bid id
    -> stated total. A row with a missing or invalid score has no platform sum and is left to check_range.
    By bid, then member."""
    t = table(sheets, factors)
    index = {member: i for i, member in enumerate(t.members)}
    out = []
    for bid_id in t.bids:
        for member, i in index.items():
            by_bid = stated.get(member)
            if by_bid is None or bid_id not in by_bid:
                continue
            known = _known(t.rows[bid_id][i])
            if known is None:
                continue
            value = by_bid[bid_id]
            platform = sum(known)
            if _hundredths(value) != platform:
                out.append(Flag(FLAG_SUM, member, bid_id, None, {"stated": str(value), "sum": _d(platform)}))
    return out


def check_range(sheets: Sheets | Table, factors: Sequence[FactorLike]) -> list[Flag]:
    """G87 art. 64 (2): a score outside its factor's range: negative, above the factor's points, more than 2
    decimals, not a number, not finite, or missing (figures: the value as entered, the points, the error
    key). Entry refuses these already (check_entry); this check guards sheets from any other path. By bid,
    factor, member."""
    t = table(sheets, factors)
    out = []
    for bid_id in t.bids:
        for i, col in enumerate(t.cols[bid_id]):
            limit = t.limits[i]
            for member, h in zip(t.members, col, strict=True):
                if h is not None and 0 <= h <= limit:
                    continue
                f = t.factors[i]
                raw_row = t.raw[member].get(bid_id, {})
                if f.name not in raw_row:
                    error, shown = SCORE_MISSING, ""
                else:
                    value = raw_row[f.name]
                    error, shown = check_entry(f.points, value) or "score_not_number", str(value)
                figures = {"value": shown, "points": round2(exact(f.points)), "error": error}
                out.append(Flag(FLAG_RANGE, member, bid_id, f.name, figures))
    return out


def check_objective(sheets: Sheets | Table, factors: Sequence[FactorLike]) -> list[Flag]:
    """G87 art. 64 (3): the members' scores on an objective factor must be equal; where they differ every
    member is flagged (figures: each member's score, by member key) until they agree. By bid, factor,
    member."""
    t = table(sheets, factors)
    objective = [i for i, f in enumerate(t.factors) if f.kind == "objective"]
    out: list[Flag] = []
    for bid_id in t.bids:
        cols = t.cols[bid_id]
        for i in objective:
            known = _known(cols[i])
            if known is None or len(set(known)) < 2:
                continue
            figures: dict[str, Any] = {m: _d(h) for m, h in zip(t.members, known, strict=True)}
            out.extend(Flag(FLAG_OBJECTIVE, m, bid_id, t.factors[i].name, figures) for m in t.members)
    return out


def check_outliers(sheets: Sheets | Table, factors: Sequence[FactorLike]) -> list[Flag]:
    """G87 art. 64 (4), policy figure: a member's score on a subjective factor differs from the mean of the
    OTHER members' scores for that bid and factor by more than OUTLIER_PERCENT (30) % of the factor's points
    (exactly 30 % is not flagged); only with at least OUTLIER_MIN_MEMBERS (3) members. Objective factors are
    left to check_objective. figures: the score, the others' mean (round2), the difference (round2), the
    allowed difference (round2). By bid, factor, member."""
    t = table(sheets, factors)
    m = len(t.members)
    if m < OUTLIER_MIN_MEMBERS:
        return []
    subjective = []
    for i, f in enumerate(t.factors):
        if f.kind != "objective":
            points = exact(f.points)
            # |h - (S - h)/(m - 1)| > P% × points × 100  <=>  |m·h - S| > P% × points × 100 × (m - 1), in
            # hundredths h, S; for an integer left side the right may be rounded down (x > T <=> x > ⌊T⌋)
            limit = math.floor(points * OUTLIER_PERCENT * (m - 1))
            subjective.append((i, f.name, limit, round2(points * OUTLIER_PERCENT / 100)))
    out = []
    for bid_id in t.bids:
        cols = t.cols[bid_id]
        for i, name, limit, allowed in subjective:
            known = _known(cols[i])
            if known is None:
                continue
            s = sum(known)
            if m * max(known) - s <= limit and s - m * min(known) <= limit:
                continue  # nobody is far from the others (the usual case, without a loop over the members)
            for member, h in zip(t.members, known, strict=True):
                x = m * h - s
                if x > limit or -x > limit:
                    mean = Fraction(s - h, 100 * (m - 1))
                    figures = {
                        "score": _d(h),
                        "others_mean": round2(mean),
                        "difference": round2(Fraction(h, 100) - mean),
                        "allowed": allowed,
                    }
                    out.append(Flag(FLAG_HIGH if x > 0 else FLAG_LOW, member, bid_id, name, figures))
    return out


def checks(
    sheets: Sheets | Table,
    factors: Sequence[FactorLike],
    stated: Mapping[str, Mapping[int, Any]] | None = None,
) -> list[Flag]:
    """The four checks before signing (G87 art. 64, O 5), in that order: sums (only where `stated` totals are
    given), range, objective factors, abnormally high or low scores."""
    t = table(sheets, factors)
    return [
        *(check_sums(t, factors, stated) if stated else []),
        *check_range(t, factors),
        *check_objective(t, factors),
        *check_outliers(t, factors),
    ]


def may_change(flags: Iterable[Flag], member: str, bid_id: int, factor: str) -> Flag | None:
    """G87 art. 64: after the summary a score may change only for one of the four reasons: the flag that
    allows `member` to change their score on `factor` for `bid_id` (a sum flag allows any factor of that bid;
    the others their own factor), or None (the change is refused). The caller records the change with the
    flag's kind, the member's reason, the old and the new value."""
    for flag in flags:
        if flag.member == member and flag.bid_id == bid_id and flag.factor in (None, factor):
            return flag
    return None


# ---------------------------------------------------------------- ranking, candidates, failure


@dataclass(frozen=True)
class Ranked:
    rank: int  # 1, 2, 3...: every bid its own place (a tie is broken by price, then by the lottery)
    bid_id: int
    total: Decimal | None  # the total score (score methods); None for the lowest evaluated price
    price_fen: int  # the price (score methods) or the evaluated price (lowest evaluated price)
    decided_by: str  # BY_SCORE | BY_PRICE | BY_LOTTERY: the first rule that set it apart from every other bid


class SeedNeeded(ValueError):
    """A tie that only the lottery breaks, and no seed given: the caller draws tie_seed and ranks again."""

    def __init__(self, tied: list[list[int]]):
        self.tied = tied
        super().__init__(f"a lottery must break the ties {tied}: give the tie seed")


def _rank(
    groups: list[list[tuple[tuple[Any, ...], int]]], seed: bytes | None, first_by: str
) -> list[tuple[int, str]]:
    """groups: bids of equal primary key, in primary order, each (secondary key, bid id); a bid alone in its
    group is decided by `first_by`, one alone in its secondary key by price, the rest by the lottery."""
    split = []
    for g in groups:
        by_key: dict[tuple[Any, ...], list[int]] = {}
        for k, b in sorted(g):
            by_key.setdefault(k, []).append(b)
        split.append((len(g), list(by_key.values())))
    tied = [bids for _, subs in split for bids in subs if len(bids) > 1]
    if tied and seed is None:
        raise SeedNeeded(tied)
    out: list[tuple[int, str]] = []
    for size, subs in split:
        for bids in subs:
            if size == 1:
                out.append((bids[0], first_by))
            elif len(bids) == 1:
                out.append((bids[0], BY_PRICE))
            else:
                assert seed is not None
                out.extend((b, BY_LOTTERY) for b in fairdraw.rank(seed, bids))
    return out


def ties(totals: Mapping[int, Any], prices: Mapping[int, int] | None = None) -> list[list[int]]:
    """The groups of bids (ascending ids) that only the lottery can order: equal total and equal price (score
    methods, `prices` given), or equal evaluated price (totals are the evaluated prices, `prices` None)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for b, v in totals.items():
        groups.setdefault((round2(exact(v)), prices[b] if prices is not None else None), []).append(b)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def rank_by_score(
    totals: Mapping[int, Decimal | Number], prices: Mapping[int, int], seed: bytes | None = None
) -> list[Ranked]:
    """Comprehensive scoring and the average benchmark (G87 art. 57): by total score descending (the totals as
    shown, 2 decimals: Summary.totals()); equal totals by the lower price; equal totals and prices by the
    lottery: the tied bids in the order fairdraw.rank(seed, tied ids) gives (etender-tie-1: the seed is
    tie_seed's). Raises SeedNeeded when a lottery is needed and no seed is given."""
    if set(totals) != set(prices):
        raise ValueError("totals and prices are for different bids")
    fairdraw.unique_ids(list(totals))
    shown = {b: round2(exact(v)) for b, v in totals.items()}
    by_total: dict[Decimal, list[tuple[tuple[Any, ...], int]]] = {}
    for b, v in shown.items():
        by_total.setdefault(v, []).append(((prices[b],), b))
    groups = [by_total[k] for k in sorted(by_total, reverse=True)]
    order = _rank(groups, seed, BY_SCORE)
    return [Ranked(i, b, shown[b], prices[b], how) for i, (b, how) in enumerate(order, start=1)]


def rank_by_price(evaluated: Mapping[int, int], seed: bytes | None = None) -> list[Ranked]:
    """The lowest evaluated price method (P30-33): by evaluated price ascending; equal evaluated prices by the
    lottery (fairdraw.rank(seed, tied ids), etender-tie-1). Raises SeedNeeded when a lottery is needed and no
    seed is given. `evaluated`: bid id -> evaluated price (PriceRow.evaluated_fen)."""
    fairdraw.unique_ids(list(evaluated))
    by_price: dict[int, list[tuple[tuple[Any, ...], int]]] = {}
    for b, p in evaluated.items():
        by_price.setdefault(p, []).append(((), b))
    order = _rank([by_price[k] for k in sorted(by_price)], seed, BY_PRICE)
    return [Ranked(i, b, None, evaluated[b], how) for i, (b, how) in enumerate(order, start=1)]


def candidates(ranking: Sequence[Ranked], n: int) -> list[Ranked]:
    """R53, P45: the first n (1 to 3) of the ranking (fewer when fewer bids are ranked)."""
    if type(n) is not int or not MIN_CANDIDATES <= n <= MAX_CANDIDATES:
        raise ValueError(f"the report recommends 1 to 3 candidates, not {n!r}")
    return list(ranking[:n])


def failed(valid_count: int, all_rejected: bool) -> str | None:
    """L42, P27: all bids rejected, or fewer than MIN_VALID_BIDS (3) valid bids left after review: the
    committee MAY reject all and the tender fails (the reason key), else None. Whether it does is the
    committee's decision (majority)."""
    if all_rejected or valid_count == 0:
        return FAILED_ALL_REJECTED
    if valid_count < MIN_VALID_BIDS:
        return FAILED_TOO_FEW
    return None


def tie_seed(
    server_seed: bytes, session_id: int, sheet_digests: Sequence[tuple[str, bytes]], bid_ids: Iterable[int]
) -> bytes:
    """etender-tie-1: fairdraw.derive_seed(server_seed, no public entropy, pool_root(the ranked bid ids),
    "evaluation-<session id>-tie", contributions = the submitted sheets' digests (member key, sheet_digest)
    sorted by member key (code point order)). The server seed is committed (fairdraw.commitment) in the audit
    log before the first sheet is submitted and published with the report; the digests are logged at each
    submission, so nobody can steer the lottery once the scores are known."""
    if type(session_id) is not int or session_id < 0:
        raise ValueError(f"session id must be a non-negative integer, got {session_id!r}")
    members = [k for k, _ in sheet_digests]
    if len(set(members)) != len(members):
        raise ValueError("one digest per member")
    return fairdraw.derive_seed(
        server_seed,
        None,
        fairdraw.pool_root(list(bid_ids)),
        f"evaluation-{session_id}-tie",
        sorted(sheet_digests),
    )


def tie_record(
    server_seed: bytes, session_id: int, sheet_digests: Sequence[tuple[str, bytes]], bid_ids: Iterable[int]
) -> dict[str, Any]:
    """What the report publishes of the tie lottery (JSON-ready: bytes in lower-case hex), from which
    verify_tie_record, or anyone following docs/evaluation.md §8, recomputes the seed."""
    ids = sorted(bid_ids)
    return {
        "protocol": TIE_PROTOCOL,
        "session_id": session_id,
        "request_id": f"evaluation-{session_id}-tie",
        "server_seed": server_seed.hex(),
        "commitment": fairdraw.commitment(server_seed).hex(),
        "bid_ids": ids,
        "pool_root": fairdraw.pool_root(ids).hex(),
        "contributions": [[member, digest.hex()] for member, digest in sorted(sheet_digests)],
        "seed": tie_seed(server_seed, session_id, sheet_digests, ids).hex(),
    }


def verify_tie_record(record: Mapping[str, Any], commitment: bytes | None = None) -> list[str]:
    """The parts of a published tie record that do not hold (empty: it verifies): "protocol", "commitment"
    (the server seed against the record's commitment, and against `commitment`, the one logged in the audit
    log, when given), "request_id", "pool_root", "seed". A record that cannot be read at all is ["record"]."""
    try:
        server = bytes.fromhex(record["server_seed"])
        session_id = record["session_id"]
        ids = list(record["bid_ids"])
        digests = [(str(m), bytes.fromhex(d)) for m, d in record["contributions"]]
        expected = tie_record(server, session_id, digests, ids)
    except (KeyError, TypeError, ValueError):
        return ["record"]
    problems = []
    if record.get("protocol") != TIE_PROTOCOL:
        problems.append("protocol")
    logged = commitment.hex() if commitment is not None else expected["commitment"]
    if record.get("commitment") != expected["commitment"] or logged != expected["commitment"]:
        problems.append("commitment")
    for key in ("request_id", "pool_root", "seed"):
        if record.get(key) != expected[key]:
            problems.append(key)
    return problems


# ---------------------------------------------------------------- the committee's majority


@dataclass(frozen=True)
class Decision:
    outcome: bool | None  # True: carried; False: rejected; None: no decision (a tie, or nobody voted)
    in_favour: tuple[str, ...]  # member keys, sorted
    against: tuple[str, ...]
    dissenters: tuple[str, ...]  # the minority, whose reasons the report keeps; () without a decision


def majority(votes: Mapping[str, bool]) -> Decision:
    """G87 art. 61: a matter the committee decides together is decided by the majority of the members voting
    (少数服从多数); the minority sign their dissent and reasons into the report. A tie (or no vote) decides
    nothing: outcome None (with an odd committee, rules.md §3.1, a tie needs an abstention)."""
    ayes = tuple(sorted(k for k, v in votes.items() if v is True))
    noes = tuple(sorted(k for k, v in votes.items() if v is False))
    if len(ayes) + len(noes) != len(votes):
        raise ValueError("a vote is True or False")
    if len(ayes) > len(noes):
        return Decision(True, ayes, noes, noes)
    if len(noes) > len(ayes):
        return Decision(False, ayes, noes, ayes)
    return Decision(None, ayes, noes, ())


# ---------------------------------------------------------------- the sheet digest


_SCALARS = (int, float, Decimal, Fraction, str)


def _score_text(value: Any) -> str:
    """A score as a string with exactly 2 decimals ("7.50", "-0.50", "0.00"; no "-0.00")."""
    h = _hundredths(value) if type(value) is not bool else None
    if h is None:
        raise ValueError(f"a score is a finite number with at most 2 decimals, got {value!r}")
    whole, cents = divmod(abs(h), 100)
    return f"{'-' if h < 0 else ''}{whole}.{cents:02d}"


def _canonical(value: Any) -> Any:
    """A sheet's mappings with string keys, its scores as 2-decimal strings."""
    if type(value) in _SCALARS:
        return _score_text(value)
    if not isinstance(value, Mapping):
        raise ValueError(f"a sheet holds mappings and scores, got {value!r}")
    out = {}
    for k, v in value.items():
        if type(k) is not str and type(k) is not int:
            raise ValueError(f"a sheet's keys are bid ids or factor names, got {k!r}")
        key = str(k)
        if key in out:
            raise ValueError(f"two keys read {key!r}")
        out[key] = _score_text(v) if type(v) in _SCALARS else _canonical(v)
    return out


def canonical_sheet(sheet: Mapping[Any, Any]) -> bytes:
    """The bytes a sheet's digest is over: JSON, keys as strings (a bid id in decimal) sorted by code point,
    no spaces (separators "," and ":"), UTF-8 without escapes, every score a string with exactly 2 decimals
    ("7.50", "-0.50", "10.00")."""
    return json.dumps(_canonical(sheet), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sheet_digest(sheet: Mapping[Any, Any]) -> bytes:
    """SHA-256 of canonical_sheet(sheet): what the audit log records at a sheet's submission, and the member's
    contribution to the tie seed."""
    return sha256(canonical_sheet(sheet)).digest()
