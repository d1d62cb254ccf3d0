"""The demo's tender in evaluation (demo/evaluation_room.py): opened, its committee drawn with demo expert
accounts confirmed, a session booked that they can check in to."""

from sqlalchemy import select

from core import clock
from demo import county as demo
from demo import evaluation_room
from evaluation.committee.models import Draw, SeatStatus
from evaluation.pool.models import Expert
from evaluation.room import rules, sessions
from evaluation.room.models import EvaluationSession
from tender.models import Bid, OpenedBid, Tender


def test_the_demo_has_a_tender_in_evaluation_with_a_booked_session(db, blobs):
    demo.load(db, blobs)
    db.commit()
    # the tender whose session is about to start (demo/evaluation_stages.py's are further on)
    tender = db.scalars(
        select(Tender).where(Tender.status == "evaluating", Tender.title == evaluation_room._spec().title)
    ).one()
    opened = select(OpenedBid).join(Bid, Bid.id == OpenedBid.bid_id)
    assert len(db.scalars(opened.where(OpenedBid.status == "opened", Bid.tender_id == tender.id)).all()) == 3
    draw = db.scalars(select(Draw).where(Draw.tender_id == tender.id)).one()
    confirmed = [s for s in draw.seats if s.status == SeatStatus.confirmed]
    assert confirmed and all(db.get(Expert, s.expert_id).user_id for s in confirmed)
    booked = db.scalars(select(EvaluationSession).where(EvaluationSession.tender_id == tender.id)).one()
    assert rules.may_check_in(clock.as_utc(booked.starts_at), clock.now())
    # a drawn demo expert may check in now
    from accounts.models import User, actor_for

    expert = db.get(Expert, confirmed[0].expert_id)
    actor = actor_for(db.get(User, expert.user_id), "127.0.0.1")
    assert sessions.workbench(db, actor, tender.id).may_check_in
