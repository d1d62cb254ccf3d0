"""The demo's awarded and contracted tender (demo/results_award.py), from the award's test world: awarded to
no. 1, the notices signed, the contract with its file, every bid security refunded but one."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from award.decision import notice_format
from award.decision.models import AwardNotice, BidSecurity
from award.models import Award, Contract
from demo import results_award
from storage.base import read_all
from tests.factories.award import award_world, past


def test_the_demo_awards_contracts_and_refunds_all_but_one(db, make, blobs, tmp_path):
    w = award_world(db, make, blobs, tmp_path)
    past(w)
    results_award.load(SimpleNamespace(session=db, blobs=blobs, signer=w.key), w.tender)
    award = db.scalars(select(Award).where(Award.tender_id == w.tender.id)).one()
    assert award.rank == 1 and award.status == "active" and w.tender.status == "awarded"
    notices = db.scalars(select(AwardNotice).where(AwardNotice.award_id == award.id)).all()
    assert len(notices) == 3
    for n in notices:
        notice_format.verify(read_all(blobs, n.blob_key), [w.key.verifier])
    contract = db.scalars(select(Contract).where(Contract.award_id == award.id)).one()
    assert read_all(blobs, contract.blob_key) == results_award.CONTRACT_FILE
    assert contract.performance_bond * 10 <= contract.amount
    statuses = sorted(
        s.status for s in db.scalars(select(BidSecurity).where(BidSecurity.tender_id == w.tender.id))
    )
    assert statuses == ["held", "refunded", "refunded"]
