"""Read-only views of published notices for the public site and its JSON twin.

They compose listings (list_notices, questions_for), access.visible_tender and my_participation, and add what
a notice shows besides: organisation names, lot summaries for a whole page in one query, the objection
deadline (R22) and the days left. Nothing here writes, and nothing here ever exposes who downloaded or
registered (E21, L22): the only participation shown is the acting bidder's own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounts.models import Organisation
from core import clock
from core.identity import Actor, Role
from tender import access, listings, rules
from tender.lifecycle import Status
from tender.listings import Page
from tender.models import Clarification, Lot, Question, Tender, TenderDocument
from tender.participation import Participation, my_participation

# What the status filter offers: "open" means open for bids (published); "" means every public status.
STATUS_FILTERS = ("open", *[s for s in listings.PUBLIC_STATUSES if s != Status.published])


@dataclass(frozen=True)
class LotSummary:
    number: int
    name: str
    estimated_price: int  # fen
    price_ceiling: int  # fen
    bid_security: int  # fen


@dataclass
class NoticeList:
    page: Page
    now: datetime
    regions: list[str] = field(default_factory=list)
    lots: dict[int, list[LotSummary]] = field(default_factory=dict)


def days_left(bid_deadline: datetime | None, now: datetime) -> int | None:
    """Calendar days (CST) until the bid deadline; 0 on its last day; None once it has passed."""
    if bid_deadline is None or bid_deadline <= now:
        return None
    return rules.days_between(now, bid_deadline)


def lot_summaries(session: Session, tender_ids: list[int]) -> dict[int, list[LotSummary]]:
    """The lots of several tenders in one query (no query per row)."""
    out: dict[int, list[LotSummary]] = {tid: [] for tid in tender_ids}
    if not tender_ids:
        return out
    rows = session.execute(
        select(Lot.tender_id, Lot.number, Lot.name, Lot.estimated_price, Lot.price_ceiling, Lot.bid_security)
        .where(Lot.tender_id.in_(tender_ids))
        .order_by(Lot.tender_id, Lot.number)
    )
    for tid, number, name, estimate, ceiling, security in rows:
        out[tid].append(LotSummary(number, name, estimate, ceiling, security))
    return out


# A loose index scan: one index seek per distinct region instead of reading every tender (the notice list
# shows the region filter on every request). Standard SQL, the same on SQLite and PostgreSQL.
_REGIONS = text(
    """
    WITH RECURSIVE r(region) AS (
        SELECT MIN(region) FROM tenders
        UNION ALL
        SELECT (SELECT MIN(t.region) FROM tenders t WHERE t.region > r.region) FROM r WHERE r.region IS NOT \
NULL
    )
    SELECT region FROM r
    WHERE region IS NOT NULL AND region <> ''
      AND EXISTS (SELECT 1 FROM tenders x WHERE x.region = r.region AND x.published_at IS NOT NULL)
    ORDER BY region
    """
)


def public_regions(session: Session) -> list[str]:
    """The regions of public notices (published at some time), sorted, without reading every tender."""
    return list(session.scalars(_REGIONS))


def browse(
    session: Session,
    *,
    q: str = "",
    category: str = "",
    region: str = "",
    status: str = "",
    page: int = 1,
    page_size: int = 20,
    with_regions: bool = False,
    with_lots: bool = False,
) -> NoticeList:
    """One page of the public notice list (listings.list_notices), with what the page or the API adds."""
    result = listings.list_notices(
        session, q=q, category=category, region=region, status=status, page=page, page_size=page_size
    )
    return NoticeList(
        page=result,
        now=clock.now(),
        regions=public_regions(session) if with_regions else [],
        lots=lot_summaries(session, [t.id for t in result.items]) if with_lots else {},
    )


@dataclass(frozen=True)
class Factor:
    name: str
    points: float
    kind: str  # objective | subjective
    description: str = ""


@dataclass
class Criteria:
    """The evaluation criteria fixed in the tender documents (P35), read defensively: a draft may be
    incomplete."""

    qualification: list[str]
    compliance: list[str]
    factors: list[Factor]
    price_points: float | None
    e1: float | None  # points deducted per 1% above the benchmark (average benchmark method)
    e2: float | None  # points deducted per 1% below it

    @property
    def total_points(self) -> float:
        return sum(f.points for f in self.factors) + (self.price_points or 0)


def _number(value: object) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _texts(value: object) -> list[str]:
    return [str(v).strip() for v in value if str(v).strip()] if isinstance(value, list) else []


def criteria_of(tender: Tender) -> Criteria:
    raw = tender.criteria if isinstance(tender.criteria, dict) else {}
    factors = []
    for f in raw.get("factors") or []:
        if isinstance(f, dict) and str(f.get("name", "")).strip():
            factors.append(
                Factor(
                    str(f["name"]).strip(),
                    _number(f.get("points")) or 0,
                    str(f.get("kind") or ""),
                    str(f.get("description") or ""),
                )
            )
    price_raw, bench_raw = raw.get("price"), raw.get("benchmark")
    price: dict[str, Any] = price_raw if isinstance(price_raw, dict) else {}
    bench: dict[str, Any] = bench_raw if isinstance(bench_raw, dict) else {}
    return Criteria(
        qualification=_texts(raw.get("qualification")),
        compliance=_texts(raw.get("compliance")),
        factors=factors,
        price_points=_number(price.get("points")),
        e1=_number(bench.get("e1")),
        e2=_number(bench.get("e2")),
    )


@dataclass
class ClarificationView:
    clarification: Clarification
    files: list[TenderDocument]

    @property
    def deadline_changed(self) -> bool:
        c = self.clarification
        return c.deadline_after != c.deadline_before


@dataclass
class NoticeDetail:
    tender: Tender
    now: datetime
    purchaser_name: str
    agency_name: str
    documents: list[TenderDocument]  # the tender documents proper (not clarification attachments)
    clarifications: list[ClarificationView]
    questions: list[Question]  # answered ones only; the asker is never part of the view
    objection_deadline: datetime | None
    days_left: int | None
    participation: Participation | None  # the acting bidder's own company, else None
    criteria: Criteria
    lots: list[Lot] = field(default_factory=list)

    @property
    def suspended_by_monitor(self) -> bool:
        return self.tender.status == Status.suspended and self.tender.monitor_suspended

    @property
    def deadline_extended(self) -> bool:
        t = self.tender
        return (
            t.original_bid_deadline is not None
            and t.bid_deadline is not None
            and t.original_bid_deadline != t.bid_deadline
        )

    @property
    def deadline_set_on_resume(self) -> bool:
        """The bid deadline in force was set by a monitor resuming the procedure after a suspension (E52),
        not by a clarification (R21). A clarification records the deadline it moved to and a resume does not,
        so a deadline that differs from the published one and from the last clarification's is a resume's
        (tender.supervision.resume leaves the deadline alone when given the one in force)."""
        deadline = self.tender.bid_deadline
        if not self.deadline_extended or deadline is None:
            return False
        moved = [c.clarification.deadline_after for c in self.clarifications if c.deadline_changed]
        return not moved or clock.as_utc(moved[-1]) != clock.as_utc(deadline)


def notice_detail(session: Session, actor: Actor, tender_id: int) -> NoticeDetail:
    """A notice as the actor may see it (drafts only to their agency and purchaser: access.visible_tender)."""
    tender = access.visible_tender(session, actor, tender_id)
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(
            Organisation.id.in_({tender.purchaser_id, tender.agency_id})
        )
    )
    names = {org_id: name for org_id, name in rows}
    documents = [d for d in tender.documents if d.clarification_id is None]
    attachments: dict[int, list[TenderDocument]] = {}
    for d in tender.documents:
        if d.clarification_id is not None:
            attachments.setdefault(d.clarification_id, []).append(d)
    clarifications = [ClarificationView(c, attachments.get(c.id, [])) for c in tender.clarifications]
    questions = [q for q in listings.questions_for(session, actor, tender) if q.answered_at is not None]
    participation = my_participation(session, actor, tender.id) if actor.has(Role.bidder) else None
    now = clock.now()
    return NoticeDetail(
        tender=tender,
        now=now,
        purchaser_name=names.get(tender.purchaser_id, ""),
        agency_name=names.get(tender.agency_id, ""),
        documents=documents,
        clarifications=clarifications,
        questions=questions,
        objection_deadline=rules.objection_deadline(tender.bid_deadline) if tender.bid_deadline else None,
        days_left=days_left(tender.bid_deadline, now) if tender.status == Status.published else None,
        participation=participation,
        criteria=criteria_of(tender),
        lots=list(tender.lots),
    )
