"""Organisations and users: login with throttling, administration. Lives above audit so that every
change and every login attempt is recorded (E49)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import ColumnElement, bindparam, delete, func, select
from sqlalchemy.orm import Session, selectinload

from accounts import access
from accounts.events import AccountTag
from accounts.models import LoginAttempt, Notification, Organisation, User, actor_for
from accounts.passwords import hash_password, needs_rehash, strength_problems, verify_password
from audit import record
from core import clock, credit_code
from core.disclosure import Fact
from core.errors import N_, NotFound, Problem, TooManyAttempts, ValidationFailed
from core.identity import ROLE_ORG_KIND, Actor, OrgKind, Role, make_actor
from core.settings import Settings

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


@cache
def _dummy_hash() -> str:
    return hash_password("no such user: dummy password")


@dataclass(frozen=True)
class LoginPolicy:
    """How failed password checks slow the next ones down (policy; E49 records every attempt).

    No account is ever locked: user names are public, and a lock lets anyone shut a bidder out before a bid
    deadline or a key holder out of an opening with five wrong passwords. Failures are counted instead per
    (account, address) pair, and past the free ones the pair's next attempt waits a delay that doubles with
    each further failure (first_delay, 2x, 4x, ... up to max_delay), answered at once with 429 and the wait:

    - pair: `max_failures` free failures of one account from one address, then the doubling delay;
    - address: `address_max_failures` free failures from one address over all accounts (spraying one
      password at many names), then the doubling delay for every login from that address;
    - account: once an account has `account_max_failures` failures from all addresses together (guessing
      from many addresses), an address that has itself failed on the account waits `account_delay` after the
      account's last failure. It is short on purpose, and an address with no failure of its own on the
      account is never delayed by it: the owner, from their usual address, always logs in.

    Failures older than `window` are forgotten; a login that succeeds forgets its own pair's failures only
    (a stranger's failures on the same account keep counting against the stranger)."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=5)
    address_max_failures: int = 20
    account_max_failures: int = 100
    account_delay: timedelta = timedelta(seconds=2)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(
            max_failures=settings.login_max_failures,
            window=timedelta(seconds=settings.login_window_seconds),
            first_delay=timedelta(seconds=settings.login_first_delay_seconds),
            max_delay=timedelta(seconds=settings.login_max_delay_seconds),
            address_max_failures=settings.login_address_max_failures,
            account_max_failures=settings.login_account_max_failures,
            account_delay=timedelta(seconds=settings.login_account_delay_seconds),
        )


def backoff(failures: int, free: int, first: timedelta, cap: timedelta) -> timedelta:
    """The wait after `failures` failures of which `free` cost nothing (policy): 0, then first, 2 x first, ...
    never more than cap."""
    if failures < free:
        return timedelta(0)
    return min(first * 2 ** min(failures - free, 40), cap)  # 2**40 seconds is past any cap: no overflow


@dataclass(frozen=True)
class Failures:
    count: int = 0
    last: datetime | None = None

    def wait(self, delay: timedelta, now: datetime) -> timedelta:
        return clock.as_utc(self.last) + delay - now if self.last is not None and delay else timedelta(0)


@dataclass(frozen=True)
class Throttle:
    pair: Failures
    address: Failures
    account: Failures

    def wait(self, policy: LoginPolicy, now: datetime) -> timedelta:
        """How long the next attempt from this pair must still wait (policy; zero or less: it may go
        ahead)."""
        waits = [
            self.pair.wait(
                backoff(self.pair.count, policy.max_failures, policy.first_delay, policy.max_delay), now
            ),
            self.address.wait(
                backoff(
                    self.address.count, policy.address_max_failures, policy.first_delay, policy.max_delay
                ),
                now,
            ),
        ]
        if self.pair.count and self.account.count >= policy.account_max_failures:
            waits.append(self.account.wait(policy.account_delay, now))
        return max(waits)


def throttle(session: Session, username: str, ip: str, window: timedelta) -> Throttle:
    """The failures that count for an attempt on `username` from `ip`."""
    since = clock.now() - window

    def failures(*where: ColumnElement[bool]) -> Failures:
        count, last = session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(LoginAttempt.at >= since, *where)
        ).one()
        return Failures(int(count or 0), last)

    by_user = LoginAttempt.username == username
    return Throttle(
        failures(by_user, LoginAttempt.ip == ip), failures(LoginAttempt.ip == ip), failures(by_user)
    )


def _wait_seconds(session: Session, username: str, ip: str, policy: LoginPolicy) -> tuple[int, Throttle]:
    found = throttle(session, username, ip, policy.window)
    return math.ceil(found.wait(policy, clock.now()).total_seconds()), found


