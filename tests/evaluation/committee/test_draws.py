"""The committee draw services on a real database: request, avoidance, the commitment logged first,
confirmations with substitutes, what each party sees, and the public record."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from accounts.models import Notification
from accounts.notifications import LogChannel
from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from evaluation.committee import draw as pure
from evaluation.committee import draws
from evaluation.committee.avoidance import DrawCap
from evaluation.committee.models import Draw, DrawExclusion, Seat, SeatStatus
from evaluation.pool.models import Expert, ExpertEmployment, ExpertUnavailability
from tender import supervision
from tender.models import Registration
from tests.factories.experts import drawn
from tests.factories.tenders import move_to, published_tender


def code_of(excinfo) -> str:  # type: ignore[no-untyped-def]
    return excinfo.value.problems[0].code


def request(w: SimpleNamespace, **changes) -> Draw:  # type: ignore[no-untyped-def]
    data = draws.DrawInput(
        committee_size=5, quotas=[("A", 3), ("B", 2)], evaluation_date=w.eval_day, substitutes=3
    )
    for k, v in changes.items():
        setattr(data, k, v)
    return drawn(w, data)  # the agency's request and both parties' contributions


def draw_tags(db, draw_row: Draw) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        db.scalars(
            select(AuditEntry.tag)
            .where(AuditEntry.subject == f"draw:{draw_row.id}")
            .order_by(AuditEntry.index)
        )
    )


def held(draw_row: Draw) -> list[Seat]:
    return [s for s in draw_row.seats if s.status in (SeatStatus.notified, SeatStatus.confirmed)]


# ---------------------------------------------------------------- requesting


def test_a_draw_after_the_deadline_notifies_the_members_and_keeps_substitutes_in_standby(w):
    d = request(w)
    members = held(d)
    assert len(members) == 5 and all(s.status == SeatStatus.notified for s in members)
    assert sorted(s.specialty for s in members) == ["A", "A", "A", "B", "B"]
    assert [s.status for s in d.seats if s.kind == "substitute"] == [SeatStatus.standby] * 3
    assert all(s.respond_by == s.notified_at + timedelta(hours=24) for s in members)
    # design.md step 1: the commitment is logged before the draw's result
    assert draw_tags(w.db, d)[:6] == [
        "evaluation.draw.committed",
        "evaluation.draw.contribution.committed",
        "evaluation.draw.contribution.committed",
        "evaluation.draw.contribution.revealed",
        "evaluation.draw.contribution.revealed",
        "evaluation.draw.completed",
    ]
    committed = w.db.scalars(select(AuditEntry).where(AuditEntry.tag == "evaluation.draw.committed")).one()
    assert committed.details["commitment"] == hashlib.sha256(bytes.fromhex(d.server_seed)).hexdigest()
    assert committed.details["pool_root"] == pure.pool_root([c["expert_id"] for c in d.candidates]).hex()
    assert "members" not in committed.details and d.server_seed not in str(committed.details)
    # the drawn experts are told, in the product
    users = {w.expert_actors[s.expert_id].user.id for s in members}
    assert set(w.db.scalars(select(Notification.user_id).where(Notification.kind == "draw.seat"))) == users
    c = draws.counts(d)
    assert (c.seats, c.confirmed, c.awaiting, c.vacant, c.substitutes_left) == (5, 0, 5, 0, 3)


def test_a_quota_on_a_parent_specialty_is_served_by_its_children(w):
    d = request(w)
    by_id = {c["expert_id"]: c["specialties"] for c in d.candidates}
    assert by_id[w.civil[0].id] == ["A"] and by_id[w.power[0].id] == ["B"]


def test_the_draw_is_refused_before_the_bid_deadline(db, make, blobs):
    w = published_tender(db, make, blobs)
    data = draws.DrawInput(
        committee_size=5, quotas=[("A", 5)], evaluation_date=date.today() + timedelta(days=30)
    )
    with pytest.raises(Conflict) as e:
        draws.request_draw(db, w.agency, w.tender.id, data, LogChannel())
    assert code_of(e) == "draw_not_open"


def test_only_the_tenders_agency_requests_the_draw(w):
    data = draws.DrawInput(committee_size=5, quotas=[("A", 3), ("B", 2)], evaluation_date=w.eval_day)
    with pytest.raises(Forbidden):
        draws.request_draw(w.db, w.other_agency, w.tender.id, data, w.channel)
    with pytest.raises(Forbidden):
        draws.request_draw(w.db, w.purchaser, w.tender.id, data, w.channel)


def test_a_second_draw_for_the_same_tender_is_refused(w):
    request(w)
    with pytest.raises(Conflict) as e:
        request(w)
    assert code_of(e) == "draw_exists"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"committee_size": 6, "quotas": [("A", 4), ("B", 2)]}, "draw_committee_size"),
        ({"committee_size": 3, "quotas": [("A", 2), ("B", 1)]}, "draw_committee_size"),
        ({"quotas": [("A", 3), ("B", 1)]}, "draw_quota_sum"),
        ({"quotas": [("Z9", 5)]}, "draw_unknown_specialty"),
        ({"representative_seats": 2, "quotas": [("A", 2), ("B", 1)]}, "draw_representative_seats"),
        ({"confirm_hours": 0}, "draw_confirm_hours"),
    ],
)
def test_invalid_requests_are_refused_with_their_code(w, changes, code):
    with pytest.raises(ValidationFailed) as e:
        request(w, **changes)
    assert code in [p.code for p in e.value.problems]
    assert w.db.scalar(select(func.count()).select_from(Draw)) == 0


def test_an_evaluation_date_in_the_past_is_refused(w):
    with pytest.raises(ValidationFailed) as e:
        request(w, evaluation_date=clock.to_cst(clock.now()).date() - timedelta(days=1))
    assert code_of(e) == "draw_evaluation_date_past"


def test_a_large_government_procurement_needs_at_least_7(w):
    w.tender.lots[0].estimated_price = 9_500_000_00
    w.db.flush()
    assert draws.budget_fen(w.tender) == 10_000_000_00
    with pytest.raises(ValidationFailed) as e:
        request(w)
    assert code_of(e) == "draw_committee_too_small" and e.value.problems[0].rule == "G87 art. 47"
    d = request(w, committee_size=7, quotas=[("A", 4), ("B", 3)])
    assert len(held(d)) == 7


def test_a_purchaser_representative_seat_is_not_drawn(w):
    d = request(w, representative_seats=1, quotas=[("A", 2), ("B", 2)])
    assert len(held(d)) == 4 and draws.counts(d).seats == 4


def test_an_insufficient_pool_names_the_quota_and_keeps_nothing(w):
    with pytest.raises(ValidationFailed) as e:
        request(w, quotas=[("A", 2), ("B", 3)], substitutes=0, committee_size=5, regions=["Nowhere"])
    problem = e.value.problems[0]
    assert (
        problem.code == "draw_insufficient_pool"
        and problem.params["specialty"] == "A"
        and problem.params["short"] == 2
    )
    with pytest.raises(ValidationFailed) as e:
        request(w, quotas=[("A", 1), ("B", 6)], committee_size=7)
    assert e.value.problems[0].params == {"specialty": "B", "needed": 6, "short": 1}
    # nothing kept: no draw, no exclusions, no seats, not even the commitment
    for model in (Draw, DrawExclusion, Seat):
        assert w.db.scalar(select(func.count()).select_from(model)) == 0
    assert not w.db.scalars(select(AuditEntry).where(AuditEntry.tag.like("evaluation.draw.%"))).all()


def test_avoidance_keeps_every_exclusion_with_its_reason(w):
    bidder_code = w.bidder_org.credit_code
    employee = w.civil[0]
    w.db.add(
        ExpertEmployment(
            expert_id=employee.id,
            org_code=bidder_code,
            start=date(2015, 1, 1),
            end=w.eval_day - timedelta(days=400),
        )
    )
    away = w.civil[1]
    w.db.add(ExpertUnavailability(expert_id=away.id, start=w.eval_day, end=w.eval_day))
    w.civil[2].employer_code = w.purchaser_org.credit_code
    # an old employment of a bidder (more than 3 years back) does not count
    w.db.add(
        ExpertEmployment(
            expert_id=w.civil[3].id, org_code=bidder_code, start=date(2001, 1, 1), end=date(2010, 1, 1)
        )
    )
    # a bidder that only registered for another tender is not this tender's bidder
    w.db.flush()
    d = request(w)
    reasons = {(e.expert_id, e.reason) for e in d.exclusions}
    assert reasons == {
        (employee.id, "bidder_employment"),
        (away.id, "unavailable"),
        (w.civil[2].id, "purchaser_employment"),
    }
    pool = {c["expert_id"] for c in d.candidates}
    assert not pool & {employee.id, away.id, w.civil[2].id} and w.civil[3].id in pool
    assert {s.expert_id for s in d.seats}.isdisjoint({employee.id, away.id, w.civil[2].id})
    assert (
        d.exclusions_digest
        == pure.exclusions_digest(
            [pure.Exclusion(e.expert_id, e.reason, e.rule, e.detail) for e in d.exclusions]
        ).hex()
    )


def test_the_tenders_bidders_are_the_companies_whose_sealed_bid_counts(w):
    codes = {w.bidder_org.credit_code, w.other_bidder_org.credit_code, w.third_bidder_org.credit_code}
    assert draws.tender_bidder_codes(w.db, w.tender) == codes
    assert (
        w.db.scalar(select(func.count()).select_from(Registration)) == 4
    )  # the fourth company only registered


def test_region_rules_limit_the_pool(w):
    for e in w.civil[:4] + w.power[:3]:
        e.region = "North"
    w.db.flush()
    d = request(w, regions=["North"], quotas=[("A", 3), ("B", 2)], substitutes=1)
    assert {c["expert_id"] for c in d.candidates} == {e.id for e in w.civil[:4] + w.power[:3]}


def test_experts_of_the_tenders_own_region_can_be_left_out(w):
    local = w.civil[:2]
    for e in local:
        e.region = w.tender.region
    w.db.flush()
    d = request(w, exclude_local=True)
    assert {e.id for e in local}.isdisjoint({c["expert_id"] for c in d.candidates})


def test_the_own_region_cannot_be_both_allowed_and_left_out(w):
    with pytest.raises(ValidationFailed) as e:
        request(w, exclude_local=True, regions=[w.tender.region, "North"])
    assert code_of(e) == "draw_regions_conflict"


# ---------------------------------------------------------------- confirmations


def seat_of(
    w, d: Draw, status: str = SeatStatus.notified, specialty: str | None = None
) -> tuple[Seat, SimpleNamespace]:  # type: ignore[no-untyped-def]
    seat = next(s for s in d.seats if s.status == status and (specialty is None or s.specialty == specialty))
    return seat, w.expert_actors[seat.expert_id]


def test_confirming_counts_the_seat_without_naming_anyone_in_the_log(w):
    d = request(w)
    seat, who = seat_of(w, d)
    draws.respond(w.db, who.actor, seat.id, True, w.channel)
    assert seat.status == SeatStatus.confirmed
    assert draws.counts(d).confirmed == 1
    entry = w.db.scalars(select(AuditEntry).where(AuditEntry.tag == "evaluation.seat.confirmed")).one()
    assert entry.actor_user_id is None and who.user.username not in str(entry.details)


def test_a_decline_calls_the_next_substitute_of_the_same_specialty(w):
    d = request(w, substitutes=8)  # every expert not seated is a substitute: 5 of A, 3 of B
    seat, who = seat_of(w, d, specialty="B")
    power = {e.id for e in w.power}
    first_b = next(
        s
        for s in sorted(d.seats, key=lambda s: s.position)
        if s.status == SeatStatus.standby and s.expert_id in power
    )
    draws.respond(w.db, who.actor, seat.id, False, w.channel)
    assert seat.status == SeatStatus.declined
    assert (
        first_b.status == SeatStatus.notified
        and first_b.replaces_seat_id == seat.id
        and first_b.specialty == "B"
    )
    assert len(held(d)) == 5 and draws.counts(d).substitutes_left == 7
    assert "evaluation.seat.substituted" in draw_tags(w.db, d)
    assert w.expert_actors[first_b.expert_id].user.id in set(
        w.db.scalars(select(Notification.user_id).where(Notification.kind == "draw.seat"))
    )


def test_when_no_substitute_is_left_the_seat_is_vacant_and_the_agency_told(w):
    d = request(w, substitutes=0)
    seat, who = seat_of(w, d)
    draws.respond(w.db, who.actor, seat.id, False, w.channel)
    assert draws.counts(d).vacant == 1
    assert w.agency_user.id in set(
        w.db.scalars(select(Notification.user_id).where(Notification.kind == "draw.vacant"))
    )


def test_a_timeout_calls_a_substitute_and_the_sweep_is_safe_to_run_twice(w):
    d = request(
        w, quotas=[("A", 4), ("B", 1)], substitutes=8
    )  # every expert not seated waits as a substitute
    seat = next(s for s in d.seats if s.status == SeatStatus.notified and s.specialty == "A")
    for other in held(d):
        if other is not seat:
            draws.respond(w.db, w.expert_actors[other.expert_id].actor, other.id, True, w.channel)
    move_to(seat.respond_by + timedelta(seconds=1))
    swept = draws.sweep_timeouts(w.db, w.channel)
    assert swept == [seat.id] and seat.status == SeatStatus.timed_out
    replacement = next(s for s in d.seats if s.replaces_seat_id == seat.id)
    assert replacement.status == SeatStatus.notified and replacement.respond_by > clock.now()
    assert draws.sweep_timeouts(w.db, w.channel) == []
    assert draws.counts(d).confirmed == 4 and draws.counts(d).awaiting == 1


def test_an_answer_after_the_time_limit_is_refused_and_the_sweep_moves_the_seat_on(w):
    d = request(w, substitutes=8)  # enough substitutes of both specialties for every late member
    seat, who = seat_of(w, d)
    move_to(seat.respond_by + timedelta(minutes=1))
    with pytest.raises(Conflict) as e:
        draws.respond(w.db, who.actor, seat.id, True, w.channel)
    assert code_of(e) == "seat_answer_late" and seat.status == SeatStatus.notified
    assert seat.id in draws.sweep_timeouts(w.db, w.channel)  # every member was late here
    assert seat.status == SeatStatus.timed_out and any(s.replaces_seat_id == seat.id for s in d.seats)


def test_seats_of_a_cancelled_tender_take_no_answers_and_do_not_time_out(w):
    # the draw record is published once the tender is final: nothing may change it afterwards
    d = request(w, substitutes=8)
    seat, who = seat_of(w, d)
    supervision.cancel(w.db, w.agency, w.tender.id, "The project was withdrawn")
    for answer in (True, False):
        with pytest.raises(Conflict) as e:
            draws.respond(w.db, who.actor, seat.id, answer, w.channel)
        assert code_of(e) == "seat_closed"
    with pytest.raises(Conflict):
        draws.declare_conflict(w.db, who.actor, seat.id, "My brother works for Bidder One", w.channel)
    move_to(seat.respond_by + timedelta(minutes=1))
    assert draws.sweep_timeouts(w.db, w.channel) == []
    assert seat.status == SeatStatus.notified


def test_a_conflict_declared_at_check_in_replaces_the_member(w):
    d = request(w, substitutes=8)
    seat, who = seat_of(w, d, specialty="A")
    draws.respond(w.db, who.actor, seat.id, True, w.channel)
    with pytest.raises(ValidationFailed):
        draws.declare_conflict(w.db, who.actor, seat.id, "  ", w.channel)
    draws.declare_conflict(w.db, who.actor, seat.id, "My brother works for Bidder One", w.channel)
    assert seat.status == SeatStatus.conflict and seat.note.startswith("My brother")
    assert any(s.replaces_seat_id == seat.id for s in d.seats)
    with pytest.raises(Conflict):
        draws.respond(w.db, who.actor, seat.id, True, w.channel)


def test_an_expert_cannot_answer_for_another_seat(w):
    d = request(w)
    seat, _ = seat_of(w, d)
    other = next(v for k, v in w.expert_actors.items() if k != seat.expert_id)
    with pytest.raises(NotFound):
        draws.respond(w.db, other.actor, seat.id, True, w.channel)
    with pytest.raises(Forbidden):
        draws.respond(w.db, w.agency, seat.id, True, w.channel)


# ---------------------------------------------------------------- who sees names, and the record


def test_names_reach_the_committee_when_evaluation_starts(w):
    d = request(w)
    seat, who = seat_of(w, d)
    draws.respond(w.db, who.actor, seat.id, True, w.channel)
    mine = draws.my_seats(w.db, who.actor)
    assert [m.seat.id for m in mine] == [seat.id] and mine[0].committee == []
    w.tender.status = "evaluating"
    w.db.flush()
    names = draws.my_seats(w.db, who.actor)[0].committee
    assert len(names) == 5 and w.db.get(Expert, seat.expert_id).name in names


def test_the_names_of_those_who_sat_are_in_the_published_record(w):
    d = request(w)
    for seat in held(d)[:3]:
        draws.respond(w.db, w.expert_actors[seat.expert_id].actor, seat.id, True, w.channel)
    w.tender.status = "awarded"
    w.db.flush()
    doc = draws.public_record(w.db, d.id)
    assert sorted(m["name"] for m in doc["committee"]) == sorted(
        w.db.get(Expert, s.expert_id).name for s in held(d)[:3]
    )
    assert pure.verify(doc) == []


def test_substitutes_in_standby_are_not_told(w):
    d = request(w)
    standby = next(s for s in d.seats if s.status == SeatStatus.standby)
    assert draws.my_seats(w.db, w.expert_actors[standby.expert_id].actor) == []


def test_the_record_is_public_only_once_the_tender_is_final_and_then_verifies(w):
    d = request(w)
    seat, who = seat_of(w, d)
    draws.respond(w.db, who.actor, seat.id, False, w.channel)
    with pytest.raises(Forbidden) as e:
        draws.public_record(w.db, d.id)
    assert code_of(e) == "draw_record_not_public"
    with pytest.raises(NotFound):
        draws.public_record(w.db, d.id + 1000)
    supervision.cancel(w.db, w.agency, w.tender.id, "The budget was withdrawn")
    assert draws.publish_due_records(w.db) == [d.id]
    assert draws.publish_due_records(w.db) == []
    doc = draws.public_record(w.db, d.id)
    assert pure.verify(doc) == []
    assert doc["server_seed"] == d.server_seed and doc["commitment"] == d.commitment
    assert any(c["status"] == "declined" for c in doc["confirmations"])
    assert doc["committee"] == []  # nobody had confirmed when the tender was cancelled
    published = w.db.scalars(
        select(AuditEntry).where(AuditEntry.tag == "evaluation.draw.record.published")
    ).one()
    assert published.details["record_sha256"] == draws.record_digest(doc)
    tampered = {
        **doc,
        "exclusions": [
            *doc["exclusions"],
            {"expert_id": 999, "reason": "status", "rule": "R46", "detail": ""},
        ],
    }
    assert any("exclusions digest" in p for p in pure.verify(tampered))


def test_messages_leave_only_after_the_commit(w):
    channel = LogChannel()
    w.channel = channel
    request(w)
    assert channel.sent == []
    w.db.commit()
    assert len(channel.sent) == 6  # the five members, and the monitors asked for their contribution


def test_the_scheduler_sweep_does_both_jobs(w):
    d = request(w)
    move_to(held(d)[0].respond_by + timedelta(seconds=1))
    draws.sweep(w.db, w.channel)
    assert all(s.status != SeatStatus.notified or s.respond_by > clock.now() for s in d.seats)


def test_draw_cap_policy_counts_recent_seats(w):
    first = request(w)
    drawn = {s.expert_id for s in held(first)}
    data = draws.DrawInput(committee_size=5, quotas=[("A", 3), ("B", 2)], evaluation_date=w.eval_day)
    pool = draws.build_pool(w.db, w.tender, data, DrawCap(max_draws=1, period_days=30), clock.now())
    assert {e.expert_id for e in pool.exclusions if e.reason == "draw_cap"} == drawn
    later = clock.now() + timedelta(days=31)
    assert not [
        e
        for e in draws.build_pool(w.db, w.tender, data, DrawCap(1, 30), later).exclusions
        if e.reason == "draw_cap"
    ]
