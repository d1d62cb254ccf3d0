"""The platform's price arithmetic (P19, P30-33, G87 art. 55): the opening record's prices of the valid bids,
the committee's corrections and adjustments applied, and each method's price scores with their workings
(evaluation.scoring.formulas). The scoring's summary (sheets) and the ranking read it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluation.room.models import EvaluationSession
from evaluation.scoring import formulas
from evaluation.scoring.models import PriceCorrection
from tender.models import OpenedBid, Tender
from tender.notices import criteria_of

CORRECTION, ADJUSTMENT = "correction", "adjustment"


def corrections_of(session: Session, sess: EvaluationSession) -> list[PriceCorrection]:
    return list(
        session.scalars(
            select(PriceCorrection).where(PriceCorrection.session_id == sess.id).order_by(PriceCorrection.id)
        )
    )


def opening_prices(session: Session, bids: list[int]) -> dict[int, int]:
    """The opening record's prices of the valid bids (fen), as the opened bids' price forms hold them."""
    if not bids:
        return {}
    rows = session.scalars(select(OpenedBid).where(OpenedBid.id.in_(bids)))
    out = {}
    for ob in rows:
        price = (ob.price_form or {}).get("total_price_fen")
        if isinstance(price, int) and not isinstance(price, bool) and price > 0:
            out[ob.id] = price
    return out


def price_workings(
    session: Session, tender: Tender, sess: EvaluationSession, bids: list[int]
) -> dict[str, Any]:
    """The platform's price arithmetic, JSON-able: the opening prices, the committee's corrections (P19) and
    adjustments (P30-33) with their reasons, the corrected and evaluated prices, the method's workings and
    each bid's price score (2 decimals; "0.00" for the lowest evaluated price, which does not score)."""
    method = tender.evaluation_method
    criteria = criteria_of(tender)
    prices = opening_prices(session, bids)
    rows = corrections_of(session, sess)
    latest = {r.bid_id: r for r in rows if r.kind == CORRECTION}  # a later correction replaces an earlier
    corrected = formulas.apply_corrections(
        prices, [(b, r.amount_fen, r.reason) for b, r in sorted(latest.items()) if b in prices]
    )
    adjustments = [
        (r.bid_id, r.amount_fen, r.reason) for r in rows if r.kind == ADJUSTMENT and r.bid_id in prices
    ]
    out: dict[str, Any] = {
        "method": method,
        "opening_prices": {str(b): p for b, p in sorted(prices.items())},
        "corrections": [
            {"bid": c.bid_id, "old_fen": c.old_fen, "new_fen": c.new_fen, "reason": c.reason}
            for c in corrected.changes
        ],
        "adjustments": [{"bid": b, "amount_fen": a, "reason": r} for b, a, r in adjustments],
        "prices": {str(b): p for b, p in sorted(corrected.prices.items())},
        "evaluated": {str(b): p for b, p in sorted(corrected.prices.items())},
        "scores": {str(b): "0.00" for b in bids},
        "scores_exact": {str(b): "0" for b in bids},  # what the totals add (formulas.summary), as n/d
        "abnormally_low": [],
        "workings": {},
    }
    if not prices:
        return out
    out["abnormally_low"] = [
        {"bid": x.bid_id, "percent": str(x.percent), "threshold_fen": str(x.threshold_fen)}
        for x in formulas.abnormally_low(corrected.prices)
    ]
    points = criteria.price_points
    if method == "lowest_price":
        table = formulas.evaluated_prices(corrected.prices, adjustments)
        out["evaluated"] = {str(r.bid_id): r.evaluated_fen for r in sorted(table, key=lambda r: r.bid_id)}
        out["workings"] = {"order": [r.bid_id for r in table]}
    elif method == "average_benchmark" and points and criteria.e1 and criteria.e2:
        bench = formulas.average_benchmark(corrected.prices, points, criteria.e1, criteria.e2)
        _scores(out, bench.scores)
        out["workings"] = {
            "benchmark_fen": str(bench.benchmark_fen),
            "counted": list(bench.counted_ids),
            "trimmed_low": bench.trimmed_low,
            "trimmed_high": bench.trimmed_high,
            "deviations": {str(b): str(d.percent) for b, d in sorted(bench.deviations.items())},
        }
    elif points:
        low = formulas.low_price_base(corrected.prices, points)
        _scores(out, low.scores)
        out["workings"] = {"base_fen": low.base_fen, "points": str(formulas.round2(low.points))}
    return out


def _scores(out: dict[str, Any], scores: dict[int, formulas.PriceScore]) -> None:
    out["scores"] = {str(b): str(s.score) for b, s in sorted(scores.items())}
    out["scores_exact"] = {str(b): str(s.exact) for b, s in sorted(scores.items())}
