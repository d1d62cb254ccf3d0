"""The draw's multi-party protocol on a real database (etender-draw-2): the request fixes and logs everything
and names the parties, then each party commits and only after every commitment reveals; the last reveal makes
the draw in its transaction, or logs its failure; a draw may be abandoned while it collects, and the record of
the next one counts it. The published record verifies against the audit log's entries."""

from __future__ import annotations

import hashlib
import secrets
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from accounts.models import Notification
from audit.log import AuditEntry
from core.errors import Conflict, Forbidden, ValidationFailed
from evaluation.committee import draw as pure
from evaluation.committee import draws
from evaluation.committee.models import Draw, DrawStatus, Seat
from evaluation.pool.models import Expert
from tender import supervision
from tests.factories.experts import add_expert, contribute


def code_of(excinfo) -> str:  # type: ignore[no-untyped-def]
    return excinfo.value.problems[0].code


def ask(w: SimpleNamespace, **changes) -> Draw:  # type: ignore[no-untyped-def]
    data = draws.DrawInput(
        committee_size=5, quotas=[("A", 3), ("B", 2)], evaluation_date=w.eval_day, substitutes=3
    )
    for k, v in changes.items():
        setattr(data, k, v)
    return draws.request_draw(w.db, w.agency, w.tender.id, data, w.channel)


def tags(db, d: Draw) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        db.scalars(
            select(AuditEntry.tag).where(AuditEntry.subject == f"draw:{d.id}").order_by(AuditEntry.index)
        )
    )


def value_and_commitment() -> tuple[bytes, str]:
    value = secrets.token_bytes(32)
    return value, hashlib.sha256(value).hexdigest()


def test_the_request_logs_everything_and_names_the_parties_but_draws_nothing(w):
    d = ask(w)
    assert d.status == DrawStatus.collecting and d.algorithm_version == "etender-draw-2"
    assert d.seats == [] and d.seed == ""
    parties = [c.party for c in d.contributions]
    assert parties == [f"agency:{w.agency_org.credit_code}", f"monitor:{w.supervisor_org.credit_code}"]
    entry = w.db.scalars(select(AuditEntry).where(AuditEntry.tag == "evaluation.draw.committed")).one()
    assert entry.details["parties"] == parties and entry.details["commitment"] == d.commitment
    assert entry.details["abandoned_before"] == 0
    # the monitors are asked for their contribution
    asked = w.db.scalars(select(Notification).where(Notification.kind == "draw.contribute")).all()
    assert {n.user_id for n in asked} == {w.monitor.user_id}
    with pytest.raises(Conflict) as e:
        ask(w)
    assert code_of(e) == "draw_collecting"


def test_no_reveal_before_every_party_has_committed(w):
    d = ask(w)
    value, committed = value_and_commitment()
    draws.commit_contribution(w.db, w.agency, d.id, committed)
    with pytest.raises(Conflict) as e:
        draws.reveal_contribution(w.db, w.agency, d.id, value.hex(), w.channel)
    assert code_of(e) == "contribution_reveal_early"
    assert "evaluation.draw.contribution.revealed" not in tags(w.db, d)


def test_a_value_that_does_not_match_its_commitment_is_refused(w):
    d = ask(w)
    values = {}
    for actor in (w.agency, w.monitor):
        values[actor.user_id], committed = value_and_commitment()
        draws.commit_contribution(w.db, actor, d.id, committed)
    with pytest.raises(ValidationFailed) as e:
        draws.reveal_contribution(w.db, w.agency, d.id, secrets.token_bytes(32).hex(), w.channel)
    assert code_of(e) == "contribution_value_mismatch"
    with pytest.raises(ValidationFailed) as e:
        draws.reveal_contribution(w.db, w.agency, d.id, "not hex", w.channel)
    assert code_of(e) == "contribution_value_invalid"


