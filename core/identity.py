"""Who acts: organisation kinds, roles and the acting person (Actor) that every service and every audit entry
receives. The accounts themselves (organisations, users, passwords) are in the accounts package."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


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


def make_actor(
    user_id: int,
    username: str,
    roles: list[str] | None,
    organisation_id: int | None,
    organisation_kind: str | None,
    ip: str = "",
    role: str | None = None,
) -> Actor:
    """A user acting in `role` if it is one of theirs, else in the first of their roles."""
    held = frozenset(roles or [])
    acting = role if role in held else (sorted(held)[0] if held else None)
    return Actor(
        user_id=user_id,
        username=username,
        role=acting,
        organisation_id=organisation_id,
        ip=ip,
        roles=held,
        organisation_kind=organisation_kind,
    )
