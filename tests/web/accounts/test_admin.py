"""Administration pages: organisations and user accounts (role admin)."""

import random
import re

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from accounts.models import Organisation, User
from accounts.passwords import verify_password
from audit.log import AuditEntry
from core import credit_code
from tests.web.support import login, zh


@pytest.fixture
def admin(make, db):
    centre = make.org("trading_centre", name="某某县公共资源交易中心")
    user = make.user(centre, "admin", username="root")
    db.commit()
    return user


def org_form(token: str, **changes) -> dict:
    form = {
        "_csrf_token": token,
        "credit_code": credit_code.generate(random.Random(42)),
        "name": "某某建设工程有限公司",
        "kind": "bidder",
        "region": "某某县",
        "legal_representative": "王建国",
        "contact_phone": "0571-88886666",
        "address": "某某县人民路1号",
        "active": "on",
    }
    form.update(changes)
    return form


def test_invalid_credit_code_is_refused_naming_the_problem_and_keeping_values(client, admin, db):
    token = login(client, "root")
    good = credit_code.generate(random.Random(7))
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    r = client.post("/admin/organisations/create", data=org_form(token, credit_code=wrong_check))
    assert r.status_code == 422
    assert "统一社会信用代码无效" in r.text
    assert "第18位校验码与前17位不符" in r.text  # names what is wrong, in Chinese
    for kept in (wrong_check, "某某建设工程有限公司", "王建国", "0571-88886666", "某某县人民路1号"):
        assert kept in r.text
    assert 'class="invalid"' in r.text
    r = client.post("/admin/organisations/create", data=org_form(token, credit_code="91330100ABC"))
    assert r.status_code == 422
    assert "应为18位，现为11位" in r.text
    assert db.scalar(select(Organisation).where(Organisation.name == "某某建设工程有限公司")) is None


def test_valid_organisation_is_registered_listed_and_audited(client, admin, db):
    token = login(client, "root")
    code = credit_code.generate(random.Random(42))
    r = client.post(
        "/admin/organisations/create", data=org_form(token, credit_code=code.lower()), follow_redirects=False
    )
    assert r.status_code == 303
    r = client.get("/admin/organisations?kind=bidder")
    assert r.status_code == 200
    assert "某某建设工程有限公司" in r.text and code in r.text  # stored normalised (upper case)
    assert "单位登记成功" in r.text  # the flash message
    r = client.get("/admin/organisations?kind=agency")
    assert "某某建设工程有限公司" not in r.text
    r = client.get("/admin/organisations?q=建设工程")
    assert "某某建设工程有限公司" in r.text and "某某县公共资源交易中心" not in r.text
    db.expire_all()
    org = db.scalar(select(Organisation).where(Organisation.credit_code == code))
    assert org is not None and org.kind == "bidder" and org.legal_representative == "王建国"
    assert (
        db.scalar(
            select(AuditEntry).where(AuditEntry.tag == "org.created", AuditEntry.subject == f"org:{org.id}")
        )
        is not None
    )


def test_duplicate_credit_code_is_refused(client, admin, db):
    token = login(client, "root")
    code = credit_code.generate(random.Random(42))
    assert (
        client.post(
            "/admin/organisations/create", data=org_form(token, credit_code=code), follow_redirects=False
        ).status_code
        == 303
    )
    r = client.post(
        "/admin/organisations/create", data=org_form(token, credit_code=code, name="另一家科技有限公司")
    )
    assert r.status_code == 422
    assert "该统一社会信用代码的单位已经登记" in r.text
    assert "另一家科技有限公司" in r.text
    db.expire_all()
    assert len(db.scalars(select(Organisation).where(Organisation.credit_code == code)).all()) == 1


def test_editing_an_organisation_keeps_input_on_refusal_and_saves(client, admin, make, db):
    org = make.org("purchaser", name="某某县教育局")
    db.commit()
    token = login(client, "root")
    r = client.get(f"/admin/organisations/{org.id}/edit")
    assert r.status_code == 200 and "某某县教育局" in r.text
    r = client.post(
        f"/admin/organisations/{org.id}",
        data=org_form(token, credit_code=org.credit_code, name="", kind="purchaser", region="城关镇"),
    )
    assert r.status_code == 422
    assert "请填写单位的登记名称" in r.text and "城关镇" in r.text
    r = client.post(
        f"/admin/organisations/{org.id}",
        data=org_form(token, credit_code=org.credit_code, name="某某县教育体育局", kind="purchaser"),
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Organisation, org.id).name == "某某县教育体育局"


def user_form(token: str, org_id, *roles, **changes) -> dict:
    form = {
        "_csrf_token": token,
        "username": "zhang.wei",
        "full_name": "张伟",
        "organisation_id": str(org_id or ""),
        "roles": list(roles),
        "email": "zhang.wei@example.com",
        "phone": "13800001111",
        "password": "A-long-enough-pass",
        "active": "on",
    }
    form.update(changes)
    return form