def _throttled(seconds: int) -> TooManyAttempts:
    return TooManyAttempts.one(
        "login_throttled",
        N_("Too many failed attempts from your address. Wait %(seconds)s seconds and try again."),
        seconds=seconds,
    )


def _throttle_details(found: Throttle, seconds: int) -> dict[str, int]:
    return {
        "failures": found.pair.count,
        "failures_from_address": found.address.count,
        "failures_of_account": found.account.count,
        "wait_seconds": seconds,
    }


def authenticate(
    session: Session, username: str, password: str, ip: str, policy: LoginPolicy | None = None
) -> User:
    """Check a password, slowed down per (account, address) pair, per address and per account (LoginPolicy);
    every attempt is audited."""
    policy = policy or LoginPolicy()
    username = username.strip()
    seconds, found = _wait_seconds(session, username, ip, policy)
    if seconds > 0:
        record(
            session,
            AccountTag.auth_login_throttled,
            actor=Actor(None, username, None, None, ip),
            subject=f"login:{username}",
            details=_throttle_details(found, seconds),
            withhold=Fact.login,  # E49: recorded, never published (docs/disclosure.md)
        )
        raise _throttled(seconds).keep()  # its audit entry stays on record for the monitors (E49)
    user = session.scalars(
        select(User).where(User.username == username).options(selectinload(User.organisation))
    ).one_or_none()
    # An unknown name costs the same hashing time as a known one, so timing does not reveal which names exist.
    stored = user.password_hash if user is not None else _dummy_hash()
    if not verify_password(stored, password) or user is None or not user.active:
        # the time of the attempt, not of the flush that writes it (a model default is read at the flush)
        session.add(LoginAttempt(username=username, ip=ip, at=clock.now()))
        record(
            session,
            AccountTag.auth_login_failed,
            actor=Actor(None, username, None, None, ip),
            subject=f"login:{username}",
            details={},
            withhold=Fact.login,  # E49: recorded, never published (docs/disclosure.md)
        )
        # kept: throttling counts the attempt, and the monitors see its audit entry (E49)
        wrong = ValidationFailed.one("login_failed", N_("The user name or password is wrong."), "password")
        raise wrong.keep()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # only this pair's failures: a stranger's failures on the account from elsewhere keep counting against
    # them
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.ip == ip))
    user.last_login_at = clock.now()
    record(
        session,
        AccountTag.auth_login_succeeded,
        actor=actor_for(user, ip),
        subject=f"user:{user.id}",
        details={},
        withhold=Fact.login,  # E49: recorded, never published (docs/disclosure.md)
    )
    return user


def logout(session: Session, actor: Actor) -> None:
    if not actor.anonymous:
        record(
            session,
            AccountTag.auth_logout,
            actor=actor,
            subject=f"user:{actor.user_id}",
            details={},
            withhold=Fact.login,
        )


_ACTOR = (  # built once: building the statement costs more than running it
    select(User.id, User.username, User.roles, User.organisation_id, Organisation.kind, User.session_epoch)
    .outerjoin(Organisation, Organisation.id == User.organisation_id)
    .where(User.id == bindparam("user_id"), User.active.is_(True))
)


def load_actor(session: Session, user_id: int, ip: str, role: str | None, epoch: int = 0) -> Actor | None:
    """The acting person of a logged-in request (None: no such active user, or a session of an earlier epoch:
    the password was changed since it logged in), as actor_for gives it for the user, in one plain query:
    every logged-in request pays for it."""
    row = session.connection().execute(_ACTOR, {"user_id": user_id}).first()  # Core: no ORM result machinery
    if row is None or row.session_epoch != epoch:
        return None
    return make_actor(*row[:5], ip=ip, role=role)


# ---------------------------------------------------------------- administration


@dataclass
class OrgInput:
    credit_code: str
    name: str
    kind: str
    region: str = ""
    legal_representative: str = ""
    contact_phone: str = ""
    address: str = ""
    active: bool = True


@dataclass
class UserInput:
    username: str
    full_name: str
    organisation_id: int | None
    roles: list[str]
    email: str = ""
    phone: str = ""
    password: str = ""  # empty on update: unchanged
    active: bool = True


