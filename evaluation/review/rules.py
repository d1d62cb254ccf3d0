"""The qualification and compliance review's rules as pure functions (rules.md §4.4; R18-R20, R51, R52,
P19-P21, O 13; G87 art. 55-64): the criteria a bid is reviewed against, what a member's verdict needs, the
committee's decision by majority with the minority's dissent, what stops the chair closing the review, the
abnormally low prices, and the clarification request's deadline.
No database, no clock: the caller passes `now`.

The majority rule: a matter the committee decides together is decided by the majority of its members
(少数服从多数), the minority's reasons written into the report (rules.md §3.8: R53, P43). The decision
itself is evaluation.scoring.formulas.majority (which cites its article), shared with the later steps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import N_
from evaluation.scoring.formulas import LowPrice, abnormally_low, majority

QUALIFICATION, COMPLIANCE = "qualification", "compliance"
KINDS = (QUALIFICATION, COMPLIANCE)

# R51: a bid the committee must reject. Plain labels only; the keys are never shown.
GROUNDS: dict[str, str] = {
    "unsigned": N_("The bid is not sealed and signed as the tender documents require"),
    "joint_without_agreement": N_("A joint bid without the joint bidding agreement"),
    "not_qualified": N_("The bidder does not meet the qualification conditions"),
    "two_bids_or_prices": N_("Two different bids or prices for one lot (no alternative bid was asked for)"),
    "over_ceiling": N_("The price is above the price ceiling"),
    "abnormally_low": N_("The price is abnormally low and its written explanation does not justify it"),
    "no_substantive_response": N_("The bid does not respond to a substantive requirement of the documents"),
    "collusion_or_fraud": N_("Collusion, fraud, bribery or other unlawful conduct"),
}
ABNORMALLY_LOW = "abnormally_low"

# rules.md §4.4: compliance review is always done (R51: "no substantive response" is a mandatory rejection).
# A tender whose documents list no compliance item is reviewed against this one item; it is a message key,
# shown through the reader's catalogue like every other text of the interface.
DEFAULT_COMPLIANCE = N_(
    "The bid responds to the substantive requirements and conditions of the tender documents"
)

REASON_MAX = 2000
QUESTION_MAX = 4000
ANSWER_MAX = 8000


@dataclass(frozen=True)
class Criterion:
    kind: str  # QUALIFICATION | COMPLIANCE
    index: int  # its place in the tender's list of that kind, from 0
    text: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.index)


def criteria(qualification: Sequence[str], compliance: Sequence[str]) -> list[Criterion]:
    """The review's criteria: the tender's qualification list, then its compliance list (or DEFAULT_COMPLIANCE
    when it lists none)."""
    out = [Criterion(QUALIFICATION, i, t) for i, t in enumerate(qualification)]
    out += [Criterion(COMPLIANCE, i, t) for i, t in enumerate(compliance or [DEFAULT_COMPLIANCE])]
    return out


# ---------------------------------------------------------------- a member's verdict


@dataclass(frozen=True)
class Verdict:
    seat: int
    bid: int  # opened bid id
    kind: str
    index: int
    passed: bool
    ground: str = ""  # a GROUNDS key, for a fail
    reason: str = ""

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.bid, self.kind, self.index)


def verdict_problems(
    passed: bool, ground: str, reason: str, low_price_unexplained: bool
) -> list[tuple[str, str, str]]:
    """(code, message, which: "ground" | "reason") for each thing wrong with one verdict. A fail needs its R51
    ground and a reason; P21, R51, O 13: a bid may be rejected for an abnormally low price only once the
    bidder has been asked for its written explanation and has answered (or let the deadline pass)."""
    if passed:
        return []
    out = []
    if ground not in GROUNDS:
        out.append(
            (
                "review_ground_missing",
                N_("Choose the ground for rejecting (R51) from the list."),
                "ground",
            )
        )
    if not reason.strip():
        out.append(
            (
                "review_reason_missing",
                N_("Say why the bid fails this criterion; the reason goes into the report."),
                "reason",
            )
        )
    if ground == ABNORMALLY_LOW and low_price_unexplained:
        out.append(
            (
                "review_low_price_unexplained",
                N_(
                    "A bid may be rejected for an abnormally low price only after the bidder has explained "
                    "it in writing (P21, R51). Ask the chair to send the bidder a clarification request; "
                    "once it is answered, or its deadline has passed, you can enter this ground."
                ),
                "ground",
            )
        )
    return out


# ---------------------------------------------------------------- the committee's decision


@dataclass(frozen=True)
class CriterionDecision:
    criterion: Criterion
    outcome: bool | None  # True: meets it; False: fails it; None: a tie (or nobody voted)
    passes: tuple[Verdict, ...]  # the counted verdicts, by seat
    fails: tuple[Verdict, ...]

    @property
    def minority(self) -> tuple[Verdict, ...]:
        if self.outcome is None:
            return ()
        return self.fails if self.outcome else self.passes

    @property
    def ground(self) -> str:
        """The majority's ground for a fail: the one most of them gave (ties: the first in GROUNDS' order)."""
        counted = Counter(v.ground for v in self.fails)
        order = list(GROUNDS)
        return min(
            counted, key=lambda g: (-counted[g], order.index(g) if g in order else len(order)), default=""
        )


def decide(criterion: Criterion, verdicts: Iterable[Verdict]) -> CriterionDecision:
    """One bid against one criterion, by majority of the counted verdicts (formulas.majority)."""
    counted = sorted(verdicts, key=lambda v: v.seat)
    decision = majority({str(v.seat): v.passed for v in counted})
    return CriterionDecision(
        criterion,
        decision.outcome,
        tuple(v for v in counted if v.passed),
        tuple(v for v in counted if not v.passed),
    )


def counted(verdicts: Iterable[Verdict], present: Iterable[int]) -> list[Verdict]:
    """R48: the verdicts of the present members only; a replaced member's are kept but void."""
    here = set(present)
    return [v for v in verdicts if v.seat in here]


