"""进场登记 (issue 16): the trading centre registers a project coming in (its number, title, purchaser,
agency,
category, funding and planned dates); the agency then drafts the tender and links the draft to it.

Who sees an intake: the centre (its staff and administrators) all of them; an agency and a purchaser the ones
naming them. An intake is not a tender fact with a phase: it is the centre's register, never public, so its
audit entry keeps the project's words in the confidential part (like a draft's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from accounts.access import require_login
from accounts.models import Organisation
from audit import record
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor, OrgKind, Role
from tender import access
from tender.centre import rules
from tender.centre.models import Funding, ProjectIntake
from tender.intake_events import CentreTag
from tender.lifecycle import Status
from tender.models import Tender

CENTRE_ROLES = (Role.centre, Role.admin)


def is_centre(actor: Actor) -> bool:
    return actor.has(*CENTRE_ROLES)


def require_centre(actor: Actor) -> None:
    require_login(actor)
    if not is_centre(actor):
        raise Forbidden.one("not_centre", N_("Only the trading centre's staff may do this."))


@dataclass
class IntakeInput:
    reference: str
    title: str
    purchaser_id: int | None
    agency_id: int | None
    category: str
    funding: str
    planned_publication: datetime | None = None
    planned_opening: datetime | None = None
    remarks: str = ""


def _org_ok(session: Session, org_id: int | None, kind: OrgKind) -> bool:
    org = session.get(Organisation, org_id) if org_id is not None else None
    return org is not None and org.kind == kind and org.active


def register(session: Session, actor: Actor, data: IntakeInput) -> ProjectIntake:
    require_centre(actor)
    problems = [
        Problem(c, m, f)
        for c, m, f in rules.intake_problems(
            data.reference,
            data.title,
            data.category,
            data.funding,
            [f.value for f in Funding],
            data.planned_publication,
            data.planned_opening,
        )
    ]
    if not _org_ok(session, data.purchaser_id, OrgKind.purchaser):
        problems.append(Problem("intake_purchaser", N_("Choose the project's purchaser."), "purchaser_id"))
    if not _org_ok(session, data.agency_id, OrgKind.agency):
        problems.append(Problem("intake_agency", N_("Choose the agency that runs the tender."), "agency_id"))
    reference = data.reference.strip()
    if reference and session.scalar(select(ProjectIntake.id).where(ProjectIntake.reference == reference)):
        problems.append(
            Problem(
                "intake_reference_taken",
                N_("Project number %(reference)s is already registered; check the number."),
                "reference",
                {"reference": reference},
            )
        )
    if problems:
        raise ValidationFailed(problems)
    assert actor.user_id is not None and data.purchaser_id is not None and data.agency_id is not None
    intake = ProjectIntake(
        reference=reference,
        title=data.title.strip(),
        purchaser_id=data.purchaser_id,
        agency_id=data.agency_id,
        category=data.category,
        funding=data.funding,
        planned_publication=data.planned_publication,
        planned_opening=data.planned_opening,
        remarks=data.remarks.strip(),
        registered_by=actor.user_id,
        registered_at=clock.now(),
    )
    session.add(intake)
    session.flush()
    record(
        session,
        CentreTag.intake_registered,
        actor=actor,
        subject=f"intake:{intake.id}",
        details={"intake": intake.id},
        # the centre's register is not public: a project before its tender is published is like a draft
        confidential={
            "reference": intake.reference,
            "title": intake.title,
            "purchaser": intake.purchaser_id,
            "agency": intake.agency_id,
            "category": intake.category,
            "funding": intake.funding,
        },
    )
    return intake


def intakes(session: Session, actor: Actor) -> list[ProjectIntake]:
    """The intakes the actor may see, the newest first."""
    require_login(actor)
    stmt = select(ProjectIntake).order_by(ProjectIntake.registered_at.desc(), ProjectIntake.id.desc())
    if not is_centre(actor):
        mine = []
        if actor.has(Role.agency):
            mine.append(ProjectIntake.agency_id == actor.organisation_id)
        if actor.has(Role.purchaser):
            mine.append(ProjectIntake.purchaser_id == actor.organisation_id)
        if not mine:
            raise Forbidden.one("not_centre", N_("Only the trading centre's staff may do this."))
        stmt = stmt.where(or_(*mine))
    return list(session.scalars(stmt))


def intake_of(session: Session, tender_id: int) -> ProjectIntake | None:
    return session.scalars(select(ProjectIntake).where(ProjectIntake.tender_id == tender_id)).one_or_none()


def linkable(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, list[ProjectIntake]]:
    """The agency's draft and the intakes it may be linked to: naming its agency and purchaser, not linked."""
    tender = access.get_tender(session, tender_id)
    access.require_tender_agency(actor, tender)
    rows = session.scalars(
        select(ProjectIntake)
        .where(
            ProjectIntake.agency_id == tender.agency_id,
            ProjectIntake.purchaser_id == tender.purchaser_id,
            ProjectIntake.tender_id.is_(None),
        )
        .order_by(ProjectIntake.registered_at.desc())
    )
    return tender, list(rows)


def link_draft(session: Session, actor: Actor, tender_id: int, intake_id: int) -> ProjectIntake:
    """The agency names the intake its draft is the tender of (one draft per intake, one intake per draft)."""
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one("intake_not_draft", N_("Only a draft is linked to its intake."))
    intake = session.get(ProjectIntake, intake_id, with_for_update=True)
    if intake is None or intake.agency_id != tender.agency_id:
        raise NotFound.one("intake_not_found", N_("No such intake is registered for your agency."))
    if intake.purchaser_id != tender.purchaser_id:
        raise Conflict.one(
            "intake_other_purchaser",
            N_("This intake is for another purchaser; choose the intake of this tender's purchaser."),
        )
    if intake.tender_id is not None and intake.tender_id != tender.id:
        raise Conflict.one("intake_linked", N_("This intake is already linked to another tender."))
    if (current := intake_of(session, tender.id)) is not None and current.id != intake.id:
        raise Conflict.one("intake_tender_linked", N_("This draft is already linked to another intake."))
    intake.tender_id, intake.linked_at = tender.id, clock.now()
    session.flush()
    record(
        session,
        CentreTag.intake_linked,
        actor=actor,
        subject=f"intake:{intake.id}",
        details={"intake": intake.id},
        confidential={"tender": tender.id, "reference": tender.reference},
    )
    return intake


def organisations(session: Session, kind: str) -> list[Organisation]:
    """The active organisations of a kind, by name: the intake form's purchasers and agencies."""
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind == kind, Organisation.active)
            .order_by(Organisation.name)
        )
    )


def linked_tenders(session: Session, rows: list[ProjectIntake]) -> dict[int, Tender]:
    """The tenders the intakes are linked to, by id (the centre's list shows each one's reference
    and status)."""
    ids = [r.tender_id for r in rows if r.tender_id is not None]
    if not ids:
        return {}
    return {t.id: t for t in session.scalars(select(Tender).where(Tender.id.in_(ids)))}
