"""audit.queries: the read-only view of the log for the other packages (the supervisor's trail, tagged
entries, confidential parts for server-side rules, signed checkpoints as plain values)."""

from datetime import timedelta

import pytest

from audit import CHECKPOINT_STALE_AFTER, SignedCheckpoint, record, sign_checkpoint
from audit.queries import (
    checkpoints_after,
    confidential_parts,
    entries_for_subject,
    entries_tagged,
    latest_checkpoint,
)
from core import clock
from core.errors import Forbidden, NotAuthenticated
from core.identity import SYSTEM, anonymous
from core.signing import signing_key
from tender.events import TenderTag

ORIGIN = "etender.test/audit"


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
    record(db, TenderTag.tender_created, actor=agency, subject="tender:1", details={"title": "A"})
    record(db, TenderTag.tender_created, actor=agency, subject="tender:2", details={"title": "B"})
    record(db, TenderTag.tender_published, actor=agency, subject="tender:1")
    record(
        db,
        TenderTag.tender_suspended,
        actor=actors["monitor"],
        subject="tender:1",
        details={"reason": "complaint"},
    )
    db.commit()
    entries = entries_for_subject(db, actors["monitor"], "tender:1")
    assert [e.tag for e in entries] == ["tender.created", "tender.published", "tender.suspended"]
    assert [e.index for e in entries] == sorted(e.index for e in entries)
    assert entries[0].ip == "203.0.113.9" and entries[2].details["reason"] == "complaint"
    assert [e.tag for e in entries_for_subject(db, actors["admin"], "tender:2")] == ["tender.created"]


def test_excluded_tags_are_left_out(db, actors):
    record(db, TenderTag.tender_published, actor=actors["agency"], subject="tender:1")
    record(
        db,
        TenderTag.tender_registered,
        actor=actors["bidder"],
        subject="tender:1",
        confidential={"organisation": 1},
    )
    record(
        db,
        TenderTag.tender_document_downloaded,
        actor=actors["bidder"],
        subject="tender:1",
        confidential={"organisation": 1},
    )
    db.commit()
    hidden = [TenderTag.tender_registered.value, TenderTag.tender_document_downloaded.value]
    assert [e.tag for e in entries_for_subject(db, actors["monitor"], "tender:1", exclude_tags=hidden)] == [
        "tender.published"
    ]
    assert len(entries_for_subject(db, actors["monitor"], "tender:1")) == 3


@pytest.mark.parametrize("who", ["bidder", "agency"])
def test_only_monitors_and_administrators_may_read(db, actors, who):
    with pytest.raises(Forbidden):
        entries_for_subject(db, actors[who], "tender:1")


def test_anonymous_must_log_in(db):
    with pytest.raises(NotAuthenticated):
        entries_for_subject(db, anonymous("192.0.2.1"), "tender:1")


def test_entries_tagged_by_subject_and_time(db, actors):
    agency = actors["agency"]
    record(db, TenderTag.tender_created, actor=agency, subject="tender:1")
    clock.shift(timedelta(hours=1))
    since = clock.now()
    record(db, TenderTag.tender_published, actor=agency, subject="tender:1")
    record(db, TenderTag.tender_created, actor=agency, subject="tender:2")
    record(db, TenderTag.tender_suspended, actor=actors["monitor"], subject="tender:1")
    db.commit()
    tags = [TenderTag.tender_created, TenderTag.tender_published]
    assert [(e.tag, e.subject) for e in entries_tagged(db, tags)] == [
        ("tender.created", "tender:1"),
        ("tender.published", "tender:1"),
        ("tender.created", "tender:2"),
    ]
    by_subject = entries_tagged(db, tags, subject="tender:1")
    assert [e.tag for e in by_subject] == ["tender.created", "tender.published"]
    assert [e.subject for e in entries_tagged(db, [TenderTag.tender_created], limit=1)] == ["tender:1"]
    assert [(e.tag, e.subject) for e in entries_tagged(db, tags, since=since)] == [
        ("tender.published", "tender:1"),
        ("tender.created", "tender:2"),
    ]
    assert entries_tagged(db, [TenderTag.tender_cancelled]) == []


def test_confidential_parts_only_of_entries_that_have_them(db, actors):
    bidder = actors["bidder"]
    since = clock.now() - timedelta(minutes=1)
    record(
        db, TenderTag.bid_submitted, actor=bidder, subject="tender:1", details={"lot": 3}, conceal_actor=True
    )
    record(db, TenderTag.bid_submitted, actor=SYSTEM, subject="tender:1", details={"lot": 4})
    record(
        db, TenderTag.tender_registered, actor=bidder, subject="tender:1", confidential={"organisation": 1}
    )
    db.commit()
    parts = confidential_parts(db, TenderTag.bid_submitted.value, since=since, limit=10)
    assert len(parts) == 1
    part = parts[0]
    assert part.subject == "tender:1" and part.details["lot"] == 3 and "confidential_digest" in part.details
    assert part.data["actor"] == {
        "user_id": bidder.user_id,
        "username": bidder.username,
        "organisation": bidder.organisation_id,
    }
    # the address is not in the part that is disclosed after the opening (addresses are never public); the
    # server-side rules read the committed one
    assert part.address == bidder.ip
    later = clock.now() + timedelta(minutes=1)
    assert confidential_parts(db, TenderTag.bid_submitted.value, since=later, limit=10) == []


def test_checkpoints_as_plain_values(db, actors, settings):
    key = signing_key(settings.data_dir, ORIGIN)
    assert latest_checkpoint(db) is None and checkpoints_after(db) == []
    record(db, TenderTag.tender_created, actor=actors["agency"], subject="tender:1")
    first = sign_checkpoint(db, key, ORIGIN)
    assert isinstance(first, SignedCheckpoint) and first.size == 1 and len(first.root) == 32
    assert sign_checkpoint(db, key, ORIGIN) is None  # nothing new
    record(db, TenderTag.tender_created, actor=actors["agency"], subject="tender:2")
    assert sign_checkpoint(db, key, ORIGIN, stale_after=CHECKPOINT_STALE_AFTER) is None  # the latest is fresh
    second = sign_checkpoint(db, key, ORIGIN)
    db.commit()
    assert second is not None and second.size == 2 and second.key_id == key.id.hex()
    assert latest_checkpoint(db) == second
    assert checkpoints_after(db) == [first, second]
    assert checkpoints_after(db, 1) == [second] and checkpoints_after(db, limit=1) == [first]
