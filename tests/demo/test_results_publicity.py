"""The demo's results (demo/results_publicity.py) from a signed report made by the tests' factories: the
candidates published, one objection raised by a bidder that is not the first candidate and answered, the
procedure back in its publicity."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from accounts.models import User, actor_for
from award.publicity import publicity
from award.publicity.models import ResultObjection
from demo import results_publicity
from tests.factories.publicity import signed_world


def test_the_demo_publishes_with_one_objection_answered(db, make, blobs, tmp_path):
    w = signed_world(db, make, blobs, tmp_path)
    users = {u.username: u for u in db.scalars(select(User))}
    loader = SimpleNamespace(session=db, actor=lambda name: actor_for(users[name], "192.0.2.1"))
    results_publicity.load(loader, w.tender)
    db.refresh(w.tender)
    assert w.tender.status == "publicity"
    pub = publicity.publicity_of(db, w.tender.id)
    assert pub is not None and pub.candidates
    (obj,) = db.scalars(select(ResultObjection)).all()
    assert obj.answered_at is not None and obj.answer == results_publicity.ANSWER
    assert obj.organisation_id != pub.candidates[0]["organisation_id"]
    assert publicity.open_objections(db, w.tender.id) == 0
