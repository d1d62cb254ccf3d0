"""The public directory's reads (marketplace.directory): the region filter's choices, walked from one region
to the next in the index, are the standings' distinct regions in their order; the page's statements, built
once, bind each call's filters."""

from __future__ import annotations

from sqlalchemy import select

from marketplace import directory
from marketplace.models import Standing
from tests.factories.marketplace import approved, market_world


def test_the_regions_are_the_standings_distinct_regions_in_order(db, make):  # type: ignore[no-untyped-def]
    w = market_world(db, make)
    assert directory.regions(db) == []  # no standing yet: the walk ends at once
    for i, region in enumerate(["西乡", "东乡", "", "西乡", "城关镇", "东乡"]):
        approved(db, make, w.admin, f"检测公司{i}", region=region)
    distinct = list(
        db.scalars(select(Standing.region).where(Standing.region != "").distinct().order_by(Standing.region))
    )
    assert directory.regions(db) == distinct
    assert sorted(distinct) == sorted({"西乡", "东乡", "城关镇"})


def test_each_call_binds_its_own_filters(db, make):  # type: ignore[no-untyped-def]
    w = market_world(db, make)
    east = approved(db, make, w.admin, "东乡检测", region="东乡")[0]
    west = approved(db, make, w.admin, "西乡勘察", ["survey"], region="西乡")[0]
    ids = lambda **kw: [r.organisation.id for r in directory.page(db, **kw).rows]  # noqa: E731
    assert set(ids()) == {east.id, west.id}
    assert ids(region="东乡") == [east.id]
    assert ids(region="西乡") == [west.id]
    assert ids(service="survey") == [west.id]
    assert ids(service="survey", region="东乡") == []
    assert ids(service="testing", region="东乡") == [east.id]
    assert set(ids()) == {east.id, west.id}  # nothing left over from the calls before