@dataclass(frozen=True)
class Tally:
    bids: tuple[int, ...]
    criteria: tuple[Criterion, ...]
    decisions: dict[tuple[int, str, int], CriterionDecision]  # (bid, kind, index) -> decision
    missing: dict[int, int]  # present seat -> how many of its bid × criterion verdicts are missing

    @property
    def complete(self) -> bool:
        return not any(self.missing.values())

    @property
    def ties(self) -> list[tuple[int, Criterion]]:
        return [
            (b, c) for b in self.bids for c in self.criteria if self.decisions[(b, *c.key)].outcome is None
        ]

    def bid_valid(self, bid: int) -> bool:
        return all(self.decisions[(bid, *c.key)].outcome is True for c in self.criteria)


def tally(
    bids: Sequence[int], crits: Sequence[Criterion], verdicts: Iterable[Verdict], present: Sequence[int]
) -> Tally:
    mine = counted(verdicts, present)
    by_key: dict[tuple[int, str, int], list[Verdict]] = {}
    for v in mine:
        by_key.setdefault(v.key, []).append(v)
    decisions = {(b, *c.key): decide(c, by_key.get((b, *c.key), [])) for b in bids for c in crits}
    wanted = {(b, *c.key) for b in bids for c in crits}
    have: dict[int, set[tuple[int, str, int]]] = {s: set() for s in present}
    for v in mine:
        if v.key in wanted:
            have[v.seat].add(v.key)
    return Tally(tuple(bids), tuple(crits), decisions, {s: len(wanted) - len(have[s]) for s in present})


