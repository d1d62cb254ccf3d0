"""The demo's marketplace (demo/marketplace.py): intermediaries in several states, a selected, accepted and
rated purchase whose record verifies, an open purchase whose quotes stay sealed."""

from sqlalchemy import select

from core.identity import anonymous
from demo import county as demo
from marketplace import aftercare, purchases, selection
from marketplace.models import Entry, Purchase


def test_the_demo_has_a_marketplace(db, blobs):
    demo.load(db, blobs)
    db.commit()
    states = sorted(e.status for e in db.scalars(select(Entry)))
    assert states == ["approved", "approved", "approved", "approved", "submitted"]
    done = db.scalars(select(Purchase).where(Purchase.status == "selected")).one()
    assert done.acceptance == "accepted" and len(aftercare.ratings_of(db, done.id)) == 2
    assert selection.verify(purchases.public_record(db, done.id)) == []
    assert aftercare.standing(db)[done.chosen_org_id][0] == 5
    open_ = db.scalars(select(Purchase).where(Purchase.method == "optimal")).one()
    assert len(open_.signups) == 3
    assert purchases.applicants(db, anonymous(), open_) == purchases.Applicants(None, None)
