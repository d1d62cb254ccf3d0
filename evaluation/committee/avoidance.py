"""Avoidance (回避) rules for the expert draw, rules.md §3.3: which experts may not sit on a tender's
committee, each with its reason and legal source. Pure: the caller gathers the facts from the database.

Dates are calendar dates in China Standard Time. The reference date is the evaluation date (the day the
committee sits): a rule "within 3 years" looks back three calendar years from that day, both ends included.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, timedelta

from evaluation.committee.draw import Exclusion

LOOK_BACK_YEARS = 3  # GR9: within 3 years, an employee, director or controlling shareholder of a bidder


class Reason(enum.StrEnum):
    bidder_employment = "bidder_employment"
    bidder_interest = "bidder_interest"
    purchaser_employment = "purchaser_employment"
    agency_employment = "agency_employment"
    supervisor_staff = "supervisor_staff"
    penalty = "penalty"
    status = "status"
    unavailable = "unavailable"
    draw_cap = "draw_cap"


RULES: dict[Reason, str] = {
    Reason.bidder_employment: "GR9, P12",
    Reason.bidder_interest: "GR9, P12",
    Reason.purchaser_employment: "P12",
    Reason.agency_employment: "P12",
    Reason.supervisor_staff: "R46",
    Reason.penalty: "P12",
    Reason.status: "R46",
    Reason.unavailable: "R46",
    Reason.draw_cap: "policy",
}


@dataclass(frozen=True)
class Period:
    """A tie to an organisation between two dates (None: open-ended), by its unified social credit code."""

    org_code: str
    start: date | None = None
    end: date | None = None  # inclusive; None: still running

    def overlaps(self, first: date, last: date) -> bool:
        return (self.start is None or self.start <= last) and (self.end is None or self.end >= first)


@dataclass(frozen=True)
class ExpertFacts:
    expert_id: int
    status: str = "active"
    status_until: date | None = None  # a suspension ending before the evaluation date no longer counts
    ever_penalised: bool = False  # P12: any prior penalty in bidding, even one that has ended
    employments: tuple[
        Period, ...
    ] = ()  # current and past employers (positions: employee, director, shareholder)
    interests: tuple[
        Period, ...
    ] = ()  # declared conflicts: relatives' employers, shareholdings, other interests
    unavailable: tuple[tuple[date, date], ...] = ()  # inclusive date ranges
    recent_draws: int = 0  # seats drawn in the cap's period before this draw


@dataclass(frozen=True)
class TenderFacts:
    evaluation_date: date
    bidder_codes: frozenset[str] = frozenset()
    purchaser_code: str = ""
    agency_code: str = ""
    supervisor_codes: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class DrawCap:
    """Policy, not law: at most `max_draws` seats per expert in the `period_days` before a draw (0: no cap).
    Spreads the work over the pool and keeps the same faces off the same agency's committees."""

    max_draws: int = 0
    period_days: int = 365


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def look_back_start(evaluation_date: date) -> date:
    return years_before(evaluation_date, LOOK_BACK_YEARS)


def exclusions(expert: ExpertFacts, tender: TenderFacts, cap: DrawCap = DrawCap()) -> list[Exclusion]:
    """Every reason this expert may not sit, in a fixed order; an empty list means eligible."""
    if (
        expert.status == "active"
        and not expert.ever_penalised
        and not expert.recent_draws
        and not expert.employments
        and not expert.interests
        and not expert.unavailable
    ):
        return []  # most of the pool: nothing any rule could look at
    out: list[Exclusion] = []
    day = tender.evaluation_date
    since = look_back_start(day)

    def add(reason: Reason, detail: str = "") -> None:
        out.append(Exclusion(expert.expert_id, reason.value, RULES[reason], detail))

    # GR9, P12: within 3 years an employee, director or controlling shareholder of a bidder
    for code in sorted(
        {
            p.org_code
            for p in expert.employments
            if p.org_code in tender.bidder_codes and p.overlaps(since, day)
        }
    ):
        add(Reason.bidder_employment, code)
    # P12: an economic interest in a bidder (relatives' employers, shareholdings), with the same look-back
    for code in sorted(
        {p.org_code for p in expert.interests if p.org_code in tender.bidder_codes and p.overlaps(since, day)}
    ):
        add(Reason.bidder_interest, code)
    current = {p.org_code for p in expert.employments if p.overlaps(day, day)}
    if tender.purchaser_code and tender.purchaser_code in current:
        add(Reason.purchaser_employment, tender.purchaser_code)  # P12: staff of the purchaser
    if tender.agency_code and tender.agency_code in current:
        add(Reason.agency_employment, tender.agency_code)
    for code in sorted(current & tender.supervisor_codes):
        add(Reason.supervisor_staff, code)  # R46: monitors cannot sit on projects they supervise
    if expert.ever_penalised or expert.status == "penalised":
        add(Reason.penalty)  # P12: a prior administrative or criminal penalty in bidding
    elif expert.status != "active" and not (expert.status_until is not None and expert.status_until < day):
        add(Reason.status, expert.status)
    for start, end in expert.unavailable:
        if start <= day <= end:
            add(Reason.unavailable, day.isoformat())
            break
    if cap.max_draws > 0 and expert.recent_draws >= cap.max_draws:
        add(Reason.draw_cap, f"{expert.recent_draws}/{cap.max_draws} in {cap.period_days} days")
    return out


def cap_period_start(drawn_on: date, cap: DrawCap) -> date:
    return drawn_on - timedelta(days=cap.period_days)