def test_only_the_parties_contribute_and_a_commitment_cannot_be_changed(w):
    d = ask(w)
    _, committed = value_and_commitment()
    for outsider in (w.other_agency, w.bidder, w.purchaser, w.expert):
        with pytest.raises(Forbidden) as e:
            draws.commit_contribution(w.db, outsider, d.id, committed)
        assert code_of(e) == "draw_not_a_party"
    with pytest.raises(ValidationFailed):
        draws.commit_contribution(w.db, w.monitor, d.id, "ab" * 31)
    draws.commit_contribution(w.db, w.monitor, d.id, committed)
    draws.commit_contribution(w.db, w.monitor, d.id, committed)  # the same again: a reloaded page
    with pytest.raises(Conflict) as e:
        draws.commit_contribution(w.db, w.monitor, d.id, value_and_commitment()[1])
    assert code_of(e) == "contribution_committed_already"
    assert tags(w.db, d).count("evaluation.draw.contribution.committed") == 1


def test_the_last_reveal_makes_the_draw_and_the_record_verifies_against_the_log(w):
    d = ask(w)
    values = contribute(w.db, d, [w.agency, w.monitor], w.channel)
    assert d.status == DrawStatus.drawn and len(d.seats) == 8
    assert tags(w.db, d)[:6] == [
        "evaluation.draw.committed",
        "evaluation.draw.contribution.committed",
        "evaluation.draw.contribution.committed",
        "evaluation.draw.contribution.revealed",
        "evaluation.draw.contribution.revealed",
        "evaluation.draw.completed",
    ]
    # revealing the same value again changes nothing
    party = d.contributions[0].party
    draws.reveal_contribution(w.db, w.agency, d.id, values[party].hex(), w.channel)
    assert len(d.seats) == 8
    supervision.cancel(w.db, w.agency, w.tender.id, "The budget was withdrawn")
    doc = draws.public_record(w.db, d.id)
    assert pure.schema_problems(doc) == [] and pure.verify(doc) == []
    assert [c["value"] for c in doc["contributions"]] == [values[c.party].hex() for c in d.contributions]
    assert doc["draw"]["abandoned_before"] == 0
    entries = {
        e.index: {"tag": e.tag, "subject": e.subject, "details": e.details}
        for e in w.db.scalars(select(AuditEntry).where(AuditEntry.subject == f"draw:{d.id}"))
    }
    assert pure.contribution_log_differences(doc, d.commitment_entry, entries) == []
    changed = {**doc, "contributions": [doc["contributions"][1], doc["contributions"][0]]}
    assert pure.verify(changed) != []


def test_an_abandoned_draw_is_logged_told_to_the_monitors_and_counted_by_the_next(w):
    first = ask(w)
    _, committed = value_and_commitment()
    draws.commit_contribution(w.db, w.monitor, first.id, committed)
    with pytest.raises(ValidationFailed):
        draws.abandon_draw(w.db, w.agency, first.id, "  ", w.channel)
    with pytest.raises(Forbidden):
        draws.abandon_draw(w.db, w.monitor, first.id, "Lost", w.channel)
    draws.abandon_draw(w.db, w.agency, first.id, "Our browser's stored value was lost", w.channel)
    assert first.status == DrawStatus.abandoned and "evaluation.draw.abandoned" in tags(w.db, first)
    told = w.db.scalars(select(Notification).where(Notification.kind == "draw.abandoned")).all()
    assert [n.user_id for n in told] == [w.monitor.user_id]
    with pytest.raises(Conflict) as e:
        draws.reveal_contribution(w.db, w.monitor, first.id, "00" * 32, w.channel)
    assert code_of(e) == "draw_not_collecting"
    assert draws.tender_draw(w.db, w.agency, w.tender.id)[1] is None
    second = ask(w)
    contribute(w.db, second, [w.agency, w.monitor], w.channel)
    assert draws.earlier_draws(w.db, w.tender.id) == [first]
    view = draws.monitor_draw(w.db, w.monitor, w.tender.id)
    assert view is not None and view.draw.id == second.id and view.ended_before == [first]
    supervision.cancel(w.db, w.agency, w.tender.id, "The budget was withdrawn")
    assert draws.publish_due_records(w.db) == [second.id]  # an abandoned draw has no record
    doc = draws.public_record(w.db, second.id)
    assert doc["draw"]["abandoned_before"] == 1 and pure.verify(doc) == []


