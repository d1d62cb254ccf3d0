"""The expert pool's services: register and edit experts, their status with its history, employment,
declared conflicts and unavailable dates; search. Administrators manage the pool; an expert may read their
own record and declare their own conflicts and unavailable dates. Every change is audited; the personal
data (name, identity number, contact details) goes in the entry's confidential part, since the pool is
never public."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from accounts.models import User
from audit import record
from core import clock, credit_code
from core.disclosure import Fact
from core.errors import N_, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from evaluation.events import EvaluationTag
from evaluation.pool import rules
from evaluation.pool.models import (
    Expert,
    ExpertConflict,
    ExpertEmployment,
    ExpertSpecialty,
    ExpertStatusChange,
    ExpertUnavailability,
    Specialty,
)
from tender import access

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass
class ExpertInput:
    name: str
    id_number: str
    title: str
    title_level: str
    years: int | None
    specialties: list[str]
    employer_code: str = ""
    employer_name: str = ""
    region: str = ""
    phone: str = ""
    email: str = ""
    user_id: int | None = None
    # The expert's login account by user name: None leaves the link as it is, "" removes it.
    account: str | None = None


@dataclass
class EmploymentInput:
    org_code: str
    org_name: str
    start: date | None
    end: date | None = None  # None: still employed there
    position: str = ""


@dataclass
class ConflictInput:
    kind: str
    org_code: str
    org_name: str
    start: date | None = None
    end: date | None = None
    note: str = ""


@dataclass
class ExpertQuery:
    q: str = ""  # name, identity number, employer or phone
    specialty: str = ""  # this specialty and every one below it
    status: str = ""
    region: str = ""
    title_level: str = ""
    page: int = 1
    page_size: int = PAGE_SIZE


@dataclass
class ExpertPage:
    items: list[Expert]
    total: int
    page: int
    page_size: int
    pages: int
    query: ExpertQuery = field(default_factory=ExpertQuery)


# ---------------------------------------------------------------- access


def require_admin(actor: Actor) -> None:
    access.require_role(actor, Role.admin)


def _load(session: Session, expert_id: int) -> Expert:
    expert = session.scalars(
        select(Expert)
        .where(Expert.id == expert_id)
        .options(
            selectinload(Expert.specialties),
            selectinload(Expert.employments),
            selectinload(Expert.conflicts),
            selectinload(Expert.unavailable),
            selectinload(Expert.status_history),
        )
    ).one_or_none()
    if expert is None:
        raise NotFound.one("expert_not_found", N_("No such expert in the pool."))
    return expert


def _require_admin_or_self(actor: Actor, expert: Expert) -> None:
    access.require_login(actor)
    if actor.has(Role.admin):
        return
    if actor.has(Role.expert) and expert.user_id is not None and expert.user_id == actor.user_id:
        return
    # The pool is never public: another person learns nothing, not even that the record exists.
    raise NotFound.one("expert_not_found", N_("No such expert in the pool."))


def get_expert(session: Session, actor: Actor, expert_id: int) -> Expert:
    access.require_login(actor)
    if not actor.has(Role.admin, Role.expert):
        raise Forbidden.one("role_required", N_("This needs the role: %(roles)s."), roles="admin, expert")
    expert = _load(session, expert_id)
    _require_admin_or_self(actor, expert)
    return expert


def expert_of(session: Session, actor: Actor) -> Expert | None:
    """The pool record of the signed-in expert, if their account is linked to one."""
    access.require_role(actor, Role.expert)
    expert_id = session.scalar(select(Expert.id).where(Expert.user_id == actor.user_id))
    return _load(session, expert_id) if expert_id is not None else None


# ---------------------------------------------------------------- validation


def known_specialties(session: Session) -> set[str]:
    return set(session.scalars(select(Specialty.code)))


def expert_problems(
    data: ExpertInput, specialties: set[str], taken_by: int | None, expert_id: int | None
) -> list[Problem]:
    """Everything wrong with an expert's data, each naming its field. `taken_by` is the expert that already
    holds the identity number, if any."""
    problems: list[Problem] = []

    def bad(code: str, message: str, name: str, rule: str | None = None, **params: Any) -> None:
        problems.append(Problem(code=code, message=message, field=name, params=params, rule=rule))

    if not data.name.strip():
        bad("name_missing", N_("Give the expert's full name."), "name")
    elif len(data.name.strip()) > 100:
        bad("name_too_long", N_("The name is longer than 100 characters."), "name")
    why = rules.id_number_problem(data.id_number)
    if why:
        bad("id_number_invalid", why, "id_number", "GB 11643")
    elif taken_by is not None and taken_by != expert_id:
        bad(
            "id_number_taken",
            N_(
                "Another expert in the pool (no. %(other)s) has this identity number; edit that record "
                "instead."
            ),
            "id_number",
            other=taken_by,
        )
    if not data.title.strip():
        bad("title_missing", N_("Give the professional title, e.g. 高级工程师."), "title")
    if data.title_level not in rules.TITLE_LEVELS:
        bad(
            "title_level_invalid",
            N_("Choose the level of the title: full senior, associate senior, intermediate or junior."),
            "title_level",
        )
    elif not rules.has_senior_title(data.title_level):
        bad(
            "title_not_senior",
            N_(
                "Experts need a senior professional title (associate senior or above) to be registered in "
                "the pool."
            ),
            "title_level",
            "L37",
        )
    if data.years is None:
        bad("years_invalid", N_("Give the years of work in the field as a whole number, e.g. 12."), "years")
    elif not 0 <= data.years <= rules.MAX_YEARS:
        bad(
            "years_out_of_range",
            N_("The years of work must be between 0 and %(max)s."),
            "years",
            max=rules.MAX_YEARS,
        )
    elif not rules.has_enough_years(data.years):
        bad(
            "years_too_few",
            N_("Experts need at least %(min)s years of work in their field; %(years)s is not enough."),
            "years",
            "L37",
            min=rules.MIN_YEARS,
            years=data.years,
        )
    if not data.specialties:
        bad("specialties_missing", N_("Choose at least one specialty from the catalogue."), "specialties")
    unknown = sorted(set(data.specialties) - specialties)
    if unknown:
        bad(
            "specialty_unknown",
            N_("Not in the specialty catalogue: %(codes)s. Use codes such as A0101."),
            "specialties",
            codes=", ".join(unknown),
        )
    if data.employer_code:
        why = credit_code.problem(data.employer_code)
        if why:
            bad(
                "employer_code_invalid",
                N_("The employer's unified social credit code is not valid: %(why)s."),
                "employer_code",
                "GB 32100-2015",
                why=why,
            )
    if data.employer_code and not data.employer_name.strip():
        bad(
            "employer_name_missing",
            N_("Give the employer's registered name beside its credit code."),
            "employer_name",
        )
    if not rules.phone_ok(data.phone):
        bad(
            "phone_invalid",
            N_("The telephone number is not valid: use digits, spaces and hyphens, e.g. 13812345678."),
            "phone",
        )
    if not rules.email_ok(data.email):
        bad("email_invalid", N_("The e-mail address is not valid, e.g. name@example.com."), "email")
    return problems


def clean(data: ExpertInput) -> ExpertInput:
    return ExpertInput(
        name=data.name.strip(),
        id_number=rules.normalise_id_number(data.id_number),
        title=data.title.strip(),
        title_level=data.title_level.strip(),
        years=data.years,
        specialties=sorted({c.strip().upper() for c in data.specialties if c.strip()}),
        employer_code=credit_code.normalise(data.employer_code) if data.employer_code.strip() else "",
        employer_name=data.employer_name.strip(),
        region=data.region.strip(),
        phone=data.phone.strip(),
        email=data.email.strip(),
        user_id=data.user_id,
        account=data.account.strip() if data.account is not None else None,
    )


def _account(session: Session, data: ExpertInput, expert_id: int | None) -> tuple[int | None, list[Problem]]:
    """The user id the account name links to (data.user_id when no name is given)."""
    if data.account is None:
        return data.user_id, []
    if not data.account:
        return None, []
    user = session.scalar(select(User).where(User.username == data.account))
    if user is None or not user.active:
        return None, [
            Problem(
                "account_unknown",
                N_("There is no active user account named %(name)s; create it first with the role expert."),
                "account",
                {"name": data.account},
            )
        ]
    if Role.expert.value not in (user.roles or []):
        return None, [
            Problem(
                "account_not_expert",
                N_("The account %(name)s does not hold the role expert; give it that role first."),
                "account",
                {"name": data.account},
            )
        ]
    other = session.scalar(select(Expert.id).where(Expert.user_id == user.id))
    if other is not None and other != expert_id:
        return None, [
            Problem(
                "account_taken",
                N_("The account %(name)s is already linked to expert no. %(other)s."),
                "account",
                {"name": data.account, "other": other},
            )
        ]
    return user.id, []


def _taken_by(session: Session, id_number: str) -> int | None:
    return session.scalar(select(Expert.id).where(Expert.id_number == id_number)) if id_number else None


def _personal(expert: Expert) -> dict[str, Any]:
    return {"name": expert.name, "id_number": expert.id_number, "phone": expert.phone, "email": expert.email}


def _public(expert: Expert) -> dict[str, Any]:
    return {
        "specialties": expert.specialty_codes,
        "title": expert.title,
        "title_level": expert.title_level,
        "years": expert.years,
        "employer_code": expert.employer_code,
        "region": expert.region,
        "user": expert.user_id,
    }


# ---------------------------------------------------------------- create and edit


def create_expert(session: Session, actor: Actor, data: ExpertInput) -> Expert:
    require_admin(actor)
    data = clean(data)
    problems = expert_problems(data, known_specialties(session), _taken_by(session, data.id_number), None)
    data.user_id, account_problems = _account(session, data, None)
    if problems or account_problems:
        raise ValidationFailed(problems + account_problems)
    today = clock.to_cst(clock.now()).date()
    expert = Expert(
        name=data.name,
        id_number=data.id_number,
        title=data.title,
        title_level=data.title_level,
        years=data.years or 0,
        employer_code=data.employer_code,
        employer_name=data.employer_name,
        region=data.region,
        phone=data.phone,
        email=data.email,
        user_id=data.user_id,
        status="active",
        status_since=today,
        specialties=[ExpertSpecialty(specialty_code=c) for c in data.specialties],
    )
    if data.employer_code:
        expert.employments = [
            ExpertEmployment(org_code=data.employer_code, org_name=data.employer_name, start=None, end=None)
        ]
    expert.status_history = [
        ExpertStatusChange(status="active", since=today, reason="", changed_by=actor.user_id)
    ]
    session.add(expert)
    session.flush()
    record(
        session,
        EvaluationTag.expert_created,
        actor=actor,
        subject=f"expert:{expert.id}",
        withhold=Fact.expert_pool,  # R46; policy: monitors and administrators only
        details=_public(expert),
        confidential=_personal(expert),
    )
    return expert


def update_expert(session: Session, actor: Actor, expert_id: int, data: ExpertInput) -> Expert:
    require_admin(actor)
    expert = _load(session, expert_id)
    data = clean(data)
    problems = expert_problems(
        data, known_specialties(session), _taken_by(session, data.id_number), expert.id
    )
    user_id, account_problems = _account(session, data, expert.id)
    if problems or account_problems:
        raise ValidationFailed(problems + account_problems)
    changed = _apply(expert, data)
    if data.account is not None and expert.user_id != user_id:
        expert.user_id = user_id
        changed.add("user")
    if changed:
        session.flush()
        record(
            session,
            EvaluationTag.expert_updated,
            actor=actor,
            subject=f"expert:{expert.id}",
            withhold=Fact.expert_pool,  # R46; policy: monitors and administrators only
            details={"changed": sorted(changed), **_public(expert)},
            confidential=_personal(expert),
        )
    return expert


def _apply(expert: Expert, data: ExpertInput) -> set[str]:
    changed: set[str] = set()
    for name in (
        "name",
        "id_number",
        "title",
        "title_level",
        "years",
        "employer_code",
        "employer_name",
        "region",
        "phone",
        "email",
    ):
        value = getattr(data, name)
        if getattr(expert, name) != value:
            setattr(expert, name, value)
            changed.add(name)
    if expert.specialty_codes != data.specialties:
        keep = {s.specialty_code: s for s in expert.specialties}
        expert.specialties = [keep.get(c) or ExpertSpecialty(specialty_code=c) for c in data.specialties]
        changed.add("specialties")
    if "employer_code" in changed and data.employer_code:
        # The new employer opens an employment; the one it replaces closes today (GR9 looks back 3 years).
        today = clock.to_cst(clock.now()).date()
        for job in expert.employments:
            if job.end is None and job.org_code != data.employer_code:
                job.end = today
        if not any(j.org_code == data.employer_code and j.end is None for j in expert.employments):
            expert.employments.append(
                ExpertEmployment(org_code=data.employer_code, org_name=data.employer_name, start=today)
            )
    return changed


# ------------------------------------------------------------- status (active, suspended, retired, penalised)


def set_status(
    session: Session,
    actor: Actor,
    expert_id: int,
    status: str,
    since: date | None,
    until: date | None,
    reason: str,
) -> Expert:
    require_admin(actor)
    expert = _load(session, expert_id)
    reason = reason.strip()
    problems = []
    if status not in rules.STATUSES:
        problems.append(
            Problem(
                "status_invalid", N_("Choose a status: active, suspended, retired or penalised."), "status"
            )
        )
    if since is None:
        problems.append(
            Problem("since_invalid", N_("Give the date the status takes effect, e.g. 2026-03-01."), "since")
        )
    if not rules.period_ok(since, until):
        problems.append(Problem("until_before_since", N_("The end date is before the start date."), "until"))
    if rules.status_needs_reason(status) and not reason:
        problems.append(
            Problem(
                "reason_missing",
                N_("Give the reason for the change, e.g. the decision that imposed the penalty."),
                "reason",
                rule="P12",
            )
        )
    if len(reason) > 500:
        problems.append(Problem("reason_too_long", N_("The reason is longer than 500 characters."), "reason"))
    if problems:
        raise ValidationFailed(problems)
    assert since is not None
    expert.status, expert.status_since, expert.status_until, expert.status_reason = (
        status,
        since,
        until,
        reason,
    )
    change = ExpertStatusChange(
        status=status, since=since, until=until, reason=reason, changed_by=actor.user_id
    )
    expert.status_history.append(change)
    session.flush()
    record(
        session,
        EvaluationTag.expert_status_changed,
        actor=actor,
        subject=f"expert:{expert.id}",
        withhold=Fact.expert_pool,  # R46; policy: monitors and administrators only
        details={
            "status": status,
            "since": since.isoformat(),
            "until": until.isoformat() if until else None,
            "reason": reason,
        },
    )
    return expert


def status_on(expert: Expert, day: date) -> str:
    """The expert's status on a day: a suspension or penalty with an end date lapses after it."""
    if expert.status != "active" and expert.status_until is not None and day > expert.status_until:
        return "active"
    if expert.status != "active" and expert.status_since is not None and day < expert.status_since:
        return "active"
    return expert.status


