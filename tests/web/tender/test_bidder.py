"""The bidder portal: my tenders, registration per lot, questions and objections from the bidder's side."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from tender import drafting, keyholders, listings, questions, rules
from tender.drafting import FileInput, LotInput, TenderInput
from tender.lifecycle import Status
from tender.models import Registration, Tender
from tests.web.support import login, zh

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def published_tender(db, make, settings, *, lots: int = 2, days: int = 30) -> tuple[Tender, object]:
    """A published tender (deadline `days` ahead) and its agency actor."""
    agency_org, purchaser = (
        make.org("agency", name="某某招标代理有限公司"),
        make.org("purchaser", name="某某县人民医院"),
    )
    agency = make.actor(make.user(agency_org, "agency"))
    centre = make.user(make.org("trading_centre", name="某某县公共资源交易中心"), "centre")
    now = clock.now()
    data = TenderInput(
        title="某某县人民医院医疗设备采购",
        purchaser_id=purchaser.id,
        category="goods",
        evaluation_method="lowest_price",
        criteria={"qualification": ["有效的营业执照"]},
        lots=[
            LotInput(
                name=f"标段{i}",
                estimated_price=100_000_000,
                price_ceiling=120_000_000,
                bid_security=1_000_000,
            )
            for i in range(1, lots + 1)
        ],
        doc_issue_start=now,
        doc_issue_end=now + timedelta(days=10),
        bid_deadline=now + timedelta(days=days),
        key_holder_ids=[agency.user_id, centre.id],  # the custody rules: two organisations, k = 2
        key_threshold=2,
        contact_name="李明",
        contact_phone="0571-88886666",
    )
    from storage import open_store

    tender = drafting.create_tender(db, agency, data)
    drafting.add_document(
        db,
        agency,
        open_store(settings),
        tender.id,
        FileInput("招标文件.pdf", [PDF]),
        settings.max_document_bytes,
    )
    keyholders.generate_keys_for(db, tender)  # publication needs the holders' keys (issue 3)
    drafting.publish(db, agency, tender.id)
    db.commit()
    return tender, agency


@pytest.fixture
def bidders(make, db):
    a = make.user(make.org("bidder", name="甲建设有限公司"), "bidder", username="bidder_a")
    b = make.user(make.org("bidder", name="乙建设有限公司"), "bidder", username="bidder_b")
    db.commit()
    return a, b


def test_register_for_a_lot_shows_it_in_my_tenders(client, db, make, settings, bidders):
    tender, _ = published_tender(db, make, settings)
    lot = tender.lots[0]
    token = login(client, "bidder_a")
    r = client.get(f"/bidder/tenders/{tender.id}")
    assert r.status_code == 200
    assert (
        zh(
            "Only your company sees that it registered (E21). Nobody else learns who registered, or how "
            "many did, before the bid deadline."
        )
        in r.text
    )
    r = client.post(
        f"/bidder/tenders/{tender.id}/register",
        data={
            "_csrf_token": token,
            "lot_id": str(lot.id),
            "contact_name": "张伟",
            "contact_phone": "13800138000",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    regs = db.scalars(select(Registration).where(Registration.tender_id == tender.id)).all()
    assert [(r.lot_id, r.contact_name, r.contact_phone) for r in regs] == [(lot.id, "张伟", "13800138000")]
    r = client.get("/bidder")
    assert r.status_code == 200
    assert tender.title in r.text and zh("Lot %(n)s", n=1) in r.text and zh("Lot %(n)s", n=2) not in r.text
    page = client.get(f"/bidder/tenders/{tender.id}").text
    assert "13800138000" in page
    assert zh("Register for lot %(n)s", n=1) not in page and zh("Register for lot %(n)s", n=2) in page


def test_second_registration_for_the_same_lot_is_refused_keeping_what_was_typed(
    client, db, make, settings, bidders
):
    tender, _ = published_tender(db, make, settings)
    lot = tender.lots[0]
    token = login(client, "bidder_a")
    form = {
        "_csrf_token": token,
        "lot_id": str(lot.id),
        "contact_name": "张伟",
        "contact_phone": "13800138000",
    }
    assert (
        client.post(f"/bidder/tenders/{tender.id}/register", data=form, follow_redirects=False).status_code
        == 303
    )
    r = client.post(
        f"/bidder/tenders/{tender.id}/register",
        data={**form, "contact_name": "王芳", "contact_phone": "13900139000"},
    )
    assert r.status_code == 409
    assert zh("Your company is already registered for lot %(number)s.", number=1) in r.text
    assert 'value="王芳"' in r.text and 'value="13900139000"' in r.text
    assert db.scalar(select(Registration.contact_name).where(Registration.lot_id == lot.id)) == "张伟"
    assert len(db.scalars(select(Registration)).all()) == 1


def test_registration_after_the_deadline_is_refused(client, db, make, settings, bidders):
    tender, _ = published_tender(db, make, settings)
    token = login(client, "bidder_a")
    clock.shift(timedelta(days=31))
    r = client.post(
        f"/bidder/tenders/{tender.id}/register",
        data={
            "_csrf_token": token,
            "lot_id": str(tender.lots[1].id),
            "contact_name": "张伟",
            "contact_phone": "13800138000",
        },
    )
    assert r.status_code == 409
    assert zh("The bid deadline has passed.") in r.text
    assert 'value="张伟"' in r.text
    assert db.scalars(select(Registration)).all() == []


def test_my_question_is_seen_by_me_but_not_by_other_bidders_until_answered(
    client, db, make, settings, bidders
):
    tender, agency = published_tender(db, make, settings)
    token = login(client, "bidder_a")
    question = "第二标段的交货期能否延长至60天？"
    r = client.post(
        f"/bidder/tenders/{tender.id}/questions",
        data={"_csrf_token": token, "text": question},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert question in client.get(f"/bidder/tenders/{tender.id}").text
    login(client, "bidder_b")
    assert question not in client.get(f"/bidder/tenders/{tender.id}").text
    [q] = listings.questions_for(db, agency, db.get(Tender, tender.id))
    questions.answer_question(db, agency, q.id, "可以，交货期调整为60天。")
    db.commit()
    page = client.get(f"/bidder/tenders/{tender.id}").text
    assert question in page and "可以，交货期调整为60天。" in page
    assert "甲建设有限公司" not in page


def test_empty_question_is_refused_with_a_field_error(client, db, make, settings, bidders):
    tender, _ = published_tender(db, make, settings)
    token = login(client, "bidder_a")
    r = client.post(f"/bidder/tenders/{tender.id}/questions", data={"_csrf_token": token, "text": "   "})
    assert r.status_code == 422
    assert 'id="f-text"' in r.text and "field-error" in r.text


def test_objection_within_the_r22_window_pauses_the_tender(client, db, make, settings, bidders):
    tender, _ = published_tender(db, make, settings)
    token = login(client, "bidder_a")
    page = client.get(f"/bidder/tenders/{tender.id}").text
    assert "R22" in page
    r = client.post(
        f"/bidder/tenders/{tender.id}/objections",
        data={"_csrf_token": token, "text": "技术参数指向特定品牌。"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Tender, tender.id).status == Status.suspended
    # end this session's transaction: on SQLite it holds the write lock the app's next login needs
    db.commit()
    page = client.get(f"/bidder/tenders/{tender.id}").text
    assert "技术参数指向特定品牌。" in page
    login(client, "bidder_b")
    assert "技术参数指向特定品牌。" not in client.get(f"/bidder/tenders/{tender.id}").text


def test_objection_after_the_r22_window_is_refused_keeping_the_text(client, db, make, settings, bidders):
    tender, _ = published_tender(db, make, settings)
    token = login(client, "bidder_a")
    clock.shift(timedelta(days=25))
    r = client.post(
        f"/bidder/tenders/{tender.id}/objections", data={"_csrf_token": token, "text": "评分标准不合理。"}
    )
    assert r.status_code == 409
    last = clock.to_cst(rules.objection_deadline(tender.bid_deadline)).strftime("%Y-%m-%d %H:%M")
    expected = (
        "Objections to the tender documents must be raised at least 10 days before the bid deadline "
        "(R22); the last moment was %(last)s."
    )
    assert zh(expected, last=last) in r.text
    assert "评分标准不合理。" in r.text
    db.expire_all()
    assert db.get(Tender, tender.id).status == Status.published


def test_non_bidders_get_403_and_anonymous_visitors_are_sent_to_login(client, db, make, settings, bidders):
    tender, _ = published_tender(db, make, settings)
    make.user(make.org("supervisor"), "monitor", username="watcher")
    db.commit()
    r = client.get("/bidder", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")
    r = client.get(f"/bidder/tenders/{tender.id}", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")
    token = login(client, "watcher")
    assert client.get("/bidder").status_code == 403
    assert client.get(f"/bidder/tenders/{tender.id}").status_code == 403
    r = client.post(
        f"/bidder/tenders/{tender.id}/register", data={"_csrf_token": token, "lot_id": str(tender.lots[0].id)}
    )
    assert r.status_code == 403
    assert db.scalars(select(Registration)).all() == []
