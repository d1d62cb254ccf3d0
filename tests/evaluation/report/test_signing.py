"""The report's signing (R53): generated once by the chair after the ranking step, frozen with its hash in the
audit log; each present member signs the hash with the key their browser made; other hashes, second
signatures, non-members and members not checked in are refused; the silent count as agreeing after the
deadline; the last signature moves the tender to evaluated (or failed, L42)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from evaluation.report import rules, signing
from evaluation.report.events import ReportTag
from evaluation.room import sessions
from evaluation.room.models import Step
from tender.events import TenderTag
from tests.factories.report import close_steps, public_hex, report_world, sign_as
from tests.factories.room import check_in_all, elect_chair, start
from tests.factories.tenders import move_to


def _keys(r, db) -> None:  # type: ignore[no-untyped-def]
    for seat, actor in r.members:
        signing.register_key(db, actor, r.tender.id, public_hex(r.private[seat.id]))


def test_the_report_is_generated_once_after_the_ranking_and_frozen(r, db):
    start(r)
    check_in_all(r)
    elect_chair(r, 0)
    close_steps(r, upto=Step.scoring)
    chair, other = r.members[0][1], r.members[1][1]
    with pytest.raises(Conflict) as c:
        signing.generate(db, chair, r.tender.id)
    assert c.value.problems[0].code == "report_not_ready"
    from evaluation.room import steps

    wm = steps.working_member(db, chair, r.tender.id)
    from tests.factories.report import opened_bid_ids, outcomes

    steps.close(db, chair, wm, Step.ranking, outcomes(opened_bid_ids(r), r.members)[Step.ranking])
    with pytest.raises(Forbidden) as f:
        signing.generate(db, other, r.tender.id)
    assert f.value.problems[0].code == "report_not_chair"
    report = signing.generate(db, chair, r.tender.id)
    doc = json.loads(report.document)
    assert report.document.encode() == rules.canonical(doc) and report.sha256 == rules.report_sha256(doc)
    assert [m["seat"] for m in doc["committee"]["members"]] == sorted(
        (s.id for s, _ in r.members), key=lambda i: next(s.position for s, _ in r.members if s.id == i)
    )
    assert doc["committee"]["members"][0]["name"] and doc["tender"]["reference"] == r.tender.reference
    assert doc["ranking"]["candidates"] == doc["candidates"] and doc["opening"]["lots"]
    assert doc["dissents"] and doc["dissents"][0]["step"] == "review"
    assert doc["dissents"][0]["dissent"]["reason"] == "应予通过" and doc["dissents"][0]["bid"] is not None
    assert set(doc["sections"]) == {"review", "scoring"}  # the step services' own sections
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == ReportTag.report_generated.value)).one()
    assert entry.details["report_sha256"] == report.sha256 and entry.index == report.audit_index
    assert "name" not in json.dumps(entry.details)  # L37: no names in the log
    with pytest.raises(Conflict) as c:
        signing.generate(db, chair, r.tender.id)
    assert c.value.problems[0].code == "report_exists"


def test_every_member_signs_and_the_tender_is_evaluated(r, db):
    report_world(r)
    report = signing.generate(db, r.members[0][1], r.tender.id)
    with pytest.raises(Conflict) as c:
        sign_as(r, 1)
    assert c.value.problems[0].code == "report_no_key"
    _keys(r, db)
    with pytest.raises(Conflict) as c:
        signing.register_key(db, r.members[0][1], r.tender.id, public_hex(r.private[r.members[0][0].id]))
    assert c.value.problems[0].code == "report_key_exists"
    with pytest.raises(ValidationFailed) as v:
        sign_as(r, 1, sha="0" * 64)
    assert v.value.problems[0].code == "report_other_hash"
    # a signature over another hash, sent with this report's hash: it does not verify
    seat, actor = r.members[1]
    other = r.private[seat.id].sign(rules.signing_message("1" * 64)).hex()
    with pytest.raises(ValidationFailed) as v:
        signing.sign(db, actor, r.tender.id, signing.Signing(report.sha256, other))
    assert v.value.problems[0].code == "report_signature_invalid"
    # another member's key does not sign for this seat
    wrong = r.private[r.members[2][0].id].sign(rules.signing_message(report.sha256)).hex()
    with pytest.raises(ValidationFailed):
        signing.sign(db, actor, r.tender.id, signing.Signing(report.sha256, wrong))
    sign_as(r, 1, dissent="本人对第三名的技术分有不同意见。")
    with pytest.raises(Conflict) as c:
        sign_as(r, 1)
    assert c.value.problems[0].code == "report_already_signed"
    with pytest.raises(Forbidden) as f:
        signing.sign(db, r.agency, r.tender.id, signing.Signing(report.sha256, wrong))
    assert f.value.problems[0].code == "room_not_member"
    for i in range(len(r.members)):
        if i != 1:
            sign_as(r, i)
    db.refresh(r.tender)
    assert r.tender.status == "evaluated" and report.completed_at is not None
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == ReportTag.report_completed.value)).one()
    assert entry.details["signed"] == len(r.members) and entry.details["deemed"] == 0
    signed = db.scalars(select(AuditEntry).where(AuditEntry.tag == ReportTag.report_signed.value)).all()
    assert len(signed) == len(r.members) and all(e.actor != r.members[0][1].username for e in signed)
    assert sum(1 for e in signed if e.details["dissent_sha256"]) == 1
    _, p = signing.progress(db, r.agency, r.tender.id)
    assert (p.signed, p.total, p.complete) == (len(r.members), len(r.members), True)


def test_a_member_not_checked_in_is_refused(r, db):
    start(r)
    check_in_all(r, 4)
    elect_chair(r, 0)
    close_steps(r)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    late = r.members[4][1]
    with pytest.raises(Forbidden) as f:
        signing.register_key(db, late, r.tender.id, public_hex(Ed25519PrivateKey.generate()))
    assert f.value.problems[0].code == "room_not_checked_in"
    report = signing.generate(db, r.members[0][1], r.tender.id)
    assert len(json.loads(report.document)["committee"]["members"]) == 4
    # checked in after the report: present, but not among those who sign it
    name = db.get(type(r.civil[0]), r.members[4][0].expert_id).name
    sessions.check_in(db, late, r.tender.id, sessions.CheckIn(name, True))
    key = Ed25519PrivateKey.generate()
    signing.register_key(db, late, r.tender.id, public_hex(key))
    sig = key.sign(rules.signing_message(report.sha256)).hex()
    with pytest.raises(Forbidden) as f:
        signing.sign(db, late, r.tender.id, signing.Signing(report.sha256, sig))
    assert f.value.problems[0].code == "report_not_signer"


def test_the_silent_count_as_agreeing_after_the_deadline(r, db):
    report_world(r)
    report = signing.generate(db, r.members[0][1], r.tender.id)
    _keys(r, db)
    sign_as(r, 0)
    assert signing.sweep_deadlines(db) == []  # not yet
    move_to(clock.as_utc(report.deadline) + timedelta(seconds=1))
    assert signing.sweep_deadlines(db) == [report.id]
    assert signing.sweep_deadlines(db) == []  # twice is once
    deemed = db.scalars(select(AuditEntry).where(AuditEntry.tag == ReportTag.report_deemed.value)).all()
    assert len(deemed) == len(r.members) - 1 and all(e.actor == "system" for e in deemed)
    db.refresh(r.tender)
    assert r.tender.status == "evaluated"
    assert rules.deadline(report.generated_at, r.session.ends_at) == report.deadline


def test_a_ranking_without_valid_bids_fails_the_tender_with_its_reason(r, db):
    report_world(r, failed=True)
    signing.generate(db, r.members[0][1], r.tender.id)
    _keys(r, db)
    for i in range(len(r.members)):
        sign_as(r, i)
    db.refresh(r.tender)
    assert r.tender.status == "failed" and r.tender.end_reason_key == signing.FAILED_REASONS["all_rejected"]
    from core.i18n import message_text

    assert "评标委员会否决" in message_text("zh", r.tender.end_reason_key, r.tender.end_reason_params)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == TenderTag.tender_failed.value)).one()
    assert entry.details["rule"] == "L42"