# ---------------------------------------------------------------- employment, conflicts, unavailability


def _org_problems(code: str, name: str, start: date | None, end: date | None) -> list[Problem]:
    problems = []
    why = credit_code.problem(credit_code.normalise(code))
    if why:
        problems.append(
            Problem(
                "org_code_invalid",
                N_("The organisation's unified social credit code is not valid: %(why)s."),
                "org_code",
                {"why": why},
                "GB 32100-2015",
            )
        )
    if not name.strip():
        problems.append(
            Problem("org_name_missing", N_("Give the organisation's registered name."), "org_name")
        )
    if not rules.period_ok(start, end):
        problems.append(Problem("end_before_start", N_("The end date is before the start date."), "end"))
    return problems


def add_employment(session: Session, actor: Actor, expert_id: int, data: EmploymentInput) -> ExpertEmployment:
    require_admin(actor)
    expert = _load(session, expert_id)
    problems = _org_problems(data.org_code, data.org_name, data.start, data.end)
    if data.start is None:
        problems.append(
            Problem(
                "start_missing",
                N_("Give the date the employment began, e.g. 2015-07-01."),
                "start",
                rule="GR9",
            )
        )
    if problems:
        raise ValidationFailed(problems)
    job = ExpertEmployment(
        org_code=credit_code.normalise(data.org_code),
        org_name=data.org_name.strip(),
        start=data.start,
        end=data.end,
        position=data.position.strip(),
    )
    expert.employments.append(job)
    if data.end is None:
        expert.employer_code, expert.employer_name = job.org_code, job.org_name
    session.flush()
    record(
        session,
        EvaluationTag.expert_updated,
        actor=actor,
        subject=f"expert:{expert.id}",
        withhold=Fact.expert_pool,  # R46; policy: monitors and administrators only
        details={
            "changed": ["employments"],
            "org_code": job.org_code,
            "org_name": job.org_name,
            "position": job.position,
            "start": job.start.isoformat() if job.start else None,
            "end": job.end.isoformat() if job.end else None,
        },
    )
    return job


