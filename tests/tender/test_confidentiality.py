"""E21 / L22: who downloaded the tender documents or registered, and who asked a question, stays confidential
until the bid deadline. Checked for every kind of person who can look: the public, another bidder, the
registering bidder (and its colleague), the tender's agency, another agency, the purchaser, a monitor, an
administrator, an expert and trading centre staff."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditConfidential, AuditEntry, confidential_digest
from core.errors import Forbidden, NotAuthenticated
from tender import deadlines, listings, participation, questions, supervision
from tests.factories.tenders import move_to, published_tender

EVERYONE = [
    "anon",
    "other_bidder",
    "bidder",
    "colleague",
    "agency",
    "other_agency",
    "purchaser",
    "monitor",
    "admin",
    "expert",
    "centre",
]
PARTIES_AFTER_DEADLINE = {"agency", "purchaser", "monitor", "admin"}


@pytest.fixture
def w(db, make, blobs):  # type: ignore[no-untyped-def]
    """A published tender where Bidder One registered for lot 1 and downloaded, Bidder Two registered for lot
    2 and downloaded, and the public downloaded once; each bidder asked one question, none answered yet."""
    w = published_tender(db, make, blobs)
    w.reg = participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    w.other_reg = participation.register(db, w.other_bidder, w.tender.id, w.lot2.id)
    participation.download_document(db, w.bidder, w.doc.id)
    participation.download_document(db, w.other_bidder, w.doc.id)
    participation.download_document(db, w.anon, w.doc.id)
    w.question = questions.ask_question(db, w.bidder, w.tender.id, "Is oak acceptable?")
    w.other_question = questions.ask_question(db, w.other_bidder, w.tender.id, "Is pine acceptable?")
    db.flush()
    return w


def after_deadline(w) -> None:  # type: ignore[no-untyped-def]
    move_to(w.deadline + timedelta(seconds=1))
    assert deadlines.close_due_tenders(w.db) == [w.tender.id]


# ---------------------------------------------------------------- my_participation: only one's own


@pytest.mark.parametrize("who", EVERYONE)
def test_my_participation_shows_only_own_company(w, who):
    mine = participation.my_participation(w.db, getattr(w, who), w.tender.id)
    if who in ("bidder", "colleague"):
        assert [r.id for r in mine.registrations] == [w.reg.id]
        assert {d.organisation_id for d in mine.downloads} == {w.bidder_org.id}
        assert len(mine.downloads) == 1
    elif who == "other_bidder":
        assert [r.id for r in mine.registrations] == [w.other_reg.id]
        assert {d.organisation_id for d in mine.downloads} == {w.other_bidder_org.id}
    else:
        assert mine.registrations == [] and mine.downloads == []


def test_third_bidder_sees_nothing_of_the_others(w):
    mine = participation.my_participation(w.db, w.third_bidder, w.tender.id)
    assert mine.registrations == [] and mine.downloads == []


# -------------------------------------------------------------- registrations_for: nobody before the deadline


@pytest.mark.parametrize("who", EVERYONE)
def test_nobody_lists_registrations_before_the_deadline(w, who):
    expected = NotAuthenticated if who == "anon" else Forbidden
    with pytest.raises(expected) as e:
        participation.registrations_for(w.db, getattr(w, who), w.tender.id)
    if who != "anon":
        assert e.value.problems[0].code == "confidential_before_deadline"
        assert e.value.problems[0].rule == "E21"


@pytest.mark.parametrize("who", ["agency", "monitor", "admin"])
def test_deadline_passed_but_not_yet_closed_is_still_confidential(w, who):
    move_to(w.deadline + timedelta(seconds=1))  # the scheduler has not run yet
    with pytest.raises(Forbidden):
        participation.registrations_for(w.db, getattr(w, who), w.tender.id)


@pytest.mark.parametrize("who", EVERYONE)
def test_after_the_deadline_only_tender_parties_list_registrations(w, who):
    after_deadline(w)
    actor = getattr(w, who)
    if who in PARTIES_AFTER_DEADLINE:
        regs = participation.registrations_for(w.db, actor, w.tender.id)
        assert [(r.organisation_id, r.lot_id) for r in regs] == [
            (w.bidder_org.id, w.lot1.id),
            (w.other_bidder_org.id, w.lot2.id),
        ]
    else:
        with pytest.raises(NotAuthenticated if who == "anon" else Forbidden) as e:
            participation.registrations_for(w.db, actor, w.tender.id)
        if who != "anon":
            assert e.value.problems[0].code == "not_tender_party"


def test_suspended_before_the_deadline_stays_confidential(w):
    supervision.suspend(w.db, w.monitor, w.tender.id, "Instruction")
    for who in ("agency", "monitor", "admin", "purchaser"):
        with pytest.raises(Forbidden):
            participation.registrations_for(w.db, getattr(w, who), w.tender.id)


@pytest.mark.parametrize("who", ["agency", "purchaser", "monitor", "admin"])
def test_a_deadline_that_passes_during_a_suspension_does_not_disclose(w, who):
    # bids may come in again after the resumption with its new deadline: the tender is still bidding (E21)
    supervision.suspend(w.db, w.monitor, w.tender.id, "Instruction")
    move_to(w.deadline + timedelta(days=1))
    deadlines.close_due_tenders(w.db)
    with pytest.raises(Forbidden) as e:
        participation.registrations_for(w.db, getattr(w, who), w.tender.id)
    assert e.value.problems[0].code == "confidential_before_deadline"


def test_a_tender_cancelled_before_its_deadline_keeps_its_participants_confidential(w):
    # a re-tender may follow, with the same bidders
    supervision.cancel(w.db, w.agency, w.tender.id, "The purchaser withdrew the project")
    with pytest.raises(Forbidden) as e:
        participation.registrations_for(w.db, w.agency, w.tender.id)
    assert e.value.problems[0].code == "confidential_before_deadline"
    move_to(w.deadline + timedelta(seconds=1))
    assert len(participation.registrations_for(w.db, w.agency, w.tender.id)) == 2


# ---------------------------------------------------------- questions: never another company's unanswered one


@pytest.mark.parametrize("who", EVERYONE)
def test_questions_never_expose_another_companys_unanswered_question(w, who):
    seen = {q.id for q in listings.questions_for(w.db, getattr(w, who), w.tender)}
    if who == "agency":  # the agency answers them
        assert seen == {w.question.id, w.other_question.id}
    elif who in ("bidder", "colleague"):
        assert seen == {w.question.id}
    elif who == "other_bidder":
        assert seen == {w.other_question.id}
    else:
        assert seen == set()


@pytest.mark.parametrize("who", EVERYONE)
def test_answered_questions_are_public(w, who):
    questions.answer_question(w.db, w.agency, w.question.id, "Yes, solid oak.")
    seen = {q.id for q in listings.questions_for(w.db, getattr(w, who), w.tender)}
    assert w.question.id in seen
    assert (w.other_question.id in seen) == (who in ("agency", "other_bidder"))


# --------------------------------------------------------------- the audit log keeps the company confidential


def entries(w, tag: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(
        w.db.scalars(
            select(AuditEntry)
            .where(AuditEntry.tag == tag, AuditEntry.subject == f"tender:{w.tender.id}")
            .order_by(AuditEntry.index)
        )
    )


@pytest.mark.parametrize(
    ("tag", "public_key", "secret_keys"),
    [
        ("tender.registration.created", "registration", {"organisation", "lot", "actor"}),
        ("tender.document.downloaded", "document", {"actor"}),
        ("tender.question.asked", "question", {"organisation", "text", "actor"}),
    ],
)
def test_audit_details_hold_no_company_and_commit_to_the_confidential_part(w, tag, public_key, secret_keys):
    found = entries(w, tag)
    assert found
    companies = {w.bidder_org.id, w.other_bidder_org.id}
    for entry in found:
        assert set(entry.details) == {public_key, "confidential_digest"}
        secret = w.db.get(AuditConfidential, entry.index)
        assert secret is not None and secret.disclosed_at is None
        assert set(secret.data) == secret_keys
        assert entry.details["confidential_digest"] == confidential_digest(secret.salt, secret.data)
        assert secret.data["actor"]["organisation"] in companies | {None}
        if tag != "tender.document.downloaded":
            assert secret.data["organisation"] in companies
    if tag == "tender.question.asked":
        assert "oak" not in json.dumps(found[0].details)


def test_registration_entries_commit_to_each_company(w):
    secrets_by_org = {
        w.db.get(AuditConfidential, e.index).data["organisation"]
        for e in entries(w, "tender.registration.created")
    }
    assert secrets_by_org == {w.bidder_org.id, w.other_bidder_org.id}


def test_public_part_of_confidential_entries_does_not_name_the_bidder(db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    entry = entries(w, "tender.registration.created")[0]
    public = json.loads(entry.entry_bytes)
    assert entry.organisation_id != w.bidder_org.id
    assert entry.actor_user_id != w.bidder_user.id
    assert entry.actor != w.bidder_user.username
    assert public["organisation"] != w.bidder_org.id
    assert public["actor"] != w.bidder_user.username
