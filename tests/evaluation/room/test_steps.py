"""The committee's steps: only a present member of an open session works; only the chair closes a step, each
once and in order; the progress shows how many are done and nothing of their outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core.errors import Conflict, Forbidden
from evaluation.events import EvaluationTag
from evaluation.room import sessions, steps
from evaluation.room.models import Step
from tests.factories.room import check_in_all, elect_chair, start


def test_a_member_works_only_checked_in_in_an_open_session(r, db):
    seat, actor = r.members[0]
    with pytest.raises(Forbidden) as e:
        steps.working_member(db, actor, r.tender.id)
    assert e.value.problems[0].code == "room_not_checked_in"
    with pytest.raises(Forbidden) as e:
        steps.working_member(db, r.agency, r.tender.id)
    assert e.value.problems[0].code == "room_not_member"
    start(r)
    check_in_all(r)
    w = steps.working_member(db, actor, r.tender.id)
    assert w.seat.id == seat.id and len(w.present) == len(r.members) and not w.chair


def test_the_chair_closes_each_step_once_and_in_order(r, db):
    start(r)
    check_in_all(r)
    a0, a1 = r.members[0][1], r.members[1][1]
    elect_chair(r, 0)
    chair = steps.working_member(db, a0, r.tender.id)
    other = steps.working_member(db, a1, r.tender.id)
    assert chair.chair and not other.chair
    with pytest.raises(Forbidden) as e:
        steps.close(db, a1, other, Step.review, {})
    assert e.value.problems[0].code == "step_not_chair"
    with pytest.raises(Conflict) as c:
        steps.close(db, a0, chair, Step.scoring, {})
    assert c.value.problems[0].code == "step_not_open"
    steps.close(db, a0, chair, Step.review, {"valid": [1, 2, 3]})
    with pytest.raises(Conflict) as c:
        steps.close(db, a0, chair, Step.review, {})
    assert c.value.problems[0].code == "step_closed"
    closed = steps.closed_steps(db, chair.session)
    assert steps.current_step(closed) is Step.scoring and closed[Step.review].outcome == {"valid": [1, 2, 3]}
    _, p = sessions.progress(db, r.agency, r.tender.id)
    assert (p.steps_done, p.steps_total) == (1, 3)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == EvaluationTag.room_step_closed.value)).one()
    assert entry.details["step"] == "review" and "valid" not in str(entry.details)
