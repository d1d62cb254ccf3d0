"""The service catalogue and the intermediaries' entry into the marketplace (rules.md §5.2, Tangshan): an
intermediary applies for service types with its licence, qualifications, staff and commitment letter; the
centre's administrators approve it or return it with reasons; the intermediary fixes and resubmits, at any
time, no quota. Approved intermediaries are listed in the public directory. Services take a session and an
actor and never commit."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.access import require_role
from accounts.models import Organisation
from audit import record
from core import clock
from core.errors import N_, Conflict, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from marketplace import credit, rules
from marketplace import directory as offers_index
from marketplace.events import MarketplaceTag
from marketplace.models import Entry, EntryStatus, ServiceType

CATALOGUE_FILE = Path(__file__).parent / "catalogue.json"


# ---------------------------------------------------------------- the catalogue


def read_catalogue() -> list[dict[str, Any]]:
    return list(json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["services"])


def load_catalogue(session: Session) -> int:
    """Add the shipped catalogue's service types that are missing; an administrator's edits of those present
    are kept. Safe to run at every start. Returns how many were added."""
    present = set(session.scalars(select(ServiceType.code)))
    added = 0
    for item in read_catalogue():
        if item["code"] not in present:
            session.add(
                ServiceType(
                    code=item["code"],
                    name=item["name"],
                    name_en=item.get("name_en", ""),
                    qualifications=list(item.get("qualifications", [])),
                )
            )
            added += 1
    session.flush()
    return added


def catalogue(session: Session, active_only: bool = False) -> list[ServiceType]:
    query = select(ServiceType).order_by(ServiceType.id)
    if active_only:
        query = query.where(ServiceType.active.is_(True))
    return list(session.scalars(query))


def requirements(session: Session) -> dict[str, list[str]]:
    """The active service types' codes with the qualifications each needs."""
    return {s.code: list(s.qualifications) for s in catalogue(session, active_only=True)}


@dataclass
class ServiceInput:
    code: str
    name: str
    name_en: str
    qualifications: list[str]
    active: bool = True


def save_service(session: Session, actor: Actor, data: ServiceInput) -> ServiceType:
    """Add a service type to the catalogue or change one (administrators)."""
    require_role(actor, Role.admin)
    code = data.code.strip().lower()
    problems = []
    if not code or len(code) > 40 or not all(c.isascii() and (c.isalnum() or c == "-") for c in code):
        problems.append(
            Problem(
                "service_code_invalid",
                N_("The code is up to 40 letters, digits or hyphens."),
                "code",
            )
        )
    if not data.name.strip():
        problems.append(Problem("service_name_missing", N_("Enter the service's name in Chinese."), "name"))
    problems += rules.too_long({"name": data.name, "name_en": data.name_en}, {"name": 200, "name_en": 200})
    if problems:
        raise ValidationFailed(problems)
    row = session.scalars(select(ServiceType).where(ServiceType.code == code)).one_or_none()
    if row is None:
        row = ServiceType(code=code)
        session.add(row)
    row.name, row.name_en = data.name.strip(), data.name_en.strip()
    row.qualifications = [q.strip() for q in data.qualifications if q.strip()]
    row.active = data.active
    row.updated_at = clock.now()
    session.flush()
    record(
        session,
        MarketplaceTag.service_saved,
        actor=actor,
        subject=f"service:{code}",
        details={
            "name": row.name,
            "name_en": row.name_en,
            "qualifications": row.qualifications,
            "active": row.active,
        },
    )
    return row


# ---------------------------------------------------------------- entries


def entry_of_org(session: Session, organisation_id: int | None) -> Entry | None:
    if organisation_id is None:
        return None
    return session.scalars(select(Entry).where(Entry.organisation_id == organisation_id)).one_or_none()


def my_entry(session: Session, actor: Actor) -> Entry | None:
    require_role(actor, Role.intermediary)
    return entry_of_org(session, actor.organisation_id)


def submit_entry(session: Session, actor: Actor, data: rules.EntryInput) -> Entry:
    """Apply to enter for the chosen service types, or resubmit a returned (or approved, for other services)
    application. Every condition is checked at once; nothing is stored when one fails."""
    require_role(actor, Role.intermediary)
    assert actor.organisation_id is not None  # the intermediary role belongs to an intermediary organisation
    problems = rules.entry_problems(data, requirements(session), clock.to_cst(clock.now()).date())
    if problems:
        raise ValidationFailed(problems)
    entry = entry_of_org(session, actor.organisation_id)
    if entry is None:
        entry = Entry(organisation_id=actor.organisation_id, submitted_by=actor.user_id, submissions=0)
        session.add(entry)
    elif entry.status == EntryStatus.submitted and entry.submissions > 0:
        raise Conflict.one(
            "entry_under_review", N_("Your application is being reviewed; wait for the centre's decision.")
        )
    entry.status = EntryStatus.submitted.value
    entry.services = list(dict.fromkeys(data.services))
    entry.licence_number = data.licence_number.strip()
    entry.independent_legal_person = data.independent_legal_person
    entry.no_violation_3y = data.no_violation_3y
    entry.internal_rules = data.internal_rules
    entry.credit_report = data.credit_report.strip()
    entry.commitment_signed_by = data.commitment_signed_by.strip()
    entry.qualifications = [
        {"name": q.name, "grade": q.grade, "expires_on": q.expires_on.isoformat()}
        for q in data.qualifications
    ]
    entry.staff = [asdict(s) for s in data.staff]
    entry.submitted_at = clock.now()
    entry.submitted_by = actor.user_id  # type: ignore[assignment]
    entry.submissions = (entry.submissions or 0) + 1
    entry.decided_at, entry.decided_by = None, None
    session.flush()
    offers_index.sync_offers(session, entry, requirements(session))
    record(
        session,
        MarketplaceTag.entry_submitted,
        actor=actor,
        subject=f"intermediary:{actor.organisation_id}",
        details={
            "services": entry.services,
            "submission": entry.submissions,
            "qualifications": entry.qualifications,
            "staff": len(entry.staff),
        },
    )
    return entry


