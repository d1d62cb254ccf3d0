"""The demo's marketplace (demo/marketplace.py): intermediaries in several states, a selected, accepted and
rated purchase whose record verifies, an open purchase whose quotes stay sealed."""

from sqlalchemy import select

from core.identity import anonymous
from demo import county as demo
from marketplace import aftercare, credit, directory, entries, purchases, selection
from marketplace.models import Entry, Exit, Purchase


def test_the_demo_has_a_marketplace(db, blobs):
    demo.load(db, blobs)
    db.commit()
    states = sorted(e.status for e in db.scalars(select(Entry)))
    assert states == ["approved"] * 6 + ["exited", "submitted"]
    # the credit states (issue 15): suspended by an expired qualification, black-listed, exited
    listed = {x.organisation.name for x in entries.directory(db, service="testing")}
    assert "某某恒信检测技术有限公司" not in listed and "某某诚达检测有限公司" not in listed
    assert "某某市冀东工程检测有限公司" in listed
    assert [name for _, name in credit.listings(db, credit.BLACK)] == ["某某诚达检测有限公司"]
    (gone,) = db.scalars(select(Exit)).all()
    assert gone.rule_code == "misconduct" and gone.status == "in_force"
    assert {x.organisation.name for x in directory.page(db).rows} == {
        x.organisation.name for x in entries.directory(db)
    }
    done = db.scalars(select(Purchase).where(Purchase.status == "selected")).one()
    assert done.acceptance == "accepted" and len(aftercare.ratings_of(db, done.id)) == 2
    assert selection.verify(purchases.public_record(db, done.id)) == []
    assert aftercare.standing(db)[done.chosen_org_id][0] == 5
    open_ = db.scalars(select(Purchase).where(Purchase.method == "optimal")).one()
    assert len(open_.signups) == 3
    assert purchases.applicants(db, anonymous(), open_) == purchases.Applicants(None, None)
