"""The bulk recomputation (marketplace.credit.all_scores, marketplace.directory.recompute_all, issue 15): it
adds the ratings up in the database, yet gives every intermediary exactly the stars, number of ratings and
credit score that `breakdown` computes from its rows one by one, and rebuilds the directory's offers and
standings as the incremental path (sync_offers, refresh) stores them; on a mixed data set: one, two or three
raters per purchase, means that do not end, upheld and dismissed appeals, complaints and sanctions at the
edges of their windows and after the day computed, red and black lists."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update

from core import clock
from marketplace import credit, directory, entries, ratings
from marketplace.models import Complaint, CreditListing, Offer, Sanction, Standing
from tests.factories.marketplace import approved
from tests.factories.marketplace_credit import credit_world, rated_market


def test_the_combined_score_from_integer_sums_is_the_combined_score_of_the_raters():
    # every set of raters and every indicator sum each may give (5 indicators of 1 to 5: 5 .. 25)
    for n in (1, 2, 3):
        for kinds in itertools.combinations(ratings.WEIGHTS, n):
            for sums in itertools.product(range(5, 26), repeat=n):
                by_kind = {k: Decimal(s) / len(ratings.INDICATORS) for k, s in zip(kinds, sums, strict=True)}
                weighted = sum(ratings.WEIGHTS[k] * s for k, s in zip(kinds, sums, strict=True))
                weight = sum(ratings.WEIGHTS[k] for k in kinds)
                assert ratings.combined_of_sums(weighted, weight) == ratings.combined(by_kind)
    with pytest.raises(ValueError):
        ratings.combined_of_sums(0, 0)


def _start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=clock.CST)


@pytest.fixture
def mixed(db, make):  # type: ignore[no-untyped-def]
    w = credit_world(db, make)
    w.firms += [approved(db, make, w.admin, f"检测公司{i}", region="东乡") for i in range(3, 7)]
    w.idle = approved(db, make, w.admin, "无评价检测公司")[0]  # no input at all: a newcomer's 60
    ids = rated_market(w, db, random.Random(15), 90)
    today = clock.to_cst(clock.now()).date()
    user = w.admin.user_id
    a, b, c, d = (org.id for org, _ in w.firms[:4])

    def complaint(org: int, filed: datetime, kind: str = "quality", status: str = "verified") -> Complaint:
        return Complaint(
            kind=kind, intermediary_org_id=org, filed_by=user, text="质量问题", filed_at=filed, status=status
        )

    db.add_all(
        [
            complaint(a, _start(today - timedelta(days=364))),  # day 365 of the window: counts
            complaint(a, _start(today - timedelta(days=365))),  # day 366: does not
            complaint(a, _start(today + timedelta(days=1))),  # after the day computed: does not
            complaint(b, _start(today) + timedelta(hours=23, minutes=59)),  # today's last minute: counts
            complaint(b, _start(today), status="filed"),  # not verified
            complaint(b, _start(today), kind="entry"),  # not about the service's quality
        ]
    )
    db.add_all(
        [
            Sanction(
                organisation_id=o,
                authority="县市场监管局",
                reason="虚假报告",
                decided_on=day,
                recorded_by=user,
            )
            for o, day in (
                (a, today),
                (b, today - credit.SANCTION_WINDOW + timedelta(days=1)),  # the window's first day: counts
                (b, today - credit.SANCTION_WINDOW),  # just outside
                (c, today + timedelta(days=1)),  # after the day computed
            )
        ]
    )

    def listing(
        org: int, kind: str, starts: date, ends: date | None = None, lifted: bool = False
    ) -> CreditListing:
        return CreditListing(
            organisation_id=org,
            list_kind=kind,
            reason="守信" if kind == "red" else "失信",
            authority="县发改局",
            starts_on=starts,
            ends_on=ends,
            recorded_by=user,
            lifted_at=clock.now() if lifted else None,
        )

    db.add_all(
        [
            listing(c, "red", today - timedelta(days=10)),
            listing(d, "black", today, today),  # in force on its one day
            listing(b, "black", today - timedelta(days=20), today - timedelta(days=1)),  # ended
            listing(a, "black", today - timedelta(days=5), lifted=True),  # lifted
            listing(a, "red", today + timedelta(days=1)),  # not started
        ]
    )
    db.flush()
    w.today, w.rating_ids = today, ids
    return w


def test_the_bulk_recomputation_gives_every_intermediary_what_breakdown_gives(mixed, db):
    w = mixed
    found = credit.all_scores(db, w.today)
    orgs = [org.id for org, _ in w.firms] + [w.idle.id]
    expected = {}
    for org in orgs:
        b = credit.breakdown(db, org, w.today)
        expected[org] = (b.stars, len(b.ratings), b.score)
    assert {o: found.get(o, (None, 0, credit.BASE)) for o in orgs} == expected
    assert w.idle.id not in found  # nothing to count: the directory gives it the newcomer's score
    # the data set is mixed enough to tell: several star levels, the lists, windows and appeals at work
    assert len({stars for stars, _, _ in expected.values()}) > 1
    assert sum(n for _, n, _ in expected.values()) == len(w.rating_ids)
    d = w.firms[3][0].id
    assert expected[d][2] == 0  # black list in force today


def test_recompute_all_rebuilds_the_offers_and_standings_the_incremental_path_stores(mixed, db):
    w = mixed
    credit.refresh(db, [org.id for org, _ in w.firms] + [w.idle.id])  # the path each change takes

    def offers() -> list[tuple[int, int, str, date]]:
        rows = db.execute(
            select(Offer.entry_id, Offer.organisation_id, Offer.service_code, Offer.valid_until)
        ).all()
        return sorted(tuple(r) for r in rows)

    def standings() -> dict[int, tuple[int, int, int, str, str]]:
        rows = db.execute(
            select(
                Standing.organisation_id,
                Standing.stars,
                Standing.ratings,
                Standing.credit,
                Standing.sort_key,
                Standing.region,
            )
        ).all()
        return {r[0]: tuple(r[1:]) for r in rows}

    before_offers, before_standings = offers(), standings()
    assert before_offers and len(before_standings) == len(w.firms) + 1
    # wrong derived rows, as after a missed change: the full recomputation puts them right
    db.execute(delete(Offer))
    db.execute(update(Standing).values(stars=1, ratings=0, credit=0, sort_key="", region=""))
    directory.recompute_all(db, entries.requirements(db))
    assert offers() == before_offers
    assert standings() == before_standings
    # and the directory shows them in its order: the black-listed one left out
    listed = [r.organisation.id for r in directory.page(db).rows]
    assert w.firms[3][0].id not in listed
    assert listed == [o for o, _ in sorted(before_standings.items(), key=lambda x: x[1][3]) if o in listed]