def review_queue(session: Session, actor: Actor) -> list[tuple[Entry, Organisation]]:
    require_role(actor, Role.admin)
    rows = session.execute(
        select(Entry, Organisation)
        .join(Organisation, Organisation.id == Entry.organisation_id)
        .order_by(Entry.status != EntryStatus.submitted.value, Entry.submitted_at)
    )
    return [(e, o) for e, o in rows]


def entry_for_review(session: Session, actor: Actor, entry_id: int) -> tuple[Entry, Organisation]:
    require_role(actor, Role.admin)
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound.one("entry_not_found", N_("No such application."))
    org = session.get(Organisation, entry.organisation_id)
    assert org is not None
    return entry, org


def _pending(session: Session, actor: Actor, entry_id: int) -> Entry:
    entry, _ = entry_for_review(session, actor, entry_id)
    if entry.status != EntryStatus.submitted:
        raise Conflict.one("entry_decided", N_("This application has already been decided."))
    return entry


def approve_entry(session: Session, actor: Actor, entry_id: int) -> Entry:
    entry = _pending(session, actor, entry_id)
    # the conditions again, as of today: a qualification may have expired while the application waited
    data = _as_input(entry)
    problems = rules.entry_problems(data, requirements(session), clock.to_cst(clock.now()).date())
    if problems:
        raise ValidationFailed(problems)
    entry.status = EntryStatus.approved.value
    entry.decided_at, entry.decided_by = clock.now(), actor.user_id
    entry.return_reasons = ""
    session.flush()
    offers_index.sync_offers(session, entry, requirements(session))
    record(
        session,
        MarketplaceTag.entry_approved,
        actor=actor,
        subject=f"intermediary:{entry.organisation_id}",
        details={"services": entry.services, "submission": entry.submissions},
    )
    return entry


def return_entry(session: Session, actor: Actor, entry_id: int, reasons: str) -> Entry:
    entry = _pending(session, actor, entry_id)
    if not reasons.strip():
        raise ValidationFailed.one(
            "reasons_missing", N_("Say what the applicant must fix before resubmitting."), "reasons"
        )
    entry.status = EntryStatus.returned.value
    entry.decided_at, entry.decided_by = clock.now(), actor.user_id
    entry.return_reasons = reasons.strip()
    session.flush()
    offers_index.sync_offers(session, entry, requirements(session))
    record(
        session,
        MarketplaceTag.entry_returned,
        actor=actor,
        subject=f"intermediary:{entry.organisation_id}",
        details={"reasons": entry.return_reasons, "submission": entry.submissions},
    )
    return entry


def _as_input(entry: Entry) -> rules.EntryInput:
    return rules.EntryInput(
        services=list(entry.services),
        licence_number=entry.licence_number,
        independent_legal_person=entry.independent_legal_person,
        no_violation_3y=entry.no_violation_3y,
        internal_rules=entry.internal_rules,
        credit_report=entry.credit_report,
        commitment_signed_by=entry.commitment_signed_by,
        qualifications=[
            rules.Qualification(q["name"], q["grade"], date.fromisoformat(q["expires_on"]))
            for q in entry.qualifications
        ],
        staff=[rules.Staff(s["name"], s["certificate"], s["number"]) for s in entry.staff],
    )


def active_services(
    session: Session, entry: Entry, today: date | None = None, needs: dict[str, list[str]] | None = None
) -> list[str]:
    """The services an approved entry may offer today: those whose needed qualifications have not expired
    (an expired qualification suspends the intermediary for the services that need it)."""
    if entry.status != EntryStatus.approved:
        return []
    today = today or clock.to_cst(clock.now()).date()
    held = {q["name"] for q in entry.qualifications if date.fromisoformat(q["expires_on"]) >= today}
    needs = requirements(session) if needs is None else needs
    return [code for code in entry.services if code in needs and set(needs[code]) <= held]


@dataclass(frozen=True)
class Listed:
    organisation: Organisation
    entry: Entry
    services: list[str]


def directory(session: Session, service: str = "", region: str = "") -> list[Listed]:
    """The public directory: approved intermediaries, those offering `service` today and in `region` when
    given, by name."""
    query = (
        select(Entry, Organisation)
        .join(Organisation, Organisation.id == Entry.organisation_id)
        .where(Entry.status == EntryStatus.approved.value, Organisation.active.is_(True))
        .order_by(Organisation.name)
    )
    if region:
        query = query.where(Organisation.region == region)
    out = []
    needs, today = requirements(session), clock.to_cst(clock.now()).date()
    barred = credit.blacklisted(session, today)  # a black-listed intermediary is not shown (rules.md §5.4)
    for entry, org in session.execute(query):
        if org.id in barred:
            continue
        offered = active_services(session, entry, today, needs)
        if offered and (not service or service in offered):
            out.append(Listed(org, entry, offered))
    return out
