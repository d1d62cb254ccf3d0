"""The expert pool's services: registration rules (L37), status history, employment, conflicts (P12),
unavailable dates, access, search, audit."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditConfidential, AuditEntry
from core import clock
from core.errors import NotFound, ValidationFailed
from evaluation.pool import catalogue, rules
from evaluation.pool import experts as pool
from evaluation.pool.experts import ConflictInput, EmploymentInput, ExpertInput, ExpertQuery
from evaluation.pool.models import Expert


def valid_code(seed: int) -> str:
    import random

    from core import credit_code

    return credit_code.generate(random.Random(seed))


def resident_id(prefix: str = "33010619800101001") -> str:
    return prefix + rules.resident_id_check(prefix)


def expert_input(**changes) -> ExpertInput:
    data = ExpertInput(
        name="王建华",
        id_number=resident_id(),
        title="高级工程师",
        title_level="associate_senior",
        years=15,
        specialties=["A0101", "A0701"],
        employer_code=valid_code(1),
        employer_name="某某市建筑设计研究院有限公司",
        region="某某市",
        phone="13812345678",
        email="wang@example.com",
    )
    for k, v in changes.items():
        setattr(data, k, v)
    return data


@pytest.fixture
def admin(make, db):
    catalogue.load_catalogue(db)
    centre = make.org("trading_centre")
    actor = make.actor(make.user(centre, "admin", username="root"))
    db.commit()
    return actor


# ---------------------------------------------------------------- pure rules


def test_eligibility_needs_a_senior_title_and_eight_years():
    assert rules.eligible("associate_senior", 8) and rules.eligible("senior", 30)
    assert not rules.eligible("associate_senior", 7)  # L37: 满八年
    assert not rules.eligible("intermediate", 20)  # L37: 高级职称
    assert rules.level_of_title("正高级工程师") == "senior"
    assert rules.level_of_title("教授级高级工程师") == "senior"
    assert rules.level_of_title("高级工程师") == "associate_senior"
    assert rules.level_of_title("副主任医师") == "associate_senior"
    assert rules.level_of_title("主任医师") == "senior"
    assert rules.level_of_title("副教授") == "associate_senior"
    assert rules.level_of_title("工程师") == "intermediate"
    assert rules.level_of_title("顾问") == ""
    assert (
        rules.parse_level("副高级") == "associate_senior"
        and rules.parse_level("正高") == "senior"
        and rules.parse_level("高") is None
    )


def test_identity_numbers_are_checked_by_gb_11643():
    good = resident_id()
    assert rules.id_number_problem(good) is None
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert "GB 11643" in rules.id_number_problem(wrong)
    assert "birth date" in rules.id_number_problem("330106198013010012")
    assert rules.id_number_problem("ZJ-2019-00042") is None  # an expert certificate number
    assert rules.id_number_problem("") is not None


# ---------------------------------------------------------------- create, edit, audit


def test_an_expert_is_registered_with_history_and_audited_without_personal_data_in_public(db, admin):
    expert = pool.create_expert(db, admin, expert_input(specialties=["a0701", "A0101", "A0101"]))
    db.commit()
    assert expert.specialty_codes == ["A0101", "A0701"]
    assert expert.status == "active" and expert.status_history[0].status == "active"
    assert [j.org_code for j in expert.employments] == [expert.employer_code]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "evaluation.expert.created"))
    assert entry.subject == f"expert:{expert.id}"
    assert entry.details["specialties"] == ["A0101", "A0701"]
    assert "王建华" not in str(entry.details) and expert.id_number not in str(entry.details)
    secret = db.get(AuditConfidential, entry.index)
    assert secret.data["name"] == "王建华" and secret.data["id_number"] == expert.id_number


def test_registration_refuses_each_bad_field_naming_it(db, admin):
    with pytest.raises(ValidationFailed) as e:
        pool.create_expert(
            db,
            admin,
            expert_input(
                name=" ",
                id_number="330106198001010010",
                title="",
                title_level="intermediate",
                years=7,
                specialties=["A0101", "X99"],
                employer_code="123",
                phone="abc",
                email="nobody",
            ),
        )
    problems = {p.code: p for p in e.value.problems}
    assert set(problems) == {
        "name_missing",
        "id_number_invalid",
        "title_missing",
        "title_not_senior",
        "years_too_few",
        "specialty_unknown",
        "employer_code_invalid",
        "phone_invalid",
        "email_invalid",
    }
    assert problems["title_not_senior"].rule == "L37" and problems["years_too_few"].rule == "L37"
    assert problems["specialty_unknown"].params["codes"] == "X99"
    assert problems["years_too_few"].field == "years"


def test_an_identity_number_is_held_by_one_expert_only(db, admin):
    first = pool.create_expert(db, admin, expert_input())
    with pytest.raises(ValidationFailed) as e:
        pool.create_expert(db, admin, expert_input(name="另一人"))
    assert e.value.problems[0].code == "id_number_taken" and e.value.problems[0].params["other"] == first.id


def test_editing_records_what_changed_and_moves_the_employment(db, admin):
    expert = pool.create_expert(db, admin, expert_input())
    db.commit()
    new_employer = valid_code(2)
    pool.update_expert(
        db,
        admin,
        expert.id,
        expert_input(years=16, specialties=["A0102"], employer_code=new_employer, employer_name="某某大学"),
    )
    db.commit()
    db.expire_all()
    expert = db.get(Expert, expert.id)
    assert expert.years == 16 and expert.specialty_codes == ["A0102"]
    jobs = {j.org_code: j for j in expert.employments}
    assert jobs[new_employer].end is None and jobs[valid_code(1)].end == clock.to_cst(clock.now()).date()
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "evaluation.expert.updated"))
    assert entry.details["changed"] == ["employer_code", "employer_name", "specialties", "years"]
    # saving the same values again records nothing
    pool.update_expert(
        db,
        admin,
        expert.id,
        expert_input(years=16, specialties=["A0102"], employer_code=new_employer, employer_name="某某大学"),
    )
    assert len(db.scalars(select(AuditEntry).where(AuditEntry.tag == "evaluation.expert.updated")).all()) == 1


# ---------------------------------------------------------------- status


def test_status_changes_keep_their_history_dates_and_reason(db, admin):
    expert = pool.create_expert(db, admin, expert_input())
    with pytest.raises(ValidationFailed) as e:
        pool.set_status(db, admin, expert.id, "penalised", date(2026, 3, 1), date(2026, 2, 1), "")
    assert {p.code for p in e.value.problems} == {"until_before_since", "reason_missing"}
    pool.set_status(
        db, admin, expert.id, "suspended", date(2026, 3, 1), date(2026, 5, 31), "连续三次无故缺席评标"
    )
    pool.set_status(
        db, admin, expert.id, "penalised", date(2026, 6, 1), None, "某某县发改局行政处罚决定书〔2026〕12号"
    )
    db.commit()
    db.expire_all()
    expert = db.get(Expert, expert.id)
    assert [c.status for c in expert.status_history] == ["active", "suspended", "penalised"]
    assert expert.status == "penalised" and expert.status_reason.startswith("某某县发改局")
    assert (
        expert.status_history[1].until == date(2026, 5, 31)
        and expert.status_history[1].changed_by == admin.user_id
    )
    tags = db.scalars(
        select(AuditEntry.tag).where(AuditEntry.tag == "evaluation.expert.status.changed")
    ).all()
    assert len(tags) == 2


def test_a_suspension_with_an_end_date_lapses_after_it():
    expert = Expert(status="suspended", status_since=date(2026, 3, 1), status_until=date(2026, 5, 31))
    assert pool.status_on(expert, date(2026, 2, 28)) == "active"
    assert pool.status_on(expert, date(2026, 3, 1)) == "suspended"
    assert pool.status_on(expert, date(2026, 5, 31)) == "suspended"
    assert pool.status_on(expert, date(2026, 6, 1)) == "active"


# -------------------------------------------------------------- employment, conflicts, unavailability, access


def test_employment_history_and_conflicts_are_kept_with_dates(db, admin):
    expert = pool.create_expert(db, admin, expert_input())
    old = valid_code(3)
    pool.add_employment(
        db,
        admin,
        expert.id,
        EmploymentInput(old, "某某市政工程有限公司", date(2015, 7, 1), date(2024, 6, 30), "副总工程师"),
    )
    with pytest.raises(ValidationFailed) as e:
        pool.add_employment(db, admin, expert.id, EmploymentInput("bad", "", None, None))
    assert {p.code for p in e.value.problems} == {"org_code_invalid", "org_name_missing", "start_missing"}
    conflict = pool.declare_conflict(
        db,
        admin,
        expert.id,
        ConflictInput(
            "shareholding", valid_code(4), "某某建材有限公司", date(2020, 1, 1), None, "配偶持股 5%"
        ),
    )
    with pytest.raises(ValidationFailed) as e:
        pool.declare_conflict(
            db, admin, expert.id, ConflictInput("gossip", valid_code(4), "某某建材有限公司")
        )
    assert e.value.problems[0].code == "conflict_kind_invalid" and e.value.problems[0].rule == "P12"
    db.commit()
    db.expire_all()
    expert = db.get(Expert, expert.id)
    assert [(j.org_code, j.end) for j in expert.employments if j.start] == [(old, date(2024, 6, 30))]
    assert expert.conflicts[0].kind == "shareholding" and expert.conflicts[0].id == conflict.id
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "evaluation.expert.conflict.declared"))
    assert "配偶持股" not in str(entry.details)


def test_an_expert_declares_their_own_conflicts_and_dates_but_sees_no_one_else(db, admin, make):
    mine = pool.create_expert(db, admin, expert_input())
    other = pool.create_expert(
        db, admin, expert_input(name="李海燕", id_number=resident_id("33012719751212002"))
    )
    user = make.user(None, "expert", username="wangjh")
    mine.user_id = user.id
    db.commit()
    me = make.actor(user)
    assert pool.expert_of(db, me).id == mine.id
    assert pool.get_expert(db, me, mine.id).name == "王建华"
    with pytest.raises(NotFound):
        pool.get_expert(db, me, other.id)
    with pytest.raises(NotFound):
        pool.declare_conflict(
            db, me, other.id, ConflictInput("shareholding", valid_code(4), "某某建材有限公司")
        )
    today = clock.to_cst(clock.now()).date()
    pool.add_unavailability(db, me, mine.id, today + timedelta(days=3), today + timedelta(days=5), "出差")
    with pytest.raises(ValidationFailed) as e:
        pool.add_unavailability(db, me, mine.id, today - timedelta(days=5), today - timedelta(days=3), "")
    assert e.value.problems[0].code == "period_past"
    pool.declare_conflict(
        db,
        me,
        mine.id,
        ConflictInput("relative_employer", valid_code(5), "某某工程咨询有限公司", note="妻弟任项目经理"),
    )
    db.commit()
    db.expire_all()
    expert = db.get(Expert, mine.id)
    assert pool.unavailable_on(expert, today + timedelta(days=3)) and pool.unavailable_on(
        expert, today + timedelta(days=5)
    )
    assert not pool.unavailable_on(expert, today + timedelta(days=6))
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "evaluation.expert.conflict.declared"))
    assert entry.details["by_expert"] is True and entry.actor == "wangjh"
    with pytest.raises(Exception) as e:
        pool.search_experts(db, me, ExpertQuery())
    assert getattr(e.value, "status", None) == 403


# ---------------------------------------------------------------- search


def test_search_filters_by_specialty_subtree_status_region_and_text_with_pages(db, admin):
    for i in range(7):
        prefix = f"33010619800101{i:02d}1"
        pool.create_expert(
            db,
            admin,
            expert_input(
                name=f"专家{i}",
                id_number=resident_id(prefix),
                specialties=["A0101"] if i % 2 else ["B0101"],
                region="某某县" if i < 3 else "某某市",
            ),
        )
    first = db.scalar(select(Expert).where(Expert.name == "专家1"))
    pool.set_status(db, admin, first.id, "retired", date(2026, 1, 1), None, "退休")
    db.commit()
    page = pool.search_experts(db, admin, ExpertQuery(specialty="A", page_size=2))
    assert page.total == 3 and page.pages == 2 and len(page.items) == 2
    assert (
        pool.search_experts(db, admin, ExpertQuery(specialty="A01", page=2, page_size=2)).items[0].name
        == "专家5"
    )
    assert pool.search_experts(db, admin, ExpertQuery(specialty="B01")).total == 4
    assert [e.name for e in pool.search_experts(db, admin, ExpertQuery(status="retired")).items] == ["专家1"]
    assert pool.search_experts(db, admin, ExpertQuery(region="某某县")).total == 3
    assert [e.name for e in pool.search_experts(db, admin, ExpertQuery(q="专家6")).items] == ["专家6"]
    assert pool.search_experts(db, admin, ExpertQuery(q=first.id_number)).items[0].id == first.id
    assert pool.search_experts(db, admin, ExpertQuery(page=99)).page == 1
    assert pool.counts_by_status(db, admin) == {"active": 6, "retired": 1}


def test_an_expert_is_linked_to_a_login_account_by_user_name(db, admin, make):
    make.user(None, "expert", username="wangjh")
    make.user(make.org("bidder"), "bidder", username="someone")
    with pytest.raises(ValidationFailed) as e:
        pool.create_expert(db, admin, expert_input(account="nobody"))
    assert e.value.problems[0].code == "account_unknown"
    with pytest.raises(ValidationFailed) as e:
        pool.create_expert(db, admin, expert_input(account="someone"))
    assert e.value.problems[0].code == "account_not_expert" and e.value.problems[0].field == "account"
    expert = pool.create_expert(db, admin, expert_input(account="wangjh"))
    assert expert.user.username == "wangjh"
    with pytest.raises(ValidationFailed) as e:
        pool.create_expert(
            db,
            admin,
            expert_input(name="李海燕", id_number=resident_id("33012719751212002"), account="wangjh"),
        )
    assert e.value.problems[0].code == "account_taken" and e.value.problems[0].params["other"] == expert.id
    pool.update_expert(db, admin, expert.id, expert_input())  # account None: the link stays
    assert expert.user_id is not None
    pool.update_expert(db, admin, expert.id, expert_input(account=""))
    db.commit()
    assert expert.user_id is None
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "evaluation.expert.updated")).all()[-1]
    assert entry.details["changed"] == ["user"]
