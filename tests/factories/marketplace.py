"""The marketplace's test world: the shipped catalogue, intermediaries (applied, approved), a project owner
and an administrator (the `market` fixture of tests/marketplace builds it with `market_world`)."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.orm import Session

from accounts.models import Organisation
from core import clock
from core.identity import Actor
from marketplace import documents, entries, rules
from storage import BlobStore, LocalBlobStore
from tender import sealing
from tests.factories.accounts import Maker

FAR = date(2030, 12, 31)
# The owner's purchase key for sealed quotes (marketplace.sealedquotes): in the tests one fixed pair, made
# here as the owner's browser or `etender keys new` would make it on the owner's side.
QUOTE_PRIVATE = X25519PrivateKey.from_private_bytes(hashlib.sha256(b"etender test purchase key").digest())
QUOTE_PUBLIC = sealing.b64u(sealing.public_bytes(QUOTE_PRIVATE))
QUOTE_PRIVATE_TEXT = sealing.b64u(QUOTE_PRIVATE.private_bytes_raw())


def entry_input(
    services: list[str] | None = None, expires_on: date = FAR, **changes: object
) -> rules.EntryInput:
    """A complete application for `services` (default: testing, which needs the CMA qualification)."""
    data = rules.EntryInput(
        services=services or ["testing"],
        licence_number="91130200MA0ABCDE1X",
        independent_legal_person=True,
        no_violation_3y=True,
        internal_rules=True,
        credit_report="信用中国 2026-11 报告",
        commitment_signed_by="张三",
        qualifications=[
            rules.Qualification("检验检测机构资质认定（CMA）", "甲级", expires_on),
            rules.Qualification("工程勘察资质", "乙级", expires_on),
        ],
        staff=[rules.Staff("李四", "注册检测师", "JC-0001")],
    )
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def intermediary(make: Maker, name: str, region: str = "") -> tuple[Organisation, Actor]:
    org = make.org("intermediary", name)
    org.region = region
    return org, make.actor(make.user(org, "intermediary"))


def approved(
    db: Session, make: Maker, admin: Actor, name: str, services: list[str] | None = None, region: str = ""
) -> tuple[Organisation, Actor]:
    org, actor = intermediary(make, name, region)
    entry = entries.submit_entry(db, actor, entry_input(services))
    entries.approve_entry(db, admin, entry.id)
    return org, actor


def market_world(db: Session, make: Maker) -> SimpleNamespace:
    entries.load_catalogue(db)
    centre = make.org("trading_centre", "县公共资源交易中心")
    owner_org = make.org("purchaser", "县水利局")
    w = SimpleNamespace(db=db, make=make)
    w.admin = make.actor(make.user(centre, "admin"))
    w.owner_org = owner_org
    w.owner = make.actor(make.user(owner_org, "project_owner"))
    w.soon = clock.now() + timedelta(days=3)
    # the purchases' files (the signed contract, the service result) go to a store of the world's own
    w.blobs = LocalBlobStore(Path(tempfile.mkdtemp(prefix="etender-market-")) / "blobs")
    db.flush()
    return w


SIGNED = b"%PDF-1.7\n% the signed service contract, as both sides signed it\n%%EOF\n"
RESULT = b"%PDF-1.7\n% the intermediary's service result (a test report)\n%%EOF\n"


def stored(store: BlobStore, name: str = "服务合同.pdf", content: bytes = SIGNED) -> documents.Stored:
    """A file put into blob storage as the contract's or the result's form puts it."""
    return documents.store_file(store, name, [content])


def purchase_input(
    method: str = "optimal",
    ceiling_fen: int = 50_000_000,
    state_funds: bool = True,
    service: str = "testing",
    **changes: object,
) -> rules.PurchaseInput:
    now = clock.now()
    data = rules.PurchaseInput(
        service_code=service,
        project="某河道治理工程水质检测",
        ceiling_fen=ceiling_fen,
        requirements="CMA 资质，三名以上检测人员",
        state_funds=state_funds,
        method=method,
        signup_deadline=now + timedelta(days=3),
        selection_at=now + timedelta(days=3),
        quote_key=QUOTE_PUBLIC if method in rules.PRICED else "",
    )
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def select_now(db: Session, owner: Actor, purchase_id: int, value: bytes = bytes(range(32, 64))) -> None:
    """Close sign-up (the clock past the deadline), then the owner commits and reveals `value` and, for
    sealed quotes, releases the purchase key."""
    from marketplace import purchases

    purchases.close_signup(db, owner, purchase_id)
    purchases.commit_contribution(db, owner, purchase_id, hashlib.sha256(value).hexdigest())
    purchases.reveal_contribution(db, owner, purchase_id, value.hex())
    if purchases.quotes_waiting(purchases.get(db, purchase_id)):
        purchases.release_quotes(db, owner, purchase_id, QUOTE_PRIVATE_TEXT)


def selected_world(db: Session, make: Maker) -> SimpleNamespace:
    """Three approved testing firms, a monitor, and a random-draw purchase of the owner's, selected (the
    clock moves 3 days): w.p, its chosen firm's actor w.chosen and another firm's w.other."""
    from marketplace import purchases

    w = market_world(db, make)
    w.firms = [approved(db, make, w.admin, f"检测公司{i}") for i in range(3)]
    w.monitor = make.actor(make.user(make.org("supervisor", "县发改局"), "monitor"))
    p = purchases.post(db, w.owner, purchase_input("random", ceiling_fen=1_000_000))
    for _, actor in w.firms:
        purchases.sign_up(db, actor, p.id, None)
    clock.shift(timedelta(days=3, seconds=1))
    select_now(db, w.owner, p.id)
    w.p = p
    w.chosen = next(a for o, a in w.firms if o.id == p.chosen_org_id)
    w.other = next(a for o, a in w.firms if o.id != p.chosen_org_id)
    return w