def declare_conflict(session: Session, actor: Actor, expert_id: int, data: ConflictInput) -> ExpertConflict:
    """P12: near relatives' employers, shareholdings and other economic interests, declared by the expert
    or recorded by an administrator; the draw's avoidance reads them."""
    expert = _load(session, expert_id)
    _require_admin_or_self(actor, expert)
    problems = _org_problems(data.org_code, data.org_name, data.start, data.end)
    if data.kind not in rules.CONFLICT_KINDS:
        problems.insert(
            0,
            Problem(
                "conflict_kind_invalid",
                N_(
                    "Choose what the interest is: a relative's employer, a shareholding or another economic "
                    "interest."
                ),
                "kind",
                rule="P12",
            ),
        )
    if len(data.note) > 2000:
        problems.append(Problem("note_too_long", N_("The note is longer than 2000 characters."), "note"))
    if problems:
        raise ValidationFailed(problems)
    conflict = ExpertConflict(
        kind=data.kind,
        org_code=credit_code.normalise(data.org_code),
        org_name=data.org_name.strip(),
        start=data.start,
        end=data.end,
        note=data.note.strip(),
    )
    expert.conflicts.append(conflict)
    session.flush()
    record(
        session,
        EvaluationTag.expert_conflict_declared,
        actor=actor,
        subject=f"expert:{expert.id}",
        withhold=Fact.expert_pool,  # R46; policy: monitors and administrators only
        details={
            "conflict": conflict.id,
            "kind": conflict.kind,
            "org_code": conflict.org_code,
            "start": conflict.start.isoformat() if conflict.start else None,
            "end": conflict.end.isoformat() if conflict.end else None,
            "by_expert": not actor.has(Role.admin),
        },
        confidential={"note": conflict.note, "org_name": conflict.org_name},
    )
    return conflict


