"""Intermediaries' credit (rules.md §5.4): the sanctions an authority imposed, the red and black lists, and
the credit score computed from the ratings, the verified quality complaints and the sanctions, every input
kept traceable (docs/marketplace.md "Credit score"; /marketplace/intermediaries/{id}/credit lists them).

The score (pure, `score`):

    credit = 60 + 10 × (S − 3) − 10 × C − 20 × K + 10 × R,  then clamped to 0 .. 100,  and 0 on the black list

    S  the intermediary's rating: the mean of its purchases' combined 5 : 3 : 2 scores (marketplace.ratings,
       exact, before rounding to stars; a rating whose appeal was upheld counts with its reviewed scores);
       with no rating S = 3 (a newcomer starts at 60)
    C  verified quality complaints filed in the last 365 days
    K  sanctions decided in the last 3 years (1,095 days)
    R  1 when on the red list today, else 0

A black-list place in force today sets the score to 0 (the intermediary may not sign up for purchases).
Recomputed from the rows on every read, never stored. Services never commit."""

from __future__ import annotations

import functools
import itertools
import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from accounts.access import require_role
from accounts.models import Organisation
from audit import record
from core import clock
from core.errors import N_, Conflict, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from marketplace import ratings
from marketplace.events import MarketplaceTag
from marketplace.models import Complaint, CreditListing, Purchase, Rating, RatingAppeal, Sanction, Standing

BASE = 60
PER_STAR = 10
PER_COMPLAINT = 10
PER_SANCTION = 20
RED_BONUS = 10
COMPLAINT_WINDOW = timedelta(days=365)
SANCTION_WINDOW = timedelta(days=3 * 365)  # Tangshan: no violation or bad credit in the last 3 years
RED, BLACK = "red", "black"
LISTS = (RED, BLACK)


def score(mean: Decimal | None, complaints: int, sanctions: int, red: bool, black: bool) -> int:
    """The credit score from its inputs (the formula of this module's docstring), an integer 0 .. 100."""
    if black:
        return 0
    s = Decimal(3) if mean is None else mean
    raw = BASE + PER_STAR * (s - 3) - PER_COMPLAINT * complaints - PER_SANCTION * sanctions + RED_BONUS * red
    return max(0, min(100, int(raw.quantize(Decimal(1), ROUND_HALF_UP))))


def in_force(listing: CreditListing, today: date) -> bool:
    return (
        listing.lifted_at is None
        and listing.starts_on <= today
        and (listing.ends_on is None or today <= listing.ends_on)
    )


# ---------------------------------------------------------------- effective ratings


def effective_scores(session: Session, rows: Iterable[Rating]) -> dict[int, Mapping[str, int]]:
    """Each rating's scores as they count: the reviewed scores of an upheld appeal, else its own."""
    rows = list(rows)
    revised: dict[int, Mapping[str, int]] = {}
    if rows:
        for appeal in session.scalars(
            select(RatingAppeal)
            .where(RatingAppeal.status == "upheld", RatingAppeal.revised_scores.is_not(None))
            .order_by(RatingAppeal.id)
        ):
            revised[appeal.rating_id] = appeal.revised_scores or {}
    return {r.id: revised.get(r.id, r.scores) for r in rows}