def test_a_quota_the_seed_leaves_short_is_a_logged_failure_and_a_new_draw_may_follow(w):
    # four civil experts and one who is both civil and power: a civil quota of 4 and a power seat can be
    # filled (the request is accepted), but whenever the double expert ranks above the fourth civil one, the
    # walk seats them as civil and power comes out short
    for _ in range(4):
        add_expert(w, "A01", region="Narrow")
    add_expert(w, "A01", "B01", region="Narrow")
    failed = ask(w, quotas=[("A", 4), ("B", 1)], regions=["Narrow"], substitutes=0)
    # the test knows the server seed, which no party does: it picks values for which the walk comes out short
    request = pure.DrawRequest(failed.request_id, 5, [pure.Quota("A", 4), pure.Quota("B", 1)], 0)
    candidates = [pure.Candidate(c["expert_id"], tuple(c["specialties"])) for c in failed.candidates]
    for _ in range(200):
        values = {c.party: secrets.token_bytes(32) for c in failed.contributions}
        try:
            pure.draw(
                request,
                candidates,
                bytes.fromhex(failed.server_seed),
                None,
                contributions=[pure.Contribution(k, v) for k, v in values.items()],
            )
        except pure.InsufficientPool:
            break
    contribute(w.db, failed, [w.agency, w.monitor], w.channel, values)
    assert failed.status == DrawStatus.failed
    assert w.db.scalar(select(func.count()).select_from(Seat).where(Seat.draw_id == failed.id)) == 0
    entry = w.db.scalars(
        select(AuditEntry).where(
            AuditEntry.tag == "evaluation.draw.failed", AuditEntry.subject == f"draw:{failed.id}"
        )
    ).one()
    assert entry.details["specialty"] == "B" and entry.details["short"] == 1
    assert draws.tender_draw(w.db, w.agency, w.tender.id)[1] is None
    again = ask(w, quotas=[("A", 4), ("B", 1)], regions=["Narrow"], substitutes=0)
    assert again.status == DrawStatus.collecting


def test_a_quota_no_ranking_can_fill_is_refused_before_anything_is_logged(w):
    both = add_expert(w, "A01", "B01", region="Tiny")
    add_expert(w, "A01", region="Tiny")
    with pytest.raises(ValidationFailed) as e:
        ask(w, committee_size=5, quotas=[("A", 3), ("B", 2)], regions=["Tiny"])
    assert code_of(e) == "draw_insufficient_pool"
    assert w.db.scalar(select(func.count()).select_from(Draw)) == 0
    assert w.db.get(Expert, both.id) is not None


def test_the_tenders_agency_and_the_monitors_see_where_the_contributions_stand(w):
    d = ask(w)
    _, committed = value_and_commitment()
    draws.commit_contribution(w.db, w.monitor, d.id, committed)
    view = draws.contribution_view(w.db, w.agency, d.id)
    doc = view.to_json()
    assert [(p["role"], p["committed"], p["revealed"], p["mine"]) for p in doc["parties"]] == [
        ("agency", False, False, True),
        ("monitor", True, False, False),
    ]
    assert doc["status"] == "collecting" and not doc["all_committed"]
    assert draws.contribution_view(w.db, w.monitor, d.id).mine.role == "monitor"  # type: ignore[union-attr]
    for outsider in (w.other_agency, w.bidder):
        with pytest.raises(Forbidden):
            draws.contribution_view(w.db, outsider, d.id)
