"""The price score, the committee's arithmetic, and the ranking (issue 13 steps 4-6).

- Price (P19, P30-33, G87 art. 55): computed by the platform from the opening record's prices (the opened
  bids' price_form.total_price_fen) with evaluation.scoring.formulas; the chair records arithmetic corrections
  (P19) and, for the lowest evaluated price method, the adjustments the tender documents allow, each with its
  reason, before the summary.
- The chair closes Step.scoring once every present member has submitted and no flag of the checks is left
  unresolved (G87 art. 64); the outcome holds the summary and the sheets' digests.
- The chair closes Step.ranking (R53, P45, G87 art. 57): the ranking (ties by the lower price, then the
  etender-tie-1 lottery on the revealed server seed and the sheets' digests), 1 to 3 candidates, or, with all
  bids rejected or fewer than 3 valid, the committee's rejection of all (L42, P27): outcome failed. The
  tender's status is not changed here: the report is signed first (evaluation.report).

Services take a session and an actor and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.errors import N_, Conflict, Forbidden, ValidationFailed
from core.identity import Actor
from evaluation.room import steps
from evaluation.room.models import EvaluationSession, EvaluationStep, Step
from evaluation.scoring import formulas, sheets
from evaluation.scoring.events import ScoringTag
from evaluation.scoring.models import PriceCorrection
from evaluation.scoring.prices import ADJUSTMENT, CORRECTION, opening_prices, price_workings

DEFAULT_CANDIDATES = 3  # policy: the report recommends 3 candidates unless the committee chooses fewer (R53)
TIE_BREAKS = {formulas.BY_SCORE: None, formulas.BY_PRICE: "price", formulas.BY_LOTTERY: "lottery"}

REFUSALS = {
    "scoring_not_chair": N_("Only the committee's chair records this; elect a chair first."),
    "scoring_bid_not_valid": N_("Choose one of the bids that passed the review."),
    "scoring_price_invalid": N_(
        "Enter the corrected price in yuan, a number above 0 with at most 2 decimals."
    ),
    "scoring_amount_invalid": N_("Enter the adjustment in yuan, for example 1500 or -2000.50."),
    "scoring_adjustment_method": N_(
        "Price adjustments belong to the lowest evaluated price method; this tender is scored."
    ),
    "scoring_after_summary": N_(
        "Price corrections are recorded before the summary; every member has submitted already."
    ),
    "scoring_open_members": N_(
        "%(n)s of %(m)s present members have submitted; the step closes once all have."
    ),
    "scoring_open_flags": N_(
        "%(n)s flags of the checks are not resolved yet: the members concerned correct or confirm them."
    ),
    "ranking_candidates": N_("The committee recommends 1 to 3 candidates."),
    "ranking_may_not_fail": N_(
        "The committee may reject all bids only when all were rejected or fewer than 3 valid bids are left."
    ),
    "ranking_must_fail": N_("No bid passed the review: the committee can only reject all."),
}


def _chair(w: steps.Working) -> None:
    if not w.chair:
        raise Forbidden.one("scoring_not_chair", REFUSALS["scoring_not_chair"])


def _price_context(session: Session, actor: Actor, tender_id: int, bid_id: int) -> sheets.Context:
    c = sheets._context(session, actor, tender_id, lock=True)
    _chair(c.w)
    if sheets.all_submitted(session, c.w.session):
        raise Conflict.one("scoring_after_summary", REFUSALS["scoring_after_summary"])
    if bid_id not in c.bids or bid_id not in opening_prices(session, [bid_id]):
        raise ValidationFailed.one("scoring_bid_not_valid", REFUSALS["scoring_bid_not_valid"], "bid")
    return c


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ValidationFailed.one("scoring_reason", sheets.REFUSALS["scoring_reason"], "reason")
    return text[:2000]


def _add(
    session: Session, actor: Actor, c: sheets.Context, bid_id: int, kind: str, amount: int, reason: str
) -> PriceCorrection:
    row = PriceCorrection(
        session_id=c.w.session.id,
        bid_id=bid_id,
        kind=kind,
        amount_fen=amount,
        reason=reason,
        recorded_by_seat_id=c.w.seat.id,
        recorded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        ScoringTag.price_corrected if kind == CORRECTION else ScoringTag.price_adjusted,
        actor=actor,
        subject=c.w.subject,
        details={"session": c.w.session.id, "bid": bid_id},
        confidential={"amount_fen": amount, "reason": reason},
        conceal_actor=True,
    )
    return row


def record_correction(
    session: Session, actor: Actor, tender_id: int, bid_id: int, price_fen: int, reason: str
) -> PriceCorrection:
    """P19: the chair records a bid's corrected price and why (the amount in words over the figures, the unit
    price over the total); a later correction of the same bid replaces it."""
    c = _price_context(session, actor, tender_id, bid_id)
    if type(price_fen) is not int or price_fen <= 0:
        raise ValidationFailed.one("scoring_price_invalid", REFUSALS["scoring_price_invalid"], "amount")
    return _add(session, actor, c, bid_id, CORRECTION, price_fen, _reason(reason))


def record_adjustment(
    session: Session, actor: Actor, tender_id: int, bid_id: int, amount_fen: int, reason: str
) -> PriceCorrection:
    """P30-33: for the lowest evaluated price method, an adjustment of a bid's price that the tender documents
    allow (negative lowers it), with its reason."""
    c = _price_context(session, actor, tender_id, bid_id)
    if c.w.tender.evaluation_method != "lowest_price":
        raise Conflict.one("scoring_adjustment_method", REFUSALS["scoring_adjustment_method"])
    if type(amount_fen) is not int or amount_fen == 0:
        raise ValidationFailed.one("scoring_amount_invalid", REFUSALS["scoring_amount_invalid"], "amount")
    evaluated = price_workings(session, c.w.tender, c.w.session, c.bids)["evaluated"][str(bid_id)]
    if evaluated + amount_fen <= 0:  # P30-33: an adjusted price stays a price
        raise ValidationFailed.one("scoring_amount_invalid", REFUSALS["scoring_amount_invalid"], "amount")
    return _add(session, actor, c, bid_id, ADJUSTMENT, amount_fen, _reason(reason))


# ---------------------------------------------------------------- closing the scoring


def close_scoring(session: Session, actor: Actor, tender_id: int) -> EvaluationStep:
    """The chair closes Step.scoring: every present member submitted, no flag unresolved. The outcome: the
    method, the valid bids, the members' seats and sheet digests, the price workings and the totals."""
    c = sheets._context(session, actor, tender_id, lock=True)
    _chair(c.w)
    done, total = sheets.progress(session, c.w.session)
    if c.bids and done < total:
        raise Conflict.one("scoring_open_members", REFUSALS["scoring_open_members"], n=done, m=total)
    digests: dict[str, str] = {}
    totals: dict[str, str] = {}
    price: dict[str, Any] = {}
    if c.bids:
        result = sheets.checked(session, c.w.tender, c.w.session, c.bids)
        if result.unresolved:
            raise Conflict.one("scoring_open_flags", REFUSALS["scoring_open_flags"], n=len(result.unresolved))
        assert result.summary is not None
        digests = {str(seat): s.digest for seat, s in sorted(result.sheets.items())}
        totals = {str(b): str(s.total) for b, s in sorted(result.summary.bids.items())}
        price = result.price
    outcome = {
        "method": c.w.tender.evaluation_method,
        "bids": c.bids,
        "members": sorted(int(s) for s in digests),
        "digests": digests,
        "totals": totals,
        "price": price,
    }
    return steps.close(session, actor, c.w, Step.scoring, outcome)


