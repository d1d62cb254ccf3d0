"""The demo's results (issue 14): an evaluated tender (its report signed) gets its winning candidates
published by its agency, one objection raised by a bidder that is not the first candidate, and its answer from
the agency, the way the services do it for real people: backdated so that the period is under way.

demo.county calls it for the demo's tender in publicity (demo.evaluation_stages' "stage_evaluated", its report
signed two days before); tests/demo also drives it from a signed report made by the tests' factories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from accounts.models import User
from award.models import Publicity
from award.publicity import objections, publicity
from core import clock
from core.identity import Role
from tender.models import Bid

OBJECTION = "第一中标候选人投标文件中的类似项目业绩未提供合同及竣工验收证明，请予以核查。"
ANSWER = "经核查，该候选人已在投标文件中提供类似项目的合同及竣工验收证明，业绩真实有效，异议不成立。"


@contextmanager
def _ago(delta: timedelta) -> Iterator[None]:
    """demo.evaluation_room's helper, shifting back by as much as it shifted (a clock already moved, as the
    tests' is, stays where it was)."""
    clock.shift(-delta)
    try:
        yield
    finally:
        clock.shift(delta)


def _user(session: Any, org_id: int, role: Role) -> User:
    users = session.scalars(select(User).where(User.organisation_id == org_id).order_by(User.id)).all()
    return next(u for u in users if role.value in (u.roles or []))


def publish(loader: Any, tender: Any) -> Publicity:
    """The tender's agency publishes its candidates (or result notice) now, from the signed report."""
    s = loader.session
    agency = loader.actor(_user(s, tender.agency_id, Role.agency).username)
    return publicity.publish(s, agency, tender.id)


def load(loader: Any, tender: Any) -> None:
    """Publish `tender`'s candidates from its signed report; an objection raised and answered."""
    s = loader.session
    report = publicity.signed_report(s, tender.id)
    assert report is not None and report.completed_at is not None, "the tender's report is not signed"
    # as early as the report allows, at most a day back: the publicity is then under way, not over (R54)
    back = timedelta(days=min(1, (clock.now() - report.completed_at).days))
    agency = loader.actor(_user(s, tender.agency_id, Role.agency).username)
    with _ago(back):
        pub = publish(loader, tender)
    first = pub.candidates[0]["organisation_id"]
    others = s.scalars(
        select(Bid.organisation_id)
        .where(Bid.tender_id == tender.id, Bid.status == "submitted", Bid.organisation_id != first)
        .order_by(Bid.id)
    ).all()
    objector = loader.actor(_user(s, others[-1], Role.bidder).username)
    with _ago(back * 3 / 4):  # a few hours into the publicity; answered now, within its 3 days (R54)
        obj = objections.raise_objection(s, objector, tender.id, OBJECTION)
    objections.answer_objection(s, agency, obj.id, ANSWER)
    s.flush()
