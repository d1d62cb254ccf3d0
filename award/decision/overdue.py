"""What is overdue after an award, for the monitors' alerts (supervision.alerts): a contract not recorded
within 30 days of the award notice (L46), a contract signed after them or a government-procurement contract
published after its 2 working days (GR50), and a bid security not refunded by its deadline (R35, R57). Each
names the audit entry it stands on (the award, the contract, or the tender's failure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.queries import entries_tagged
from award.decision import rules
from award.decision.models import AwardNotice, BidSecurity, NoticeKind, SecurityStatus
from award.models import Award, AwardStatus, Contract
from core import clock
from tender.events import TenderTag
from tender.models import Tender

LIMIT = 10_000


@dataclass
class Overdue:
    kind: str  # contract_overdue | contract_late | contract_published_late | refund_overdue
    tender_id: int
    reference: str
    since: datetime  # when it became overdue
    index: int  # the audit entry it stands on
    params: dict[str, Any] = field(default_factory=dict)


def _day(value: Any) -> str:
    return clock.to_cst(value).strftime("%Y-%m-%d") if isinstance(value, datetime) else str(value)


def overdue(session: Session, now: datetime | None = None) -> list[Overdue]:
    now = now or clock.now()
    out: list[Overdue] = []
    rows = session.execute(
        select(Award, AwardNotice.issued_at, Tender.reference, Tender.government_procurement)
        .join(AwardNotice, (AwardNotice.award_id == Award.id) & (AwardNotice.kind == NoticeKind.award))
        .join(Tender, Tender.id == Award.tender_id)
        .where(Award.status == AwardStatus.active)
        .limit(LIMIT)
    ).all()
    contracts = (
        {
            c.award_id: c
            for c in session.scalars(select(Contract).where(Contract.award_id.in_([r[0].id for r in rows])))
        }
        if rows
        else {}
    )
    for award, issued_at, reference, gp in rows:
        contract = contracts.get(award.id)
        deadline = rules.contract_deadline(issued_at)
        if contract is None:
            if rules.contract_overdue(issued_at, now):
                out.append(
                    Overdue(
                        "contract_overdue",
                        award.tender_id,
                        reference,
                        issued_at,
                        award.audit_index,
                        {"due": deadline.isoformat()},
                    )
                )
            continue
        if rules.contract_late(issued_at, contract.signed_on):
            out.append(
                Overdue(
                    "contract_late",
                    award.tender_id,
                    reference,
                    contract.recorded_at,
                    contract.audit_index,
                    {"due": deadline.isoformat(), "signed": contract.signed_on.isoformat()},
                )
            )
        if (
            gp
            and contract.published_at is not None
            and contract.published_at >= rules.publication_due(contract.signed_on)
        ):
            out.append(
                Overdue(
                    "contract_published_late",
                    award.tender_id,
                    reference,
                    contract.published_at,
                    contract.audit_index,
                    {
                        "due": _day(rules.publication_due(contract.signed_on) - timedelta(seconds=1)),
                        "signed": contract.signed_on.isoformat(),
                    },
                )
            )
    held = session.execute(
        select(BidSecurity, Tender.reference)
        .join(Tender, Tender.id == BidSecurity.tender_id)
        .where(
            BidSecurity.status == SecurityStatus.held,
            BidSecurity.refund_due.is_not(None),
            BidSecurity.refund_due <= now,
        )
        .order_by(BidSecurity.tender_id)
        .limit(LIMIT)
    ).all()
    by_tender: dict[int, list[BidSecurity]] = {}
    refs: dict[int, str] = {}
    for sec, reference in held:
        by_tender.setdefault(sec.tender_id, []).append(sec)
        refs[sec.tender_id] = reference
    for tender_id, secs in by_tender.items():
        index = _basis(session, tender_id)
        if index is None:
            continue
        first = min(s.refund_due for s in secs if s.refund_due is not None)
        out.append(
            Overdue(
                "refund_overdue",
                tender_id,
                refs[tender_id],
                first,
                index,
                {"count": len(secs), "due": _day(first - timedelta(seconds=1))},
            )
        )
    return out


def _basis(session: Session, tender_id: int) -> int | None:
    """The entry a refund's deadline started from: the contract's, else the tender's failure."""
    contract = session.scalar(
        select(Contract.audit_index)
        .join(Award, Award.id == Contract.award_id)
        .where(Contract.tender_id == tender_id, Award.status == AwardStatus.active)
    )
    if contract is not None:
        return int(contract)
    found = entries_tagged(
        session,
        [
            TenderTag.tender_failed.value,
            TenderTag.tender_cancelled.value,
            TenderTag.tender_bidding_closed.value,
        ],
        subject=f"tender:{tender_id}",
    )
    return found[-1].index if found else None
