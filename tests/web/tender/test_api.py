"""The JSON twin of the public site: /api/v1/notices and /api/v1/notices/{id}, their OpenAPI description,
and JSON errors with stable codes for bad parameters."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core import clock
from tender import clarifications, questions, rules, supervision
from tender.drafting import FileInput
from tests.factories.notices import MAX, PDF, bulk_tenders
from tests.web.support import clients

# The same fixtures as the page tests (tests/web/conftest.py, tests/web/tender/conftest.py): people, the app
# and a client.


def _utc(value: str) -> datetime:
    assert value.endswith("Z") or value.endswith("+00:00"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_list_shape_and_values(client, world):
    t = world.tender()
    r = client.get("/api/v1/notices")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert (body["total"], body["page"], body["page_size"], body["pages"]) == (1, 1, 20, 1)
    item = body["items"][0]
    assert item["id"] == t.id and item["reference"] == t.reference and item["title"] == t.title
    assert (item["category"], item["region"], item["status"]) == ("works", "城关镇", "published")
    assert _utc(item["bid_deadline"]) == t.bid_deadline
    assert _utc(item["published_at"]) == t.published_at
    assert item["url"] == f"/tenders/{t.id}"
    assert [
        (lot["number"], lot["name"], lot["price_ceiling_fen"], lot["bid_security_fen"])
        for lot in item["lots"]
    ] == [
        (1, "土建工程", 110_000_000, 2_000_000),
        (2, "安装工程", 33_000_000, 600_000),
    ]


def test_list_filters_search_and_paging_match_the_page(client, world):
    bulk_tenders(world.db, world, 45)
    world.tender(publish=False, title="草稿不公开")
    body = client.get("/api/v1/notices", params={"page": 2, "page_size": 10}).json()
    assert (body["total"], body["page"], body["page_size"], body["pages"]) == (45, 2, 10, 5)
    assert [i["reference"] for i in body["items"]] == [f"ET-TEST-{n:05d}" for n in range(10, 20)]
    assert all(len(i["lots"]) == 1 for i in body["items"])
    goods = client.get("/api/v1/notices", params={"category": "goods", "region": "开发区"}).json()
    assert goods["total"] == len([n for n in range(45) if n % 3 == 1 and n % 2 == 1])
    assert {(i["category"], i["region"]) for i in goods["items"]} == {("goods", "开发区")}
    assert client.get("/api/v1/notices", params={"q": "ET-TEST-00044"}).json()["total"] == 1
    assert client.get("/api/v1/notices", params={"q": "草稿"}).json()["total"] == 0
    assert client.get("/api/v1/notices", params={"status": "open"}).json()["total"] == 45
    assert client.get("/api/v1/notices", params={"status": "awarded"}).json()["total"] == 0
    empty = client.get("/api/v1/notices", params={"page": 99}).json()
    assert empty["items"] == [] and empty["total"] == 45


@pytest.mark.parametrize(
    ("params", "code", "name"),
    [
        ({"page": "abc"}, "page_invalid", "page"),
        ({"page": "0"}, "page_invalid", "page"),
        ({"page_size": "1000"}, "page_size_invalid", "page_size"),
        ({"category": "food"}, "category_invalid", "category"),
        ({"status": "draft"}, "status_invalid", "status"),
        ({"q": "x" * 300}, "q_invalid", "q"),
    ],
)
def test_bad_parameters_are_json_errors_naming_the_parameter(client, world, params, code, name):
    r = client.get("/api/v1/notices", params=params)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    error = r.json()["error"]
    assert error["code"] == code
    assert name in error["message"]
    assert error["problems"][0]["field"] == name
    client.cookies.set("lang", "en")
    english = client.get("/api/v1/notices", params=params).json()["error"]
    assert english["code"] == code and f"parameter {name} " in english["message"]


def test_detail_has_the_same_content_as_the_page(client, world):
    criteria = {
        "qualification": ["营业执照"],
        "compliance": ["投标有效期90天"],
        "price": {"points": 50},
        "factors": [{"name": "施工组织设计", "points": 50, "kind": "subjective"}],
        "benchmark": {"e1": 1, "e2": 0.5},
    }
    t = world.tender(evaluation_method="average_benchmark", criteria=criteria)
    q = questions.ask_question(world.db, world.actor(world.bidder), t.id, "是否接受联合体投标？")
    questions.answer_question(world.db, world.actor(world.agency), q.id, "不接受联合体投标。")
    world.db.commit()
    clock.shift(timedelta(days=20))
    clarifications.clarify(
        world.db,
        world.actor(world.agency),
        world.blobs,
        t.id,
        "补充图纸",
        "补充第5册图纸。",
        True,
        [FileInput("补充图纸.pdf", [PDF])],
        MAX,
    )
    world.db.commit()
    world.db.refresh(t)
    first_document = t.documents[0].id
    world.db.commit()

    d = client.get(f"/api/v1/notices/{t.id}").json()
    assert (d["id"], d["reference"], d["status"], d["suspended_by"], d["cancel_reason"]) == (
        t.id,
        t.reference,
        "published",
        None,
        None,
    )
    assert (d["purchaser"], d["agency"]) == ("县第一中学", "华信招标代理有限公司")
    assert [lot["price_ceiling_fen"] for lot in d["lots"]] == [110_000_000, 33_000_000]
    c = d["criteria"]
    assert c["evaluation_method"] == "average_benchmark"
    assert (c["qualification"], c["compliance"]) == (["营业执照"], ["投标有效期90天"])
    assert c["factors"] == [{"name": "施工组织设计", "points": 50, "kind": "subjective", "description": ""}]
    assert (c["price_points"], c["benchmark_e1"], c["benchmark_e2"], c["total_points"]) == (50, 1, 0.5, 100)
    tl = d["timeline"]
    assert _utc(tl["bid_deadline"]) == t.bid_deadline == _utc(tl["opening_time"])
    assert _utc(tl["original_bid_deadline"]) == t.original_bid_deadline < t.bid_deadline
    assert _utc(tl["objection_deadline"]) == rules.objection_deadline(t.bid_deadline)
    assert tl["opening_place"] == "县公共资源交易中心开标一室"
    assert [(doc["filename"], doc["url"]) for doc in d["documents"]] == [
        ("招标文件.pdf", f"/documents/{first_document}")
    ]
    (clar,) = d["clarifications"]
    assert (clar["number"], clar["title"], clar["affects_bids"]) == (1, "补充图纸", True)
    assert (
        _utc(clar["deadline_after"]) == t.bid_deadline
        and _utc(clar["deadline_before"]) == t.original_bid_deadline
    )
    assert [f["filename"] for f in clar["files"]] == ["补充图纸.pdf"]
    assert client.get(clar["files"][0]["url"]).content == PDF
    assert d["questions"] == [
        {
            "question": "是否接受联合体投标？",
            "answer": "不接受联合体投标。",
            "answered_at": d["questions"][0]["answered_at"],
        }
    ]
    assert "宏达" not in str(d) and "hongda" not in str(d)


def test_detail_of_suspended_and_cancelled_notices(client, world):
    t = world.tender()
    supervision.suspend(world.db, world.actor(world.monitor), t.id, "调查投诉")
    world.db.commit()
    d = client.get(f"/api/v1/notices/{t.id}").json()
    assert (d["status"], d["suspended_by"]) == ("suspended", "monitor")
    u = world.tender(title="终止项目")
    supervision.cancel(world.db, world.actor(world.agency), u.id, "需求变更")
    world.db.commit()
    d = client.get(f"/api/v1/notices/{u.id}").json()
    assert (d["status"], d["cancel_reason"]) == ("cancelled", "需求变更")


def test_draft_detail_is_404_json_except_to_its_agency(app, world):
    t = world.tender(publish=False)
    with clients(app, None, "agent2", "agent") as cs:
        for name in (None, "agent2"):
            r = cs[name].get(f"/api/v1/notices/{t.id}")
            assert r.status_code == 404
            assert r.json()["error"]["code"] == "tender_not_found"
        assert cs["agent"].get(f"/api/v1/notices/{t.id}").json()["status"] == "draft"
    assert app is not None


def test_unknown_notice_is_404_json(client, world):
    r = client.get("/api/v1/notices/424242")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "tender_not_found"


def test_openapi_documents_the_notices_api(client):
    doc = client.get("/schema/openapi.json").json()
    listing = doc["paths"]["/api/v1/notices"]["get"]
    assert listing["tags"] == ["Notices"] and listing["summary"] == "List tender notices"
    names = {p["name"]: p for p in listing["parameters"]}
    assert set(names) >= {"q", "category", "region", "status", "page", "page_size"}
    assert "400" in listing["responses"]
    detail = doc["paths"]["/api/v1/notices/{tender_id}"]["get"]
    assert detail["summary"] == "Get a tender notice" and "404" in detail["responses"]
    schemas = doc["components"]["schemas"]
    page_schema = next(v for k, v in schemas.items() if k.endswith("NoticePage"))
    assert set(page_schema["properties"]) == {"items", "total", "page", "page_size", "pages"}
    assert not any(path in doc["paths"] for path in ("/", "/tenders/{tender_id}", "/documents/{document_id}"))
