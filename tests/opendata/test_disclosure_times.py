"""No release before its disclosure time, with the real services: bids submitted, replaced and downloads made
before the deadline, the deadline passed and the opening started, add nothing to the open data, not even a
count (E21, L22, E27); the sync then publishes the bids with the opening record (E32) and not before."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.signing import signing_key
from opendata import releases
from opendata.models import OcdsRelease
from tender import deadlines, participation
from tests.factories.bids import submit_bid
from tests.factories.tenders import move_to, published_tender


def _documents(db) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.document for r in db.scalars(select(OcdsRelease).order_by(OcdsRelease.seq))]


def test_taking_part_and_the_deadline_publish_nothing_before_the_opening_record(db, make, blobs, settings):
    w = published_tender(db, make, blobs)
    assert releases.sync(db, settings) == 1  # the tender itself
    before = _documents(db)
    signer = signing_key(settings.data_dir, settings.origin)
    for actor in (w.bidder, w.other_bidder, w.third_bidder):
        participation.download_document(db, actor, w.doc.id)
        submit_bid(db, actor, blobs, w.tender, w.lot1, signer)
    submit_bid(db, w.bidder, blobs, w.tender, w.lot1, signer, content=b"%PDF replaced")
    assert releases.sync(db, settings) == 0
    move_to(w.deadline + timedelta(seconds=1))
    deadlines.close_due_tenders(db)  # bidding closed, the opening started: the record is not published yet
    db.flush()
    assert releases.sync(db, settings) == 0
    after = _documents(db)
    assert after == before
    text = "".join(after)
    for org in (w.bidder_org, w.other_bidder_org, w.third_bidder_org):
        assert org.name not in text and org.credit_code not in text
    assert '"bids"' not in text and "numberOfTenderers" not in text
    # no release is dated after the moment it was stored
    for row in db.scalars(select(OcdsRelease)):
        assert json.loads(row.document)["date"] <= releases.mapping.iso(row.published_at)
    assert clock.now() > w.deadline
