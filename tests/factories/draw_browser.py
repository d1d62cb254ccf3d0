"""The committee draw's browser tests' world (tests/e2e/test_expert_draw*.py): a tender past its deadline and
seven experts with accounts in one specialty, on the tests' own small SQLite database, and the party's step
of adding its random number on a page."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from accounts.models import Organisation, User
from accounts.passwords import hash_password
from core import clock, credit_code
from evaluation.pool.models import Expert, ExpertSpecialty, Specialty
from tender.models import Lot, Tender

PASSWORD = "Draw-e2e-2026-pass"
SPECIALTY = "E2E01"


def _world(session, tenders: int = 1) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """The agency, the supervising monitors (draw-monitor), `tenders` tenders past their deadline
    (E2E-DRAW-001, -002...) and seven experts."""
    import random

    rng = random.Random(5)
    hashed = hash_password(PASSWORD)

    def org(kind: str, name: str) -> Organisation:
        o = Organisation(credit_code=credit_code.generate(rng), name=name, kind=kind, region="E2E county")
        session.add(o)
        session.flush()
        return o

    agency, purchaser = org("agency", "抽取测试代理公司"), org("purchaser", "抽取测试采购人")
    supervisor = org("supervisor", "抽取测试监督局")
    agency_user = User(
        username="draw-agency",
        full_name="代理 测试",
        organisation_id=agency.id,
        roles=["agency"],
        password_hash=hashed,
    )
    session.add(agency_user)
    session.add(
        User(
            username="draw-monitor",
            full_name="监督 测试",
            organisation_id=supervisor.id,
            roles=["monitor"],
            password_hash=hashed,
        )
    )
    if session.get(Specialty, SPECIALTY) is None:
        session.add(
            Specialty(
                code=SPECIALTY,
                parent_code=None,
                name_zh="浏览器测试专业",
                name_en="Browser test specialty",
                kind="goods",
            )
        )
    session.flush()
    now = clock.now()
    ids = []
    for n in range(1, tenders + 1):
        ids.append(_tender(session, f"E2E-DRAW-{n:03d}", agency.id, purchaser.id, agency_user.id, now))
    for i in range(7):
        user = User(
            username=f"draw-expert{i + 1}",
            full_name=f"抽取专家{i + 1}",
            roles=["expert"],
            password_hash=hashed,
        )
        session.add(user)
        session.flush()
        expert = Expert(
            name=f"抽取专家{i + 1}",
            user_id=user.id,
            title="高级工程师",
            title_level="senior",
            years=12,
            region="Far county",
        )
        expert.specialties = [ExpertSpecialty(specialty_code=SPECIALTY)]
        session.add(expert)
    session.flush()
    return SimpleNamespace(tender_id=ids[0], tender_ids=ids)


def _tender(session, reference, agency_id, purchaser_id, user_id, now) -> int:  # type: ignore[no-untyped-def]
    tender = Tender(
        reference=reference,
        title="专家抽取浏览器测试项目",
        purchaser_id=purchaser_id,
        agency_id=agency_id,
        created_by=user_id,
        category="goods",
        region="E2E county",
        # evaluating, not bidding_closed: the browser tests run several apps in one process, and a closed
        # tender without bids is failed (R44) by the deadline task of any of them
        status="evaluating",
        bid_deadline=now - timedelta(hours=1),
        published_at=now - timedelta(days=25),
    )
    tender.lots = [Lot(number=1, name="办公家具", estimated_price=50_000_000, price_ceiling=52_000_000)]
    session.add(tender)
    session.flush()
    return tender.id


def add_number(page) -> None:  # type: ignore[no-untyped-def]
    """This party's random number: the page's button, then its fingerprint is in (the page reloads)."""
    page.locator("#draw-commit").wait_for(state="visible", timeout=30_000)
    page.locator("#draw-commit").click()
    page.locator("#draw-parties li[data-mine='true'] .fingerprint").wait_for(timeout=30_000)
    assert "Internal Server Error" not in page.inner_text("body")
