"""Those who follow the evaluation without sitting on it (evaluation.report.progress) see each step's members
finished and the signatures in counts; the members are told when the report waits for their signature, with
its deadline, in their language (R53)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.models import Notification, User
from accounts.notifications import LogChannel, Message
from core import clock
from core.errors import Forbidden
from core.i18n import message_text
from evaluation.report import progress, signing
from tests.factories.report import public_hex, report_world, sign_as


def test_the_members_are_told_the_report_waits_for_their_signature(r, db):
    report_world(r)
    sent: list[Message] = []

    class Recording(LogChannel):
        def send(self, message: Message) -> None:
            sent.append(message)

    report = signing.generate(db, r.members[0][1], r.tender.id, Recording())
    db.commit()  # the outside messages leave after the commit
    told = db.scalars(select(Notification).where(Notification.kind == "evaluation.report.generated")).all()
    members = {actor.user_id for _, actor in r.members}
    assert {n.user_id for n in told} == members and {m.user_id for m in sent} == members
    due = clock.to_cst(report.deadline).strftime("%Y-%m-%d %H:%M")
    n = told[0]
    assert n.params == {"reference": r.tender.reference, "deadline": due}
    assert n.link == f"/expert/tenders/{r.tender.id}/room/report#sign"
    zh, en = message_text("zh", n.title, n.params), message_text("en", n.title, n.params)
    assert due in zh and "评标报告" in zh and "视为同意" in zh
    assert due in en and "deemed to agree" in en and zh != en
    # nobody else is told: not the agency, not the bidders
    assert r.agency_user.id not in {x.user_id for x in told}


def test_others_follow_the_steps_in_counts_never_names(r, db):
    report_world(r)
    signing.generate(db, r.members[0][1], r.tender.id)
    for seat, actor in r.members:
        signing.register_key(db, actor, r.tender.id, public_hex(r.private[seat.id]))
    sign_as(r, 0)
    sign_as(r, 1, dissent="不同意")
    for actor in (r.agency, r.purchaser, r.monitor):
        _, o = progress.overall(db, actor, r.tender.id)
        assert [s.step for s in o.steps] == ["review", "scoring", "ranking"]
        assert all(s.closed for s in o.steps)
        assert o.report.generated and (o.report.signed, o.report.total) == (2, 5) and not o.report.complete
        # counts only: nothing in it names a member or holds a score
        names = {db.get(User, a.user_id).full_name for _, a in r.members}
        assert not any(str(name) in repr(o) for name in names)
    # a bidder of another tender's world may not see it before the tender is being evaluated: here it is
    # public (Fact.evaluation_progress); before the deadline nobody outside sees it
    assert progress.overall(db, r.anon, r.tender.id)[1].report.signed == 2


def test_before_the_deadline_the_progress_is_refused(db, make, blobs):
    from tests.factories.tenders import published_tender

    w = published_tender(db, make, blobs)
    with pytest.raises(Forbidden):
        progress.overall(db, w.anon, w.tender.id)
