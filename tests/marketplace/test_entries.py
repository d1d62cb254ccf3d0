"""Entry into the marketplace (rules.md §5.2, Tangshan): the catalogue as data, an application refused for
each missing condition with nothing stored, approval, return with reasons and resubmission, the public
directory's filters and an expired qualification suspending the services that need it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from marketplace import entries, rules
from marketplace.models import Entry, EntryStatus, ServiceType
from tests.factories.marketplace import approved, entry_input, intermediary, market_world


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    return market_world(db, make)


def codes(e: ValidationFailed) -> set[str]:
    return {p.code for p in e.problems}


def test_the_shipped_catalogue_loads_once_and_keeps_an_administrators_edit(w, db):
    assert {"survey", "appraisal", "design", "testing", "consulting"} <= set(entries.requirements(db))
    entries.save_service(db, w.admin, entries.ServiceInput("testing", "检验检测服务", "Testing", ["CMA"]))
    assert entries.load_catalogue(db) == 0
    row = db.scalars(select(ServiceType).where(ServiceType.code == "testing")).one()
    assert row.name == "检验检测服务" and row.qualifications == ["CMA"]


def test_only_administrators_edit_the_catalogue(w, db):
    with pytest.raises(Forbidden):
        entries.save_service(db, w.owner, entries.ServiceInput("x", "某服务", "", []))
    with pytest.raises(ValidationFailed) as e:
        entries.save_service(db, w.admin, entries.ServiceInput("bad code!", "", "", []))
    assert codes(e.value) == {"service_code_invalid", "service_name_missing"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"licence_number": " "}, "licence_missing"),
        ({"independent_legal_person": False}, "not_independent"),
        ({"no_violation_3y": False}, "violation_3y"),
        ({"internal_rules": False}, "internal_rules_missing"),
        ({"credit_report": ""}, "credit_report_missing"),
        ({"commitment_signed_by": ""}, "commitment_missing"),
        ({"staff": []}, "staff_missing"),
        ({"services": ["nonexistent"]}, "service_unknown"),
        ({"qualifications": []}, "qualification_missing"),
    ],
)
def test_each_entry_condition_refuses_and_stores_nothing(w, db, make, change, code):
    _, actor = intermediary(make, "某检测公司")
    with pytest.raises(ValidationFailed) as e:
        entries.submit_entry(db, actor, entry_input(**change))
    assert code in codes(e.value)
    assert db.scalars(select(Entry)).all() == []


def test_an_expired_qualification_is_refused_on_the_day_after_its_expiry(w, db, make):
    _, actor = intermediary(make, "某检测公司")
    today = clock.to_cst(clock.now()).date()
    with pytest.raises(ValidationFailed) as e:
        entries.submit_entry(db, actor, entry_input(expires_on=today - timedelta(days=1)))
    assert {"qualification_expired", "qualification_missing"} <= codes(e.value)
    assert entries.submit_entry(db, actor, entry_input(expires_on=today)).status == EntryStatus.submitted


def test_return_with_reasons_then_resubmit_then_approve(w, db, make):
    org, actor = intermediary(make, "某检测公司", "路南区")
    entry = entries.submit_entry(db, actor, entry_input())
    with pytest.raises(Conflict):
        entries.submit_entry(db, actor, entry_input())  # under review
    with pytest.raises(ValidationFailed):
        entries.return_entry(db, w.admin, entry.id, "  ")
    entries.return_entry(db, w.admin, entry.id, "信用报告已过期，请补充最新报告")
    assert entries.directory(db) == []
    with pytest.raises(Conflict):
        entries.approve_entry(db, w.admin, entry.id)  # decided
    entry = entries.submit_entry(db, actor, entry_input(credit_report="信用中国 2026-12 报告"))
    assert entry.submissions == 2 and entry.status == EntryStatus.submitted
    entries.approve_entry(db, w.admin, entry.id)
    listed = entries.directory(db)
    assert [x.organisation.id for x in listed] == [org.id] and listed[0].services == ["testing"]
    tags = [
        e.tag for e in db.scalars(select(AuditEntry).where(AuditEntry.subject == f"intermediary:{org.id}"))
    ]
    assert tags == [
        "marketplace.entry.submitted",
        "marketplace.entry.returned",
        "marketplace.entry.submitted",
        "marketplace.entry.approved",
    ]


def test_only_the_centre_reviews(w, db, make):
    _, actor = intermediary(make, "某检测公司")
    entry = entries.submit_entry(db, actor, entry_input())
    for who in (actor, w.owner):
        with pytest.raises(Forbidden):
            entries.approve_entry(db, who, entry.id)


def test_the_directory_filters_by_service_and_region(w, db, make):
    a, _ = approved(db, make, w.admin, "甲检测", ["testing"], "路南区")
    b, _ = approved(db, make, w.admin, "乙勘察", ["survey"], "路北区")
    c, _ = approved(db, make, w.admin, "丙综合", ["testing", "survey"], "路北区")
    ids = lambda rows: {x.organisation.id for x in rows}  # noqa: E731
    assert ids(entries.directory(db)) == {a.id, b.id, c.id}
    assert ids(entries.directory(db, service="survey")) == {b.id, c.id}
    assert ids(entries.directory(db, service="testing", region="路北区")) == {c.id}


def test_an_expired_qualification_suspends_only_the_services_that_need_it(w, db, make):
    today = clock.to_cst(clock.now()).date()
    org, actor = intermediary(make, "丙综合")
    entry = entries.submit_entry(
        db, actor, entry_input(["testing", "consulting"], expires_on=today + timedelta(days=1))
    )
    entries.approve_entry(db, w.admin, entry.id)
    assert entries.active_services(db, entry) == ["testing", "consulting"]
    assert entries.active_services(db, entry, today + timedelta(days=2)) == ["consulting"]


def test_qualification_and_staff_lines_parse_or_name_the_line():
    quals, problems = rules.parse_qualifications(
        "工程勘察资质 | 甲级 | 2030-01-31\n\n测绘资质|乙级|31/01/2030\nx"
    )
    assert quals == [rules.Qualification("工程勘察资质", "甲级", date(2030, 1, 31))]
    assert [(p.code, p.params["line"]) for p in problems] == [
        ("qualification_expiry", 2),
        ("qualification_line", 3),
    ]
    staff, problems = rules.parse_staff("李四｜注册测绘师｜CH-1\n王五 | | ")
    assert staff == [rules.Staff("李四", "注册测绘师", "CH-1")] and problems[0].params["line"] == 2


def test_a_field_longer_than_its_column_is_refused_at_the_field(w, db, make):
    _, actor = intermediary(make, "某检测公司")
    with pytest.raises(ValidationFailed) as e:
        entries.submit_entry(db, actor, entry_input(licence_number="9" * 61))
    assert [(p.code, p.field) for p in e.value.problems] == [("too_long", "licence_number")]
