"""audit.queries: the supervisor's read-only view of the log."""

import pytest

from audit import EventTag, record
from audit.queries import entries_for_subject
from core.errors import Forbidden, NotAuthenticated
from core.identity import anonymous


@pytest.fixture
def actors(make, db):
    out = {
        "monitor": make.actor(make.user(make.org("supervisor"), "monitor")),
        "admin": make.actor(make.user(make.org("trading_centre"), "admin")),
        "bidder": make.actor(make.user(make.org("bidder"), "bidder")),
        "agency": make.actor(make.user(make.org("agency"), "agency"), ip="203.0.113.9"),
    }
    db.commit()
    return out


def test_entries_of_one_subject_in_log_order(db, actors):
    agency = actors["agency"]
    record(db, EventTag.tender_created, actor=agency, subject="tender:1", details={"title": "A"})
    record(db, EventTag.tender_created, actor=agency, subject="tender:2", details={"title": "B"})
    record(db, EventTag.tender_published, actor=agency, subject="tender:1")
    record(db, EventTag.tender_suspended, actor=actors["monitor"], subject="tender:1", details={"reason": "complaint"})
    db.commit()
    entries = entries_for_subject(db, actors["monitor"], "tender:1")
    assert [e.tag for e in entries] == ["tender.created", "tender.published", "tender.suspended"]
    assert [e.index for e in entries] == sorted(e.index for e in entries)
    assert entries[0].ip == "203.0.113.9" and entries[2].details["reason"] == "complaint"
    assert [e.tag for e in entries_for_subject(db, actors["admin"], "tender:2")] == ["tender.created"]


def test_excluded_tags_are_left_out(db, actors):
    record(db, EventTag.tender_published, actor=actors["agency"], subject="tender:1")
    record(db, EventTag.tender_registered, actor=actors["bidder"], subject="tender:1", confidential={"organisation": 1})
    record(db, EventTag.tender_document_downloaded, actor=actors["bidder"], subject="tender:1", confidential={"organisation": 1})
    db.commit()
    hidden = [EventTag.tender_registered.value, EventTag.tender_document_downloaded.value]
    assert [e.tag for e in entries_for_subject(db, actors["monitor"], "tender:1", exclude_tags=hidden)] == ["tender.published"]
    assert len(entries_for_subject(db, actors["monitor"], "tender:1")) == 3


@pytest.mark.parametrize("who", ["bidder", "agency"])
def test_only_monitors_and_administrators_may_read(db, actors, who):
    with pytest.raises(Forbidden):
        entries_for_subject(db, actors[who], "tender:1")


def test_anonymous_must_log_in(db):
    with pytest.raises(NotAuthenticated):
        entries_for_subject(db, anonymous("192.0.2.1"), "tender:1")
