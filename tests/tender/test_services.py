"""Integration tests of the tender services on a real database (SQLite and PostgreSQL, the `db` fixture).

Every test drives the services the way a request would (one session, the services never commit) and checks
the state change, the refusal (its class, code and legal rule) and the audit entry written beside it."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import Notification
from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, NotAuthenticated, NotFound, ValidationFailed
from tender import (
    clarifications,
    deadlines,
    drafting,
    objections,
    participation,
    questions,
    rules,
    supervision,
)
from tender.models import Clarification, Download, Registration, Tender, TenderDocument
from tests.factories.accounts import cast
from tests.factories.tenders import (
    DOCX,
    PDF,
    draft_tender,
    move_to,
    publish_new,
    published_tender,
    tender_input,
)

# ---------------------------------------------------------------- helpers


def tags(db, tender: Tender) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        db.scalars(
            select(AuditEntry.tag)
            .where(AuditEntry.subject == f"tender:{tender.id}")
            .order_by(AuditEntry.index)
        )
    )


def last_entry(db, tender: Tender, tag: str) -> AuditEntry:  # type: ignore[no-untyped-def]
    entry = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject == f"tender:{tender.id}", AuditEntry.tag == tag)
        .order_by(AuditEntry.index.desc())
    ).first()
    assert entry is not None, f"no {tag} entry for tender {tender.id}: {tags(db, tender)}"
    return entry


def code_of(excinfo) -> str:  # type: ignore[no-untyped-def]
    return excinfo.value.problems[0].code


def notified(db, kind: str) -> set[int]:  # type: ignore[no-untyped-def]
    return set(db.scalars(select(Notification.user_id).where(Notification.kind == kind)))


# ---------------------------------------------------------------- create and update


def test_create_tender_by_agency_makes_a_draft_with_reference_and_audit(db, make):
    w = cast(db, make)
    tender = drafting.create_tender(db, w.agency, tender_input(w))
    assert tender.status == "draft"
    assert tender.agency_id == w.agency_org.id
    assert tender.created_by == w.agency_user.id
    assert tender.reference == f"ET-{clock.to_cst(clock.now()).year}-{tender.id:06d}"
    assert [lot.name for lot in tender.lots] == ["Desks", "Chairs"]
    assert [lot.number for lot in tender.lots] == [1, 2]
    entry = last_entry(db, tender, "tender.created")
    assert entry.actor_user_id == w.agency_user.id
    assert entry.details["reference"] == tender.reference


@pytest.mark.parametrize("who", ["bidder", "purchaser", "monitor", "admin", "expert", "centre"])
def test_create_tender_refused_without_agency_role(db, make, who):
    w = cast(db, make)
    with pytest.raises(Forbidden) as e:
        drafting.create_tender(db, getattr(w, who), tender_input(w))
    assert code_of(e) == "role_required"
    assert db.scalar(select(Tender.id)) is None


def test_create_tender_refused_for_anonymous(db, make):
    w = cast(db, make)
    with pytest.raises(NotAuthenticated):
        drafting.create_tender(db, w.anon, tender_input(w))


def test_create_tender_validates_input(db, make):
    w = cast(db, make)
    bad = tender_input(
        w,
        title=" ",
        purchaser_id=w.other_agency_org.id,
        category="weapons",
        evaluation_method="dice",
        lots=[drafting.LotInput(" ", 1, 1, 0)],
        key_holder_ids=[w.bidder_user.id],
        opening_policy="never",
    )
    with pytest.raises(ValidationFailed) as e:
        drafting.create_tender(db, w.agency, bad)
    codes = {p.code: p for p in e.value.problems}
    assert {
        "title_missing",
        "purchaser_invalid",
        "category_invalid",
        "method_unknown",
        "lot_name_missing",
        "key_holder_role",
        "policy_invalid",
    } <= set(codes)
    assert codes["lot_name_missing"].field == "lots.0.name"
    assert codes["key_holder_role"].params == {"name": w.bidder_user.full_name}


def test_update_tender_by_own_agency_changes_the_draft(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    data = tender_input(
        w,
        title="Furniture, amended",
        lots=[drafting.LotInput("All furniture", 1_500_000_00, 1_600_000_00, 0)],
    )
    drafting.update_tender(db, w.agency, tender.id, data)
    db.flush()
    db.refresh(tender)
    assert tender.title == "Furniture, amended"
    assert [lot.name for lot in tender.lots] == ["All furniture"]
    assert last_entry(db, tender, "tender.updated").details == {"title": "Furniture, amended"}


@pytest.mark.parametrize("who", ["other_agency", "purchaser", "bidder", "monitor", "admin"])
def test_update_tender_refused_to_anyone_but_its_agency(db, make, blobs, who):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    # A draft does not exist for anyone outside its agency, purchaser and the administrators: not found;
    # those who may see it but not edit it are forbidden.
    expected = Forbidden if who in ("purchaser", "admin") else NotFound
    with pytest.raises(expected) as e:
        drafting.update_tender(db, getattr(w, who), tender.id, tender_input(w, title="Hijacked"))
    assert code_of(e) == ("not_tender_agency" if expected is Forbidden else "tender_not_found")
    db.refresh(tender)
    assert tender.title == "Furniture for the county school"


def test_update_tender_refused_after_publication(db, make, blobs):
    w = published_tender(db, make, blobs)
    with pytest.raises(Conflict) as e:
        drafting.update_tender(db, w.agency, w.tender.id, tender_input(w, title="Changed after publication"))
    assert code_of(e) == "not_draft"


def test_unknown_tender_is_not_found(db, make):
    w = cast(db, make)
    with pytest.raises(NotFound):
        drafting.update_tender(db, w.agency, 999_999, tender_input(w))


# ---------------------------------------------------------------- publication


def test_publish_refused_names_each_broken_rule(db, make, blobs):
    w = cast(db, make)
    now = clock.now()
    tender = draft_tender(
        w,
        blobs,
        with_document=False,
        doc_issue_end=now + timedelta(days=2),  # 3 days of issue: R16 wants 5
        bid_deadline=now + timedelta(days=10),  # 10 days: L24 wants 20
        lots=[drafting.LotInput("Desks", 1_000_000_00, 1_050_000_00, 30_000_00)],  # 3%: R26 allows 2%
    )
    with pytest.raises(ValidationFailed) as e:
        drafting.publish(db, w.agency, tender.id)
    by_code = {p.code: p for p in e.value.problems}
    assert by_code["deadline_too_soon"].rule == "L24"
    assert by_code["deadline_too_soon"].params["days"] == 10
    assert by_code["deadline_too_soon"].field == "bid_deadline"
    assert by_code["issue_period_too_short"].rule == "R16"
    assert by_code["security_over_2_percent"].rule == "R26"
    assert by_code["security_over_2_percent"].params["limit"] == "20,000.00"
    assert "documents_missing" in by_code
    assert tender.status == "draft"
    assert "tender.published" not in tags(db, tender)


def test_publication_problems_empty_for_a_valid_draft(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    assert drafting.publication_problems(tender) == []


def test_publish_accepts_a_valid_tender_and_records_its_terms(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    deadline = tender.bid_deadline
    drafting.publish(db, w.agency, tender.id)
    assert tender.status == "published"
    assert tender.published_at is not None
    assert tender.original_bid_deadline == deadline
    # R21: with no question deadline given, questions close 15 days before the bid deadline.
    assert tender.question_deadline == deadline - timedelta(days=rules.CLARIFICATION_LEAD_DAYS)
    entry = last_entry(db, tender, "tender.published")
    assert entry.details["key_holders"] == w.holders
    assert entry.details["documents"] == [hashlib.sha256(PDF).hexdigest()]
    assert [lot["bid_security"] for lot in entry.details["lots"]] == [20_000_00, 10_000_00]
    # the draft's entries, withheld until now, are released with the publication (docs/audit-log.md)
    assert tags(db, tender) == ["tender.created", "tender.document.added"] + ["tender.key.registered"] * 3 + [
        "audit.entries.released",
        "tender.published",
        "tender.key.bundle.published",
    ]


def test_publish_refused_to_other_agency_and_twice(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    with pytest.raises(NotFound):
        drafting.publish(db, w.other_agency, tender.id)
    drafting.publish(db, w.agency, tender.id)
    with pytest.raises(Conflict) as e:
        drafting.publish(db, w.agency, tender.id)
    assert code_of(e) == "not_draft"
    assert tags(db, tender).count("tender.published") == 1


# ------------------------------------------------------- key custody (policy: tender.rules.check_key_holders)


def test_a_draft_naming_only_its_agency_with_k_1_is_refused_with_what_to_change(db, make):
    """Issue 12: the agency named itself the only key holder, with k = 1."""
    w = cast(db, make)
    with pytest.raises(ValidationFailed) as e:
        drafting.create_tender(
            db, w.agency, tender_input(w, key_holder_ids=[w.agency_user.id], key_threshold=1)
        )
    by_code = {p.code: p for p in e.value.problems}
    assert set(by_code) == {"threshold_too_low", "key_holders_one_organisation"}
    assert by_code["threshold_too_low"].field == "key_threshold"
    assert by_code["key_holders_one_organisation"].field == "key_holder_ids"
    assert db.scalar(select(Tender.id)) is None


def test_a_draft_where_the_agency_alone_reaches_k_is_refused(db, make):
    w = cast(db, make)
    colleague = make.user(w.agency_org, "agency")
    with pytest.raises(ValidationFailed) as e:
        drafting.create_tender(
            db, w.agency, tender_input(w, key_holder_ids=[w.agency_user.id, colleague.id, w.monitor_user.id])
        )
    assert [(p.code, p.params) for p in e.value.problems] == [("agency_holds_quorum", {"agency": 2, "k": 2})]
    # k = 3 of the same three holders: the agency's two are no longer enough
    tender = drafting.create_tender(
        db,
        w.agency,
        tender_input(w, key_holder_ids=[w.agency_user.id, colleague.id, w.monitor_user.id], key_threshold=3),
    )
    assert tender.key_threshold == 3


def test_an_update_is_held_to_the_custody_rules_too(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    with pytest.raises(ValidationFailed) as e:
        drafting.update_tender(
            db, w.agency, tender.id, tender_input(w, key_holder_ids=[w.monitor_user.id], key_threshold=1)
        )
    assert {p.code for p in e.value.problems} == {"threshold_too_low", "key_holders_one_organisation"}
    db.refresh(tender)
    assert tender.key_holder_ids == w.holders and tender.key_threshold == 2


def test_a_draft_saved_before_the_custody_rules_cannot_be_published(db, make, blobs):
    """A draft stored before the rules (or whose holder has since moved to the agency) is refused at
    publication, whatever keys its holders registered."""
    w = cast(db, make)
    tender = draft_tender(w, blobs, key_holder_ids=[w.agency_user.id, w.monitor_user.id])
    tender.key_holder_ids, tender.key_threshold = [w.agency_user.id], 1  # as an older version let it be saved
    db.flush()
    with pytest.raises(ValidationFailed) as e:
        drafting.publish(db, w.agency, tender.id)
    assert {p.code for p in e.value.problems} == {"threshold_too_low", "key_holders_one_organisation"}
    assert tender.status == "draft" and "tender.published" not in tags(db, tender)
    # a holder who moved to the agency's organisation after the draft was saved counts as the agency's
    tender.key_holder_ids, tender.key_threshold = [w.agency_user.id, w.monitor_user.id], 2
    w.monitor_user.organisation_id = w.agency_org.id
    db.flush()
    assert {p.code for p in drafting.publication_problems(tender)} == {
        "key_holders_one_organisation",
        "agency_holds_quorum",
    }


def test_a_draft_without_key_holders_may_be_saved_but_not_published(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs, key_holder_ids=[], with_keys=False)
    assert [p.code for p in drafting.publication_problems(tender)] == ["key_holders_missing"]


# ---------------------------------------------------------------- documents


def test_add_document_stores_content_addressed(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs, with_document=False)
    doc = drafting.add_document(
        db,
        w.agency,
        blobs,
        tender.id,
        drafting.FileInput("dir/../Tender Docs.PDF", [PDF[:10], PDF[10:]]),
        max_bytes=1 << 20,
    )
    key = hashlib.sha256(PDF).hexdigest()
    assert doc.blob_key == key
    assert doc.size == len(PDF)
    assert doc.filename == "Tender Docs.PDF"
    assert doc.content_type == "application/pdf"
    assert b"".join(blobs.open(key)) == PDF
    again = drafting.add_document(
        db, w.agency, blobs, tender.id, drafting.FileInput("copy.pdf", [PDF]), max_bytes=1 << 20
    )
    assert again.blob_key == key
    assert len(list(blobs.root.glob("??/*"))) == 1  # same bytes stored once
    entry = last_entry(db, tender, "tender.document.added")
    assert entry.details == {"document": again.id, "filename": "copy.pdf", "sha256": key, "size": len(PDF)}


def test_add_document_accepts_office_files_by_magic(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs, with_document=False)
    doc = drafting.add_document(
        db, w.agency, blobs, tender.id, drafting.FileInput("bill.docx", [DOCX]), max_bytes=1 << 20
    )
    assert doc.content_type.endswith("wordprocessingml.document")


@pytest.mark.parametrize("filename", ["setup.exe", "notes.txt", "noextension", "", "archive.rar"])
def test_add_document_refuses_unsupported_types(db, make, blobs, filename):
    w = cast(db, make)
    tender = draft_tender(w, blobs, with_document=False)
    with pytest.raises(ValidationFailed) as e:
        drafting.add_document(
            db, w.agency, blobs, tender.id, drafting.FileInput(filename, [PDF]), max_bytes=1 << 20
        )
    assert code_of(e) == "file_type_unsupported"
    assert e.value.problems[0].field == "document"
    assert db.scalar(select(TenderDocument.id)) is None


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("tender.pdf", b"<html><body>not a pdf</body></html>"),
        ("tender.pdf", DOCX),
        ("bill.docx", PDF),
        ("sheet.xls", PDF),
    ],
)
def test_add_document_refuses_content_that_does_not_match_its_name(db, make, blobs, filename, content):
    w = cast(db, make)
    tender = draft_tender(w, blobs, with_document=False)
    with pytest.raises(ValidationFailed) as e:
        drafting.add_document(
            db, w.agency, blobs, tender.id, drafting.FileInput(filename, [content]), max_bytes=1 << 20
        )
    assert code_of(e) == "file_content_mismatch"
    assert db.scalar(select(TenderDocument.id)) is None
    assert list((blobs.root / "tmp").iterdir()) == []


def test_add_document_refuses_empty_and_tiny_files(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs, with_document=False)
    for content in (b"", b"%PD"):
        with pytest.raises(ValidationFailed) as e:
            drafting.add_document(
                db, w.agency, blobs, tender.id, drafting.FileInput("x.pdf", [content]), max_bytes=1 << 20
            )
        assert code_of(e) == "file_empty"


def test_add_document_refuses_oversized_files(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs, with_document=False)
    chunks = [PDF] + [b"z" * 65536] * 20  # a little over 1 MB
    with pytest.raises(ValidationFailed) as e:
        drafting.add_document(
            db, w.agency, blobs, tender.id, drafting.FileInput("big.pdf", chunks), max_bytes=1 << 20
        )
    assert code_of(e) == "file_too_large"
    assert e.value.problems[0].params == {"name": "big.pdf", "limit": "1"}
    assert db.scalar(select(TenderDocument.id)) is None
    assert list((blobs.root / "tmp").iterdir()) == []


def test_add_document_refused_to_others_and_after_publication(db, make, blobs):
    w = published_tender(db, make, blobs)
    with pytest.raises(Conflict) as e:
        drafting.add_document(
            db, w.agency, blobs, w.tender.id, drafting.FileInput("late.pdf", [PDF]), max_bytes=1 << 20
        )
    assert code_of(e) == "not_draft"
    draft = draft_tender(w, blobs, with_document=False)
    with pytest.raises(NotFound):
        drafting.add_document(
            db, w.other_agency, blobs, draft.id, drafting.FileInput("x.pdf", [PDF]), max_bytes=1 << 20
        )


def test_remove_document_from_draft(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    doc_id = tender.documents[0].id
    with pytest.raises(NotFound):
        drafting.remove_document(db, w.other_agency, tender.id, doc_id)
    drafting.remove_document(db, w.agency, tender.id, doc_id)
    db.flush()
    assert db.get(TenderDocument, doc_id) is None
    assert last_entry(db, tender, "tender.document.removed").details["document"] == doc_id


# ---------------------------------------------------------------- clarifications (R21)


@pytest.mark.parametrize(("days_left", "extension_days"), [(14, 1), (10, 5), (1, 14), (15, 0), (20, 0)])
def test_clarify_extends_deadline_so_15_days_remain(db, make, blobs, days_left, extension_days):
    w = published_tender(db, make, blobs)
    clock.shift(timedelta(days=25 - days_left))
    assert rules.days_between(clock.now(), w.deadline) == days_left
    clar = clarifications.clarify(
        db,
        w.agency,
        blobs,
        w.tender.id,
        "Amendment 1",
        "The desks are 1.2 m wide.",
        True,
        [],
        max_bytes=1 << 20,
    )
    expected = w.deadline + timedelta(days=extension_days)
    assert w.tender.bid_deadline == expected
    assert clar.deadline_before == w.deadline
    assert clar.deadline_after == expected
    assert clar.number == 1
    if extension_days:
        entry = last_entry(db, w.tender, "tender.deadline.extended")
        assert entry.details["rule"] == "R21"
        assert entry.details["to"] == expected.isoformat()
        assert rules.days_between(clock.now(), w.tender.bid_deadline) == rules.CLARIFICATION_LEAD_DAYS
    else:
        assert "tender.deadline.extended" not in tags(db, w.tender)


def test_clarify_not_affecting_bids_leaves_deadline(db, make, blobs):
    w = published_tender(db, make, blobs)
    clock.shift(timedelta(days=11))  # 14 days left
    clar = clarifications.clarify(
        db, w.agency, blobs, w.tender.id, "Typo", "The contact phone is 0571-1.", False, [], max_bytes=1 << 20
    )
    assert w.tender.bid_deadline == w.deadline
    assert clar.deadline_after == w.deadline
    assert "tender.deadline.extended" not in tags(db, w.tender)
    assert last_entry(db, w.tender, "tender.clarified").details["affects_bids"] is False


def test_clarify_numbers_clarifications_and_stores_files(db, make, blobs):
    w = published_tender(db, make, blobs)
    clarifications.clarify(db, w.agency, blobs, w.tender.id, "First", "One.", False, [], max_bytes=1 << 20)
    second = clarifications.clarify(
        db,
        w.agency,
        blobs,
        w.tender.id,
        "Second",
        "Two.",
        True,
        [drafting.FileInput("amended.pdf", [PDF + b"2"])],
        max_bytes=1 << 20,
    )
    db.flush()
    assert second.number == 2
    docs = db.scalars(select(TenderDocument).where(TenderDocument.clarification_id == second.id)).all()
    assert [d.filename for d in docs] == ["amended.pdf"]
    assert (
        last_entry(db, w.tender, "tender.clarified").details["files"][0]["sha256"]
        == hashlib.sha256(PDF + b"2").hexdigest()
    )


def test_clarify_notifies_those_who_downloaded_or_registered(db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.download_document(db, w.bidder, w.doc.id)
    participation.download_document(db, w.anon, w.doc.id)
    participation.register(db, w.other_bidder, w.tender.id, w.lot2.id)
    clarifications.clarify(
        db, w.agency, blobs, w.tender.id, "Amendment", "Changed.", True, [], max_bytes=1 << 20
    )
    db.flush()
    assert notified(db, "tender.clarified") == {w.bidder_user.id, w.other_bidder_user.id}
    note = db.scalars(select(Notification).where(Notification.user_id == w.bidder_user.id)).one()
    assert note.params["reference"] == w.tender.reference and "%(reference)s" in note.title
    assert note.link == f"/tenders/{w.tender.id}#clarification-1"


def test_clarify_refused_to_other_agency_without_text_and_after_deadline(db, make, blobs):
    w = published_tender(db, make, blobs)
    with pytest.raises(Forbidden):
        clarifications.clarify(db, w.other_agency, blobs, w.tender.id, "T", "B", True, [], max_bytes=1 << 20)
    with pytest.raises(ValidationFailed) as e:
        clarifications.clarify(db, w.agency, blobs, w.tender.id, " ", " ", True, [], max_bytes=1 << 20)
    assert {p.code for p in e.value.problems} == {"title_missing", "body_missing"}
    move_to(w.deadline + timedelta(seconds=1))
    with pytest.raises(Conflict) as e:
        clarifications.clarify(
            db, w.agency, blobs, w.tender.id, "Late", "Too late.", True, [], max_bytes=1 << 20
        )
    assert code_of(e) == "deadline_passed"
    assert db.scalar(select(Clarification.id)) is None


def test_clarify_refused_on_a_draft(db, make, blobs):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    with pytest.raises(Conflict) as e:
        clarifications.clarify(db, w.agency, blobs, tender.id, "T", "B", True, [], max_bytes=1 << 20)
    assert code_of(e) == "not_published"


# ---------------------------------------------------------------- questions


def test_bidder_asks_before_question_deadline_and_agency_answers(db, make, blobs):
    w = published_tender(db, make, blobs)
    q = questions.ask_question(db, w.bidder, w.tender.id, "  May we offer oak?  ")
    assert q.text == "May we offer oak?"
    assert q.organisation_id == w.bidder_org.id
    assert last_entry(db, w.tender, "tender.question.asked").details.keys() == {
        "question",
        "confidential_digest",
    }
    answered = questions.answer_question(db, w.agency, q.id, "Yes.")
    assert answered.answer == "Yes." and answered.answered_by == w.agency_user.id
    assert last_entry(db, w.tender, "tender.question.answered").details == {
        "question": q.id,
        "answer": "Yes.",
    }


@pytest.mark.parametrize("who", ["agency", "purchaser", "monitor", "admin", "expert"])
def test_only_bidders_ask_questions(db, make, blobs, who):
    w = published_tender(db, make, blobs)
    with pytest.raises(Forbidden):
        questions.ask_question(db, getattr(w, who), w.tender.id, "Question?")
    with pytest.raises(NotAuthenticated):
        questions.ask_question(db, w.anon, w.tender.id, "Question?")


def test_question_refused_after_question_deadline_and_when_empty(db, make, blobs):
    w = published_tender(db, make, blobs)
    with pytest.raises(ValidationFailed) as e:
        questions.ask_question(db, w.bidder, w.tender.id, "   ")
    assert code_of(e) == "text_missing"
    move_to(w.tender.question_deadline + timedelta(seconds=1))
    with pytest.raises(Conflict) as e:
        questions.ask_question(db, w.bidder, w.tender.id, "Too late?")
    assert code_of(e) == "question_deadline_passed"


@pytest.mark.parametrize("who", ["other_agency", "purchaser", "bidder", "other_bidder", "monitor", "admin"])
def test_only_the_tender_agency_answers_questions(db, make, blobs, who):
    w = published_tender(db, make, blobs)
    q = questions.ask_question(db, w.bidder, w.tender.id, "Question?")
    with pytest.raises(Forbidden):
        questions.answer_question(db, getattr(w, who), q.id, "An answer")
    assert q.answered_at is None


def test_answer_needs_text_and_existing_question(db, make, blobs):
    w = published_tender(db, make, blobs)
    q = questions.ask_question(db, w.bidder, w.tender.id, "Question?")
    with pytest.raises(ValidationFailed):
        questions.answer_question(db, w.agency, q.id, "  ")
    with pytest.raises(NotFound):
        questions.answer_question(db, w.agency, 999_999, "Answer")


# ---------------------------------------------------------------- objections (R22)


def test_objection_allowed_until_end_of_cst_day_ten_days_before_deadline(db, make, blobs):
    w = published_tender(db, make, blobs)
    last = rules.objection_deadline(w.deadline)
    assert clock.to_cst(last).date() == clock.to_cst(w.deadline).date() - timedelta(days=10)
    assert (clock.to_cst(last).hour, clock.to_cst(last).minute) == (23, 59)
    move_to(last - timedelta(seconds=2))
    obj = objections.raise_objection(
        db, w.bidder, w.tender.id, "The qualification requirement excludes small firms."
    )
    assert obj.answer_due == rules.objection_answer_due(obj.raised_at)
    # raising pauses the procedure until the answer (R22)
    assert w.tender.status == "suspended"
    assert w.tender.resume_to == "published"
    assert w.tender.monitor_suspended is False
    assert tags(db, w.tender)[-2:] == ["tender.objection.raised", "tender.suspended"]
    suspended = last_entry(db, w.tender, "tender.suspended")
    assert suspended.actor == "system" and suspended.details["rule"] == "R22"
    assert last_entry(db, w.tender, "tender.objection.raised").details.keys() == {
        "objection",
        "answer_due",
        "confidential_digest",
    }
    db.flush()
    assert notified(db, "tender.objection") == {w.agency_user.id, w.purchaser_user.id}


def test_objection_refused_after_the_last_moment(db, make, blobs):
    w = published_tender(db, make, blobs)
    move_to(rules.objection_deadline(w.deadline) + timedelta(seconds=1))
    with pytest.raises(Conflict) as e:
        objections.raise_objection(db, w.bidder, w.tender.id, "Too late.")
    assert code_of(e) == "objection_too_late"
    assert e.value.problems[0].rule == "R22"
    expected_last = clock.to_cst(rules.objection_deadline(w.deadline)).strftime("%Y-%m-%d %H:%M")
    assert e.value.problems[0].params == {"last": expected_last}
    assert w.tender.status == "published"


def test_objection_only_by_bidders_and_with_text(db, make, blobs):
    w = published_tender(db, make, blobs)
    with pytest.raises(Forbidden):
        objections.raise_objection(db, w.purchaser, w.tender.id, "Objection")
    with pytest.raises(ValidationFailed) as e:
        objections.raise_objection(db, w.bidder, w.tender.id, " ")
    assert code_of(e) == "text_missing"
    assert w.tender.status == "published"


def test_answering_the_objection_resumes_the_tender(db, make, blobs):
    w = published_tender(db, make, blobs)
    obj = objections.raise_objection(db, w.bidder, w.tender.id, "Objection one")
    obj2 = objections.raise_objection(db, w.other_bidder, w.tender.id, "Objection two")
    assert w.tender.status == "suspended"
    with pytest.raises(Forbidden):
        objections.answer_objection(db, w.other_agency, obj.id, "No.")
    with pytest.raises(Forbidden):
        objections.answer_objection(db, w.bidder, obj.id, "No.")
    objections.answer_objection(db, w.purchaser, obj.id, "The requirement is lawful.")
    assert w.tender.status == "suspended"  # the second objection is still open
    objections.answer_objection(db, w.agency, obj2.id, "Amended by clarification 1.")
    assert w.tender.status == "published"
    assert w.tender.resume_to is None
    resumed = last_entry(db, w.tender, "tender.resumed")
    assert resumed.details["rule"] == "R22" and resumed.actor == "system"
    answered = last_entry(db, w.tender, "tender.objection.answered")
    assert answered.details["objection"] == obj2.id and answered.details["on_time"] is True
    with pytest.raises(Conflict) as e:
        objections.answer_objection(db, w.agency, obj.id, "Again")
    assert code_of(e) == "already_answered"
    db.flush()
    assert w.bidder_user.id in notified(db, "tender.objection.answered")


def test_answering_objection_does_not_resume_a_tender_a_monitor_suspended(db, make, blobs):
    w = published_tender(db, make, blobs)
    obj = objections.raise_objection(db, w.bidder, w.tender.id, "Objection")
    supervision.suspend(db, w.monitor, w.tender.id, "Complaint under investigation")
    assert w.tender.monitor_suspended is True
    objections.answer_objection(db, w.agency, obj.id, "Answer")
    assert w.tender.status == "suspended"
    assert tags(db, w.tender).count("tender.resumed") == 0
    supervision.resume(db, w.monitor, w.tender.id, "Investigation closed")
    assert w.tender.status == "published"


def test_monitor_resume_waits_for_open_objection(db, make, blobs):
    w = published_tender(db, make, blobs)
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction 12")
    obj = objections.raise_objection(db, w.bidder, w.tender.id, "Objection while suspended")
    supervision.resume(db, w.monitor, w.tender.id, "Instruction lifted")
    assert w.tender.status == "suspended"
    assert last_entry(db, w.tender, "tender.resumed").details["still_paused_by_objection"] is True
    objections.answer_objection(db, w.agency, obj.id, "Answer")
    assert w.tender.status == "published"


# ---------------------------------------------------------------- supervision (E52) and cancellation


def test_monitor_suspends_and_resumes(db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.download_document(db, w.bidder, w.doc.id)
    supervision.suspend(db, w.monitor, w.tender.id, "  Supervisory instruction 7  ")
    assert (w.tender.status, w.tender.resume_to, w.tender.monitor_suspended) == (
        "suspended",
        "published",
        True,
    )
    entry = last_entry(db, w.tender, "tender.suspended")
    assert entry.details == {"reason": "Supervisory instruction 7", "rule": "E52"}
    assert entry.actor_user_id == w.monitor_user.id
    db.flush()
    assert {w.bidder_user.id, w.agency_user.id} <= notified(db, "tender.suspended")
    with pytest.raises(Conflict) as e:
        supervision.suspend(db, w.monitor, w.tender.id, "Again")
    assert code_of(e) == "already_suspended"
    supervision.resume(db, w.monitor, w.tender.id, "Instruction lifted")
    assert (w.tender.status, w.tender.resume_to, w.tender.monitor_suspended) == ("published", None, False)
    assert last_entry(db, w.tender, "tender.resumed").details == {
        "reason": "Instruction lifted",
        "rule": "E52",
    }
    with pytest.raises(Conflict) as e:
        supervision.resume(db, w.monitor, w.tender.id, "Again")
    assert code_of(e) == "not_suspended"


@pytest.mark.parametrize("who", ["agency", "purchaser", "admin", "bidder", "centre"])
def test_only_monitors_suspend_or_resume(db, make, blobs, who):
    w = published_tender(db, make, blobs)
    with pytest.raises(Forbidden):
        supervision.suspend(db, getattr(w, who), w.tender.id, "No right")
    assert w.tender.status == "published"
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    with pytest.raises(Forbidden):
        supervision.resume(db, getattr(w, who), w.tender.id, "No right")
    assert w.tender.status == "suspended"


def test_suspend_and_resume_need_a_reason(db, make, blobs):
    w = published_tender(db, make, blobs)
    with pytest.raises(ValidationFailed):
        supervision.suspend(db, w.monitor, w.tender.id, " ")
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    with pytest.raises(ValidationFailed):
        supervision.resume(db, w.monitor, w.tender.id, "")


def test_resume_after_the_deadline_passed_needs_a_new_future_deadline(db, make, blobs):
    w = published_tender(db, make, blobs)
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    move_to(w.deadline + timedelta(days=2))
    with pytest.raises(ValidationFailed) as e:
        supervision.resume(db, w.monitor, w.tender.id, "Lifted")
    assert code_of(e) == "deadline_needed" and e.value.problems[0].field == "new_deadline"
    with pytest.raises(ValidationFailed) as e:
        supervision.resume(
            db, w.monitor, w.tender.id, "Lifted", new_deadline=clock.now() - timedelta(hours=1)
        )
    assert code_of(e) == "deadline_past"
    assert w.tender.status == "suspended" and w.tender.monitor_suspended is True
    new = clock.now() + timedelta(days=20)
    supervision.resume(db, w.monitor, w.tender.id, "Lifted", new_deadline=new)
    assert w.tender.status == "published"
    assert w.tender.bid_deadline == new
    assert last_entry(db, w.tender, "tender.resumed").details["to"] == new.isoformat()


def test_suspended_tender_is_not_closed_at_its_deadline(db, make, blobs):
    w = published_tender(db, make, blobs)
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    move_to(w.deadline + timedelta(minutes=1))
    assert deadlines.close_due_tenders(db) == []
    assert w.tender.status == "suspended"


def test_agency_cancels_with_a_reason(db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    with pytest.raises(ValidationFailed) as e:
        supervision.cancel(db, w.agency, w.tender.id, "  ")
    assert code_of(e) == "reason_missing"
    for who in ("other_agency", "purchaser", "monitor", "bidder"):
        with pytest.raises(Forbidden):
            supervision.cancel(db, getattr(w, who), w.tender.id, "Not mine")
    assert w.tender.status == "published"
    supervision.cancel(db, w.agency, w.tender.id, " Budget withdrawn ")
    assert w.tender.status == "cancelled"
    assert w.tender.cancel_reason == "Budget withdrawn"
    assert last_entry(db, w.tender, "tender.cancelled").details == {"reason": "Budget withdrawn"}
    db.flush()
    assert notified(db, "tender.cancelled") == {w.bidder_user.id}
    with pytest.raises(Conflict) as e:
        supervision.cancel(db, w.agency, w.tender.id, "Again")
    assert code_of(e) == "illegal_transition"
    assert e.value.problems[0].params == {"status": "cancelled"}


def test_cancel_a_draft_and_a_suspended_tender(db, make, blobs):
    w = published_tender(db, make, blobs)
    draft = draft_tender(w, blobs)
    supervision.cancel(db, w.agency, draft.id, "Not needed")
    assert draft.status == "cancelled"
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    supervision.cancel(db, w.agency, w.tender.id, "Instruction to cancel")
    assert (w.tender.status, w.tender.monitor_suspended) == ("cancelled", False)


# ---------------------------------------------------------------- closing at the deadline (L34)


def test_close_due_tenders_closes_only_published_tenders_past_their_deadline(db, make, blobs):
    w = published_tender(db, make, blobs)
    later = publish_new(w, blobs, bid_deadline=clock.now() + timedelta(days=30))
    draft = draft_tender(w, blobs)
    assert deadlines.close_due_tenders(db) == []
    move_to(w.deadline - timedelta(seconds=1))
    assert deadlines.close_due_tenders(db) == []
    move_to(w.deadline + timedelta(seconds=1))
    assert deadlines.close_due_tenders(db) == [w.tender.id]
    assert w.tender.status == "failed"  # closed, then R44: no bid was received (tender.opening.start)
    assert later.status == "published"
    assert draft.status == "draft"
    entry = last_entry(db, w.tender, "tender.bidding.closed")
    assert entry.actor == "system" and entry.actor_user_id is None
    assert "tender.bidding.closed" not in tags(db, later)
    assert deadlines.close_due_tenders(db) == []  # idempotent
    assert deadlines.close_due_tenders(db, now=later.bid_deadline) == [later.id]


# ---------------------------------------------------------------- registration


def test_register_once_per_lot(db, make, blobs):
    w = published_tender(db, make, blobs)
    reg = participation.register(db, w.bidder, w.tender.id, w.lot1.id, " Mr Wang ", "138")
    assert (reg.organisation_id, reg.user_id, reg.lot_id, reg.contact_name) == (
        w.bidder_org.id,
        w.bidder_user.id,
        w.lot1.id,
        "Mr Wang",
    )
    entry = last_entry(db, w.tender, "tender.registration.created")
    assert entry.details.keys() == {"registration", "confidential_digest"}
    with pytest.raises(Conflict) as e:
        participation.register(db, w.colleague, w.tender.id, w.lot1.id)  # same company, other person
    assert code_of(e) == "already_registered"
    assert e.value.problems[0].params == {"number": 1}
    participation.register(db, w.bidder, w.tender.id, w.lot2.id)
    participation.register(db, w.other_bidder, w.tender.id, w.lot1.id)
    db.flush()
    assert len(db.scalars(select(Registration)).all()) == 3


@pytest.mark.parametrize("who", ["agency", "purchaser", "monitor", "admin", "expert", "centre"])
def test_register_bidders_only(db, make, blobs, who):
    w = published_tender(db, make, blobs)
    with pytest.raises(Forbidden):
        participation.register(db, getattr(w, who), w.tender.id, w.lot1.id)
    with pytest.raises(NotAuthenticated):
        participation.register(db, w.anon, w.tender.id, w.lot1.id)


def test_register_refused_after_deadline_for_other_lots_and_drafts(db, make, blobs):
    w = published_tender(db, make, blobs)
    other = publish_new(w, blobs)
    with pytest.raises(ValidationFailed) as e:
        participation.register(db, w.bidder, w.tender.id, other.lots[0].id)
    assert code_of(e) == "lot_invalid"
    draft = draft_tender(w, blobs)
    with pytest.raises(Conflict) as e:
        participation.register(db, w.bidder, draft.id, draft.lots[0].id)
    assert code_of(e) == "not_published"
    move_to(w.deadline)
    with pytest.raises(Conflict) as e:
        participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    assert code_of(e) == "deadline_passed" and e.value.problems[0].rule == "L28"
    deadlines.close_due_tenders(db)
    with pytest.raises(Conflict) as e:
        participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    assert code_of(e) == "not_published"


def test_register_refused_while_suspended(db, make, blobs):
    w = published_tender(db, make, blobs)
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    with pytest.raises(Conflict):
        participation.register(db, w.bidder, w.tender.id, w.lot1.id)


# ---------------------------------------------------------------- downloads (E20)


def test_anonymous_download_during_issue_period(db, make, blobs):
    w = published_tender(db, make, blobs)
    doc = participation.download_document(db, w.anon, w.doc.id)
    assert doc.id == w.doc.id
    db.flush()
    dl = db.scalars(select(Download)).one()
    assert (dl.user_id, dl.organisation_id, dl.ip, dl.document_id) == (None, None, "203.0.113.9", w.doc.id)
    entry = last_entry(db, w.tender, "tender.document.downloaded")
    assert entry.details.keys() == {"document", "confidential_digest"}


def test_download_after_issue_period_only_for_registered_and_parties(db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    # The issue period runs to the end of its last day, China time.
    move_to(rules.end_of_day_cst(w.tender.doc_issue_end) - timedelta(seconds=1))
    participation.download_document(db, w.anon, w.doc.id)
    move_to(rules.end_of_day_cst(w.tender.doc_issue_end) + timedelta(seconds=1))
    with pytest.raises(Conflict) as e:
        participation.download_document(db, w.anon, w.doc.id)
    assert code_of(e) == "issue_period_over"
    assert e.value.problems[0].params["end"] == clock.to_cst(w.tender.doc_issue_end).strftime("%Y-%m-%d")
    with pytest.raises(Conflict):
        participation.download_document(db, w.other_bidder, w.doc.id)
    for who in ("bidder", "colleague", "agency", "purchaser", "monitor", "admin"):
        participation.download_document(db, getattr(w, who), w.doc.id)
    db.flush()
    assert len(db.scalars(select(Download)).all()) == 7


def test_before_the_issue_period_a_download_says_when_it_opens(db, make, blobs):
    w = published_tender(db, make, blobs)
    move_to(w.tender.doc_issue_start - timedelta(seconds=1))
    with pytest.raises(Conflict) as e:
        participation.download_document(db, w.anon, w.doc.id)
    assert code_of(e) == "issue_period_not_started"  # not "the period is over"
    assert e.value.problems[0].params["start"] == clock.to_cst(w.tender.doc_issue_start).strftime(
        "%Y-%m-%d %H:%M"
    )
    move_to(w.tender.doc_issue_start)
    assert participation.download_document(db, w.anon, w.doc.id).id == w.doc.id


def test_clarification_documents_stay_downloadable_after_issue_period(db, make, blobs):
    w = published_tender(db, make, blobs)
    clar = clarifications.clarify(
        db,
        w.agency,
        blobs,
        w.tender.id,
        "Drawings",
        "New drawings.",
        False,
        [drafting.FileInput("drawings.pdf", [PDF + b"d"])],
        max_bytes=1 << 20,
    )
    db.flush()
    clar_doc = db.scalars(select(TenderDocument).where(TenderDocument.clarification_id == clar.id)).one()
    clock.shift(timedelta(days=12))
    assert participation.download_document(db, w.anon, clar_doc.id).id == clar_doc.id


def test_draft_documents_hidden_and_cancelled_documents_withdrawn(db, make, blobs):
    w = published_tender(db, make, blobs)
    draft = draft_tender(w, blobs)
    draft_doc = draft.documents[0]
    for who in ("anon", "bidder", "other_agency", "monitor"):
        with pytest.raises(NotFound):
            participation.download_document(db, getattr(w, who), draft_doc.id)
    assert participation.download_document(db, w.agency, draft_doc.id).id == draft_doc.id
    with pytest.raises(NotFound):
        participation.download_document(db, w.anon, 999_999)
    supervision.cancel(db, w.agency, w.tender.id, "Withdrawn")
    with pytest.raises(Conflict) as e:
        participation.download_document(db, w.anon, w.doc.id)
    assert code_of(e) == "tender_cancelled"
    assert participation.download_document(db, w.monitor, w.doc.id).id == w.doc.id


# ---------------------------------------------------------------- the whole history in the log


def test_each_state_change_is_in_the_audit_log_in_order(db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.download_document(db, w.bidder, w.doc.id)
    participation.register(db, w.bidder, w.tender.id, w.lot1.id)
    q = questions.ask_question(db, w.bidder, w.tender.id, "Q?")
    questions.answer_question(db, w.agency, q.id, "A.")
    clarifications.clarify(db, w.agency, blobs, w.tender.id, "C", "B", False, [], max_bytes=1 << 20)
    supervision.suspend(db, w.monitor, w.tender.id, "S")
    supervision.resume(db, w.monitor, w.tender.id, "R")
    move_to(w.deadline + timedelta(seconds=1))
    deadlines.close_due_tenders(db)
    assert tags(db, w.tender) == [
        "tender.created",
        "tender.document.added",
        *["tender.key.registered"] * 3,
        "audit.entries.released",
        "tender.published",
        "tender.key.bundle.published",
        "tender.document.downloaded",
        "tender.registration.created",
        "tender.question.asked",
        "tender.question.answered",
        "tender.clarified",
        "tender.suspended",
        "tender.resumed",
        "tender.bidding.closed",
        "tender.failed",  # R44: no bids
        "audit.entries.released",  # the participation entries, at the failure
    ]
    from audit.verify import verify_chain

    assert verify_chain(db).ok
