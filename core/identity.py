"""Organisations, users, roles, passwords and the acting person (Actor) that every service receives."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core import clock
from core.db import Base


class OrgKind(enum.StrEnum):
    purchaser = "purchaser"
    agency = "agency"
    bidder = "bidder"
    intermediary = "intermediary"
    trading_centre = "trading_centre"
    supervisor = "supervisor"


class Role(enum.StrEnum):
    agency = "agency"  # 招标代理 staff
    purchaser = "purchaser"  # 招标人
    bidder = "bidder"  # 投标人
    expert = "expert"  # 评标专家
    centre = "centre"  # trading centre staff (key holder, opening host)
    monitor = "monitor"  # 监督人员
    intermediary = "intermediary"  # 中介机构
    project_owner = "project_owner"  # 项目业主
    admin = "admin"


# Which organisation kind a role's holder must belong to (None: a person without an organisation).
ROLE_ORG_KIND: dict[Role, set[OrgKind | None]] = {
    Role.agency: {OrgKind.agency},
    Role.purchaser: {OrgKind.purchaser},
    Role.bidder: {OrgKind.bidder},
    Role.expert: {None, OrgKind.trading_centre},
    Role.centre: {OrgKind.trading_centre},
    Role.monitor: {OrgKind.supervisor},
    Role.intermediary: {OrgKind.intermediary},
    Role.project_owner: {OrgKind.purchaser},
    Role.admin: {OrgKind.trading_centre},
}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    region: Mapped[str] = mapped_column(String(100), default="")
    legal_representative: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")


class LoginAttempt(Base):
    """Failed logins, kept for throttling (by account and by network address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=clock.now)


class Notification(Base):
    """A message shown in the product to a user (and, through an adapter, sent by SMS or e-mail)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String(4000), default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which role, from where. Every service takes one; every audit entry records one."""

    user_id: int | None
    username: str
    role: str | None
    organisation_id: int | None
    ip: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    organisation_kind: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.user_id is None

    def has(self, *roles: Role) -> bool:
        return any(r.value in self.roles for r in roles)


def anonymous(ip: str = "") -> Actor:
    return Actor(user_id=None, username="", role=None, organisation_id=None, ip=ip)


SYSTEM = Actor(user_id=None, username="system", role="system", organisation_id=None, ip="")


def actor_for(user: User, ip: str = "", role: str | None = None) -> Actor:
    org = user.organisation
    return make_actor(user.id, user.username, user.roles, user.organisation_id, org.kind if org else None, ip, role)


def make_actor(user_id: int, username: str, roles: list[str] | None, organisation_id: int | None, organisation_kind: str | None,
               ip: str = "", role: str | None = None) -> Actor:
    """A user acting in `role` if it is one of theirs, else in the first of their roles."""
    held = frozenset(roles or [])
    acting = role if role in held else (sorted(held)[0] if held else None)
    return Actor(user_id=user_id, username=username, role=acting, organisation_id=organisation_id, ip=ip, roles=held,
                 organisation_kind=organisation_kind)


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def recent_failures(session: Session, username: str, ip: str, window: timedelta) -> tuple[int, int]:
    since = clock.now() - window
    by_user = session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.at >= since)
    )
    by_ip = session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.ip == ip, LoginAttempt.at >= since))
    return int(by_user or 0), int(by_ip or 0)


def notify(session: Session, user_ids: set[int], kind: str, title: str, body: str = "", link: str = "") -> None:
    for uid in sorted(user_ids):
        session.add(Notification(user_id=uid, kind=kind, title=title, body=body, link=link))