def _org_problems(session: Session, data: OrgInput, org_id: int | None) -> list[Problem]:
    problems = []
    code = credit_code.normalise(data.credit_code)
    why = credit_code.problem(code)
    if why:
        problems.append(
            Problem(
                "credit_code_invalid",
                N_("The unified social credit code is not valid: %(why)s."),
                "credit_code",
                {"why": why},
                "GB 32100-2015",
            )
        )
    else:
        other = session.scalar(select(Organisation.id).where(Organisation.credit_code == code))
        if other is not None and other != org_id:
            problems.append(
                Problem(
                    "credit_code_taken",
                    N_("An organisation with this credit code is already registered."),
                    "credit_code",
                )
            )
    if not data.name.strip():
        problems.append(Problem("name_missing", N_("Give the organisation's registered name."), "name"))
    if data.kind not in OrgKind.__members__:
        problems.append(Problem("kind_invalid", N_("Choose the kind of organisation."), "kind"))
    return problems


def create_organisation(session: Session, actor: Actor, data: OrgInput) -> Organisation:
    access.require_role(actor, Role.admin)
    problems = _org_problems(session, data, None)
    if problems:
        raise ValidationFailed(problems)
    org = Organisation(
        credit_code=credit_code.normalise(data.credit_code),
        name=data.name.strip(),
        kind=data.kind,
        region=data.region.strip(),
        legal_representative=data.legal_representative.strip(),
        contact_phone=data.contact_phone.strip(),
        address=data.address.strip(),
        active=data.active,
    )
    session.add(org)
    session.flush()
    record(
        session,
        AccountTag.org_created,
        actor=actor,
        subject=f"org:{org.id}",
        details={"credit_code": org.credit_code, "name": org.name, "kind": org.kind},
    )
    return org


def update_organisation(session: Session, actor: Actor, org_id: int, data: OrgInput) -> Organisation:
    access.require_role(actor, Role.admin)
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound.one("org_not_found", N_("No such organisation."))
    problems = _org_problems(session, data, org_id)
    if problems:
        raise ValidationFailed(problems)
    if data.kind != org.kind and session.scalar(
        select(func.count()).select_from(User).where(User.organisation_id == org.id)
    ):
        raise ValidationFailed.one(
            "kind_locked", N_("The kind of an organisation with users cannot change."), "kind"
        )
    org.credit_code, org.name, org.kind = (
        credit_code.normalise(data.credit_code),
        data.name.strip(),
        data.kind,
    )
    org.region, org.legal_representative = data.region.strip(), data.legal_representative.strip()
    org.contact_phone, org.address, org.active = data.contact_phone.strip(), data.address.strip(), data.active
    record(
        session,
        AccountTag.org_updated,
        actor=actor,
        subject=f"org:{org.id}",
        details={"credit_code": org.credit_code, "name": org.name, "active": org.active},
    )
    return org


def _user_problems(session: Session, data: UserInput, user_id: int | None) -> list[Problem]:
    problems = []
    if not USERNAME.match(data.username.strip()):
        problems.append(
            Problem(
                "username_invalid",
                N_("A user name has 3 to 64 letters, digits, dots, dashes or underscores."),
                "username",
            )
        )
    else:
        other = session.scalar(select(User.id).where(User.username == data.username.strip()))
        if other is not None and other != user_id:
            problems.append(
                Problem("username_taken", N_("This user name is taken; choose another."), "username")
            )
    if not data.full_name.strip():
        problems.append(Problem("full_name_missing", N_("Give the person's full name."), "full_name"))
    org = session.get(Organisation, data.organisation_id) if data.organisation_id else None
    if user_id is None or data.password:
        words = [data.username, data.full_name, data.email, data.phone, org.name if org else ""]
        problems += strength_problems(data.password, words, "password")
    if data.organisation_id and org is None:
        problems.append(Problem("org_not_found", N_("No such organisation."), "organisation_id"))
    if not data.roles:
        problems.append(Problem("roles_missing", N_("Give the user at least one role."), "roles"))
    for role in data.roles:
        if role not in Role.__members__:
            problems.append(Problem("role_invalid", N_("Unknown role %(role)s."), "roles", {"role": role}))
            continue
        allowed = ROLE_ORG_KIND[Role(role)]
        kind = OrgKind(org.kind) if org else None
        if kind not in allowed:
            problems.append(
                Problem(
                    "role_org_mismatch",
                    N_("The role %(role)s does not fit this organisation's kind."),
                    "roles",
                    {"role": role},
                )
            )
    return problems


def create_user(session: Session, actor: Actor, data: UserInput) -> User:
    access.require_role(actor, Role.admin)
    problems = _user_problems(session, data, None)
    if problems:
        raise ValidationFailed(problems)
    user = User(
        username=data.username.strip(),
        full_name=data.full_name.strip(),
        email=data.email.strip(),
        phone=data.phone.strip(),
        organisation_id=data.organisation_id or None,
        roles=sorted(set(data.roles)),
        active=data.active,
        password_hash=hash_password(data.password),
    )
    session.add(user)
    session.flush()
    record(
        session,
        AccountTag.user_created,
        actor=actor,
        subject=f"user:{user.id}",
        details={"username": user.username, "roles": user.roles, "organisation": user.organisation_id},
    )
    return user