def test_user_with_role_not_fitting_the_organisation_is_refused(client, admin, make, db):
    bidder_org = make.org("bidder", name="某某科技有限公司")
    db.commit()
    token = login(client, "root")
    r = client.post("/admin/users/create", data=user_form(token, bidder_org.id, "agency", "bidder"))
    assert r.status_code == 422
    assert "角色 代理机构人员 与该单位的类型不符" in r.text  # the role is named in Chinese
    assert "zhang.wei" in r.text and "张伟" in r.text and "13800001111" in r.text
    assert "A-long-enough-pass" not in r.text  # passwords are never sent back
    assert 'value="agency" checked' in r.text and 'value="bidder" checked' in r.text
    db.expire_all()
    assert db.scalar(select(User).where(User.username == "zhang.wei")) is None


def test_a_guessable_password_is_refused_for_a_new_user_saying_why(client, admin, make, db):
    bidder_org = make.org("bidder", name="某某科技有限公司")
    db.commit()
    token = login(client, "root")
    r = client.post(
        "/admin/users/create", data=user_form(token, bidder_org.id, "bidder", password="aaaaaaaaaa")
    )
    assert r.status_code == 422
    assert zh("This password is too easy to guess; choose a longer or less usual one.") in r.text
    assert zh('Repeats like "aaa" are easy to guess.') in r.text
    db.expire_all()
    assert db.scalar(select(User).where(User.username == "zhang.wei")) is None


def test_user_is_created_and_password_blank_on_edit_keeps_it(client, admin, make, db):
    bidder_org = make.org("bidder", name="某某科技有限公司")
    db.commit()
    token = login(client, "root")
    r = client.post(
        "/admin/users/create", data=user_form(token, bidder_org.id, "bidder"), follow_redirects=False
    )
    assert r.status_code == 303
    r = client.get("/admin/users")
    assert "zhang.wei" in r.text and "用户账号已创建" in r.text
    db.expire_all()
    user = db.scalar(select(User).where(User.username == "zhang.wei"))
    assert user.roles == ["bidder"] and user.organisation_id == bidder_org.id
    user_id, org_id = user.id, bidder_org.id
    db.rollback()  # end the test's transaction: on SQLite it holds the write lock
    r = client.post(
        f"/admin/users/{user_id}",
        data=user_form(token, org_id, "bidder", full_name="张伟伟", password=""),
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.expire_all()
    user = db.get(User, user_id)
    assert user.full_name == "张伟伟"
    assert verify_password(user.password_hash, "A-long-enough-pass")


def test_a_password_set_by_an_administrator_logs_the_user_out_but_not_the_administrator_setting_their_own(
    app, client, admin, make, db
):
    bidder = make.user(make.org("bidder"), "bidder", username="zhang.wei")
    db.commit()
    bidder_id, org_id, admin_id, centre_id = (
        bidder.id,
        bidder.organisation_id,
        admin.id,
        admin.organisation_id,
    )
    db.rollback()
    with TestClient(app=app) as users_browser:
        login(users_browser, "zhang.wei")
        token = login(client, "root")
        r = client.post(
            f"/admin/users/{bidder_id}",
            data=user_form(token, org_id, "bidder", password="quartz lantern umbrella"),
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert users_browser.get("/account", follow_redirects=False).status_code in (302, 303)  # logged out
    own = user_form(
        token, centre_id, "admin", username="root", full_name="Root", password="violet harbour compass"
    )
    r = client.post(f"/admin/users/{admin_id}", data=own, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/admin/users", follow_redirects=False).status_code == 200  # still logged in


def test_admin_cannot_remove_own_admin_role(client, admin, db):
    token = login(client, "root")
    r = client.post(
        f"/admin/users/{admin.id}",
        data=user_form(token, admin.organisation_id, "centre", username="root", password=""),
    )
    assert r.status_code == 422
    assert "不能取消本人的系统管理员角色" in r.text
    db.expire_all()
    assert db.get(User, admin.id).roles == ["admin"]


@pytest.mark.parametrize(
    "path", ["/admin", "/admin/organisations", "/admin/organisations/new", "/admin/users", "/admin/users/new"]
)
def test_non_admins_are_refused(client, make, db, path):
    make.user(make.org("agency"), "agency", username="agent")
    db.commit()
    login(client, "agent")
    assert client.get(path).status_code == 403


def test_non_admin_cannot_post_an_organisation(client, make, db):
    make.user(make.org("agency"), "agency", username="agent")
    db.commit()
    token = login(client, "agent")
    assert client.post("/admin/organisations/create", data=org_form(token)).status_code == 403
    db.expire_all()
    assert db.scalar(select(Organisation).where(Organisation.name == "某某建设工程有限公司")) is None


def test_anonymous_is_sent_to_login(client, admin):
    r = client.get("/admin/users", follow_redirects=False)
    assert r.status_code in (302, 303)
    assert r.headers["location"].startswith("/login?next=/admin/users")


def test_overview_counts_organisations_per_kind(client, admin, make, db):
    make.org("bidder")
    make.org("bidder")
    make.org("agency")
    db.commit()
    login(client, "root")
    r = client.get("/admin")
    assert r.status_code == 200
    assert re.search(r'href="/admin/organisations\?kind=bidder">[^<]*</a></td><td class="num">2</td>', r.text)
    assert re.search(r'href="/admin/organisations\?kind=agency">[^<]*</a></td><td class="num">1</td>', r.text)
