"""A tender's phase for the disclosure policy, and its readers' audiences."""

from datetime import timedelta

import pytest

from core.disclosure import Audience, Fact, Phase
from tender import disclosure
from tender.lifecycle import Status
from tender.models import Opening, OpeningStatus
from tests.factories.tenders import move_to, published_tender


@pytest.fixture
def w(db, make, blobs):  # type: ignore[no-untyped-def]
    return published_tender(db, make, blobs)


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        (Status.published, Phase.bidding),
        (Status.bidding_closed, Phase.opening),
        (Status.opening, Phase.opening),
        (Status.evaluating, Phase.evaluation),
        (Status.evaluated, Phase.evaluation),
        (Status.publicity, Phase.publicity),
        (Status.awarded, Phase.final),
    ],
)
def test_the_status_places_the_tender_in_its_phase(w, status, phase):
    move_to(w.deadline + timedelta(seconds=1))
    w.tender.status = status
    assert disclosure.phase_of(w.db, w.tender) == phase


def test_the_published_record_moves_the_opening_to_opened(w):
    move_to(w.deadline + timedelta(seconds=1))
    w.tender.status = Status.opening
    w.db.add(
        Opening(tender_id=w.tender.id, status=OpeningStatus.decrypting, opens_at=w.deadline, bids_count=3)
    )
    w.db.flush()
    assert disclosure.phase_of(w.db, w.tender) == Phase.opening
    w.db.query(Opening).filter_by(tender_id=w.tender.id).update({"status": OpeningStatus.done})
    assert disclosure.phase_of(w.db, w.tender) == Phase.opened


def test_a_suspended_tender_is_in_the_phase_it_resumes_to(w):
    move_to(w.deadline + timedelta(days=3))
    w.tender.status, w.tender.resume_to = Status.suspended, Status.published
    assert disclosure.phase_of(w.db, w.tender) == Phase.bidding
    w.tender.resume_to = Status.evaluating
    assert disclosure.phase_of(w.db, w.tender) == Phase.evaluation


def test_a_failed_tender_is_final_only_once_its_deadline_passed(w):
    w.tender.status = Status.cancelled
    assert disclosure.phase_of(w.db, w.tender) == Phase.bidding
    move_to(w.deadline)
    assert disclosure.phase_of(w.db, w.tender) == Phase.final


def test_audiences_follow_the_readers_relation_to_the_tender(w):
    assert disclosure.audiences(w.anon, w.tender) == {Audience.public}
    assert Audience.agency in disclosure.audiences(w.agency, w.tender)
    assert Audience.agency not in disclosure.audiences(w.other_agency, w.tender)
    assert Audience.purchaser in disclosure.audiences(w.purchaser, w.tender)
    assert Audience.monitor in disclosure.audiences(w.monitor, w.tender)
    assert Audience.own_party in disclosure.audiences(w.bidder, w.tender, party_id=w.bidder_org.id)
    assert Audience.own_party not in disclosure.audiences(w.other_bidder, w.tender, party_id=w.bidder_org.id)
    assert disclosure.may_see(w.db, w.bidder, w.tender, Fact.participation, party_id=w.bidder_org.id)
    assert not disclosure.may_see(
        w.db, w.other_bidder, w.tender, Fact.participation, party_id=w.bidder_org.id
    )
