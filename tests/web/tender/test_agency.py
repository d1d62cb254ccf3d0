"""The agency portal: the tender form, the workspace, publication, clarifications, questions, objections."""

import re
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from accounts.models import actor_for
from core import clock
from tender import deadlines, keyholders, listings, objections, participation, questions
from tender.models import Tender
from tests.support import settings_with
from tests.web.support import login
from web.app import create_app

PDF = b"%PDF-1.4\n" + b"x" * 4000 + b"\n%%EOF\n"


@pytest.fixture
def world(make, db):
    agency = make.org("agency", name="某某招标代理有限公司")
    other_agency = make.org("agency", name="另一招标代理有限公司")
    purchaser = make.org("purchaser", name="某某县交通运输局")
    supervisor = make.org("supervisor", name="某某县发展和改革局")
    bidder_org = make.org("bidder", name="某某建设工程有限公司")
    w = {
        "agent": make.user(agency, "agency", username="agent"),
        "agent2": make.user(agency, "agency", username="agent2"),
        "other": make.user(other_agency, "agency", username="other"),
        "monitor": make.user(supervisor, "monitor", username="monitor"),
        "bidder": make.user(bidder_org, "bidder", username="bidder"),
    }
    # Plain values for the forms: touching an expired ORM object would open a write transaction in the
    # test's session and lock the app out of SQLite.
    w["ids"] = {"purchaser": purchaser.id, "agent2": w["agent2"].id, "monitor": w["monitor"].id}
    w["names"] = {"monitor": w["monitor"].full_name, "bidder": w["bidder"].full_name}
    w["db"] = db
    db.commit()
    return w


def cst(delta: timedelta) -> str:
    return clock.to_cst(clock.now() + delta).strftime("%Y-%m-%dT%H:%M")


def tender_form(token: str, world, **changes) -> dict:
    form = {
        "_csrf_token": token,
        "action": "save",
        "title": "城区道路改造工程",
        "purchaser_id": str(world["ids"]["purchaser"]),
        "category": "works",
        "state_funded": "1",
        "region": "某某县",
        "description": "道路与排水改造",
        "contact_name": "王工",
        "contact_phone": "0315-1234567",
        "lots.0.name": "一标段",
        "lots.0.estimated_price": "1000000.00",
        "lots.0.price_ceiling": "1234567.89",
        "lots.0.bid_security": "20000",
        "lots.0.description": "",
        "lots.1.name": "",
        "lots.2.name": "",
        "evaluation_method": "comprehensive",
        "criteria.qualification": "营业执照\n市政公用工程施工总承包三级",
        "criteria.compliance": "投标有效期90日",
        "criteria.factors.0.name": "施工组织设计",
        "criteria.factors.0.points": "40",
        "criteria.factors.0.kind": "subjective",
        "criteria.price.points": "60",
        "doc_issue_start": cst(timedelta(minutes=5)),
        "doc_issue_end": cst(timedelta(days=8)),
        "question_deadline": "",
        "bid_deadline": cst(timedelta(days=25)),
        "opening_place": "开标一室",
        "key_holder_ids": [str(world["ids"]["agent2"]), str(world["ids"]["monitor"])],
        "key_threshold": "2",
        "opening_policy": "quorum",
    }
    form.update(changes)
    return form


def create_draft(client, token, world, **changes) -> int:
    r = client.post("/agency/tenders/new", data=tender_form(token, world, **changes), follow_redirects=False)
    assert r.status_code == 303, r.text
    m = re.fullmatch(r"/agency/tenders/(\d+)", r.headers["location"])
    assert m
    # issue 3: publication needs the key holders' registered public keys (they register them on /keys)
    db = world["db"]
    keyholders.generate_keys_for(db, db.get(Tender, int(m.group(1))))
    db.commit()
    return int(m.group(1))


def upload(client, token, tender_id, *files):
    return client.post(
        f"/agency/tenders/{tender_id}/documents",
        data={"_csrf_token": token},
        files=[("document", f) for f in files],
    )