def close_problems(
    t: Tally, open_requests: int, unassessed_answers: int
) -> list[tuple[str, str, dict[str, Any]]]:
    """(code, message, params) for each thing that stops the chair closing the review. A tie (possible only
    with an even number of members present) decides nothing: the committee discusses it and a member changes
    their verdict (policy: the rules give no casting vote)."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    waiting = sum(1 for n in t.missing.values() if n)
    if waiting:
        out.append(
            (
                "review_incomplete",
                N_("%(n)s of the present members have not yet entered a verdict on every bid and criterion."),
                {"n": waiting},
            )
        )
    elif t.ties:
        out.append(
            (
                "review_tie",
                N_(
                    "The members are evenly divided on %(n)s criteria (shown below): discuss them; the "
                    "review closes once a majority decides each one."
                ),
                {"n": len(t.ties)},
            )
        )
    if open_requests:
        out.append(
            (
                "review_clarification_open",
                N_(
                    "%(n)s clarification requests await the bidder's answer; the review closes once they "
                    "are answered or their deadline has passed."
                ),
                {"n": open_requests},
            )
        )
    if unassessed_answers:
        out.append(
            (
                "review_answer_unassessed",
                N_("Mark each clarification answer as accepted or disregarded before closing the review."),
                {"n": unassessed_answers},
            )
        )
    return out


def outcome(t: Tally, clarification_ids: Sequence[int]) -> dict[str, Any]:
    """The review's outcome (the EvaluationStep's JSON, read by the scoring step and the report):
    "valid": the opened bids that meet every criterion, ascending; "rejected": each other bid with the
    criteria it fails ("for": members finding it meets the criterion, "against": finding it fails) and the
    minority's reasons on every criterion of the bid ("dissent"); "dissent": the minority's reasons on the
    valid bids (each with its "bid"); "clarifications": the session's clarification request ids."""

    def dissent(bid: int) -> list[dict[str, Any]]:
        return [
            {"seat": v.seat, "criterion": c.text, "reason": v.reason}
            for c in t.criteria
            for v in t.decisions[(bid, *c.key)].minority
        ]

    valid = sorted(b for b in t.bids if t.bid_valid(b))
    rejected = []
    for b in sorted(set(t.bids) - set(valid)):
        failed = [t.decisions[(b, *c.key)] for c in t.criteria if t.decisions[(b, *c.key)].outcome is False]
        rejected.append(
            {
                "bid": b,
                "criteria": [
                    {
                        "criterion": d.criterion.text,
                        "kind": d.criterion.kind,
                        "ground": d.ground,
                        "reasons": [v.reason for v in d.fails],
                        "for": len(d.passes),
                        "against": len(d.fails),
                    }
                    for d in failed
                ],
                "dissent": dissent(b),
            }
        )
    return {
        "valid": valid,
        "rejected": rejected,
        "dissent": [{"bid": b, **d} for b in valid for d in dissent(b)],
        "clarifications": sorted(clarification_ids),
    }


# ---------------------------------------------------------------- abnormally low prices


def low_prices(bids: Iterable[Mapping[str, Any]]) -> dict[int, LowPrice]:
    """P21, R51, O 13: the abnormally low prices among `bids` (evaluation.room.reading.opened_bids rows), each
    lot's prices compared with each other (formulas.abnormally_low); a bid without a price is not compared."""
    by_lot: dict[int, dict[int, int]] = {}
    for b in bids:
        fen = (b.get("price_form") or {}).get("total_price_fen")
        if type(fen) is int and fen > 0:
            by_lot.setdefault(int(b["lot"]), {})[int(b["opened_bid"])] = fen
    out: dict[int, LowPrice] = {}
    for prices in by_lot.values():
        out.update({f.bid_id: f for f in abnormally_low(prices)})
    return out


# ---------------------------------------------------------------- clarification requests (R52)


def request_problems(
    question: str, deadline: datetime | None, now: datetime, ends_at: datetime
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(code, message, field, params) for each thing wrong with a clarification request: a question, and a
    deadline in the future that the bidder can meet while the committee still sits (policy)."""
    out: list[tuple[str, str, str, dict[str, Any]]] = []
    if not question.strip():
        out.append(
            ("clarify_question_missing", N_("Write the question the bidder is to answer."), "question", {})
        )
    if len(question) > QUESTION_MAX:
        out.append(
            (
                "clarify_question_long",
                N_("The question is too long: at most %(n)s characters."),
                "question",
                {"n": QUESTION_MAX},
            )
        )
    if deadline is None:
        out.append(
            (
                "clarify_deadline_invalid",
                N_("Enter the deadline as a date and time (China Standard Time)."),
                "deadline",
                {},
            )
        )
    elif deadline <= now:
        out.append(("clarify_deadline_past", N_("The deadline must be later than now."), "deadline", {}))
    elif deadline > ends_at:
        out.append(
            (
                "clarify_deadline_after_session",
                N_("The deadline must fall within the evaluation session, which ends at %(end)s."),
                "deadline",
                {"end": ends_at},
            )
        )
    return out


def request_state(answered: bool, deadline: datetime, now: datetime) -> str:
    """answered; expired (the deadline passed without an answer); open."""
    if answered:
        return "answered"
    return "expired" if now >= deadline else "open"
