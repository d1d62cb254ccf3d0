"""The demo's awarded and contracted tender (issue 14): given a tender whose publicity has ended, its
purchaser awards it to candidate no. 1 (R55), the award and result notices go out signed (L45), its agency
records the contract with its signed file (L46) and refunds every bid security but one (R57); that one stays
held, so that a monitor finds it overdue once its 5 days pass.

Called with the demo's loader (demo.county's: its session, blob store and signing key), through the same
services as everything else. demo.county calls load_ended: the tender's result published the day after its
report was signed (demo.results_publicity.publish), the award on the first working day its publicity is
over, the contract three days later; all of it in the past, so that the held security is overdue by the time
a monitor looks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from accounts.models import User, actor_for
from award.decision import contracts, securities, services
from award.decision.models import BidSecurity, SecurityStatus
from award.publicity import publicity
from core import clock, workdays
from core.identity import Actor, Role
from demo import results_publicity
from tender.models import Tender

IP = "198.51.100.14"
CONTRACT_FILE = (
    b"%PDF-1.4\n% demo: the signed contract (the demo's stand-in for the scanned, signed contract)\n%%EOF\n"
)


def _actor(loader: Any, org_id: int, role: Role) -> Actor:
    user = loader.session.scalars(
        select(User).where(User.organisation_id == org_id, User.active.is_(True)).order_by(User.id)
    ).all()
    chosen = next(u for u in user if role.value in (u.roles or []))
    return actor_for(chosen, IP)


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    """The clock at `moment` meanwhile, moved back by as much as it moved (as demo.results_publicity)."""
    delta = moment - clock.now()
    clock.shift(delta)
    try:
        yield
    finally:
        clock.shift(-delta)


def _cst(day: Any, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), clock.CST)


CONTRACT_AFTER_DAYS = 3  # the contract signed three days after the award notice (L46: within 30)


def load_ended(loader: Any, tender: Tender) -> None:
    """From the signed report to the contract, in the past: the agency publishes the result the morning
    after the report was signed (on time: R54's 3 days, G87-69's 2 working days), the purchaser awards on
    the first working morning once the publicity ended (R54: not before; its 1 working day, or 3 days, on the
    official calendar, core.workdays), the contract follows CONTRACT_AFTER_DAYS later."""
    report = publicity.signed_report(loader.session, tender.id)
    assert report is not None and report.completed_at is not None, "the tender's report is not signed"
    signed_day = clock.to_cst(report.completed_at).date()
    with _at(_cst(signed_day + timedelta(days=1), 9, 30)):
        pub = results_publicity.publish(loader, tender)
    day = clock.to_cst(pub.ends_at).date()
    while not workdays.is_workday(day):  # the purchaser decides on its first working day after it
        day += timedelta(days=1)
    awarded_at = _cst(day, 10)
    assert awarded_at > pub.ends_at, "the award follows the publicity's end"
    assert awarded_at + timedelta(days=CONTRACT_AFTER_DAYS) < clock.now(), "the report is too recent"
    with _at(awarded_at):
        load(loader, tender, CONTRACT_AFTER_DAYS)


def load(loader: Any, tender: Tender, contract_after_days: int = 0) -> None:
    """The award now; the contract, the refunds `contract_after_days` later (the caller keeps that in the
    past)."""
    db = loader.session
    signer = services.Signer(loader.blobs, loader.signer, loader.signer.name)
    purchaser = _actor(loader, tender.purchaser_id, Role.purchaser)
    agency = _actor(loader, tender.agency_id, Role.agency)
    award = services.confirm(db, purchaser, tender.id, 1, signer)
    with _at(clock.now() + timedelta(days=contract_after_days)):
        _contract(loader, tender, agency, award.amount)
    db.flush()


def _contract(loader: Any, tender: Tender, agency: Actor, amount: int) -> None:
    db = loader.session
    today = clock.to_cst(clock.now()).date()
    key = loader.blobs.put([CONTRACT_FILE]).key
    contracts.record_contract(
        db,
        agency,
        loader.blobs,
        tender.id,
        contracts.ContractInput(
            amount=amount,
            signed_on=today,
            # the supply year of the demo's consumables contract, from the week after signing
            starts_on=today + timedelta(days=7),
            ends_on=today + timedelta(days=7 + 364),
            performance_bond=amount // 20,  # 5% (R58: at most 10%)
            filename="签订的合同.pdf",
            blob_key=key,
        ),
    )
    held = db.scalars(
        select(BidSecurity)
        .where(BidSecurity.tender_id == tender.id, BidSecurity.status == SecurityStatus.held)
        .order_by(BidSecurity.id)
    ).all()
    for n, sec in enumerate(held[:-1], start=1):  # the last one stays held: a refund still to make
        securities.refund(db, agency, tender.id, sec.id, f"DEMO-REFUND-{tender.id}-{n:03d}")
    db.flush()
