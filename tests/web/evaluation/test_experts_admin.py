"""Administration of the expert pool: list and filters, detail, the form that keeps every value on refusal,
status changes, the sub-forms, the import with its report and template, and the JSON API."""

import csv
import io
import random

import pytest
from sqlalchemy import func, select

from audit.log import AuditEntry
from core import credit_code
from evaluation.pool import catalogue, rules
from evaluation.pool import experts as pool
from evaluation.pool.experts import ExpertInput
from evaluation.pool.models import Expert
from tests.web.support import login


def rid(n: int) -> str:
    first = f"33010619800101{n:03d}"
    return first + rules.resident_id_check(first)


@pytest.fixture
def admin(make, db):
    catalogue.load_catalogue(db)
    centre = make.org("trading_centre", name="某某县公共资源交易中心")
    user = make.user(centre, "admin", username="root")
    db.commit()
    return make.actor(user)


def add_expert(db, admin, n: int, **changes) -> Expert:
    data = ExpertInput(
        name=f"专家{n}",
        id_number=rid(n),
        title="高级工程师",
        title_level="associate_senior",
        years=12,
        specialties=["A0101"],
        employer_code=credit_code.generate(random.Random(n)),
        employer_name="某某市建筑设计研究院有限公司",
        region="某某市",
    )
    for k, v in changes.items():
        setattr(data, k, v)
    expert = pool.create_expert(db, admin, data)
    db.commit()
    return expert


def form(token: str, **changes) -> dict:
    data = {
        "_csrf_token": token,
        "name": "王建华",
        "id_number": rid(1),
        "title": "高级工程师",
        "title_level": "associate_senior",
        "years": "15",
        "specialties": ["A0101", "A0701"],
        "employer_name": "某某市建筑设计研究院有限公司",
        "employer_code": credit_code.generate(random.Random(9)),
        "region": "某某市",
        "phone": "13812345678",
        "email": "wang@example.com",
    }
    data.update(changes)
    return data


def test_an_expert_is_registered_through_the_form_and_shown(client, admin, db):
    token = login(client, "root")
    r = client.get("/admin/experts/new")
    assert r.status_code == 200 and "A0101 建筑工程施工" in r.text
    r = client.post("/admin/experts/create", data=form(token), follow_redirects=False)
    assert r.status_code == 303, r.text
    expert = db.scalar(select(Expert).where(Expert.name == "王建华"))
    assert r.headers["location"] == f"/admin/experts/{expert.id}"
    r = client.get(r.headers["location"])
    assert r.status_code == 200
    assert "专家已登记入库" in r.text and "A0701" in r.text and "工程造价" in r.text and rid(1) in r.text
    assert db.scalar(select(AuditEntry).where(AuditEntry.tag == "evaluation.expert.created")).actor == "root"


def test_a_refused_form_keeps_every_value_and_names_each_problem_in_chinese(client, admin, db):
    token = login(client, "root")
    bad_code = credit_code.generate(random.Random(9))
    bad_code = bad_code[:17] + ("0" if bad_code[17] != "0" else "1")
    r = client.post(
        "/admin/experts/create",
        data=form(token, years="6", title_level="intermediate", employer_code=bad_code, email="没有"),
    )
    assert r.status_code == 422
    assert "至少8年" in r.text and "副高级" in r.text  # years and title, L37
    assert "第18位校验码与前17位不符" in r.text  # the credit code's reason, in Chinese
    for kept in (
        "王建华",
        rid(1),
        "高级工程师",
        "某某市建筑设计研究院有限公司",
        bad_code,
        "13812345678",
        "没有",
    ):
        assert kept in r.text
    assert 'value="6"' in r.text
    assert '<option value="A0701" selected>' in r.text and '<option value="intermediate" selected>' in r.text
    assert db.scalar(select(func.count()).select_from(Expert)) == 0