def published_tender(client, token, world) -> int:
    tid = create_draft(client, token, world)
    assert upload(client, token, tid, ("招标文件.pdf", PDF, "application/pdf")).status_code == 200
    r = client.post(
        f"/agency/tenders/{tid}/publish",
        data={"_csrf_token": token, "confirmed": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return tid


def load(db, tid) -> Tender:
    """The tender as stored now, detached, without keeping a transaction open (SQLite would lock the app
    out)."""
    db.expire_all()
    tender = db.scalars(select(Tender).where(Tender.id == tid)).one()
    for obj in [tender, *tender.lots, *tender.documents, *tender.clarifications]:
        if obj in db:
            db.expunge(obj)
    db.rollback()
    return tender


def test_create_a_draft_through_the_form(client, world, db):
    token = login(client, "agent")
    r = client.get("/agency/tenders/new")
    assert r.status_code == 200
    assert 'id="f-lots.2.price_ceiling"' in r.text  # at least 3 lot rows
    assert "某某县交通运输局" in r.text and world["names"]["monitor"] in r.text
    tid = create_draft(client, token, world)
    tender = load(db, tid)
    assert tender.status == "draft" and tender.title == "城区道路改造工程"
    assert [(lot.name, lot.price_ceiling) for lot in tender.lots] == [("一标段", 123456789)]
    assert tender.criteria["factors"] == [{"name": "施工组织设计", "points": 40, "kind": "subjective"}]
    assert tender.criteria["compliance"] == ["投标有效期90日"]
    assert sorted(tender.key_holder_ids) == sorted([world["ids"]["agent2"], world["ids"]["monitor"]])
    page = client.get(f"/agency/tenders/{tid}").text
    assert "发布前须完成" in page or "Before you can publish" in page
    assert "[L24]" not in page  # 25 days is enough
    listing = client.get("/agency")
    assert listing.status_code == 200 and "城区道路改造工程" in listing.text
    # The edit form shows the saved values again.
    edit = client.get(f"/agency/tenders/{tid}/edit").text
    assert 'value="1234567.89"' in edit and 'value="施工组织设计"' in edit


def test_refused_form_keeps_every_value_and_names_the_problem(client, world, db):
    token = login(client, "agent")
    deadline = cst(timedelta(days=30))
    r = client.post(
        "/agency/tenders/new",
        data=tender_form(
            token,
            world,
            **{
                "lots.0.price_ceiling": "1,2O0,000",
                "lots.0.estimated_price": "987654.32",
                "bid_deadline": deadline,
                "criteria.factors.0.points": "forty",
            },
        ),
    )
    assert r.status_code == 422
    assert 'value="城区道路改造工程"' in r.text
    assert 'value="987654.32"' in r.text and 'value="1,2O0,000"' in r.text
    assert f'value="{deadline}"' in r.text
    assert 'value="forty"' in r.text and "投标有效期90日" in r.text
    assert 'href="#f-lots.0.price_ceiling"' in r.text
    assert 'href="#f-criteria.factors.0.points"' in r.text
    assert (
        "第1标段(包)" in r.text or "1200000.00" in r.text
    )  # the message, in Chinese, with an example amount
    assert db.scalar(select(Tender.id)) is None


def test_service_refusal_also_keeps_values(client, world, db):
    token = login(client, "agent")
    r = client.post(
        "/agency/tenders/new", data=tender_form(token, world, purchaser_id="999999", title="保留的标题")
    )
    assert r.status_code == 422
    assert "请选择本项目的招标人" in r.text and 'value="保留的标题"' in r.text


def test_key_holders_of_one_organisation_are_flagged_on_the_form(client, world, db):
    """The custody rules (policy): the agency's own officers alone, with k = 1, are refused at the key holder
    and threshold fields, in Chinese, saying what to change; everything typed stays."""
    token = login(client, "agent")
    r = client.post(
        "/agency/tenders/new",
        data=tender_form(
            token,
            world,
            key_holder_ids=[str(world["ids"]["agent2"])],
            key_threshold="1",
            title="只有代理机构持有密钥",
        ),
    )
    assert r.status_code == 422
    assert 'href="#f-key_holder_ids"' in r.text and 'href="#f-key_threshold"' in r.text
    assert "请至少指定一名其他单位的密钥持有人，例如交易中心工作人员或监督人员" in r.text
    assert "任何一人都不能单独开启投标文件" in r.text
    assert 'value="只有代理机构持有密钥"' in r.text
    assert (
        f'value="{world["ids"]["agent2"]}" checked' in r.text
        and 'name="key_threshold" type="number" value="1"' in r.text
    )
    assert db.scalar(select(Tender.id)) is None
    # the form names each candidate's organisation, so the agency can see whom to add
    assert "某某县发展和改革局" in client.get("/agency/tenders/new").text


def test_add_a_lot_keeps_everything(client, world, db):
    token = login(client, "agent")
    r = client.post("/agency/tenders/new", data=tender_form(token, world, action="add_lot", lot_rows="3"))
    assert r.status_code == 200
    assert 'id="f-lots.3.name"' in r.text  # a fourth row
    assert 'value="1234567.89"' in r.text and 'value="城区道路改造工程"' in r.text
    assert db.scalar(select(Tender.id)) is None  # nothing saved


def test_documents_upload_and_refusals(client, world, db, settings):
    token = login(client, "agent")
    tid = create_draft(client, token, world)
    r = upload(
        client,
        token,
        tid,
        ("招标文件.pdf", PDF, "application/pdf"),
        ("工程量清单.pdf", PDF + b"2", "application/pdf"),
    )
    assert r.status_code == 200
    assert "招标文件.pdf" in r.text and "工程量清单.pdf" in r.text
    r = upload(client, token, tid, ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/octet-stream"))
    assert r.status_code == 422
    assert "setup.exe" in r.text and "不支持该文件类型" in r.text
    assert len(load(db, tid).documents) == 2
    # Removal while draft.
    doc_id = load(db, tid).documents[0].id
    r = client.post(
        f"/agency/tenders/{tid}/documents/{doc_id}/delete",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert [d.filename for d in load(db, tid).documents] == ["工程量清单.pdf"]


def test_oversized_document_is_refused_naming_the_file(settings, world, db):
    with TestClient(app=create_app(settings_with(settings, max_document_bytes=2048))) as small:
        token = login(small, "agent")
        tid = create_draft(small, token, world)
        r = upload(small, token, tid, ("大文件.pdf", PDF, "application/pdf"))
        assert r.status_code == 422
        assert "大文件.pdf" in r.text and "请拆分或压缩后上传" in r.text
        assert load(db, tid).documents == []


def test_publish_refused_with_the_rule_then_accepted_after_fixing(client, world, db):
    token = login(client, "agent")
    tid = create_draft(client, token, world, bid_deadline=cst(timedelta(days=10)))
    upload(client, token, tid, ("招标文件.pdf", PDF, "application/pdf"))
    r = client.post(f"/agency/tenders/{tid}/publish", data={"_csrf_token": token})
    assert r.status_code == 422
    assert "[L24]" in r.text and "不得少于20日" in r.text
    assert load(db, tid).status == "draft"
    r = client.post(
        f"/agency/tenders/{tid}/edit",
        data=tender_form(token, world, bid_deadline=cst(timedelta(days=25))),
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        f"/agency/tenders/{tid}/publish",
        data={"_csrf_token": token, "confirmed": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert load(db, tid).status == "published"
    page = client.get(f"/agency/tenders/{tid}").text
    assert "发布前须完成" not in page
    # After publication the draft form is closed.
    assert client.post(f"/agency/tenders/{tid}/edit", data=tender_form(token, world)).status_code == 409


def test_no_registration_counts_before_the_deadline(client, world, db):
    token = login(client, "agent")
    tid = published_tender(client, token, world)
    bidder = actor_for(world["bidder"], "203.0.113.9")
    tender = load(db, tid)
    participation.register(db, bidder, tid, tender.lots[0].id, "李四", "13800000000")
    db.commit()
    page = client.get(f"/agency/tenders/{tid}").text
    assert "某某建设工程有限公司" not in page and "李四" not in page
    assert "E21" in page
    clock.shift(timedelta(days=26))
    db.expire_all()
    deadlines.close_due_tenders(db)
    db.commit()
    page = client.get(f"/agency/tenders/{tid}").text
    assert "某某建设工程有限公司" in page and "李四" in page


def test_clarification_extends_the_deadline_when_fewer_than_15_days_remain(client, world, db):
    token = login(client, "agent")
    tid = published_tender(client, token, world)
    before = load(db, tid).bid_deadline
    clock.shift(timedelta(days=15))  # 10 days remain
    page = client.get(f"/agency/tenders/{tid}").text
    assert "R21" in page
    r = client.post(
        f"/agency/tenders/{tid}/clarifications",
        data={"_csrf_token": token, "title": "第1号澄清", "body": "工期改为180日历天。", "affects_bids": "1"},
        files=[("files", ("澄清文件.pdf", PDF, "application/pdf"))],
    )
    assert r.status_code == 200, r.text
    after = load(db, tid).bid_deadline
    assert after == before + timedelta(days=5)
    assert clock.to_cst(after).strftime("%Y-%m-%d %H:%M") in r.text
    assert "第1号澄清" in r.text and "澄清文件.pdf" in r.text
    # A clarification without a body is refused and keeps the title.
    r = client.post(
        f"/agency/tenders/{tid}/clarifications",
        data={"_csrf_token": token, "title": "第2号澄清", "body": ""},
        files=[],
    )
    assert r.status_code == 422
    assert 'value="第2号澄清"' in r.text and 'href="#f-clar-body"' in r.text


def test_answer_a_question_without_showing_who_asked(client, world, db):
    token = login(client, "agent")
    tid = published_tender(client, token, world)
    q = questions.ask_question(db, actor_for(world["bidder"], "203.0.113.9"), tid, "是否接受联合体投标？")
    db.commit()
    page = client.get(f"/agency/tenders/{tid}").text
    assert (
        "是否接受联合体投标？" in page
        and "某某建设工程有限公司" not in page
        and world["names"]["bidder"] not in page
    )
    r = client.post(
        f"/agency/tenders/{tid}/questions/{q.id}/answer", data={"_csrf_token": token, "answer": ""}
    )
    assert r.status_code == 422 and f'href="#f-answer-q{q.id}"' in r.text
    r = client.post(
        f"/agency/tenders/{tid}/questions/{q.id}/answer",
        data={"_csrf_token": token, "answer": "不接受联合体投标。"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.expire_all()
    assert (
        listings.questions_for(db, actor_for(world["bidder"]), load(db, tid))[0].answer
        == "不接受联合体投标。"
    )


def test_overdue_objection_is_highlighted_and_answered(client, world, db):
    token = login(client, "agent")
    tid = published_tender(client, token, world)
    obj = objections.raise_objection(
        db, actor_for(world["bidder"], "203.0.113.9"), tid, "资格条件排斥潜在投标人。"
    )
    db.commit()
    assert "已逾期" not in client.get(f"/agency/tenders/{tid}").text
    clock.shift(timedelta(days=5))
    page = client.get(f"/agency/tenders/{tid}").text
    assert "资格条件排斥潜在投标人。" in page and "已逾期" in page
    r = client.post(
        f"/agency/tenders/{tid}/objections/{obj.id}/answer",
        data={"_csrf_token": token, "answer": "已修改资格条件。"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert load(db, tid).status == "published"  # resumed (R22)


def test_cancel_needs_confirmation_and_a_reason(client, world, db):
    token = login(client, "agent")
    tid = published_tender(client, token, world)
    r = client.post(f"/agency/tenders/{tid}/cancel", data={"_csrf_token": token, "reason": "项目取消"})
    assert r.status_code == 422 and "项目取消" in r.text
    r = client.post(
        f"/agency/tenders/{tid}/cancel", data={"_csrf_token": token, "reason": " ", "confirm": "1"}
    )
    assert r.status_code == 422
    r = client.post(
        f"/agency/tenders/{tid}/cancel",
        data={"_csrf_token": token, "reason": "项目取消", "confirm": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    tender = load(db, tid)
    assert tender.status == "cancelled" and tender.cancel_reason == "项目取消"


def _every_url(tid: int) -> tuple[list[str], list[tuple[str, dict]]]:
    gets = [f"/agency/tenders/{tid}", f"/agency/tenders/{tid}/edit"]
    posts = [
        (f"/agency/tenders/{tid}/edit", {}),
        (f"/agency/tenders/{tid}/publish", {}),
        (f"/agency/tenders/{tid}/documents/1/delete", {}),
        (f"/agency/tenders/{tid}/clarifications", {"title": "x", "body": "y"}),
        (f"/agency/tenders/{tid}/questions/1/answer", {"answer": "x"}),
        (f"/agency/tenders/{tid}/objections/1/answer", {"answer": "x"}),
        (f"/agency/tenders/{tid}/cancel", {"reason": "x", "confirm": "1"}),
        (f"/agency/tenders/{tid}/documents", {}),
    ]
    return gets, posts


def test_another_agency_cannot_touch_the_tender(client, world, db):
    token = login(client, "agent")
    draft = create_draft(client, token, world, title="草稿项目")
    published = published_tender(client, token, world)
    token = login(client, "other")
    for tid in (draft, published):
        gets, posts = _every_url(tid)
        for url in gets:
            assert client.get(url).status_code in (403, 404), url
        for url, data in posts:
            if url.endswith("/documents"):
                r = upload(client, token, tid, ("x.pdf", PDF, "application/pdf"))
            else:
                r = client.post(url, data={"_csrf_token": token, **data})
            assert r.status_code in (403, 404), (url, r.status_code)
    assert client.get(f"/agency/tenders/{draft}").status_code == 404  # drafts are not even acknowledged
    assert "草稿项目" not in client.get("/agency").text
    tender = load(db, published)
    assert tender.status == "published" and tender.clarifications == [] and len(tender.documents) == 1


def test_a_bidder_gets_403_on_the_agency_portal(client, world):
    login(client, "bidder")
    assert client.get("/agency").status_code == 403
    assert client.get("/agency/tenders/new").status_code == 403


def test_anonymous_visitor_is_sent_to_login(client, world):
    r = client.get("/agency", follow_redirects=False)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]


def test_publishing_asks_first_and_says_what_follows(client, world, db):
    """Issue 16: publishing starts the legal clock. The first post answers with the confirmation page (the
    draft stays a draft, a reload only asks again); the confirmed post publishes."""
    from tests.web.support import zh

    token = login(client, "agent")
    tid = create_draft(client, token, world)
    upload(client, token, tid, ("招标文件.pdf", PDF, "application/pdf"))
    for _ in range(2):
        asked = client.post(
            f"/agency/tenders/{tid}/publish", data={"_csrf_token": token}, follow_redirects=False
        )
        assert asked.status_code == 200 and zh("Publish the tender notice?") in asked.text
        assert zh(
            "The legal time limits start: the issue period, the time for objections and the bid deadline."
        ) in (asked.text)
        assert 'name="confirmed" value="1"' in asked.text and load(db, tid).status == "draft"
    done = client.post(
        f"/agency/tenders/{tid}/publish",
        data={"_csrf_token": token, "confirmed": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and load(db, tid).status == "published"