# ---------------------------------------------------------------- the ranking


@dataclass(frozen=True)
class RankingInput:
    candidates: int = DEFAULT_CANDIDATES
    reject_all: bool = False


def _tie(
    session: Session, sess: EvaluationSession, scoring: dict[str, Any], bids: list[int], tied: list[list[int]]
) -> tuple[bytes, dict[str, Any]]:
    seed_row = sheets.seed_of(session, sess)
    assert seed_row is not None  # made with the first sheet
    digests = sorted((k, bytes.fromhex(v)) for k, v in scoring["digests"].items())
    # the report's tie record (formulas.tie_record, docs/evaluation.md §8), with the tied groups it broke
    record = formulas.tie_record(bytes.fromhex(seed_row.server_seed), sess.id, digests, bids)
    assert record["commitment"] == seed_row.commitment
    return bytes.fromhex(record["seed"]), {**record, "tied": tied}


def rank(
    session: Session, sess: EvaluationSession, scoring: dict[str, Any], bids: list[int]
) -> tuple[list[formulas.Ranked], dict[str, Any] | None]:
    """The ranking of the valid bids from the scoring's outcome, and the tie lottery's record when one was
    needed."""
    if not bids:
        return [], None
    price = scoring["price"]
    prices = {int(b): int(p) for b, p in price["prices"].items()}
    if scoring["method"] == "lowest_price":
        evaluated = {int(b): int(p) for b, p in price["evaluated"].items()}
        tied = formulas.ties(evaluated)
        seed, tie = _tie(session, sess, scoring, bids, tied) if tied else (None, None)
        return formulas.rank_by_price(evaluated, seed), tie
    totals = {int(b): formulas.exact(t) for b, t in scoring["totals"].items()}
    tied = formulas.ties(totals, prices)
    seed, tie = _tie(session, sess, scoring, bids, tied) if tied else (None, None)
    return formulas.rank_by_score(totals, prices, seed), tie


