"""Organisations, users and actors, committed as an administrator would have made them.

Every test user has the password TEST_PASSWORD, hashed once per process: Argon2 is slow on purpose, and a
fresh hash per user would cost a noticeable part of a second each."""

from __future__ import annotations

import functools
import itertools
import random
from types import SimpleNamespace

from sqlalchemy.orm import Session

from accounts.models import Organisation, User, actor_for
from accounts.passwords import hash_password, strength_problems
from core import credit_code
from core.identity import Actor, anonymous

TEST_PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    # the users are made without accounts.create_user, so the strength rule it applies is checked here once
    assert not strength_problems(TEST_PASSWORD), (
        "TEST_PASSWORD must pass accounts.passwords.strength_problems"
    )
    return hash_password(TEST_PASSWORD)


def user(session: Session, org: Organisation | None, *roles: str, username: str, full_name: str) -> User:
    """The one user factory: a user of `org` (None: no organisation) with these roles and TEST_PASSWORD."""
    made = User(
        username=username,
        full_name=full_name,
        organisation_id=org.id if org else None,
        roles=list(roles),
        password_hash=password_hash(),
    )
    session.add(made)
    session.flush()
    session.refresh(made)
    return made


class Maker:
    """Quick organisations and users for tests (the `make` fixture)."""

    def __init__(self, session: Session):
        self.session = session
        self.n = 0

    def org(self, kind: str, name: str | None = None) -> Organisation:
        self.n += 1
        code = credit_code.generate(random.Random(self.n * 7919 + hash(kind) % 1000))
        org = Organisation(credit_code=code, name=name or f"{kind} {self.n}", kind=kind)
        self.session.add(org)
        self.session.flush()
        return org

    def user(self, org: Organisation | None, *roles: str, username: str | None = None) -> User:
        self.n += 1
        username = username or f"{roles[0] if roles else 'user'}{self.n}"
        return user(self.session, org, *roles, username=username, full_name=f"Test {self.n}")

    def actor(self, user: User, ip: str = "198.51.100.7") -> Actor:
        return actor_for(user, ip)


_serial = itertools.count(1)


def quick_user(db: Session, org: Organisation | None, *roles: str) -> User:
    """A user named after its first role and a number unique in the process."""
    n = next(_serial)
    return user(db, org, *roles, username=f"{roles[0]}-{n}", full_name=f"Person {n}")


def cast(db, make) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """Everyone who can touch a tender: its agency, another agency, purchaser, monitor, administrator,
    expert, trading centre staff, three bidder companies and the public."""
    w = SimpleNamespace()
    w.agency_org = make.org("agency", "Agency A")
    w.other_agency_org = make.org("agency", "Agency B")
    w.purchaser_org = make.org("purchaser", "County Education Bureau")
    w.supervisor_org = make.org("supervisor", "County Development and Reform Commission")
    w.centre_org = make.org("trading_centre", "County Public Resource Trading Centre")
    w.bidder_org = make.org("bidder", "Bidder One Ltd")
    w.other_bidder_org = make.org("bidder", "Bidder Two Ltd")
    w.third_bidder_org = make.org("bidder", "Bidder Three Ltd")
    w.agency_user = quick_user(db, w.agency_org, "agency")
    w.other_agency_user = quick_user(db, w.other_agency_org, "agency")
    w.purchaser_user = quick_user(db, w.purchaser_org, "purchaser")
    w.monitor_user = quick_user(db, w.supervisor_org, "monitor")
    w.admin_user = quick_user(db, w.centre_org, "admin")
    w.centre_user = quick_user(db, w.centre_org, "centre")
    w.expert_user = quick_user(db, None, "expert")
    w.bidder_user = quick_user(db, w.bidder_org, "bidder")
    w.bidder_colleague = quick_user(db, w.bidder_org, "bidder")
    w.other_bidder_user = quick_user(db, w.other_bidder_org, "bidder")
    w.third_bidder_user = quick_user(db, w.third_bidder_org, "bidder")
    for name in (
        "agency",
        "other_agency",
        "purchaser",
        "monitor",
        "admin",
        "centre",
        "expert",
        "bidder",
        "other_bidder",
        "third_bidder",
    ):
        setattr(w, name, make.actor(getattr(w, f"{name}_user")))
    w.colleague = make.actor(w.bidder_colleague)
    w.anon = anonymous("203.0.113.9")
    w.holders = [w.agency_user.id, w.monitor_user.id, w.centre_user.id]
    w.db = db
    return w
