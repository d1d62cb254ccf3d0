"""The expert's own profile: they see their record and declare conflicts and unavailable days themselves;
they see no one else's record and cannot change their own registration data."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock, credit_code
from evaluation.pool import catalogue, rules
from evaluation.pool import experts as pool
from evaluation.pool.experts import ExpertInput
from evaluation.pool.models import Expert, ExpertConflict
from tests.web.support import login


def rid(n: int) -> str:
    first = f"33010619800101{n:03d}"
    return first + rules.resident_id_check(first)


@pytest.fixture
def expert(make, db):
    catalogue.load_catalogue(db)
    admin = make.actor(make.user(make.org("trading_centre"), "admin"))
    user = make.user(None, "expert", username="wangjh")
    record = pool.create_expert(
        db,
        admin,
        ExpertInput(
            name="王建华",
            id_number=rid(1),
            title="高级工程师",
            title_level="associate_senior",
            years=15,
            specialties=["A0101"],
            employer_code=credit_code.generate(random.Random(1)),
            employer_name="某某市建筑设计研究院有限公司",
            region="某某市",
        ),
    )
    record.user_id = user.id
    pool.set_status(
        db, admin, record.id, "suspended", clock.to_cst(clock.now()).date(), None, "本人申请暂停一个月"
    )
    db.commit()
    return record


def test_the_expert_sees_their_own_profile(client, expert, db):
    login(client, "wangjh")
    r = client.get("/expert/profile")
    assert r.status_code == 200
    for shown in (
        "我的专家信息",
        "王建华",
        "高级工程师",
        "A0101",
        "建筑工程施工",
        "某某市建筑设计研究院有限公司",
        "暂停",
        "本人申请暂停一个月",
    ):
        assert shown in r.text, shown
    # the pool's administration and other experts' records stay closed
    assert client.get("/admin/experts").status_code == 403
    assert client.get(f"/admin/experts/{expert.id}").status_code == 403
    assert client.get(f"/api/v1/experts/{expert.id}").status_code == 403


def test_the_expert_declares_a_conflict_and_unavailable_days(client, expert, db):
    token = login(client, "wangjh")
    code = credit_code.generate(random.Random(5))
    r = client.post(
        "/expert/profile/conflicts",
        data={
            "_csrf_token": token,
            "kind": "relative_employer",
            "org_name": "某某工程咨询有限公司",
            "org_code": code[:10],
            "note": "妻弟任项目经理",
        },
    )
    assert r.status_code == 422
    assert (
        "统一社会信用代码无效" in r.text
        and 'value="妻弟任项目经理"' in r.text
        and 'value="某某工程咨询有限公司"' in r.text
    )
    r = client.post(
        "/expert/profile/conflicts",
        data={
            "_csrf_token": token,
            "kind": "relative_employer",
            "org_name": "某某工程咨询有限公司",
            "org_code": code,
            "note": "妻弟任项目经理",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    today = clock.to_cst(clock.now()).date()
    start, end = today + timedelta(days=10), today + timedelta(days=12)
    r = client.post(
        "/expert/profile/unavailable",
        data={"_csrf_token": token, "start": end.isoformat(), "end": start.isoformat(), "reason": "出差"},
    )
    assert r.status_code == 422 and "结束日期早于开始日期" in r.text
    r = client.post(
        "/expert/profile/unavailable",
        data={"_csrf_token": token, "start": start.isoformat(), "end": end.isoformat(), "reason": "出差"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.get("/expert/profile")
    assert (
        "已登记不能参加评标的日期" in r.text
        and end.isoformat() in r.text
        and "某某工程咨询有限公司" in r.text
    )
    db.expire_all()
    conflict = db.scalar(select(ExpertConflict).where(ExpertConflict.expert_id == expert.id))
    assert conflict.kind == "relative_employer" and conflict.org_code == code
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "evaluation.expert.unavailability.set"))
    assert entry.actor == "wangjh" and entry.details["by_expert"] is True


def test_an_expert_account_without_a_pool_record_is_told_what_to_do(client, expert, db, make):
    make.user(None, "expert", username="newcomer")
    db.commit()
    token = login(client, "newcomer")
    r = client.get("/expert/profile")
    assert r.status_code == 200 and "尚未关联专家库中的专家" in r.text
    r = client.post(
        "/expert/profile/unavailable", data={"_csrf_token": token, "start": "2099-01-01", "end": "2099-01-02"}
    )
    assert r.status_code == 422 and "尚未关联专家库中的专家" in r.text
    db.expire_all()
    assert db.get(Expert, expert.id).unavailable == []


def test_other_roles_cannot_use_the_expert_profile(client, expert, db, make):
    make.user(make.org("bidder"), "bidder", username="bidder")
    db.commit()
    login(client, "bidder")
    assert client.get("/expert/profile").status_code == 403
