"""The public directory at scale (rules.md §5.2, §5.4): approved intermediaries offering a service today, with
service and region filters, 5-star intermediaries first, then by name, a page at a time. It reads the derived
tables (models.Offer, models.Standing) with one indexed query per page, never the 200,000 ratings; what it
shows is what entries.active_services and credit compute from the rows, kept in step by
entries.sync_offers / credit.refresh at each change and by the periodic full recomputation
(`recompute_all`, marketplace.tasks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import Select, Table, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from accounts.models import Organisation
from core import clock
from marketplace import credit
from marketplace.models import Entry, EntryStatus, Offer, Standing

PAGE_SIZE = 50


@dataclass(frozen=True)
class Listed:
    id: int
    name: str
    region: str


@dataclass(frozen=True)
class Qualified:
    qualifications: list[dict[str, str]]


@dataclass(frozen=True)
class Row:
    organisation: Listed
    entry: Qualified
    services: list[str]
    stars: int | None
    ratings: int
    credit: int


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    page: int
    more: bool  # a next page exists


def _ids(service: bool, region: bool) -> Select[int]:
    """The page's ids in the directory's order, with or without the service and region filters. The offer
    test is answered from one index (organisation, service, validity), and a region's standings are walked
    in order from the (region, sort key) index: a deep page of a filtered listing reads index entries only
    (models.Offer, models.Standing)."""
    offer = select(Offer.id).where(
        Offer.organisation_id == Standing.organisation_id, Offer.valid_until >= bindparam("today")
    )
    if service:
        offer = offer.where(Offer.service_code == bindparam("service"))
    query = select(Standing.organisation_id).where(offer.exists())
    if region:
        query = query.where(Standing.region == bindparam("region"))
    return query


# The statements are built once, their values bound at each call: building them cost more than running them
IDS = {(s, r): _ids(s, r) for s in (False, True) for r in (False, True)}
# plain columns, not ORM objects: a page is read thousands of times a second
SHOWN = (
    select(
        Organisation.id,
        Organisation.name,
        Organisation.region,
        Entry.qualifications,
        Standing.stars,
        Standing.ratings,
        Standing.credit,
    )
    .join(Entry, Entry.organisation_id == Organisation.id)
    .join(Standing, Standing.organisation_id == Organisation.id)
    .where(Organisation.id.in_(bindparam("ids", expanding=True)))
)
OFFERED = (
    select(Offer.organisation_id, Offer.service_code)
    .where(
        Offer.organisation_id.in_(bindparam("ids", expanding=True)), Offer.valid_until >= bindparam("today")
    )
    .order_by(Offer.id)
)


def page(
    session: Session, service: str = "", region: str = "", number: int = 1, today: date | None = None
) -> Page:
    """One page of the directory: the standings walked in their indexed order (5-star first, then by name),
    each kept when it has an offer valid today (of `service` when given) and is in `region`, not on the black
    list; one more row than the page is read to know whether a next page exists."""
    today = today or clock.to_cst(clock.now()).date()
    number = max(1, number)
    query = IDS[(bool(service), bool(region))]
    barred = credit.blacklisted(session, today)
    if barred:
        query = query.where(Standing.organisation_id.not_in(barred))
    # the ids first, from the indexes alone (a deep page skips its offset there), then the page's rows
    ids = list(
        session.scalars(
            query.order_by(Standing.sort_key).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1),
            {"today": today, "service": service, "region": region},
        )
    )
    more, ids = len(ids) > PAGE_SIZE, ids[:PAGE_SIZE]
    if not ids:
        return Page([], number, False)
    found = {r[0]: r for r in session.execute(SHOWN, {"ids": ids})}
    offered: dict[int, list[str]] = {}
    for org_id, code in session.execute(OFFERED, {"ids": ids, "today": today}):
        offered.setdefault(org_id, []).append(code)
    rows = []
    for org_id in ids:
        _, name, org_region, qualifications, stars, n, score = found[org_id]
        rows.append(
            Row(
                Listed(org_id, name, org_region),
                Qualified(qualifications),
                offered.get(org_id, []),
                stars or None,
                n,
                score,
            )
        )
    return Page(rows, number, more)


def _region_walk() -> Select[str]:
    first = select(func.min(Standing.region).label("region")).where(Standing.region != "")
    walk = first.cte("regions", recursive=True)
    following = select(func.min(Standing.region)).where(Standing.region > walk.c.region).scalar_subquery()
    walk = walk.union_all(select(following).where(walk.c.region.is_not(None)))
    return select(walk.c.region).where(walk.c.region.is_not(None)).order_by(walk.c.region)


# built once: the statement does not change (building it costs more than running it)
REGION_WALK = _region_walk()


def regions(session: Session) -> list[str]:
    """The regions the standings name, in order: the filter's choices on every page. A DISTINCT would read
    every one of the 10,000 entries of the region index; this walks it from one region to the next (a
    "loose index scan": each step the least region after the last), a few index seeks in all."""
    return list(session.scalars(REGION_WALK))


def offers_of(entry: Entry, needs: dict[str, list[str]]) -> list[dict[str, object]]:
    """The entry's offer rows: each service it applied for whose needed qualifications it all holds, valid
    until the earliest of their expiry dates (none for an entry that is not approved)."""
    return _offers(entry.id, entry.organisation_id, entry.status, entry.services, entry.qualifications, needs)


def _offers(
    entry_id: int,
    org_id: int,
    status: str,
    services: list[str],
    qualifications: list[dict[str, str]],
    needs: dict[str, list[str]],
) -> list[dict[str, object]]:
    if status != EntryStatus.approved:
        return []
    held: dict[str, date] = {}
    for q in qualifications:
        day = date.fromisoformat(q["expires_on"])
        held[q["name"]] = max(day, held.get(q["name"], day))
    out = []
    for code in services:
        if code not in needs or not set(needs[code]) <= set(held):
            continue
        until = min((held[n] for n in needs[code]), default=date(9999, 12, 31))
        out.append(
            {
                "entry_id": entry_id,
                "organisation_id": org_id,
                "service_code": code,
                "valid_until": until,
            }
        )
    return out


def sync_offers(session: Session, entry: Entry, needs: dict[str, list[str]]) -> None:
    """Rewrite the entry's offers; `needs` is the catalogue's qualifications by service
    (entries.requirements)."""
    session.execute(delete(Offer).where(Offer.entry_id == entry.id))
    rows = offers_of(entry, needs)
    if rows:
        session.execute(insert(Offer), rows)
    credit.refresh(session, [entry.organisation_id])  # its place in the directory's order


def recompute_all(session: Session, needs: dict[str, list[str]], today: date | None = None) -> int:
    """Rebuild every offer and every standing from the rows (the periodic task; the bench times it). The
    entries are read as plain columns, not ORM objects, and both tables are written with one multi-row
    insert each, to the tables themselves (no ORM bookkeeping for 10,000s of derived rows)."""
    session.execute(delete(Offer))
    entry_rows = session.execute(
        select(Entry.id, Entry.organisation_id, Entry.status, Entry.services, Entry.qualifications)
    )
    offer_rows = [
        r
        for entry_id, org_id, status, services, qualifications in entry_rows
        for r in _offers(entry_id, org_id, status, services, qualifications, needs)
    ]
    if offer_rows:
        session.execute(insert(cast(Table, Offer.__table__)), offer_rows)
    scores = credit.all_scores(session, today)
    session.execute(delete(Standing))
    now = clock.now()
    orgs = session.execute(
        select(Organisation.id, Organisation.name, Organisation.region).where(
            Organisation.kind == "intermediary"
        )
    ).tuples()
    rows = []
    for org_id, name, region in orgs:
        stars, n, score = scores.get(org_id, (None, 0, credit.BASE))
        rows.append(
            {
                "organisation_id": org_id,
                "stars": stars or 0,
                "ratings": n,
                "credit": score,
                "computed_at": now,
                "sort_key": credit.sort_key(stars, name, org_id),
                "region": region,
            }
        )
    if rows:
        session.execute(insert(cast(Table, Standing.__table__)), rows)
    session.flush()
    return len(scores)
