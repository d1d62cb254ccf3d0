"""The public directory at scale (rules.md §5.2, §5.4): approved intermediaries offering a service today, with
service and region filters, 5-star intermediaries first, then by name, a page at a time. It reads the derived
tables (models.Offer, models.Standing) with one indexed query per page, never the 200,000 ratings; what it
shows is what entries.active_services and credit compute from the rows, kept in step by
entries.sync_offers / credit.refresh at each change and by the periodic full recomputation
(`recompute_all`, marketplace.tasks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from accounts.models import Organisation
from core import clock
from marketplace import credit
from marketplace.models import Entry, EntryStatus, Offer, Standing

PAGE_SIZE = 50


@dataclass(frozen=True)
class Row:
    organisation: Organisation
    entry: Entry
    services: list[str]
    stars: int | None
    ratings: int
    credit: int


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int


def page(
    session: Session, service: str = "", region: str = "", number: int = 1, today: date | None = None
) -> Page:
    today = today or clock.to_cst(clock.now()).date()
    barred = credit.blacklisted(session, today)
    base = (
        select(Offer.organisation_id)
        .join(Entry, Entry.id == Offer.entry_id)
        .join(Organisation, Organisation.id == Offer.organisation_id)
        .where(
            Entry.status == EntryStatus.approved.value,
            Offer.valid_until >= today,
            Organisation.active.is_(True),
        )
    )
    if service:
        base = base.where(Offer.service_code == service)
    if region:
        base = base.where(Organisation.region == region)
    if barred:
        base = base.where(Offer.organisation_id.not_in(barred))
    ids = base.distinct().subquery()
    total = session.scalar(select(func.count()).select_from(ids)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    query = (
        select(Organisation, Entry, Standing)
        .join(ids, ids.c.organisation_id == Organisation.id)
        .join(Entry, Entry.organisation_id == Organisation.id)
        .outerjoin(Standing, Standing.organisation_id == Organisation.id)
        .order_by(func.coalesce(Standing.stars, 0).desc(), Organisation.name, Organisation.id)
        .offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    found = list(session.execute(query).tuples())
    offered: dict[int, list[str]] = {}
    if found:
        for org_id, code in session.execute(
            select(Offer.organisation_id, Offer.service_code)
            .where(Offer.organisation_id.in_([o.id for o, _, _ in found]), Offer.valid_until >= today)
            .order_by(Offer.id)
        ):
            offered.setdefault(org_id, []).append(code)
    rows = [
        Row(
            o,
            e,
            offered.get(o.id, []),
            (s.stars or None) if s else None,
            s.ratings if s else 0,
            s.credit if s else credit.BASE,
        )
        for o, e, s in found
    ]
    return Page(rows, total, number, pages)


def regions(session: Session) -> list[str]:
    rows = session.scalars(
        select(Organisation.region)
        .join(Offer, Offer.organisation_id == Organisation.id)
        .where(Organisation.region != "")
        .distinct()
        .order_by(Organisation.region)
    )
    return list(rows)


def offers_of(entry: Entry, needs: dict[str, list[str]]) -> list[dict[str, object]]:
    """The entry's offer rows: each service it applied for whose needed qualifications it all holds, valid
    until the earliest of their expiry dates (none for an entry that is not approved)."""
    if entry.status != EntryStatus.approved:
        return []
    held: dict[str, date] = {}
    for q in entry.qualifications:
        day = date.fromisoformat(q["expires_on"])
        held[q["name"]] = max(day, held.get(q["name"], day))
    out = []
    for code in entry.services:
        if code not in needs or not set(needs[code]) <= set(held):
            continue
        until = min((held[n] for n in needs[code]), default=date(9999, 12, 31))
        out.append(
            {
                "entry_id": entry.id,
                "organisation_id": entry.organisation_id,
                "service_code": code,
                "valid_until": until,
            }
        )
    return out


def sync_offers(session: Session, entry: Entry) -> None:
    from marketplace import entries  # entries calls this module; the catalogue's needs come from it

    session.execute(delete(Offer).where(Offer.entry_id == entry.id))
    rows = offers_of(entry, entries.requirements(session))
    if rows:
        session.execute(insert(Offer), rows)


def recompute_all(session: Session, today: date | None = None) -> int:
    """Rebuild every offer and every standing from the rows (the periodic task; the bench times it)."""
    from marketplace import entries

    needs = entries.requirements(session)
    session.execute(delete(Offer))
    offer_rows = [r for e in session.scalars(select(Entry)) for r in offers_of(e, needs)]
    if offer_rows:
        session.execute(insert(Offer), offer_rows)
    scores = credit.all_scores(session, today)
    session.execute(delete(Standing))
    now = clock.now()
    if scores:
        session.execute(
            insert(Standing),
            [
                {"organisation_id": o, "stars": s or 0, "ratings": n, "credit": c, "computed_at": now}
                for o, (s, n, c) in scores.items()
            ],
        )
    session.flush()
    return len(scores)
