"""Nobody learns publicly who objected to a result or complained (core.disclosure: Fact.result_objections and
Fact.complaints are never public): not from the policy, not from the public audit log, not from the public
page; the candidates themselves are public from the publicity on (Fact.publicity)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from audit.feed import published
from audit.log import AuditConfidential, AuditEntry
from award.publicity import complaints, objections, publicity
from award.publicity.events import PublicityTag
from core import clock
from core.disclosure import Audience, Fact, Phase, may_see


@pytest.mark.parametrize("fact", [Fact.result_objections, Fact.complaints])
@pytest.mark.parametrize("phase", list(Phase))
def test_objections_and_complaints_are_never_public(fact, phase):
    assert not may_see(fact, {Audience.public}, phase)
    assert not may_see(fact, {Audience.committee}, phase)


def test_the_publicity_is_public_from_the_publicity_on():
    assert not may_see(Fact.publicity, {Audience.public}, Phase.evaluation)
    assert may_see(Fact.publicity, {Audience.public}, Phase.publicity)
    assert may_see(Fact.publicity, {Audience.public}, Phase.final)


def test_the_public_log_names_no_objector_or_complainant(w, db):
    publicity.publish(db, w.agency, w.tender.id)
    obj = objections.raise_objection(db, w.third_bidder, w.tender.id, "异议的秘密理由")
    objections.answer_objection(db, w.agency, obj.id, "答复")
    complaints.file_complaint(
        db,
        w.third_bidder,
        w.tender.id,
        complaints.ComplaintInput("result", "投诉的秘密理由", clock.to_cst(clock.now()).date(), obj.id),
    )
    tags = [PublicityTag.objection_raised.value, PublicityTag.complaint_received.value]
    entries = db.scalars(select(AuditEntry).where(AuditEntry.tag.in_(tags))).all()
    assert len(entries) == 2
    for e in entries:
        secret = db.scalars(select(AuditConfidential).where(AuditConfidential.entry_index == e.index)).first()
        public = json.dumps(published(e, secret), ensure_ascii=False)
        for revealing in (
            w.third_bidder_user.username,
            "Bidder Three Ltd",
            "异议的秘密理由",
            "投诉的秘密理由",
            f'"organisation": {w.third_bidder_org.id}',
        ):
            assert revealing not in public, (e.tag, revealing)
        assert public  # the entry itself is public: an objection was raised, when, its deadline
        assert published(e, secret)["decoded"]["tag"] == e.tag
