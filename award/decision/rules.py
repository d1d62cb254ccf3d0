"""The award's rules as plain functions of the facts and `now`: no database, no clock of their own. Each rule
carries its legal source beside it (docs/rules.md)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta

from core import workdays
from core.clock import CST

CONTRACT_DAYS = 30  # L46: the contract is signed within 30 days of the award notice
REFUND_DAYS = 5  # R35, R57: the bid security is refunded within 5 days
BOND_MAX_PERCENT = 10  # R58: a performance bond is at most 10% of the contract price
PUBLICATION_WORKDAYS = 2  # GR50, G87 art. 72: a government-procurement contract within 2 working days

# R55: the grounds on which the award passes to the next candidate (or the tender is tendered again)
GROUNDS = ("declined", "cannot_perform", "no_performance_bond", "breach")
# R74, E31: the grounds on which a bid security is not refunded
FORFEIT_GROUNDS = ("refused_contract", "no_performance_bond", "revoked_bid")


def award_open(status: str, ends_at: datetime | None, now: datetime) -> bool:
    """R54: the award is made once the publicity has ended. A tender under an unanswered objection is
    suspended (its status is not publicity), so the objection holds the award."""
    return status == "publicity" and ends_at is not None and now >= ends_at


def award_rank_problem(
    state_funded: bool, rank: int, ranks: Collection[int], passed: Collection[int]
) -> str | None:
    """Why the award may not go to the candidate of `rank`, or None. `ranks`: the publicity's candidates;
    `passed`: the ranks whose award ended on a recorded ground (R55). A state-funded project awards to the
    first candidate not passed over; the others choose among the candidates not passed over (L40)."""
    if rank not in ranks:
        return "award_not_a_candidate"
    if rank in passed:
        return "award_candidate_passed"
    if state_funded and rank != min(r for r in ranks if r not in passed):
        return "award_not_first"  # R55
    return None


def next_rank(ranks: Collection[int], passed: Collection[int]) -> int | None:
    """The candidate a state-funded project awards to next (R55), None when none is left."""
    left = sorted(r for r in ranks if r not in passed)
    return left[0] if left else None


def savings(estimate: int, amount: int) -> int:
    """The savings against the estimate, in fen (negative: the award is above the estimate)."""
    return estimate - amount


def savings_rate(estimate: int, amount: int) -> float | None:
    return None if estimate <= 0 else (estimate - amount) / estimate


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=CST)


def days_deadline(event: datetime, days: int) -> datetime:
    """The end (24:00 Beijing time) of the `days`-th day after the event: "within n days of" an event counts
    from the next day."""
    return _end_of(event.astimezone(CST).date() + timedelta(days=days))


def contract_deadline(notice_issued_at: datetime) -> date:
    """L46: the last day the contract may be signed on."""
    return notice_issued_at.astimezone(CST).date() + timedelta(days=CONTRACT_DAYS)


def contract_overdue(notice_issued_at: datetime, now: datetime) -> bool:
    """L46: no contract recorded and the 30 days after the award notice have passed."""
    return now >= _end_of(contract_deadline(notice_issued_at))


def bond_ok(bond: int, amount: int) -> bool:
    """R58: at most 10% of the contract price; exactly 10% is allowed."""
    return bond >= 0 and bond * 100 <= amount * BOND_MAX_PERCENT


def contract_problems(
    *,
    amount: int,
    awarded: int,
    bond: int,
    signed_on: date,
    starts_on: date | None,
    ends_on: date | None,
    notice_issued_at: datetime,
    now: datetime,
) -> list[str]:
    """What is wrong with a contract to record (codes, each with its message in the services)."""
    out = []
    if amount <= 0:
        out.append("contract_amount_missing")
    elif amount != awarded:
        out.append("contract_amount_differs")  # R57: the price is the winning bid's
    if not bond_ok(bond, amount):
        out.append("contract_bond_over")  # R58
    if signed_on < notice_issued_at.astimezone(CST).date():
        out.append("contract_before_notice")
    if signed_on > now.astimezone(CST).date():
        out.append("contract_in_future")
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        out.append("contract_ends_before_start")
    return out


def contract_late(notice_issued_at: datetime, signed_on: date) -> bool:
    """L46: signed after the 30 days (recorded, not hidden: the monitors see it)."""
    return signed_on > contract_deadline(notice_issued_at)


def publication_due(signed_on: date) -> datetime:
    """GR50, G87 art. 72: the end of the 2nd working day after the signature (official calendar)."""
    return workdays.workday_deadline(
        datetime.combine(signed_on, time(12, 0), tzinfo=CST), PUBLICATION_WORKDAYS
    )


def refund_due(
    *,
    withdrawn_at: datetime | None = None,
    contract_signed_on: date | None = None,
    tender_ended_at: datetime | None = None,
) -> datetime | None:
    """When a bid security must be refunded by, or None while its deadline has not started.

    R35: a bid withdrawn before the deadline, 5 days after the withdrawal. R57: every other bidder, the winner
    included, 5 days after the contract is signed. A tender that failed or was cancelled has no contract:
    policy, 5 days after it ended (as R35 treats a bid that no longer stands)."""
    if withdrawn_at is not None:
        return days_deadline(withdrawn_at, REFUND_DAYS)
    if contract_signed_on is not None:
        return _end_of(contract_signed_on + timedelta(days=REFUND_DAYS))
    if tender_ended_at is not None:
        return days_deadline(tender_ended_at, REFUND_DAYS)
    return None


def refund_overdue(status: str, due: datetime | None, now: datetime) -> bool:
    return status == "held" and due is not None and now >= due