def add_unavailability(
    session: Session, actor: Actor, expert_id: int, start: date | None, end: date | None, reason: str
) -> ExpertUnavailability:
    expert = _load(session, expert_id)
    _require_admin_or_self(actor, expert)
    today = clock.to_cst(clock.now()).date()
    problems = []
    if start is None:
        problems.append(
            Problem("start_missing", N_("Give the first unavailable day, e.g. 2026-03-01."), "start")
        )
    if end is None:
        problems.append(
            Problem(
                "end_missing",
                N_("Give the last unavailable day (the same as the first for a single day)."),
                "end",
            )
        )
    if start is not None and end is not None and end < start:
        problems.append(Problem("end_before_start", N_("The end date is before the start date."), "end"))
    if end is not None and end < today:
        problems.append(
            Problem("period_past", N_("The period is already over; give days from today on."), "end")
        )
    if len(reason.strip()) > 200:
        problems.append(Problem("reason_too_long", N_("The reason is longer than 200 characters."), "reason"))
    if problems:
        raise ValidationFailed(problems)
    assert start is not None and end is not None
    period = ExpertUnavailability(start=start, end=end, reason=reason.strip())
    expert.unavailable.append(period)
    session.flush()
    record(
        session,
        EvaluationTag.expert_unavailability_set,
        actor=actor,
        subject=f"expert:{expert.id}",
        withhold=Fact.expert_pool,  # R46; policy: monitors and administrators only
        details={
            "period": period.id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "by_expert": not actor.has(Role.admin),
        },
    )
    return period