def test_editing_keeps_values_on_refusal_links_the_account_and_saves(client, admin, db, make):
    expert = add_expert(db, admin, 1)
    expert_user = make.user(None, "expert", username="wangjh")
    db.commit()
    token = login(client, "root")
    r = client.get(f"/admin/experts/{expert.id}/edit")
    assert r.status_code == 200 and rid(1) in r.text
    r = client.post(
        f"/admin/experts/{expert.id}/save", data=form(token, id_number=rid(1), name="", region="某某县")
    )
    assert r.status_code == 422 and "请填写专家姓名" in r.text and "某某县" in r.text
    r = client.post(
        f"/admin/experts/{expert.id}/save",
        data=form(token, id_number=rid(1), name="专家一号", account="nobody"),
    )
    assert r.status_code == 422 and "没有名为 nobody 的有效用户账户" in r.text and 'value="nobody"' in r.text
    r = client.post(
        f"/admin/experts/{expert.id}/save",
        data=form(token, id_number=rid(1), name="专家一号", account="wangjh"),
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.expire_all()
    assert (
        db.get(Expert, expert.id).name == "专家一号" and db.get(Expert, expert.id).user_id == expert_user.id
    )
    db.rollback()
    r = client.get(f"/admin/experts/{expert.id}")
    assert "<code>wangjh</code>" in r.text


def test_the_list_filters_and_pages(client, admin, db):
    for n in range(1, 4):
        add_expert(
            db,
            admin,
            n,
            specialties=["A0101"] if n < 3 else ["B0101"],
            region="某某县" if n == 1 else "某某市",
        )
    login(client, "root")
    r = client.get("/admin/experts")
    assert r.status_code == 200 and all(f"专家{n}" in r.text for n in range(1, 4))
    r = client.get("/admin/experts?specialty=A01")
    assert "专家1" in r.text and "专家2" in r.text and "专家3" not in r.text
    r = client.get("/admin/experts?region=某某县")
    assert "专家1" in r.text and "专家2" not in r.text
    r = client.get("/admin/experts?q=专家3&status=active")
    assert "专家3" in r.text and "专家1<" not in r.text


def test_status_change_with_reason_and_history_and_a_refusal_that_keeps_values(client, admin, db):
    expert = add_expert(db, admin, 1)
    token = login(client, "root")
    r = client.post(
        f"/admin/experts/{expert.id}/status",
        data={
            "_csrf_token": token,
            "status": "penalised",
            "since": "2026-05-01",
            "until": "2026-04-01",
            "reason": "",
        },
    )
    assert r.status_code == 422
    assert "结束日期早于开始日期" in r.text and "请填写变更原因" in r.text
    assert 'value="2026-04-01"' in r.text
    r = client.post(
        f"/admin/experts/{expert.id}/status",
        data={
            "_csrf_token": token,
            "status": "penalised",
            "since": "2026-05-01",
            "until": "banana",
            "reason": "x",
        },
    )
    assert r.status_code == 422 and "结束日期格式不对" in r.text
    r = client.post(
        f"/admin/experts/{expert.id}/status",
        data={
            "_csrf_token": token,
            "status": "penalised",
            "since": "2026-05-01",
            "until": "",
            "reason": "行政处罚决定书〔2026〕12号",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.get(f"/admin/experts/{expert.id}")
    assert "行政处罚决定书〔2026〕12号" in r.text and "受处罚" in r.text


def test_employment_conflict_and_unavailable_days_are_added_from_the_detail_page(client, admin, db):
    expert = add_expert(db, admin, 1)
    token = login(client, "root")
    code = credit_code.generate(random.Random(77))
    r = client.post(
        f"/admin/experts/{expert.id}/employments",
        data={
            "_csrf_token": token,
            "org_name": "某某市政工程有限公司",
            "org_code": code,
            "start": "2015-07-01",
            "end": "2024-06-30",
            "position": "总工程师",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        f"/admin/experts/{expert.id}/conflicts",
        data={
            "_csrf_token": token,
            "kind": "shareholding",
            "org_name": "某某建材有限公司",
            "org_code": "bad",
            "note": "配偶持股",
        },
    )
    assert r.status_code == 422 and 'value="配偶持股"' in r.text and 'id="conflict-org_code"' in r.text
    r = client.post(
        f"/admin/experts/{expert.id}/conflicts",
        data={
            "_csrf_token": token,
            "kind": "shareholding",
            "org_name": "某某建材有限公司",
            "org_code": code,
            "note": "配偶持股",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        f"/admin/experts/{expert.id}/unavailable",
        data={"_csrf_token": token, "start": "2099-01-01", "end": "2099-01-03", "reason": "出国"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.get(f"/admin/experts/{expert.id}")
    assert (
        "某某市政工程有限公司" in r.text
        and "2024-06-30" in r.text
        and "配偶持股" in r.text
        and "2099-01-03" in r.text
    )


def test_import_upload_shows_the_report_with_each_bad_row(client, admin, db):
    token = login(client, "root")
    r = client.get("/admin/experts/import")
    assert r.status_code == 200 and "下载导入模板" in r.text
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["姓名", "身份证号", "职称", "从业年限", "专业代码"])
    w.writerow(["专家1", rid(1), "高级工程师", "12", "A0101"])
    w.writerow(["专家2", rid(2), "工程师", "12", "A0101"])
    w.writerow(["专家3", rid(3), "高级工程师", "12", "Q1"])
    r = client.post(
        "/admin/experts/import/upload",
        data={"_csrf_token": token},
        files={"file": ("专家.csv", out.getvalue().encode("gbk"), "text/csv")},
    )
    assert r.status_code == 422
    assert "新增专家" in r.text and "专家1" not in r.text  # the report names rows, not the good experts
    assert '<td class="num">3</td><td>职称级别</td>' in r.text  # row 3: the title level cannot be senior
    assert "不在专业目录中：Q1" in r.text
    assert db.scalar(select(func.count()).select_from(Expert)) == 1
    db.rollback()  # SQLite: the test's session must not keep the write lock while the app writes
    r = client.post(
        "/admin/experts/import/upload",
        data={"_csrf_token": token},
        files={"file": ("a.csv", b"name,phone\nx,1\n", "text/csv")},
    )
    assert r.status_code == 422 and "缺少这些列" in r.text
    r = client.get("/admin/experts/import/template.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = client.get("/admin/experts/import/template.csv")
    assert (
        r.status_code == 200
        and r.content.startswith(b"\xef\xbb\xbf")
        and "身份证号" in r.content.decode("utf-8-sig")
    )


def test_the_api_lists_gets_creates_and_changes_status_for_administrators_only(client, admin, db, make):
    expert = add_expert(db, admin, 1)
    token = login(client, "root")
    r = client.get("/api/v1/experts?specialty=A")
    assert r.status_code == 200
    body = r.json()
    assert (
        body["total"] == 1
        and body["items"][0]["specialties"] == ["A0101"]
        and body["items"][0]["eligible"] is True
    )
    r = client.get(f"/api/v1/experts/{expert.id}")
    assert (
        r.status_code == 200
        and r.json()["id_number"] == rid(1)
        and r.json()["status_history"][0]["status"] == "active"
    )
    headers = {"x-csrftoken": token}
    r = client.post(
        "/api/v1/experts",
        json={
            "name": "李海燕",
            "id_number": rid(2),
            "title": "主任医师",
            "title_level": "senior",
            "years": 5,
            "specialties": ["B0101"],
        },
        headers=headers,
    )
    assert (
        r.status_code == 422
        and r.json()["error"]["code"] == "years_too_few"
        and r.json()["error"]["problems"][0]["rule"] == "L37"
    )
    r = client.post(
        "/api/v1/experts",
        json={
            "name": "李海燕",
            "id_number": rid(2),
            "title": "主任医师",
            "title_level": "senior",
            "years": 20,
            "specialties": ["B0101"],
        },
        headers=headers,
    )
    assert r.status_code == 201 and r.json()["specialties"] == ["B0101"]
    r = client.post(
        f"/api/v1/experts/{expert.id}/status",
        json={"status": "suspended", "since": "2026-01-01", "until": "2026-02-01", "reason": "本人申请暂停"},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    r = client.post(
        f"/api/v1/experts/{expert.id}/status",
        json={"status": "suspended", "since": "01/01/2026"},
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "date_invalid"
    make.user(None, "expert", username="someone")
    db.commit()
    login(client, "someone")
    assert client.get("/api/v1/experts").status_code == 403
    assert client.get(f"/api/v1/experts/{expert.id}").status_code == 403
    client.cookies.clear()
    assert client.get("/api/v1/experts").status_code == 401


def test_the_pages_are_available_in_english(client, admin, db):
    expert = add_expert(db, admin, 1)
    pool.set_status(db, admin, expert.id, "suspended", expert.status_since, None, "on request")
    db.commit()
    login(client, "root")
    client.cookies.set("lang", "en")
    r = client.get("/admin/experts")
    assert "Expert pool" in r.text and "Suspended" in r.text and "A0101" in r.text
    r = client.get(f"/admin/experts/{expert.id}")
    assert (
        "Employment history" in r.text
        and "Associate senior (副高级)" in r.text
        and "Building construction" in r.text
    )
    r = client.get("/admin/experts/new")
    assert (
        "Experts need a senior professional title (associate senior or above) and at least 8 years" in r.text
    )
