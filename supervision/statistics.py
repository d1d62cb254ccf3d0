"""The centre's trading statistics (交易统计): what was awarded in a period, for how much, and what it saved
against the estimates, by category and by kind of procedure, as the centre's reports to the county give them
("554 projects, 6.65 billion yuan, 85.21 million yuan saved in nine months").

Only facts that are public already go in: an award is public from the moment it is made (the result notice,
L45), with its amount, and a lot's estimate is published with the notice. So the figures are public too; they
say nothing about a procedure still under way (no count of bids, no name). Pure reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from award.models import Award, AwardStatus
from core.clock import CST
from core.disclosure import Audience, Fact, may_see
from tender.disclosure import phase_of
from tender.lifecycle import Status
from tender.models import Tender

CATEGORIES = ("works", "goods", "services")


@dataclass
class Line:
    """One row of the table: awarded procedures, their amounts and savings (fen)."""

    projects: int = 0
    amount: int = 0
    estimate: int = 0

    @property
    def savings(self) -> int:
        return self.estimate - self.amount

    @property
    def savings_rate(self) -> Decimal | None:
        """Savings as a percentage of the estimates, to two decimals (None without an estimate)."""
        if self.estimate <= 0:
            return None
        return (Decimal(self.savings) * 100 / Decimal(self.estimate)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )

    def add(self, amount: int, estimate: int) -> None:
        self.projects += 1
        self.amount += amount
        self.estimate += estimate


@dataclass
class Report:
    start: date  # the first day, Beijing time
    end: date  # the last day, included
    total: Line = field(default_factory=Line)
    by_category: dict[str, Line] = field(default_factory=lambda: {c: Line() for c in CATEGORIES})
    government_procurement: Line = field(default_factory=Line)  # 政府采购
    construction: Line = field(
        default_factory=Line
    )  # 工程建设 and the other procedures under the tendering law
    published: int = 0  # procedures published in the period
    failed: int = 0  # failed (流标) among those published in the period
    cancelled: int = 0  # cancelled (终止) among those published in the period


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's instants: from 00:00 Beijing time on the first day to 24:00 on the last."""
    return (
        datetime.combine(start, time(0, 0), tzinfo=CST),
        datetime.combine(end + timedelta(days=1), time(0, 0), tzinfo=CST),
    )


def report(session: Session, start: date, end: date) -> Report:
    """The figures for the awards made from `start` to `end` (Beijing time, both days included). A tender
    whose first award was declined and given to the next candidate counts once, with the award that stands."""
    if end < start:
        raise ValueError("the period ends before it starts")
    since, until = _bounds(start, end)
    out = Report(start=start, end=end)
    rows = session.execute(
        select(Award.amount, Award.estimate, Tender)
        .join(Tender, Tender.id == Award.tender_id)
        .where(Award.status == AwardStatus.active, Award.decided_at >= since, Award.decided_at < until)
    ).all()
    for amount, estimate, tender in rows:
        # the one disclosure policy: an award counts once the public may see it (Fact.award)
        if not may_see(Fact.award, {Audience.public}, phase_of(session, tender)):
            continue
        category, gp = tender.category, tender.government_procurement
        out.total.add(amount, estimate)
        out.by_category.setdefault(category, Line()).add(amount, estimate)
        (out.government_procurement if gp else out.construction).add(amount, estimate)
    published: dict[str, int] = {
        status: n
        for status, n in session.execute(
            select(Tender.status, func.count())
            .where(Tender.published_at >= since, Tender.published_at < until)
            .group_by(Tender.status)
        )
    }
    out.published = sum(published.values())
    out.failed = published.get(Status.failed.value, 0)
    out.cancelled = published.get(Status.cancelled.value, 0)
    return out


def default_period(today: date) -> tuple[date, date]:
    """This year so far: 1 January to today."""
    return date(today.year, 1, 1), today
