"""Qualification expiry (Tangshan, rules.md §5.2; issue 15): a reminder REMINDER_DAYS before a qualification
an intermediary's services need expires, and, once it has, the notice that the intermediary is suspended for
the services that need it (the suspension itself is computed on every read by entries.active_services, so
it holds from the first day after expiry whether or not the task has run). Run by the periodic task
marketplace.sweep_qualifications; each notice once (QualificationNotice). Services never commit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.notifications import notify
from audit import record
from core import clock
from core.errors import N_
from core.identity import SYSTEM
from marketplace import entries
from marketplace.events import MarketplaceTag
from marketplace.models import Entry, EntryStatus, QualificationNotice

REMINDER_DAYS = 30  # policy: remind 30 days before a needed qualification expires
REMINDER, SUSPENDED = "reminder", "suspended"


def sweep(session: Session, today: date | None = None) -> list[QualificationNotice]:
    today = today or clock.to_cst(clock.now()).date()
    needs = entries.requirements(session)
    sent = {
        (n.entry_id, n.qualification, n.expires_on, n.kind)
        for n in session.scalars(select(QualificationNotice))
    }
    made = []
    for entry in session.scalars(
        select(Entry).where(Entry.status == EntryStatus.approved.value).order_by(Entry.id)
    ):
        needed = {q for code in entry.services for q in needs.get(code, [])}
        for qual in entry.qualifications:
            if qual["name"] not in needed:
                continue
            expires = date.fromisoformat(qual["expires_on"])
            left = (expires - today).days
            if left < 0:
                kind = SUSPENDED
            elif left <= REMINDER_DAYS:
                kind = REMINDER
            else:
                continue
            if (entry.id, qual["name"], expires, kind) in sent:
                continue
            services = [c for c in entry.services if qual["name"] in needs.get(c, [])]
            row = QualificationNotice(
                entry_id=entry.id, qualification=qual["name"], expires_on=expires, kind=kind
            )
            session.add(row)
            session.flush()
            record(
                session,
                MarketplaceTag.qualification_reminded
                if kind == REMINDER
                else MarketplaceTag.qualification_suspended,
                actor=SYSTEM,
                subject=f"org:{entry.organisation_id}",
                details={
                    "qualification": qual["name"],
                    "expires_on": expires.isoformat(),
                    "services": services,
                },
            )
            users = set(
                session.scalars(
                    select(User.id).where(
                        User.organisation_id == entry.organisation_id, User.active.is_(True)
                    )
                )
            )
            notify(
                session,
                users,
                f"marketplace.qualification.{kind}",
                title=N_(
                    "Your qualification %(qualification)s expires on %(date)s; renew it and update your "
                    "entry."
                )
                if kind == REMINDER
                else N_(
                    "Your qualification %(qualification)s expired on %(date)s: you are suspended for the "
                    "services that need it until you update your entry."
                ),
                params={"qualification": qual["name"], "date": expires.isoformat()},
                link="/intermediary/entry",
            )
            made.append(row)
    return made
