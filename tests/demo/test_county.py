"""The demo data: loaded through the services, audited, and documented accounts that work."""

import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accounts import services as accounts
from accounts.models import Organisation, User
from accounts.passwords import strength_problems
from audit.log import AuditEntry
from audit.verify import verify_chain
from core import credit_code
from demo import county as demo
from evaluation.pool import catalogue
from evaluation.pool import rules as evaluation_rules
from evaluation.pool.models import Expert
from tender import drafting, rules
from tender.models import Bid, Clarification, Download, Question, Registration, Tender

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*`([^`]+)`\s*\|$")


def documented_accounts() -> list[tuple[str, str, str]]:
    text = (ROOT / "docs" / "demo-accounts.md").read_text(encoding="utf-8")
    return [
        (m.group(1), m.group(2), m.group(4)) for line in text.splitlines() if (m := ROW.match(line.strip()))
    ]


@pytest.fixture
def loaded(db, blobs):
    demo.load(db, blobs)
    db.commit()
    return db


def test_organisations_experts_and_audit_chain(loaded):
    db = loaded
    kinds = Counter(db.scalars(select(Organisation.kind)))
    assert kinds == {
        "trading_centre": 1,
        "agency": 2,
        "purchaser": 3,
        "bidder": 8,
        "supervisor": 1,
        "intermediary": 8,  # demo/marketplace.py
    }
    assert all(credit_code.is_valid(c) for c in db.scalars(select(Organisation.credit_code)))
    assert (
        db.scalar(select(Organisation.name).where(Organisation.kind == "trading_centre"))
        == "某某县公共资源交易中心"
    )

    experts = db.scalars(select(Expert)).all()
    assert len(experts) == 40
    assert len({e.name for e in experts}) == 40
    assert all(
        e.years >= 8
        and e.title
        and e.employer_name
        and e.specialties
        and credit_code.is_valid(e.employer_code)
        for e in experts
    )
    # the first five, and the one the later evaluation stages' committee needed (demo/evaluation_stages.py)
    assert sum(1 for e in experts if e.user_id is not None) == 6
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == "evaluation.expert.created")
        )
        == 40
    )
    # the pool uses the shipped catalogue's specialties, with histories, interests, unavailable days and
    # statuses
    leaves = {e.code for e in catalogue.read_catalogue() if len(e.code) == 5}
    assert all(set(e.specialty_codes) <= leaves for e in experts)
    assert all(
        evaluation_rules.eligible(e.title_level, e.years)
        and evaluation_rules.id_number_problem(e.id_number) is None
        for e in experts
    )
    assert Counter(e.status for e in experts) == {"active": 38, "suspended": 1, "penalised": 1}
    assert all(e.status_reason for e in experts if e.status != "active")
    assert sum(1 for e in experts if any(j.end is not None for j in e.employments)) == 12
    assert sum(len(e.conflicts) for e in experts) == 3 and sum(len(e.unavailable) for e in experts) == 3

    result = verify_chain(db)
    assert result.ok, result.reason
    # everything after the bootstrap of the centre and its administrator was done by people, through the
    # services
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.tag == "user.created", AuditEntry.actor == "admin")
        )
        == 34  # 24, the marketplace's 9 (demo/marketplace.py), the evaluation stages' expert6
    )


def test_tenders_in_several_states(loaded):
    db = loaded
    statuses = Counter(db.scalars(select(Tender.status)))
    # at the deadline: three sealed bids open (the ceremony awaits the key holders), two fail the tender (R44)
    assert set(statuses) >= {
        "draft",
        "published",
        "suspended",
        "cancelled",
        "opening",
        "failed",
        "evaluating",
        "evaluated",
        "publicity",
        "awarded",
    }
    # evaluating: demo/evaluation_room.py, and demo/evaluation_stages.py's five (three of them evaluated: one
    # awarded by demo/results_award.py, one in its publicity by demo/results_publicity.py, one left so)
    assert len(statuses) >= 5 and sum(statuses.values()) == 18
    assert statuses["evaluating"] == 3
    assert statuses["evaluated"] == statuses["publicity"] == statuses["awarded"] == 1
    for t in db.scalars(select(Tender)):
        assert re.search(r"县", t.title)
        if t.status != "draft":
            assert t.documents, t.title
            assert not rules.check_criteria(
                t.evaluation_method, t.criteria, t.category, t.government_procurement
            )
            for lot in t.lots:
                assert (
                    lot.price_ceiling >= lot.estimated_price and lot.bid_security * 50 <= lot.estimated_price
                )
            assert len(t.key_holder_ids) == 3 and t.key_threshold == 2
    cancelled = db.scalar(select(Tender).where(Tender.status == "cancelled"))
    assert cancelled.cancel_reason
    suspended = db.scalar(select(Tender).where(Tender.status == "suspended"))
    assert suspended.monitor_suspended and suspended.resume_to == "published"
    # one draft cannot be published yet, and says why
    problems = {
        p.code
        for t in db.scalars(select(Tender).where(Tender.status == "draft"))
        for p in drafting.publication_problems(t)
    }
    assert {"deadline_too_soon", "security_over_2_percent", "documents_missing"} <= problems
    # a clarification that affected bids moved a deadline (R21)
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == "tender.deadline.extended")
        )
        == 1
    )
    assert db.scalar(select(func.count()).select_from(Clarification)) >= 2
    assert db.scalar(select(func.count()).select_from(Question).where(Question.answered_at.is_not(None))) >= 3
    assert db.scalar(select(func.count()).select_from(Registration)) >= 10
    assert db.scalar(select(func.count()).select_from(Download)) >= 10
    # sealed bids with signed receipts, counted at the deadline (E27)
    submitted = list(db.scalars(select(Bid).where(Bid.status == "submitted")))
    # 9, and demo/evaluation_stages.py's fifteen (three for each of its five tenders)
    assert len(submitted) == 24 and all(
        b.receipt and b.receipt_signature and b.audit_index is not None for b in submitted
    )


def test_documents_are_real_pdf_and_docx_files(loaded, blobs):
    from storage.base import read_all
    from tender.opening.record import font_path

    db = loaded
    tender = db.scalar(select(Tender).where(Tender.status == "published").order_by(Tender.id))
    kinds = set()
    for doc in tender.documents:
        data = read_all(blobs, doc.blob_key)
        assert len(data) == doc.size
        if doc.filename.endswith(".pdf"):
            assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
            xref = int(data.rsplit(b"startxref", 1)[1].split()[0])
            assert data[xref:].startswith(b"xref")
            if font_path():  # the Chinese tender documents (招标文件): the CJK font embedded, a cover page
                pages = data.count(b"/Type /Page\n") + data.count(b"/Type /Page ")
                assert b"NotoSansCJK" in data and pages >= 2
            kinds.add("pdf")
        elif doc.filename.endswith(".docx"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                assert "word/document.xml" in z.namelist()
                assert tender.title in z.read("word/document.xml").decode()
            kinds.add("docx")
    assert kinds == {"pdf", "docx"}


def test_every_documented_account_can_log_in(loaded):
    db = loaded
    documented = documented_accounts()
    assert len(documented) == db.scalar(select(func.count()).select_from(User)) == 35
    roles = Counter(role for _u, role, _p in documented)
    assert roles == {
        "admin": 1,
        "centre": 2,
        "agency": 4,
        "purchaser": 3,
        "bidder": 8,
        "monitor": 2,
        "expert": 6,
        "intermediary": 8,  # demo/marketplace.py
        "project_owner": 1,
    }
    for username, role, password in documented:
        assert strength_problems(password, [username]) == []
        user = accounts.authenticate(db, username, password, "127.0.0.1")
        assert role in user.roles


def test_the_documented_table_is_the_one_the_demo_creates():
    text = (ROOT / "docs" / "demo-accounts.md").read_text(encoding="utf-8")
    assert demo.accounts_markdown() in text
