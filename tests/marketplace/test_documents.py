"""The purchase's files (marketplace.documents, rules.md §5.4): the signed contract with its entry, the
service result before the acceptance, each stored by its SHA-256 and named by it in the audit log, readable
by the two sides, the monitors and the administrators only, nothing deleted."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace import aftercare, documents
from marketplace.models import DocumentKind
from storage.base import read_all
from tests.factories.marketplace import (
    RESULT,
    SIGNED,
    selected_world,
    stored,
)


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    w = selected_world(db, make)
    w.stranger = make.actor(make.user(make.org("purchaser", "县教育局"), "project_owner"))
    return w


def _details(db, tag: str) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = db.scalars(select(AuditEntry).where(AuditEntry.tag == tag).order_by(AuditEntry.index))
    return [e.details for e in rows]


def test_a_file_is_refused_without_a_name_of_the_wrong_type_or_empty(w):
    for name, content, code in (
        ("", SIGNED, "document_missing"),
        ("合同.exe", SIGNED, "document_type"),
        ("合同.docx", SIGNED, "document_type"),
        ("合同.pdf", b"", "document_missing"),
    ):
        with pytest.raises(ValidationFailed) as e:
            documents.store_file(w.blobs, name, [content])
        assert [p.code for p in e.value.problems] == [code], name
    # a folder a browser sent is dropped; the upper-case suffix is the same type
    assert documents.store_file(w.blobs, "C:\\扫描\\合同.PDF", [SIGNED]).filename == "合同.PDF"


def test_a_file_over_the_limit_is_refused(w, monkeypatch):
    monkeypatch.setattr(documents, "MAX_FILE", 10)
    with pytest.raises(ValidationFailed) as e:
        documents.store_file(w.blobs, "合同.pdf", [SIGNED])
    assert e.value.problems[0].code == "document_large"


def test_the_contract_file_is_kept_by_its_digest_and_the_confirmation_names_it(w, db):
    first = stored(w.blobs, "合同（初稿）.pdf", SIGNED + b"draft")
    aftercare.enter_contract(db, w.chosen, w.p.id, "HT-1", 900_000, first)
    # entered again, with another file, before the owner confirms: the later one is current, the first kept
    aftercare.enter_contract(db, w.owner, w.p.id, "HT-1", 900_000, stored(w.blobs))
    aftercare.confirm_contract(db, w.chosen, w.p.id)
    files = documents.of_purchase(db, w.p.id)
    assert [(f.kind, f.filename) for f in files] == [
        ("contract", "合同（初稿）.pdf"),
        ("contract", "服务合同.pdf"),
    ]
    current = documents.current(db, w.p.id, DocumentKind.contract)
    assert current is files[-1] and current.sha256 == hashlib.sha256(SIGNED).hexdigest()
    assert read_all(w.blobs, current.sha256) == SIGNED
    entered = _details(db, "marketplace.contract.entered")
    assert [d["file"]["sha256"] for d in entered] == [first.key, current.sha256]
    assert _details(db, "marketplace.contract.confirmed")[-1]["sha256"] == current.sha256


def test_only_the_selected_intermediary_uploads_the_result_between_confirmation_and_acceptance(w, db):
    result = stored(w.blobs, "检测报告.pdf", RESULT)
    with pytest.raises(Conflict):
        aftercare.upload_result(db, w.chosen, w.p.id, result)  # no confirmed contract yet
    aftercare.enter_contract(db, w.chosen, w.p.id, "HT-1", 900_000, stored(w.blobs))
    aftercare.confirm_contract(db, w.owner, w.p.id)
    with pytest.raises(Forbidden):
        aftercare.upload_result(db, w.owner, w.p.id, result)  # the owner accepts, it does not upload
    with pytest.raises(Forbidden):
        aftercare.upload_result(db, w.other, w.p.id, result)  # another intermediary
    doc = aftercare.upload_result(db, w.chosen, w.p.id, result)
    assert doc.kind == "service_result" and doc.organisation_id == w.chosen.organisation_id
    aftercare.record_acceptance(db, w.owner, w.p.id, True, "")
    assert _details(db, "marketplace.service.accepted")[-1]["result_sha256"] == result.key
    with pytest.raises(Conflict):
        aftercare.upload_result(db, w.chosen, w.p.id, result)  # accepted: the result is final


def test_the_files_are_the_sides_the_monitors_and_the_administrators(w, db):
    aftercare.enter_contract(db, w.chosen, w.p.id, "HT-1", 900_000, stored(w.blobs))
    doc = documents.current(db, w.p.id, DocumentKind.contract)
    for reader in (w.chosen, w.owner, w.monitor, w.admin):
        assert aftercare.readable_document(db, reader, doc.id) is doc
    for outsider in (w.other, w.stranger):
        with pytest.raises(NotFound):
            aftercare.readable_document(db, outsider, doc.id)
    with pytest.raises(NotFound):
        aftercare.readable_document(db, w.owner, doc.id + 1000)
