"""The demo's awarded and contracted tender (issue 14): given a tender whose publicity has ended, its
purchaser awards it to candidate no. 1 (R55), the award and result notices go out signed (L45), its agency
records the contract with its signed file (L46) and refunds every bid security but one (R57); that one stays
held, so that a monitor finds it overdue once its 5 days pass.

Called with the demo's loader (demo.county's: its session, blob store and signing key), through the same
services as everything else. Not wired into demo.county yet: the publicity of the demo's tenders comes with
the publicity feature."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accounts.models import User, actor_for
from award.decision import contracts, securities, services
from award.decision.models import BidSecurity, SecurityStatus
from core import clock
from core.identity import Actor, Role
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


def load(loader: Any, tender: Tender) -> None:
    db = loader.session
    signer = services.Signer(loader.blobs, loader.signer, loader.signer.name)
    purchaser = _actor(loader, tender.purchaser_id, Role.purchaser)
    agency = _actor(loader, tender.agency_id, Role.agency)
    award = services.confirm(db, purchaser, tender.id, 1, signer)
    key = loader.blobs.put([CONTRACT_FILE]).key
    contracts.record_contract(
        db,
        agency,
        loader.blobs,
        tender.id,
        contracts.ContractInput(
            amount=award.amount,
            signed_on=clock.to_cst(clock.now()).date(),
            starts_on=None,
            ends_on=None,
            performance_bond=award.amount // 20,  # 5% (R58: at most 10%)
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