def unavailable_on(expert: Expert, day: date) -> bool:
    return any(p.start <= day <= p.end for p in expert.unavailable)


# ---------------------------------------------------------------- search


def _filtered(query: ExpertQuery) -> Select[Any]:
    stmt = select(Expert)
    needle = query.q.strip()
    if needle:
        like = f"%{needle}%"
        stmt = stmt.where(
            or_(
                Expert.name.like(like),
                Expert.id_number == rules.normalise_id_number(needle),
                Expert.employer_name.like(like),
                Expert.phone == needle,
                Expert.title.like(like),
            )
        )
    if query.specialty.strip():
        code = query.specialty.strip().upper()
        holders = select(ExpertSpecialty.expert_id).where(ExpertSpecialty.specialty_code.like(f"{code}%"))
        stmt = stmt.where(Expert.id.in_(holders))
    if query.status:
        stmt = stmt.where(Expert.status == query.status)
    if query.region.strip():
        stmt = stmt.where(Expert.region.like(f"%{query.region.strip()}%"))
    if query.title_level:
        stmt = stmt.where(Expert.title_level == query.title_level)
    return stmt


def search_experts(session: Session, actor: Actor, query: ExpertQuery) -> ExpertPage:
    require_admin(actor)
    size = min(max(1, query.page_size), MAX_PAGE_SIZE)
    stmt = _filtered(query)
    total = int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    pages = max(1, -(-total // size))
    current = min(max(1, query.page), pages)
    items = list(
        session.scalars(
            stmt.options(selectinload(Expert.specialties))
            .order_by(Expert.id)
            .offset((current - 1) * size)
            .limit(size)
        )
    )
    return ExpertPage(items=items, total=total, page=current, page_size=size, pages=pages, query=query)


def counts_by_status(session: Session, actor: Actor) -> dict[str, int]:
    require_admin(actor)
    return {
        str(s): int(n)
        for s, n in session.execute(select(Expert.status, func.count()).group_by(Expert.status))
    }
