"""The statuses and the opening policy are StrEnums whose values are what the database and the sealed-bid
format hold: what is stored stays byte-identical to the plain strings they replaced, on each backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import String, bindparam, select, text

from core import clock
from tender.models import Bid, BidStatus, Lot, OpenedBid, OpenedBidStatus, Opening, OpeningStatus, Tender
from tender.rules import OPENING_POLICIES, OpeningPolicy

VALUES = {
    BidStatus: ["uploading", "submitted", "replaced", "withdrawn", "abandoned"],
    OpeningStatus: ["awaiting_parts", "decrypting", "done", "failed"],
    OpenedBidStatus: ["pending", "decrypting", "opened", "revoked", "withdrawn"],
    OpeningPolicy: ["quorum", "quorum+bidder"],
}


@pytest.mark.parametrize("enum_class", list(VALUES), ids=lambda c: c.__name__)
def test_values_are_the_strings_they_replaced(enum_class):
    assert [m.value for m in enum_class] == VALUES[enum_class]
    for member in enum_class:
        assert member == member.value and str(member) == member.value and f"{member}" == member.value
    assert OPENING_POLICIES == ("quorum", "quorum+bidder")


@pytest.mark.parametrize("member", [m for c in VALUES for m in c], ids=str)
def test_driver_binds_the_value_not_the_name(db, member):
    # an Enum (not a str) would be sent by its name: quorum_bidder instead of quorum+bidder
    assert db.scalar(select(bindparam("v", member, type_=String))) == member.value


def test_defaults_are_stored_as_before(db, make):
    org = make.org("agency")
    user = make.user(org, "agency")
    tender = Tender(
        reference="T-ENUM-1",
        title="t",
        purchaser_id=org.id,
        agency_id=org.id,
        created_by=user.id,
        category="goods",
    )
    tender.lots.append(Lot(number=1, name="lot", estimated_price=100, price_ceiling=100))
    db.add(tender)
    db.flush()
    bid = Bid(tender_id=tender.id, lot_id=tender.lots[0].id, organisation_id=org.id, user_id=user.id)
    opening = Opening(tender_id=tender.id, opens_at=clock.now() + timedelta(days=1))
    db.add_all([bid, opening])
    db.flush()
    db.add(OpenedBid(opening_id=opening.id, bid_id=bid.id))
    db.flush()
    assert db.execute(text("SELECT opening_policy FROM tenders")).scalar_one() == "quorum"
    assert db.execute(text("SELECT status FROM bids")).scalar_one() == "uploading"
    assert db.execute(text("SELECT status FROM openings")).scalar_one() == "awaiting_parts"
    assert db.execute(text("SELECT status FROM opened_bids")).scalar_one() == "pending"
    db.execute(text("UPDATE tenders SET opening_policy = :p"), {"p": OpeningPolicy.quorum_bidder})
    db.expire_all()
    assert db.scalars(select(Tender.opening_policy)).one() == OpeningPolicy.quorum_bidder == "quorum+bidder"