def update_user(session: Session, actor: Actor, user_id: int, data: UserInput) -> User:
    access.require_role(actor, Role.admin)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound.one("user_not_found", N_("No such user."))
    problems = _user_problems(session, data, user_id)
    if user_id == actor.user_id and (Role.admin.value not in data.roles or not data.active):
        problems.append(
            Problem(
                "self_lockout",
                N_("You cannot remove your own administrator role or deactivate yourself."),
                "roles",
            )
        )
    if problems:
        raise ValidationFailed(problems)
    user.username, user.full_name, user.email, user.phone = (
        data.username.strip(),
        data.full_name.strip(),
        data.email.strip(),
        data.phone.strip(),
    )
    user.organisation_id, user.roles, user.active = (
        data.organisation_id or None,
        sorted(set(data.roles)),
        data.active,
    )
    if data.password:
        user.password_hash = hash_password(data.password)
        user.session_epoch += 1  # a reset password ends the user's sessions: whoever had the old one is out
        record(session, AccountTag.user_password_changed, actor=actor, subject=f"user:{user.id}", details={})
    record(
        session,
        AccountTag.user_updated,
        actor=actor,
        subject=f"user:{user.id}",
        details={"username": user.username, "roles": user.roles, "active": user.active},
    )
    return user


def change_password(
    session: Session, actor: Actor, current: str, new: str, policy: LoginPolicy | None = None
) -> int:
    """Change the actor's own password; returns the user's new session epoch. Every other session of the user
    ends (load_actor refuses a session of an earlier epoch): the caller keeps its own by storing the epoch.

    The current-password check tells whether a password is right as a login does, so it is throttled as one
    (the same failures, LoginPolicy) and each refusal of it is audited and kept (E49)."""
    access.require_login(actor)
    policy = policy or LoginPolicy()
    user = session.get(User, actor.user_id)
    assert user is not None
    seconds, found = _wait_seconds(session, user.username, actor.ip, policy)
    if seconds > 0:
        details: dict[str, object] = {"reason": "throttled", **_throttle_details(found, seconds)}
        record(
            session,
            AccountTag.user_password_change_refused,
            actor=actor,
            subject=f"user:{user.id}",
            details=details,
        )
        raise _throttled(seconds).keep()
    if not verify_password(user.password_hash, current):
        session.add(LoginAttempt(username=user.username, ip=actor.ip, at=clock.now()))
        record(
            session,
            AccountTag.user_password_change_refused,
            actor=actor,
            subject=f"user:{user.id}",
            details={"reason": "current_wrong"},
        )
        # kept: the failure counts for throttling, and the monitors see its audit entry (E49)
        raise ValidationFailed.one("password_wrong", N_("Your current password is wrong."), "current").keep()
    org = user.organisation
    problems = strength_problems(
        new, [user.username, user.full_name, user.email, user.phone, org.name if org else ""], "new"
    )
    if not problems and verify_password(user.password_hash, new):
        problems.append(
            Problem("password_reused", N_("The new password must differ from the current one."), "new")
        )  # policy
    if problems:
        raise ValidationFailed(problems)
    user.password_hash = hash_password(new)
    user.session_epoch += 1
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.username == user.username, LoginAttempt.ip == actor.ip)
    )
    record(session, AccountTag.user_password_changed, actor=actor, subject=f"user:{user.id}", details={})
    return user.session_epoch


def list_organisations(session: Session, actor: Actor) -> list[Organisation]:
    access.require_role(actor, Role.admin)
    return list(session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)))


def list_users(session: Session, actor: Actor) -> list[User]:
    access.require_role(actor, Role.admin)
    return list(
        session.scalars(select(User).options(selectinload(User.organisation)).order_by(User.username))
    )


def notifications(session: Session, actor: Actor, limit: int = 50) -> list[Notification]:
    access.require_login(actor)
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == actor.user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, actor: Actor) -> int:
    if actor.anonymous:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, actor: Actor) -> None:
    access.require_login(actor)
    for n in session.scalars(
        select(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
    ):
        n.read_at = clock.now()


def organisation_names(session: Session) -> dict[int, str]:
    """Organisation names by id, for the feed's filter and its rows."""
    return dict(
        session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name)).tuples().all()
    )
