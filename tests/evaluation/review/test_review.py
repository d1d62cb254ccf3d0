"""The review in the database: members enter their own verdicts, unseen by the others until the chair closes;
the committee's outcome by majority with dissent; a tie blocks closing; a replaced member's verdicts are void;
clarification requests (only to this tender's bidders, answered once before the deadline) and the abnormally
low price they gate; the report's section and the progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import Notification
from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from evaluation.committee import draws
from evaluation.committee.models import Seat
from evaluation.pool.models import Expert
from evaluation.review import clarifications, review, rules
from evaluation.review.events import ReviewTag
from evaluation.review.models import ReviewVerdict
from evaluation.room import sessions, steps
from evaluation.room.models import Step
from tender.models import Bid, OpenedBid, Opening
from tests.factories.bids import opening_world
from tests.factories.review import enter, everyone_passes, set_prices, sitting
from tests.factories.room import check_in_all, start
from tests.factories.tenders import move_to

FAIL = (False, "not_qualified", "The licence has expired")


def _ask(r, bid: int, minutes: int = 30, question: str = "Explain the price of item 3.", low: bool = False):  # type: ignore[no-untyped-def]
    return clarifications.send(
        r.db,
        r.chair,
        r.tender.id,
        clarifications.RequestInput(bid, question, clock.now() + timedelta(minutes=minutes), low),
        r.channel,
    )


def _bidder_of(r, bid: int):  # type: ignore[no-untyped-def]
    """The bidder actor (of r.bidder, r.other_bidder, r.third_bidder) whose company made this opened bid."""
    ob = r.db.get(OpenedBid, bid)
    org = r.db.get(Bid, ob.bid_id).organisation_id
    return next(a for a in (r.bidder, r.other_bidder, r.third_bidder) if a.organisation_id == org)


def test_only_a_checked_in_member_reviews(r, db):
    start(r)
    check_in_all(r, 4)
    outside = r.members[4][1]
    with pytest.raises(Forbidden) as e:
        review.review_view(db, outside, r.tender.id)
    assert e.value.problems[0].code == "room_not_checked_in"
    with pytest.raises(Forbidden):
        review.save_verdicts(db, outside, r.tender.id, 1, [review.VerdictInput("qualification", 0, True)])
    for other in (r.agency, r.purchaser, r.monitor, r.bidder):
        with pytest.raises(Forbidden):
            review.review_view(db, other, r.tender.id)


def test_a_fail_without_its_reason_or_ground_is_refused_and_nothing_is_saved(r, db):
    sitting(r)
    actor, bid = r.members[1][1], r.bids[0]
    with pytest.raises(ValidationFailed) as e:
        review.save_verdicts(
            db,
            actor,
            r.tender.id,
            bid,
            [
                review.VerdictInput("qualification", 0, True),
                review.VerdictInput("qualification", 1, False, "", ""),
            ],
        )
    assert {(p.code, p.field) for p in e.value.problems} == {
        ("review_ground_missing", "ground-qualification-1"),
        ("review_reason_missing", "reason-qualification-1"),
    }
    with pytest.raises(ValidationFailed) as e:
        review.save_verdicts(db, actor, r.tender.id, bid, [review.VerdictInput("qualification", 0, None)])
    assert e.value.problems[0].code == "review_nothing_entered"
    with pytest.raises(NotFound):
        review.save_verdicts(db, actor, r.tender.id, 10**6, [review.VerdictInput("qualification", 0, True)])


def test_members_see_only_their_own_verdicts_until_the_review_is_closed(r, db):
    sitting(r)
    enter(r, lambda m, b, c: FAIL if m == 1 else (True, "", ""), members=[1])
    mine = review.review_view(db, r.members[1][1], r.tender.id)
    assert len(mine.mine) == len(r.bids) * len(r.criteria) and all(not v.passed for v in mine.mine.values())
    other = review.review_view(db, r.members[2][1], r.tender.id)
    assert other.mine == {} and other.tally is None and other.ties == []
    chair = review.review_view(db, r.chair, r.tender.id)
    assert chair.mine == {} and chair.tally is None
    assert (chair.members_done, chair.members_total) == (1, 5)
    assert review.progress(db, chair.w.session) == (1, 5)
    # the audit entry names neither the member nor the verdicts in its public part
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.tag == ReviewTag.review_verdicts_saved.value)
    ).first()
    assert "passed" not in str(entry.details) and "seat" not in str(entry.details)


def test_the_committee_decides_by_majority_and_keeps_the_dissent(r, db):
    sitting(r)
    b1, b2, b3 = r.bids
    q1 = r.criteria[1]

    def choice(m, b, c):  # type: ignore[no-untyped-def]
        if b == b2 and c == q1:
            return (
                (True, "", "Certificate in annex 3") if m == 0 else (False, "not_qualified", f"Penalty {m}")
            )
        if b == b3 and c == q1 and m in (3, 4):
            return (False, "collusion_or_fraud", f"Same author {m}")
        return (True, "", "")

    enter(r, choice)
    with pytest.raises(Forbidden) as e:
        review.close_review(db, r.members[1][1], r.tender.id)
    assert e.value.problems[0].code == "step_not_chair"
    row = review.close_review(db, r.chair, r.tender.id)
    seats = [s.id for s, _ in r.members]
    assert row.outcome == {
        "valid": [b1, b3],
        "rejected": [
            {
                "bid": b2,
                "criteria": [
                    {
                        "criterion": q1.text,
                        "kind": "qualification",
                        "ground": "not_qualified",
                        "reasons": [f"Penalty {m}" for m in sorted(range(1, 5), key=lambda m: seats[m])],
                        "for": 1,
                        "against": 4,
                    }
                ],
                "dissent": [{"seat": seats[0], "criterion": q1.text, "reason": "Certificate in annex 3"}],
            }
        ],
        "dissent": sorted(
            [
                {"bid": b3, "seat": seats[m], "criterion": q1.text, "reason": f"Same author {m}"}
                for m in (3, 4)
            ],
            key=lambda d: d["seat"],
        ),
        "clarifications": [],
    }
    assert steps.current_step(steps.closed_steps(db, row_session(r))) is Step.scoring
    # after the close the committee sees the tally; nobody changes a verdict
    view = review.review_view(db, r.members[2][1], r.tender.id)
    assert view.tally is not None and view.tally.decisions[(b2, *q1.key)].outcome is False
    with pytest.raises(Conflict) as c:
        review.save_verdicts(
            db, r.members[2][1], r.tender.id, b1, [review.VerdictInput("qualification", 0, True)]
        )
    assert c.value.problems[0].code == "step_closed"
    section = review.report_section(db, row_session(r))
    bid2 = next(b for b in section["bids"] if b["opened_bid"] == b2)
    assert not bid2["valid"] and section["closed"] and section["outcome"] == row.outcome
    q = bid2["criteria"][1]
    assert (q["outcome"], q["for"], q["against"], q["ground"]) == ("fail", 1, 4, "not_qualified")
    assert [v["seat"] for v in q["verdicts"]] == sorted(seats) and q["dissent"][0]["seat"] == seats[0]
    assert section["void_verdicts"] == []


def row_session(r):  # type: ignore[no-untyped-def]
    return sessions.session_of(r.db, r.tender.id)


def test_the_chair_cannot_close_before_everyone_has_entered_everything(r, db):
    sitting(r)
    enter(r, members=[0, 1, 2, 3])
    enter(r, lambda m, b, c: (True, "", "") if b != r.bids[-1] else None, members=[4])
    with pytest.raises(Conflict) as e:
        review.close_review(db, r.chair, r.tender.id)
    assert [p.code for p in e.value.problems] == ["review_incomplete"]
    assert review.review_view(db, r.chair, r.tender.id).close_problems[0].params == {"n": 1}


def test_a_tie_blocks_closing_until_a_member_changes_their_verdict(r, db):
    sitting(r, 4)  # four present: an even committee can tie
    b1 = r.bids[0]
    q0 = r.criteria[0]
    enter(r, lambda m, b, c: FAIL if (b == b1 and c == q0 and m in (2, 3)) else (True, "", ""))
    view = review.review_view(db, r.members[1][1], r.tender.id)
    assert view.ties == [(b1, q0)]  # everyone has entered: the committee discusses the tie
    with pytest.raises(Conflict) as e:
        review.close_review(db, r.chair, r.tender.id)
    assert [p.code for p in e.value.problems] == ["review_tie"]
    review.save_verdicts(db, r.members[3][1], r.tender.id, b1, [review.VerdictInput(q0.kind, q0.index, True)])
    row = review.close_review(db, r.chair, r.tender.id)
    assert row.outcome["valid"] == sorted(r.bids)
    assert [(d["bid"], d["reason"]) for d in row.outcome["dissent"]] == [(b1, FAIL[2])]


def _name(r, seat: Seat) -> str:  # type: ignore[no-untyped-def]
    return r.db.get(Expert, seat.expert_id).name


def test_a_replaced_members_verdicts_are_kept_but_void_and_the_substitute_enters_afresh(r, db):
    sitting(r)
    leaver_seat, leaver = r.members[1]
    enter(r, lambda m, b, c: FAIL if m == 1 else (True, "", ""))
    sessions.leave(db, leaver, r.tender.id, "Taken ill", r.channel)
    called = db.scalars(select(Seat).where(Seat.replaces_seat_id == leaver_seat.id)).one()
    sub = r.expert_actors[called.expert_id].actor
    draws.respond(db, sub, called.id, True, r.channel)
    sessions.check_in(db, sub, r.tender.id, sessions.CheckIn(_name(r, called), True))
    assert review.review_view(db, sub, r.tender.id).mine == {}  # afresh
    with pytest.raises(Conflict) as e:
        review.close_review(db, r.chair, r.tender.id)
    assert [p.code for p in e.value.problems] == ["review_incomplete"]
    for b in r.bids:
        review.save_verdicts(
            db, sub, r.tender.id, b, [review.VerdictInput(c.kind, c.index, True) for c in r.criteria]
        )
    row = review.close_review(db, r.chair, r.tender.id)
    assert row.outcome["valid"] == sorted(r.bids) and row.outcome["dissent"] == []  # the leaver's fails void
    kept = db.scalars(select(ReviewVerdict).where(ReviewVerdict.seat_id == leaver_seat.id)).all()
    assert len(kept) == len(r.bids) * len(r.criteria)
    section = review.report_section(db, row_session(r))
    assert {v["seat"] for v in section["void_verdicts"]} == {leaver_seat.id}
    assert leaver_seat.id not in section["members"] and called.id in section["members"]


def test_an_abnormally_low_price_is_flagged_and_a_rejection_for_it_waits_for_the_bidders_explanation(r, db):
    sitting(r)
    low = r.bids[2]
    set_prices(r, [100_000_00, 98_000_00, 50_000_00])
    member = r.members[1][1]
    view = review.review_view(db, member, r.tender.id)
    assert list(view.low) == [low] and view.low[low].price_fen == 50_000_00
    c = r.criteria[-1]
    below_cost = review.VerdictInput(c.kind, c.index, False, rules.ABNORMALLY_LOW, "Below cost")
    with pytest.raises(ValidationFailed) as e:
        review.save_verdicts(db, member, r.tender.id, low, [below_cost])
    assert [(p.code, p.field) for p in e.value.problems] == [
        ("review_low_price_unexplained", "ground-compliance-0")
    ]
    req = _ask(r, low, low=True)
    with pytest.raises(ValidationFailed):  # asked, not answered yet
        review.save_verdicts(db, member, r.tender.id, low, [below_cost])
    clarifications.answer(
        db, _bidder_of(r, low), r.tender.id, req.id, clarifications.AnswerInput("Our own factory.", True)
    )
    review.save_verdicts(db, member, r.tender.id, low, [below_cost])
    assert review.review_view(db, member, r.tender.id).low_explained == {low}


def test_an_expired_request_lets_the_committee_reject_for_a_low_price_and_the_bidder_no_longer_answers(r, db):
    sitting(r)
    low = r.bids[0]
    set_prices(r, [40_000_00, 98_000_00, 99_000_00])
    req = _ask(r, low, minutes=20)
    with pytest.raises(Conflict) as e:
        review.close_review(db, r.chair, r.tender.id)
    assert "review_clarification_open" in [p.code for p in e.value.problems]
    move_to(clock.now() + timedelta(minutes=21))
    with pytest.raises(Conflict) as e:
        clarifications.answer(
            db, _bidder_of(r, low), r.tender.id, req.id, clarifications.AnswerInput("Late", False)
        )
    assert e.value.problems[0].code == "clarify_expired"
    c = r.criteria[0]
    review.save_verdicts(
        db,
        r.members[1][1],
        r.tender.id,
        low,
        [review.VerdictInput(c.kind, c.index, False, rules.ABNORMALLY_LOW, "No answer")],
    )
    view = review.review_view(db, r.chair, r.tender.id)
    assert view.requests[0].state == "expired"


def test_the_chair_asks_only_this_tenders_bidders_with_a_deadline_within_the_session(r, db, blobs):
    sitting(r)
    other = opening_world(
        db,
        blobs,
        r,
        stage="opened",
        title="Another tender",
        holders=r.holders,
        agency_uid=r.agency_user.id,
        purchaser_org=r.purchaser_org,
        bidders=[
            (r.bidder_org, r.bidder_user),
            (r.other_bidder_org, r.other_bidder_user),
            (r.third_bidder_org, r.third_bidder_user),
        ],
    ).tender
    foreign = db.scalars(
        select(OpenedBid.id)
        .join(Opening, Opening.id == OpenedBid.opening_id)
        .where(Opening.tender_id == other.id)
    ).first()
    assert foreign is not None
    with pytest.raises(ValidationFailed) as e:
        _ask(r, foreign)
    assert [(p.code, p.field) for p in e.value.problems] == [("clarify_bid_not_here", "opened_bid")]
    with pytest.raises(ValidationFailed) as e:
        _ask(r, r.bids[0], minutes=-5, question=" ")
    assert {p.code for p in e.value.problems} == {"clarify_question_missing", "clarify_deadline_past"}
    with pytest.raises(ValidationFailed) as e:
        _ask(r, r.bids[0], minutes=60 * 5)  # the session ends 4 hours after its start
    assert e.value.problems[0].code == "clarify_deadline_after_session"
    with pytest.raises(Forbidden) as f:
        clarifications.send(
            db,
            r.members[1][1],
            r.tender.id,
            clarifications.RequestInput(r.bids[0], "q", clock.now() + timedelta(minutes=5)),
            r.channel,
        )
    assert f.value.problems[0].code == "clarify_not_chair"


def test_the_bidder_answers_once_and_the_committee_assesses_the_answer(r, db):
    sitting(r)
    bid = r.bids[1]
    req = _ask(r, bid)
    bidder = _bidder_of(r, bid)
    # the bidder's users are told, in the committee's name
    notes = db.scalars(
        select(Notification).where(Notification.kind == "evaluation.clarification.requested")
    ).all()
    assert notes and all(
        "committee" in n.title and n.params["reference"] == r.tender.reference for n in notes
    )
    names = [_name(r, s) for s, _ in r.members]
    assert not any(name in n.title + n.body for n in notes for name in names)
    others = [a for a in (r.bidder, r.other_bidder, r.third_bidder) if a is not bidder]
    assert clarifications.for_bidder(db, others[0], r.tender.id).requests == []
    with pytest.raises(NotFound):
        clarifications.answer(
            db, others[0], r.tender.id, req.id, clarifications.AnswerInput("Not ours", False)
        )
    mine = clarifications.for_bidder(db, bidder, r.tender.id)
    assert [x.row.id for x in mine.requests] == [req.id] and mine.requests[0].state == "open"
    with pytest.raises(ValidationFailed) as e:
        clarifications.answer(db, bidder, r.tender.id, req.id, clarifications.AnswerInput("  ", True))
    assert e.value.problems[0].field == f"answer-{req.id}"
    with pytest.raises(Conflict) as c:
        clarifications.assess(db, r.chair, r.tender.id, req.id, True, "")
    assert c.value.problems[0].code == "clarify_not_answered"
    clarifications.answer(
        db, bidder, r.tender.id, req.id, clarifications.AnswerInput("Item 3 is 1,200 yuan.", True)
    )
    told = db.scalars(
        select(Notification).where(Notification.kind == "evaluation.clarification.answered")
    ).all()
    assert [n.user_id for n in told] == [r.members[0][1].user_id]  # the chair, to assess it
    with pytest.raises(Conflict) as c:
        clarifications.answer(db, bidder, r.tender.id, req.id, clarifications.AnswerInput("Again", True))
    assert c.value.problems[0].code == "clarify_answered"
    enter(r, everyone_passes)
    with pytest.raises(Conflict) as c:
        review.close_review(db, r.chair, r.tender.id)
    assert [p.code for p in c.value.problems] == ["review_answer_unassessed"]
    with pytest.raises(ValidationFailed) as e:
        clarifications.assess(db, r.chair, r.tender.id, req.id, False, " ")
    assert e.value.problems[0].code == "clarify_disregard_reason"
    clarifications.assess(db, r.chair, r.tender.id, req.id, False, "It lowers the total price.")
    row = review.close_review(db, r.chair, r.tender.id)
    assert row.outcome["clarifications"] == [req.id]
    report = review.report_section(db, row_session(r))["clarifications"][0]
    assert (
        report["question"] == "Explain the price of item 3." and report["answer"] == "Item 3 is 1,200 yuan."
    )
    assert report["assessment"] == "disregarded" and report["no_substance_change"] is True
    assert report["answered_at"] and report["deadline"] and report["state"] == "answered"
    with pytest.raises(Conflict) as c:  # the review is closed: no more requests
        _ask(r, bid)
    assert c.value.problems[0].code == "step_closed"