def rating_means(
    rows: Iterable[tuple[int, int, str, Mapping[str, int]]],
) -> tuple[dict[int, Decimal], dict[int, int]]:
    """From (organisation, purchase, rater kind, scores) rows: each intermediary's exact mean of its
    purchases' combined scores, and its number of ratings. Pure (the bench runs it on 200,000 ratings)."""
    per: dict[int, dict[int, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    counts: dict[int, int] = defaultdict(int)
    for org, purchase, kind, scores in rows:
        per[org][purchase][kind] = ratings.overall(scores)
        counts[org] += 1
    means = {}
    for org, by_purchase in per.items():
        values = [ratings.combined(kinds) for kinds in by_purchase.values()]
        means[org] = sum(values, Decimal(0)) / len(values)
    return means, dict(counts)


def stars_of(mean: Decimal | None) -> int | None:
    if mean is None:
        return None
    return max(1, min(5, int(mean.quantize(Decimal(1), ROUND_HALF_UP))))


# ---------------------------------------------------------------- the inputs, traceable


@dataclass
class Breakdown:
    """Every input of one intermediary's credit score, each with the row it comes from."""

    organisation_id: int
    today: date
    ratings: list[tuple[Rating, Mapping[str, int], bool]] = field(
        default_factory=list
    )  # row, counted, revised
    references: dict[int, str] = field(default_factory=dict)  # purchase id -> reference
    mean: Decimal | None = None
    complaints: list[Complaint] = field(default_factory=list)
    sanctions: list[Sanction] = field(default_factory=list)
    listings: list[CreditListing] = field(default_factory=list)  # every listing, in force or not

    @property
    def red(self) -> bool:
        return any(x.list_kind == RED and in_force(x, self.today) for x in self.listings)

    @property
    def black(self) -> bool:
        return any(x.list_kind == BLACK and in_force(x, self.today) for x in self.listings)

    @property
    def stars(self) -> int | None:
        return stars_of(self.mean)

    @property
    def score(self) -> int:
        return score(self.mean, len(self.complaints), len(self.sanctions), self.red, self.black)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=clock.CST)


def breakdown(session: Session, org_id: int, today: date | None = None) -> Breakdown:
    today = today or clock.to_cst(clock.now()).date()
    out = Breakdown(org_id, today)
    rows = list(
        session.scalars(select(Rating).where(Rating.intermediary_org_id == org_id).order_by(Rating.id))
    )
    counted = effective_scores(session, rows)
    out.ratings = [(r, counted[r.id], counted[r.id] is not r.scores) for r in rows]
    means, _ = rating_means((org_id, r.purchase_id, r.rater_kind, counted[r.id]) for r in rows)
    out.mean = means.get(org_id)
    ids = {r.purchase_id for r in rows}
    if ids:
        out.references = dict(
            session.execute(select(Purchase.id, Purchase.reference).where(Purchase.id.in_(ids)))
            .tuples()
            .all()
        )
    out.complaints = verified_quality_complaints(session, org_id, today)
    since = today - SANCTION_WINDOW
    out.sanctions = list(
        session.scalars(
            select(Sanction)
            .where(
                Sanction.organisation_id == org_id, Sanction.decided_on > since, Sanction.decided_on <= today
            )
            .order_by(Sanction.decided_on)
        )
    )
    out.listings = list(
        session.scalars(
            select(CreditListing).where(CreditListing.organisation_id == org_id).order_by(CreditListing.id)
        )
    )
    return out


def verified_quality_complaints(session: Session, org_id: int, today: date) -> list[Complaint]:
    """The verified quality complaints filed within the 365 days that end today (today included): a complaint
    filed on day 365 before today counts, one filed on day 366 before it does not."""
    start = _start_of(today - COMPLAINT_WINDOW + timedelta(days=1))
    return list(
        session.scalars(
            select(Complaint)
            .where(
                Complaint.intermediary_org_id == org_id,
                Complaint.kind == "quality",
                Complaint.status == "verified",
                Complaint.filed_at >= start,
                Complaint.filed_at < _start_of(today + timedelta(days=1)),
            )
            .order_by(Complaint.filed_at)
        )
    )


def all_scores(session: Session, today: date | None = None) -> dict[int, tuple[int | None, int, int]]:
    """Every intermediary's (stars, number of ratings, credit score), recomputed from every row at once: the
    same figures as `breakdown` gives for each (the periodic recomputation; the bench times it).

    The 200,000 ratings are added up in the database, one row per purchase with its raters' integer sums
    (ratings.combined_of_sums), instead of loading every rating's scores into Python; a rating whose appeal
    was upheld is corrected afterwards by the difference its reviewed scores make. Each intermediary's mean
    then adds its purchases' combined scores in the order `breakdown` does (by their first rating), so that
    the rounding of every step is the same."""
    today = today or clock.to_cst(clock.now()).date()
    # an upheld appeal's reviewed scores count instead of the rating's own (as effective_scores): the
    # difference they make to their purchase's weighted sum, from the few appealed ratings
    revised: dict[int, Mapping[str, int]] = {}
    for rating_id, scores in session.execute(
        select(RatingAppeal.rating_id, RatingAppeal.revised_scores)
        .where(RatingAppeal.status == "upheld")
        .order_by(RatingAppeal.id)
    ):
        if scores:
            revised[rating_id] = scores
    change: dict[tuple[int, int], int] = defaultdict(int)
    appealed = list(revised)
    for i in range(0, len(appealed), 500):
        for rating_id, org, purchase, kind, scores in session.execute(
            select(
                Rating.id, Rating.intermediary_org_id, Rating.purchase_id, Rating.rater_kind, Rating.scores
            ).where(Rating.id.in_(appealed[i : i + 500]))
        ):
            difference = _indicator_sum(revised[rating_id]) - _indicator_sum(scores)
            change[(org, purchase)] += ratings.WEIGHTS[kind] * difference
    # one row per purchase, each intermediary's in the order of their first rating (breakdown's order)
    weight = case(ratings.WEIGHTS, value=Rating.rater_kind, else_=0)
    total = functools.reduce(operator.add, [Rating.scores[k].as_integer() for k in ratings.INDICATORS])
    first = func.min(Rating.id)
    per_purchase = session.execute(
        select(
            Rating.intermediary_org_id,
            Rating.purchase_id,
            func.sum(weight * total),
            func.sum(weight),
            func.count(),
        )
        .group_by(Rating.intermediary_org_id, Rating.purchase_id)
        .order_by(Rating.intermediary_org_id, first)
    )
    combined: dict[tuple[int, int], Decimal] = {}  # a few dozen distinct sums among 100,000 purchases
    means: dict[int, Decimal] = {}
    counts: dict[int, int] = {}
    for org, rows in itertools.groupby(per_purchase, key=lambda r: r[0]):
        values, n = [], 0
        for _, purchase, weighted, weights, rated in rows:
            if change:
                weighted += change.get((org, purchase), 0)
            value = combined.get((weighted, weights))
            if value is None:
                value = combined[(weighted, weights)] = ratings.combined_of_sums(weighted, weights)
            values.append(value)
            n += rated
        means[org], counts[org] = sum(values, Decimal(0)) / len(values), n
    # the same windows as `breakdown` (verified_quality_complaints, the sanctions of the last 3 years)
    start = _start_of(today - COMPLAINT_WINDOW + timedelta(days=1))
    complaints: dict[int, int] = defaultdict(int)
    for complained, n in session.execute(
        select(Complaint.intermediary_org_id, func.count())
        .where(
            Complaint.kind == "quality",
            Complaint.status == "verified",
            Complaint.filed_at >= start,
            Complaint.filed_at < _start_of(today + timedelta(days=1)),
        )
        .group_by(Complaint.intermediary_org_id)
    ):
        if complained is not None:
            complaints[complained] = n
    sanctions: dict[int, int] = defaultdict(int)
    for sanctioned, n in session.execute(
        select(Sanction.organisation_id, func.count())
        .where(Sanction.decided_on > today - SANCTION_WINDOW, Sanction.decided_on <= today)
        .group_by(Sanction.organisation_id)
    ):
        sanctions[sanctioned] = n
    red: set[int] = set()
    black: set[int] = set()
    for listing in session.scalars(select(CreditListing).where(CreditListing.lifted_at.is_(None))):
        if in_force(listing, today):
            (red if listing.list_kind == RED else black).add(listing.organisation_id)
    orgs = set(means) | set(complaints) | set(sanctions) | red | black
    return {
        o: (
            stars_of(means.get(o)),
            counts.get(o, 0),
            score(means.get(o), complaints[o], sanctions[o], o in red, o in black),
        )
        for o in orgs
    }


def _indicator_sum(scores: Mapping[str, int]) -> int:
    return sum(scores[k] for k in ratings.INDICATORS)


# the ids only, the statement built once: the public directory asks on every page
_BLACKLISTED = select(CreditListing.organisation_id).where(
    CreditListing.list_kind == BLACK,
    CreditListing.lifted_at.is_(None),
    CreditListing.starts_on <= bindparam("today"),
    or_(CreditListing.ends_on.is_(None), CreditListing.ends_on >= bindparam("today")),
)


def blacklisted(session: Session, today: date) -> set[int]:
    return set(session.scalars(_BLACKLISTED, {"today": today}))


# ---------------------------------------------------------------- sanctions and lists (the centre)


def _intermediary(session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None or org.kind != "intermediary":
        raise NotFound.one("intermediary_not_found", N_("No such intermediary."))
    return org


def _required(values: Mapping[str, str], labels: Mapping[str, str]) -> list[Problem]:
    return [
        Problem("field_missing", labels[name], name) for name, value in values.items() if not value.strip()
    ]


def record_sanction(
    session: Session,
    actor: Actor,
    org_id: int,
    authority: str,
    reason: str,
    document: str,
    decided_on: date | None,
) -> Sanction:
    """The centre records a sanction an authority imposed (the decision's number and date)."""
    require_role(actor, Role.admin)
    _intermediary(session, org_id)
    problems = _required(
        {"authority": authority, "reason": reason},
        {
            "authority": N_("Name the authority that imposed the sanction."),
            "reason": N_("Say what it was for."),
        },
    )
    today = clock.to_cst(clock.now()).date()
    if decided_on is None or decided_on > today:
        problems.append(
            Problem("date_invalid", N_("Enter the decision's date, not after today."), "decided_on")
        )
    if problems:
        raise ValidationFailed(problems)
    assert decided_on is not None and actor.user_id is not None
    row = Sanction(
        organisation_id=org_id,
        authority=authority.strip(),
        reason=reason.strip(),
        document=document.strip(),
        decided_on=decided_on,
        recorded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        MarketplaceTag.sanction_recorded,
        actor=actor,
        subject=f"org:{org_id}",
        details={
            "sanction": row.id,
            "authority": row.authority,
            "reason": row.reason,
            "document": row.document,
            "decided_on": decided_on.isoformat(),
        },
    )
    refresh(session, [org_id])
    return row


def add_listing(
    session: Session,
    actor: Actor,
    org_id: int,
    list_kind: str,
    reason: str,
    authority: str,
    starts_on: date | None,
    ends_on: date | None,
) -> CreditListing:
    require_role(actor, Role.admin)
    _intermediary(session, org_id)
    problems = _required(
        {"reason": reason, "authority": authority},
        {
            "reason": N_("Say why the intermediary is listed."),
            "authority": N_("Name the deciding authority."),
        },
    )
    if list_kind not in LISTS:
        problems.append(Problem("list_unknown", N_("Choose the red list or the black list."), "list_kind"))
    if starts_on is None:
        problems.append(Problem("date_invalid", N_("Enter the start date."), "starts_on"))
    elif ends_on is not None and ends_on < starts_on:
        problems.append(Problem("end_before_start", N_("The end date is before the start date."), "ends_on"))
    if problems:
        raise ValidationFailed(problems)
    assert starts_on is not None and actor.user_id is not None
    row = CreditListing(
        organisation_id=org_id,
        list_kind=list_kind,
        reason=reason.strip(),
        authority=authority.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        recorded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        MarketplaceTag.listing_added,
        actor=actor,
        subject=f"org:{org_id}",
        details={
            "listing": row.id,
            "list": list_kind,
            "reason": row.reason,
            "authority": row.authority,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
        },
    )
    refresh(session, [org_id])
    return row


def lift_listing(session: Session, actor: Actor, listing_id: int, note: str) -> CreditListing:
    require_role(actor, Role.admin)
    row = session.get(CreditListing, listing_id)
    if row is None:
        raise NotFound.one("listing_not_found", N_("No such list entry."))
    if row.lifted_at is not None:
        raise Conflict.one("listing_lifted_already", N_("This list entry was already lifted."))
    if not note.strip():
        raise ValidationFailed.one("note_missing", N_("Say why the list entry is lifted."), "note")
    row.lifted_at = clock.now()
    session.flush()
    record(
        session,
        MarketplaceTag.listing_lifted,
        actor=actor,
        subject=f"org:{row.organisation_id}",
        details={"listing": row.id, "list": row.list_kind, "note": note.strip()},
    )
    refresh(session, [row.organisation_id])
    return row


def listings(session: Session, list_kind: str, today: date | None = None) -> list[tuple[CreditListing, str]]:
    """The listings of one list in force today, with the organisation's name (the public lists)."""
    today = today or clock.to_cst(clock.now()).date()
    rows = session.execute(
        select(CreditListing, Organisation.name)
        .join(Organisation, Organisation.id == CreditListing.organisation_id)
        .where(CreditListing.list_kind == list_kind, CreditListing.lifted_at.is_(None))
        .order_by(CreditListing.starts_on.desc())
    )
    return [(x, name) for x, name in rows.tuples() if in_force(x, today)]


def refresh(session: Session, org_ids: Iterable[int | None]) -> None:
    """Store the intermediaries' stars, ratings and credit as computed now (models.Standing, which the
    directory sorts by), after a change to one of their inputs."""
    for org_id in {o for o in org_ids if o is not None}:
        b = breakdown(session, org_id)
        org = session.get(Organisation, org_id)
        assert org is not None
        row = session.get(Standing, org_id) or Standing(organisation_id=org_id)
        row.stars, row.ratings, row.credit, row.computed_at = (
            b.stars or 0,
            len(b.ratings),
            b.score,
            clock.now(),
        )
        row.sort_key, row.region = sort_key(b.stars, org.name, org_id), org.region
        session.add(row)
    session.flush()


def sort_key(stars: int | None, name: str, org_id: int) -> str:
    """The directory's order as one string: 5-star intermediaries first (unrated last), then by name."""
    return f"{5 - (stars or 0)}|{name}|{org_id:012d}"
