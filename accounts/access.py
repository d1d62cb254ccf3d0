"""Who is acting at all: logged in, in one of the roles asked for. Feature packages add their own decisions
(tender.access for tenders)."""

from __future__ import annotations

from core.errors import N_, Forbidden, NotAuthenticated
from core.identity import Actor, Role


def require_login(actor: Actor) -> None:
    if actor.anonymous:
        raise NotAuthenticated.one("login_required", N_("Please log in first."))


def require_role(actor: Actor, *roles: Role) -> None:
    require_login(actor)
    if not actor.has(*roles):
        raise Forbidden.one(
            "role_required",
            N_("This needs the role: %(roles)s."),
            roles=", ".join(r.value for r in roles),
        )
