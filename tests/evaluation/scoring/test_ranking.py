"""Price arithmetic and the ranking: the chair's corrections before the summary, the ranking with a tie the
lottery breaks that anyone can recompute from the outcome (etender-tie-1), the candidates, and the rejection
of all bids."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import fairdraw
from core.errors import Conflict, Forbidden, ValidationFailed
from evaluation.room import sessions, steps
from evaluation.scoring import formulas, prices, ranking, sheets
from evaluation.scoring.events import ScoringTag
from tender.models import OpenedBid
from tests.factories.scoring import everyone_submits, fill, scoring_world


def _close_scoring(w, scores):  # type: ignore[no-untyped-def]
    everyone_submits(w, lambda i: scores)
    return ranking.close_scoring(w.db, w.chair, w.tender.id)


def _price(db, bid_id):  # type: ignore[no-untyped-def]
    return db.get(OpenedBid, bid_id).price_form["total_price_fen"]


def test_the_chair_records_price_corrections_with_reasons_before_the_summary(r, db):
    w = scoring_world(r)
    b1, b2, b3 = w.bids
    with pytest.raises(Forbidden):
        ranking.record_correction(db, w.members[1][1], w.tender.id, b1, 100, "words")
    with pytest.raises(ValidationFailed) as e:
        ranking.record_correction(db, w.chair, w.tender.id, b1, 100, "  ")
    assert e.value.problems[0].code == "scoring_reason"
    with pytest.raises(ValidationFailed) as e:
        ranking.record_correction(db, w.chair, w.tender.id, 10**9, 100, "words")
    assert e.value.problems[0].code == "scoring_bid_not_valid"
    with pytest.raises(Conflict) as c:  # adjustments are the lowest evaluated price method's
        ranking.record_adjustment(db, w.chair, w.tender.id, b1, 100, "freight")
    assert c.value.problems[0].code == "scoring_adjustment_method"
    low = _price(db, b1) // 2
    ranking.record_correction(db, w.chair, w.tender.id, b1, low, "The amount in words is half the figures")
    sess = sessions.session_of(db, w.tender.id)
    workings = prices.price_workings(db, w.tender, sess, w.bids)
    assert workings["corrections"] == [
        {
            "bid": b1,
            "old_fen": _price(db, b1),
            "new_fen": low,
            "reason": "The amount in words is half the figures",
        }
    ]
    assert workings["scores"][str(b1)] == "40.00" and workings["scores"][str(b2)] == "20.00"
    step = _close_scoring(w, {b: [30, 15] for b in w.bids})
    assert step.outcome["totals"] == {str(b1): "85.00", str(b2): "65.00", str(b3): "65.00"}
    with pytest.raises(Conflict):  # the scoring is closed: no more corrections
        ranking.record_correction(db, w.chair, w.tender.id, b2, low, "late")


def test_no_price_correction_after_every_member_has_submitted(r, db):
    w = scoring_world(r)
    everyone_submits(w, lambda i: {b: [30, 15] for b in w.bids})
    with pytest.raises(Conflict) as c:
        ranking.record_correction(db, w.chair, w.tender.id, w.bids[0], 100, "words")
    assert c.value.problems[0].code == "scoring_after_summary"


def test_the_scoring_closes_only_when_everyone_has_submitted_and_only_by_the_chair(r, db):
    w = scoring_world(r)
    for _, actor in w.members[:4]:
        fill(w, actor, {b: [30, 15] for b in w.bids})
        sheets.submit(db, actor, w.tender.id)
    with pytest.raises(Conflict) as c:
        ranking.close_scoring(db, w.chair, w.tender.id)
    assert c.value.problems[0].code == "scoring_open_members" and c.value.problems[0].params == {
        "n": 4,
        "m": 5,
    }
    last = w.members[4][1]
    fill(w, last, {b: [30, 15] for b in w.bids})
    sheets.submit(db, last, w.tender.id)
    with pytest.raises(Forbidden):
        ranking.close_scoring(db, last, w.tender.id)
    ranking.close_scoring(db, w.chair, w.tender.id)


def test_a_tie_is_broken_by_the_lottery_that_a_verifier_recomputes_from_the_outcome(r, db):
    w = scoring_world(r)
    b1, b2, b3 = w.bids
    assert _price(db, b1) == _price(db, b2) == _price(db, b3)  # equal prices: the lottery decides
    scoring = _close_scoring(w, {b1: [30, 15], b2: [30, 15], b3: [25, 10]})
    with pytest.raises(Forbidden):
        ranking.close_ranking(db, w.members[1][1], w.tender.id, ranking.RankingInput())
    with pytest.raises(ValidationFailed):
        ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput(candidates=4))
    step = ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput(candidates=2))
    out = step.outcome
    assert out["method"] == "comprehensive" and out["failed"] is None
    assert [(x["rank"], x["total"], x["tie_break"]) for x in out["ranking"]] == [
        (1, "85.00", "lottery"),
        (2, "85.00", "lottery"),
        (3, "75.00", None),
    ]
    assert {x["bid"] for x in out["ranking"][:2]} == {b1, b2} and out["ranking"][2]["bid"] == b3
    assert out["candidates"] == [x["bid"] for x in out["ranking"][:2]]
    assert all(x["price_fen"] == x["evaluated_price_fen"] == _price(db, b1) for x in out["ranking"])
    tie = out["tie"]
    assert tie["protocol"] == "etender-tie-1" and tie["tied"] == [[b1, b2]]
    # the verifier: the server seed matches the commitment logged before any sheet was submitted, the seed is
    # derived from it and the submitted sheets' digests (the scoring's outcome), and it orders the tied bids
    assert formulas.verify_tie_record(tie) == []
    server_seed = bytes.fromhex(tie["server_seed"])
    assert fairdraw.commitment(server_seed).hex() == tie["commitment"]
    [logged] = db.scalars(select(AuditEntry).where(AuditEntry.tag == ScoringTag.seed_committed.value)).all()
    assert logged.details["commitment"] == tie["commitment"]
    digests = [(k, bytes.fromhex(v)) for k, v in scoring.outcome["digests"].items()]
    seed = formulas.tie_seed(server_seed, tie["session_id"], digests, scoring.outcome["bids"])
    assert seed.hex() == tie["seed"]
    assert fairdraw.rank(seed, [b1, b2]) == [x["bid"] for x in out["ranking"][:2]]
    # and the scoring's digests are the submitted sheets', recomputed from the report's scores
    section = sheets.report_section(db, sessions.session_of(db, w.tender.id))
    for s in section["sheets"]:
        scores = {int(b): row for b, row in s["scores"].items()}
        assert (
            formulas.sheet_digest(scores).hex() == s["digest"] == scoring.outcome["digests"][str(s["seat"])]
        )
    with pytest.raises(Conflict):
        ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput())


def test_equal_totals_go_to_the_lower_price(r, db):
    w = scoring_world(r)
    b1, b2, b3 = w.bids
    # b2's price corrected 2 % lower: its price score rises to 40, b1 and b3 fall to 39.20; b3 makes it up
    low = _price(db, b2) * 98 // 100
    ranking.record_correction(db, w.chair, w.tender.id, b2, low, "Unit price over total")
    _close_scoring(w, {b1: [30, 15], b2: [29.2, 15], b3: [30, 15]})
    out = ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput()).outcome
    first = out["ranking"][0]
    assert first["bid"] == b2 and first["tie_break"] == "price" and first["price_fen"] == low
    assert out["ranking"][1]["tie_break"] == "lottery" and out["tie"]["tied"] == [[b1, b3]]
    assert len(out["candidates"]) == 3


def test_the_committee_rejects_all_only_with_fewer_than_three_valid_bids(r, db):
    w = scoring_world(r)
    _close_scoring(w, {b: [30, 15] for b in w.bids[:1]} | {b: [20, 10] for b in w.bids[1:]})
    with pytest.raises(Conflict) as c:
        ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput(reject_all=True))
    assert c.value.problems[0].code == "ranking_may_not_fail"


def test_with_two_valid_bids_the_committee_may_reject_all(db, make, blobs, tmp_path):
    from tests.factories.room import room_world
    from tests.factories.scoring import opened_bid_ids

    base = room_world(db, make, blobs, tmp_path)
    w = scoring_world(base, valid=opened_bid_ids(base)[:2])
    _close_scoring(w, {b: [30, 15] for b in w.bids})
    step = ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput(reject_all=True))
    assert step.outcome["failed"] == {"reason": formulas.FAILED_TOO_FEW}
    assert step.outcome["candidates"] == [] and len(step.outcome["ranking"]) == 2
    closed = steps.closed_steps(db, sessions.session_of(db, w.tender.id))
    assert steps.current_step(closed) is None
    assert w.tender.status == "evaluating"  # the report's signature moves the tender, not the ranking


def test_without_valid_bids_the_only_outcome_is_failure(db, make, blobs, tmp_path):
    from tests.factories.room import room_world

    w = scoring_world(room_world(db, make, blobs, tmp_path), valid=[])
    ranking.close_scoring(db, w.chair, w.tender.id)
    with pytest.raises(Conflict) as c:
        ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput())
    assert c.value.problems[0].code == "ranking_must_fail"
    step = ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput(reject_all=True))
    assert step.outcome == {
        "method": "comprehensive",
        "ranking": [],
        "candidates": [],
        "failed": {"reason": formulas.FAILED_ALL_REJECTED},
        "tie": None,
    }


def test_lowest_price_ranks_by_evaluated_price_with_the_adjustments(r, db):
    w = r
    w.tender.evaluation_method = "lowest_price"
    db.flush()
    w = scoring_world(w)
    b1, b2, b3 = w.bids
    ranking.record_adjustment(db, w.chair, w.tender.id, b1, 5000_00, "Freight the documents add")
    ranking.record_adjustment(db, w.chair, w.tender.id, b3, -1000_00, "Spare parts included")
    with pytest.raises(ValidationFailed):
        ranking.record_adjustment(db, w.chair, w.tender.id, b2, -(10**12), "Too much")
    _close_scoring(w, {b: [30, 15] for b in w.bids})
    out = ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput()).outcome
    assert [x["bid"] for x in out["ranking"]] == [b3, b2, b1]
    assert [x["total"] for x in out["ranking"]] == [None, None, None]
    assert [x["tie_break"] for x in out["ranking"]] == [None, None, None]
    assert out["ranking"][0]["evaluated_price_fen"] == _price(db, b3) - 1000_00
    section = sheets.report_section(db, sessions.session_of(db, w.tender.id))
    assert [a["reason"] for a in section["price"]["adjustments"]] == [
        "Freight the documents add",
        "Spare parts included",
    ]


def test_the_ranking_outcome_keeps_to_its_published_shape(r, db):
    w = scoring_world(r)
    _close_scoring(w, {b: [30 - i, 15] for i, b in enumerate(w.bids)})
    out = ranking.close_ranking(db, w.chair, w.tender.id, ranking.RankingInput(candidates=1)).outcome
    assert set(out) == {"method", "ranking", "candidates", "failed", "tie"}
    assert out["tie"] is None and out["candidates"] == [w.bids[0]]
    assert all(
        set(x) == {"rank", "bid", "total", "price_fen", "evaluated_price_fen", "tie_break"}
        for x in out["ranking"]
    )
