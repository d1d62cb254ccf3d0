"""The members' score sheets: saved as typed (each entry checked, the valid ones of a save kept), each
member's own until every present member has submitted, submitted once and complete with its digest in the
audit log, a replaced member's sheet void, and after the summary a score changed only for a flag, with its
reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import fairdraw
from core.errors import Conflict, ValidationFailed
from evaluation.committee import draws
from evaluation.committee.models import Seat, SeatStatus
from evaluation.room import sessions
from evaluation.scoring import formulas, ranking, sheets
from evaluation.scoring.events import ScoringTag
from evaluation.scoring.models import FlagAction
from tests.factories.room import check_in_all, elect_chair, start
from tests.factories.scoring import everyone_submits, fill, scoring_world


def _entries(db, tag):  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry).where(AuditEntry.tag == tag.value).order_by(AuditEntry.index)))


def test_nothing_is_scored_before_the_review_is_closed(r, db):
    start(r)
    check_in_all(r)
    elect_chair(r, 0)
    with pytest.raises(Conflict) as e:
        sheets.save(db, r.members[1][1], r.tender.id, [sheets.EntryIn(1, 0, "5")])
    assert e.value.problems[0].code == "step_not_open"


def test_a_save_keeps_its_valid_entries_and_refuses_the_others_with_their_reason(r, db):
    w = scoring_world(r)
    b1, b2, b3 = w.bids
    actor = w.members[1][1]
    saved = fill(w, actor, {b1: ["35.5", "abc"], b2: [41, "7.555"], b3: [-1, 20]})
    codes = {p.field: p.code for p in saved.problems}
    assert codes == {
        sheets.field_name(b1, 1): "score_not_number",
        sheets.field_name(b2, 0): "score_above_points",
        sheets.field_name(b2, 1): "score_decimals",
        sheets.field_name(b3, 0): "score_negative",
    }
    above = next(p for p in saved.problems if p.code == "score_above_points")
    assert above.params["factor"] == "Technical proposal" and str(above.params["points"]) == "40.00"
    assert sorted(saved.saved) == sorted([sheets.field_name(b1, 0), sheets.field_name(b3, 1)])
    # an unknown bid or factor is refused too
    odd = sheets.save(db, actor, w.tender.id, [sheets.EntryIn(10**9, 0, "1"), sheets.EntryIn(b1, 9, "1")])
    assert [p.code for p in odd.problems] == ["score_unknown_cell", "score_unknown_cell"]
    # the page reloads the saved values; saving again changes nothing; an empty value clears the cell
    v = sheets.view(db, actor, w.tender.id)
    assert v.values == {sheets.field_name(b1, 0): "35.50", sheets.field_name(b3, 1): "20.00"}
    fill(w, actor, {b1: ["35.5"]})
    fill(w, actor, {b3: [None, ""]})
    assert sheets.view(db, actor, w.tender.id).values == {sheets.field_name(b1, 0): "35.50"}
    # the first save opened the member's sheet (one entry), the drafts themselves are not logged one by one
    assert len(_entries(db, ScoringTag.sheet_started)) == 1


def test_a_member_sees_only_their_own_sheet_until_every_present_member_has_submitted(r, db):
    w = scoring_world(r)
    (a0, a1) = (w.members[0][1], w.members[1][1])
    fill(w, a0, {b: [30, 15] for b in w.bids})
    sheets.submit(db, a0, w.tender.id)
    other = sheets.view(db, a1, w.tender.id)
    assert other.values == {} and other.checked is None and not other.all_submitted
    assert (other.submitted, other.members) == (1, 5)
    assert sheets.progress(db, other.w.session) == (1, 5)
    with pytest.raises(Conflict) as e:  # no summary, no flags to act on before everybody has submitted
        sheets.confirm_flag(db, a0, w.tender.id, w.bids[0], 0, "sure")
    assert e.value.problems[0].code == "scoring_not_summarised"


def test_a_sheet_is_submitted_once_complete_and_its_digest_is_logged_after_the_seed(r, db):
    w = scoring_world(r)
    actor = w.members[2][1]
    fill(w, actor, {w.bids[0]: [30, 15]})
    with pytest.raises(ValidationFailed) as e:
        sheets.submit(db, actor, w.tender.id)
    assert e.value.problems[0].code == "scoring_incomplete" and e.value.problems[0].params == {"n": 4}
    fill(w, actor, {b: [30, 15] for b in w.bids})
    sheet = sheets.submit(db, actor, w.tender.id)
    expected = formulas.sheet_digest(
        {b: {"Technical proposal": 30, "After-sales service": 15} for b in w.bids}
    )
    assert sheet.digest == expected.hex()
    [entry] = _entries(db, ScoringTag.sheet_submitted)
    assert entry.details["digest"] == expected.hex()
    assert set(entry.details) == {"session", "sheet", "digest", "confidential_digest"}  # no score in it
    assert entry.actor_user_id is None  # L37: the member is concealed (E49: still recorded, confidential)
    [seed_entry] = _entries(db, ScoringTag.seed_committed)
    assert seed_entry.index < entry.index  # the commitment precedes every submission
    seed = sheets.seed_of(db, sheet_session(db, w))
    assert seed is not None
    assert seed_entry.details["commitment"] == fairdraw.commitment(bytes.fromhex(seed.server_seed)).hex()
    assert seed.server_seed not in str(seed_entry.details)
    with pytest.raises(Conflict) as c:
        sheets.submit(db, actor, w.tender.id)
    assert c.value.problems[0].code == "scoring_submitted"
    with pytest.raises(Conflict) as c:
        fill(w, actor, {w.bids[0]: [31, 15]})
    assert c.value.problems[0].code == "scoring_submitted"


def sheet_session(db, w):  # type: ignore[no-untyped-def]
    return sessions.session_of(db, w.tender.id)


def test_a_replaced_members_sheet_is_kept_void_and_the_replacement_scores_afresh(r, db):
    w = scoring_world(r)
    seat, leaving = w.members[1]
    fill(w, leaving, {b: [30, 15] for b in w.bids})
    sheets.submit(db, leaving, w.tender.id)
    sessions.leave(db, leaving, w.tender.id, "Illness", w.channel)
    db.flush()
    called = db.scalars(
        select(Seat).where(Seat.draw_id == w.draw.id, Seat.status == SeatStatus.notified)
    ).one()
    substitute = w.expert_actors[called.expert_id].actor
    draws.respond(db, substitute, called.id, True, w.channel)
    name = db.get(type(w.civil[0]), called.expert_id).name
    sessions.check_in(db, substitute, w.tender.id, sessions.CheckIn(name, True))
    db.flush()
    sess = sheet_session(db, w)
    assert sheets.progress(db, sess) == (0, 5)  # the void sheet does not count
    fresh = sheets.view(db, substitute, w.tender.id)
    assert fresh.values == {} and fresh.sheet is None
    section = sheets.report_section(db, sess)
    [void] = [s for s in section["sheets"] if s["seat"] == seat.id]
    assert void["void"] is True and void["digest"]


def _scores(values_by_member):  # type: ignore[no-untyped-def]
    return lambda i: values_by_member[i]


def test_an_objective_difference_must_be_corrected_and_the_correction_is_recorded(r, db):
    w = scoring_world(r)
    b1, b2, b3 = w.bids
    same = {b1: [30, 15], b2: [28, 12], b3: [25, 10]}
    odd = {b1: [30, 14], b2: [28, 12], b3: [25, 10]}  # member 3 differs on the objective factor of b1
    everyone_submits(w, _scores([same, same, same, odd, same]))
    chair_view = sheets.view(db, w.chair, w.tender.id)
    assert chair_view.all_submitted and chair_view.checked is not None
    kinds = {(f.flag.kind, f.seat_id) for f in chair_view.checked.flags}
    assert {k for k, _ in kinds} == {formulas.FLAG_OBJECTIVE}
    with pytest.raises(Conflict) as e:
        ranking.close_scoring(db, w.chair, w.tender.id)
    assert e.value.problems[0].code == "scoring_open_flags"
    seat3, a3 = w.members[3]
    with pytest.raises(ValidationFailed) as v:  # a reason is required
        sheets.correct_score(db, a3, w.tender.id, b1, 1, "15", " ")
    assert v.value.problems[0].code == "scoring_reason"
    with pytest.raises(Conflict) as c:  # not flagged: not changed after the summary
        sheets.correct_score(db, a3, w.tender.id, b2, 0, "27", "I changed my mind")
    assert c.value.problems[0].code == "scoring_no_flag"
    with pytest.raises(Conflict) as c:  # an objective difference is corrected, not confirmed
        sheets.confirm_flag(db, a3, w.tender.id, b1, 1, "I am sure")
    assert c.value.problems[0].code == "scoring_not_abnormal"
    action = sheets.correct_score(db, a3, w.tender.id, b1, 1, "15", "Miscounted the service points")
    assert (action.old_hundredths, action.new_hundredths, action.action) == (1400, 1500, "corrected")
    [entry] = _entries(db, ScoringTag.score_corrected)
    sheet = sheets.view(db, a3, w.tender.id).sheet
    assert sheet is not None and entry.details["digest"] == sheet.digest
    assert sheet.digest == formulas.sheet_digest(sheets.scores_of(sheet)).hex()
    assert "Miscounted" not in str(entry.details)
    assert sheets.view(db, w.chair, w.tender.id).checked.unresolved == []  # type: ignore[union-attr]
    step = ranking.close_scoring(db, w.chair, w.tender.id)
    assert step.outcome["totals"][str(b1)] == "85.00"  # 40 price + 30 + 15
    section = sheets.report_section(db, sheet_session(db, w))
    assert section["changes"] == [
        {
            "seat": seat3.id,
            "bid": b1,
            "factor": "After-sales service",
            "flag": "objective",
            "action": "corrected",
            "old": "14.00",
            "new": "15.00",
            "reason": "Miscounted the service points",
            "at": section["changes"][0]["at"],
        }
    ]


def test_an_abnormal_score_is_confirmed_with_its_reason_or_corrected(r, db):
    w = scoring_world(r)
    b1, b2, b3 = w.bids
    usual = {b1: [20, 15], b2: [20, 12], b3: [20, 10]}
    high = {b1: [38, 15], b2: [20, 12], b3: [20, 10]}  # 18 above the others' mean: more than 30 % of 40
    everyone_submits(w, _scores([usual, high, usual, usual, usual]))
    seat1, a1 = w.members[1]
    mine = sheets.view(db, a1, w.tender.id).my_flags
    assert [(f.flag.kind, f.flag.bid_id, f.factor_index) for f in mine] == [(formulas.FLAG_HIGH, b1, 0)]
    with pytest.raises(Conflict) as e:
        ranking.close_scoring(db, w.chair, w.tender.id)
    assert e.value.problems[0].code == "scoring_open_flags"
    with pytest.raises(ValidationFailed):
        sheets.confirm_flag(db, a1, w.tender.id, b1, 0, "")
    sheets.confirm_flag(db, a1, w.tender.id, b1, 0, "Its design is far ahead of the others")
    after = sheets.view(db, a1, w.tender.id).my_flags
    assert after[0].resolved and after[0].confirmation is not None
    assert len(db.scalars(select(FlagAction)).all()) == 1
    ranking.close_scoring(db, w.chair, w.tender.id)
    section = sheets.report_section(db, sheet_session(db, w))
    [flag] = section["flags"]
    assert flag["resolved"] and flag["confirmed_reason"] == "Its design is far ahead of the others"
    assert flag["seat"] == seat1.id and section["changes"][0]["action"] == "confirmed"


def test_the_report_counts_the_members_present_when_the_scoring_was_closed(r, db):
    w = scoring_world(r)
    everyone_submits(w, lambda i: {b: [30 - i, 15] for b in w.bids})
    ranking.close_scoring(db, w.chair, w.tender.id)
    sess = sheet_session(db, w)
    before = sheets.report_section(db, sess)
    seat, leaving = w.members[4]
    sessions.leave(db, leaving, w.tender.id, "Called away after the scoring", w.channel)
    db.flush()
    after = sheets.report_section(db, sess)
    assert [s for s in after["sheets"] if s["seat"] == seat.id][0]["void"] is False
    assert after["summary"] == before["summary"] and after["summary"][0]["total"] == "83.00"  # 40 + 28 + 15