def close_ranking(session: Session, actor: Actor, tender_id: int, data: RankingInput) -> EvaluationStep:
    """The chair closes Step.ranking with the committee's decision: n candidates, or all bids rejected."""
    w = steps.working_member(session, actor, tender_id, lock=True)
    _chair(w)
    closed = steps.require_open(session, w, Step.ranking)
    scoring = closed[Step.scoring].outcome
    bids = [int(b) for b in scoring.get("bids", [])]
    may_fail = formulas.failed(len(bids), False)
    if not bids and not data.reject_all:
        raise Conflict.one("ranking_must_fail", REFUSALS["ranking_must_fail"])
    if data.reject_all and may_fail is None:
        raise Conflict.one("ranking_may_not_fail", REFUSALS["ranking_may_not_fail"])
    if not data.reject_all and not formulas.MIN_CANDIDATES <= data.candidates <= formulas.MAX_CANDIDATES:
        raise ValidationFailed.one("ranking_candidates", REFUSALS["ranking_candidates"], "candidates")
    ranked, tie = rank(session, w.session, scoring, bids)
    price = scoring.get("price") or {}
    evaluated = {int(b): int(p) for b, p in (price.get("evaluated") or {}).items()}
    prices = {int(b): int(p) for b, p in (price.get("prices") or {}).items()}
    lowest = scoring["method"] == "lowest_price"
    outcome = {
        "method": scoring["method"],
        "ranking": [
            {
                "rank": r.rank,
                "bid": r.bid_id,
                "total": None if r.total is None else str(r.total),
                "price_fen": prices[r.bid_id],
                "evaluated_price_fen": evaluated.get(r.bid_id, prices[r.bid_id]),
                "tie_break": ("lottery" if r.decided_by == formulas.BY_LOTTERY else None)
                if lowest
                else TIE_BREAKS[r.decided_by],
            }
            for r in ranked
        ],
        "candidates": []
        if data.reject_all
        else [r.bid_id for r in formulas.candidates(ranked, min(data.candidates, formulas.MAX_CANDIDATES))],
        "failed": {"reason": may_fail} if data.reject_all else None,
        "tie": tie,
    }
    return steps.close(session, actor, w, Step.ranking, outcome)
