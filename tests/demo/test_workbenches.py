"""The demo's trading-centre records (demo/workbenches.py): two projects registered at the centre, one linked
to its draft; two openings booked in the opening rooms; centre1's witnessing of the evaluated
tender's opening."""

from sqlalchemy import select

from demo import county as demo
from tender.centre.models import OpeningBooking, ProjectIntake, WitnessRecord


def test_the_demo_fills_the_centres_workbench(db, blobs):
    demo.load(db, blobs)
    db.commit()
    intakes = list(db.scalars(select(ProjectIntake).order_by(ProjectIntake.reference)))
    assert [i.reference for i in intakes] == ["JY-2026-0318", "JY-2026-0325"]
    assert intakes[0].tender_id is not None and intakes[1].tender_id is None
    bookings = list(db.scalars(select(OpeningBooking)))
    assert sorted(b.room.name for b in bookings) == ["1号开标室", "2号开标室"]
    (witnessed,) = db.scalars(select(WitnessRecord))
    assert witnessed.kind == "opening" and witnessed.witness_name
