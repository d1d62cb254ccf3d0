"""The public site: notice list (search, filters, paging, no per-row queries), notice page, downloads, and
the confidentiality of who downloaded or registered before the deadline (E21)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from litestar.testing import TestClient
from sqlalchemy import event, func, select

from core import clock
from tender import clarifications, participation, questions, rules, supervision
from tender.drafting import FileInput
from tender.models import Download, Tender
from tests.factories.notices import CRITERIA, MAX, PDF, bulk_tenders
from tests.web.support import clients

# ---------------------------------------------------------------- arranging


def refs(html: str) -> list[str]:
    return re.findall(r'<td class="ref">([^<]+)</td>', html)


# ---------------------------------------------------------------- the notice list


def test_empty_list_says_so(client, world):
    r = client.get("/")
    assert r.status_code == 200
    assert "尚未发布招标公告" in r.text


def test_list_shows_published_notices_with_their_facts(client, world):
    t = world.tender()
    r = client.get("/")
    assert r.status_code == 200
    assert t.reference in r.text
    assert f'href="/tenders/{t.id}"' in r.text
    assert "县第一中学教学楼改扩建工程" in r.text
    assert "工程" in r.text and "城关镇" in r.text
    assert '<span class="badge published">' in r.text
    assert clock.to_cst(t.bid_deadline).strftime("%Y-%m-%d %H:%M") in r.text
    assert re.search(r"剩余\s*\d+\s*天", r.text)


def test_drafts_are_not_listed(client, world):
    world.tender(publish=False, title="尚未发布的草稿项目")
    r = client.get("/")
    assert "尚未发布的草稿项目" not in r.text


def test_search_by_title_and_by_reference(client, world):
    bulk_tenders(world.db, world, 12)
    r = client.get("/", params={"q": "项目007"})
    assert refs(r.text) == ["ET-TEST-00007"]
    r = client.get("/", params={"q": "et-test-0001"})  # case-insensitive, part of the reference
    assert sorted(refs(r.text)) == ["ET-TEST-00010", "ET-TEST-00011"]
    r = client.get("/", params={"q": "没有这个项目"})
    assert refs(r.text) == []
    assert "没有符合条件的公告" in r.text


def test_filters_by_category_region_and_status(client, world):
    bulk_tenders(world.db, world, 12)
    cancelled = world.tender(title="已终止的项目")
    supervision.cancel(world.db, world.actor(world.agency), cancelled.id, "预算调整")
    world.db.commit()

    goods = refs(client.get("/", params={"category": "goods"}).text)
    assert goods and all(int(r[-5:]) % 3 == 1 for r in goods)
    dev = refs(client.get("/", params={"region": "开发区"}).text)
    assert dev and all(int(r[-5:]) % 2 == 1 for r in dev)
    both = refs(client.get("/", params={"region": "开发区", "category": "works"}).text)
    assert both == [r for r in dev if int(r[-5:]) % 3 == 0]

    open_now = refs(client.get("/", params={"status": "open"}).text)
    assert cancelled.reference not in open_now and len(open_now) == 12
    assert refs(client.get("/", params={"status": "cancelled"}).text) == [cancelled.reference]
    assert cancelled.reference in refs(client.get("/").text)
    # Regions offered are those of public notices.
    html = client.get("/").text
    assert '<option value="开发区"' in html and '<option value="城关镇"' in html


def test_pagination_keeps_filters_in_links(client, world):
    bulk_tenders(world.db, world, 45)
    first = client.get("/")
    assert len(refs(first.text)) == 20
    assert refs(first.text)[0] == "ET-TEST-00000"  # newest first
    assert "第 1 / 3 页" in first.text
    third = client.get("/", params={"page": "3"})
    assert len(refs(third.text)) == 5
    filtered = client.get("/", params={"region": "城关镇", "page": "2"})
    assert len(refs(filtered.text)) == 3  # 23 in 城关镇
    assert "region=%E5%9F%8E%E5%85%B3%E9%95%87" in filtered.text  # the filter survives in the pager links
    assert "page=2" not in re.findall(r'href="([^"]*)" rel="prev"', filtered.text)[0]


def test_bad_page_parameters_fall_back_instead_of_failing(client, world):
    bulk_tenders(world.db, world, 3)
    assert len(refs(client.get("/", params={"page": "abc"}).text)) == 3
    assert len(refs(client.get("/", params={"page": "-4", "category": "food", "status": "draft"}).text)) == 3
    past = client.get("/", params={"page": "9"})
    assert past.status_code == 200 and "没有第 9 页" in past.text


def test_list_runs_a_fixed_number_of_queries_whatever_the_rows(app, world):
    """No per-row queries: the statement count does not grow with the rows shown."""
    counted: list[str] = []

    def count(conn, cursor, statement, *args):
        counted.append(statement)

    engine = app.state.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with TestClient(app=app) as c:
            bulk_tenders(world.db, world, 2)
            c.get("/")
            few = len(counted)
            counted.clear()
            more = [
                Tender(
                    reference=f"ET-MORE-{i}",
                    title=f"更多{i}",
                    purchaser_id=world.purchaser_org.id,
                    agency_id=world.agency_org.id,
                    created_by=world.agency.id,
                    category="goods",
                    status="published",
                    published_at=clock.now(),
                    bid_deadline=clock.now() + timedelta(days=25),
                )
                for i in range(30)
            ]
            world.db.add_all(more)
            world.db.commit()
            r = c.get("/")
            assert len(refs(r.text)) == 20
            assert len(counted) == few
            assert few <= 6
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_english_list(client, world):
    world.tender()
    client.cookies.set("lang", "en")
    r = client.get("/")
    assert "Tender notices" in r.text and "Bid deadline" in r.text and "Works" in r.text
    assert "days left" in r.text


# ---------------------------------------------------------------- the notice page


def test_notice_page_shows_everything_the_law_publishes(client, world):
    t = world.tender()
    r = client.get(f"/tenders/{t.id}")
    assert r.status_code == 200
    html = r.text
    for text in (
        "华信招标代理有限公司",
        "县第一中学",
        "土建工程",
        "安装工程",
        "1,100,000.00",
        "20,000.00",
        "最高投标限价",
        "综合评估法",
        "营业执照",
        "投标有效期90天",
        "技术方案",
        "售后服务承诺",
        "主观分",
        "客观分",
        "县公共资源交易中心开标一室",
        "招标文件.pdf",
        "王工",
    ):
        assert text in html, text
    assert re.search(r"技术方案</td>\s*<td>主观分</td>\s*<td class=\"num\">45</td>", html)
    assert re.search(r"价格</td><td>客观分</td><td class=\"num\">40</td>", html)
    objection = rules.objection_deadline(t.bid_deadline)
    assert clock.to_cst(objection).strftime("%Y-%m-%d %H:%M") in html
    assert clock.to_cst(t.bid_deadline).strftime("%Y-%m-%d %H:%M") in html
    assert f'href="/documents/{t.documents[0].id}"' in html


def test_average_benchmark_shows_e1_and_e2(client, world):
    criteria = {**CRITERIA, "benchmark": {"e1": 0.8, "e2": 0.4}}
    t = world.tender(evaluation_method="average_benchmark", criteria=criteria)
    html = client.get(f"/tenders/{t.id}").text
    assert "平均值基准价法" in html
    assert "每偏离1%扣 0.8 分" in html and "每偏离1%扣 0.4 分" in html


def test_clarifications_questions_and_deadline_extension(client, world):
    t = world.tender()
    q_answered = questions.ask_question(world.db, world.actor(world.bidder), t.id, "工期是否可以调整？")
    questions.ask_question(world.db, world.actor(world.other_bidder), t.id, "未回复的问题")
    questions.answer_question(world.db, world.actor(world.agency), q_answered.id, "工期不得调整。")
    world.db.commit()
    clock.shift(
        timedelta(days=20)
    )  # 10 days before the deadline: a clarification affecting bids moves it (R21)
    clarifications.clarify(
        world.db,
        world.actor(world.agency),
        world.blobs,
        t.id,
        "关于工程量清单的修改<script>x</script>",
        "第3章工程量清单修改如下。",
        True,
        [FileInput("修改后的工程量清单.pdf", [PDF])],
        MAX,
    )
    world.db.commit()
    html = client.get(f"/tenders/{t.id}").text
    assert 'id="clarification-1"' in html
    assert (
        "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    )  # escaped, also inside _()
    assert "关于工程量清单的修改" in html and "修改后的工程量清单.pdf" in html
    world.db.refresh(t)
    assert clock.to_cst(t.bid_deadline).strftime("%Y-%m-%d %H:%M") in html
    assert clock.to_cst(t.original_bid_deadline).strftime("%Y-%m-%d %H:%M") in html
    assert "延至" in html
    assert "工期是否可以调整？" in html and "工期不得调整。" in html
    assert "未回复的问题" not in html
    assert "宏达建设集团有限公司" not in html and "hongda" not in html  # never the asker


def test_suspended_and_cancelled_banners(client, world):
    t = world.tender()
    supervision.suspend(world.db, world.actor(world.monitor), t.id, "接到投诉，暂停调查")
    world.db.commit()
    html = client.get(f"/tenders/{t.id}").text
    assert "本项目已暂停" in html and "E52" in html
    other = world.tender(title="另一个项目")
    supervision.cancel(world.db, world.actor(world.agency), other.id, "项目预算取消，终止招标。")
    world.db.commit()
    html = client.get(f"/tenders/{other.id}").text
    assert "本项目已终止" in html and "项目预算取消，终止招标。" in html


def test_drafts_are_404_except_to_their_agency_and_purchaser(app, world):
    t = world.tender(publish=False, title="保密的草稿")
    with clients(app, None, "agent2", "hongda", "agent", "school") as cs:
        for name in (None, "agent2", "hongda"):
            r = cs[name].get(f"/tenders/{t.id}")
            assert r.status_code == 404, name
            assert "保密的草稿" not in r.text
        for name in ("agent", "school"):
            r = cs[name].get(f"/tenders/{t.id}")
            assert r.status_code == 200, name
            assert "保密的草稿" in r.text and "草稿" in r.text


def test_unknown_notice_is_404(client, world):
    assert client.get("/tenders/999999").status_code == 404


def test_bidder_sees_its_own_participation_and_a_link_to_register(app, world):
    t = world.tender()
    lot = t.lots[0]
    participation.register(world.db, world.actor(world.bidder), t.id, lot.id)
    world.db.commit()
    with clients(app, "hongda", "yuanjing", None) as cs:
        cs["hongda"].get(f"/documents/{t.documents[0].id}")
        html = cs["hongda"].get(f"/tenders/{t.id}").text
        assert 'id="mine-h"' in html and "贵单位" in html
        assert "第1标段" in html and "土建工程" in html
        assert re.search(
            r"招标文件\.pdf <span class=\"muted\">\(\d{4}-", html
        )  # its own download, with the time
        assert f'href="/bidder/tenders/{t.id}"' in html
        other = cs["yuanjing"].get(f"/tenders/{t.id}").text
        assert "贵单位尚未报名" in other
        assert f'href="/bidder/tenders/{t.id}"' in other
        anonymous = cs[None].get(f"/tenders/{t.id}").text
        assert 'id="mine-h"' not in anonymous
        assert "报名和投标请使用贵单位的投标人账号登录" in anonymous


def test_english_notice_page(client, world):
    t = world.tender()
    client.cookies.set("lang", "en")
    html = client.get(f"/tenders/{t.id}").text
    for text in (
        "Purchaser",
        "Tendering agency",
        "Price ceiling (yuan)",
        "Comprehensive scoring",
        "Deadline for objections",
        "Subjective",
    ):
        assert text in html, text


# ---------------------------------------------------------------- downloads


def test_anonymous_download_streams_the_file_and_is_recorded(client, world):
    t = world.tender()
    doc = t.documents[0]
    r = client.get(f"/documents/{doc.id}", headers={"x-forwarded-for": "203.0.113.9"})
    assert r.status_code == 200
    assert r.content == PDF
    assert r.headers["content-type"].startswith("application/pdf")
    assert r.headers["content-length"] == str(len(PDF))
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("招标文件.pdf") in disposition
    assert 'filename="document-' in disposition  # an ASCII fallback for old clients
    world.db.expire_all()
    rows = world.db.scalars(select(Download).where(Download.document_id == doc.id)).all()
    assert len(rows) == 1 and rows[0].user_id is None and rows[0].organisation_id is None


def test_logged_in_download_records_the_company(app, world):
    t = world.tender()
    with clients(app, "hongda") as cs:
        assert cs["hongda"].get(f"/documents/{t.documents[0].id}").status_code == 200
    world.db.expire_all()
    assert world.db.scalar(select(Download.organisation_id)) == world.bidder_org.id


def test_draft_document_is_not_served_to_the_public(client, world):
    t = world.tender(publish=False)
    r = client.get(f"/documents/{t.documents[0].id}")
    assert r.status_code == 404
    assert r.content != PDF
    world.db.expire_all()
    assert world.db.scalar(select(func.count()).select_from(Download)) == 0


def test_missing_document_is_404(client, world):
    assert client.get("/documents/424242").status_code == 404


def test_download_after_the_issue_period_is_refused_with_a_reason(client, world):
    t = world.tender()
    clock.shift(timedelta(days=10))
    r = client.get(f"/documents/{t.documents[0].id}")
    assert r.status_code == 409
    assert "发售" in r.text or "获取" in r.text


def test_the_notice_says_when_its_documents_can_be_downloaded(client, world):
    """Issue 16: a document link says when it can be used and why not, rather than failing as a download."""
    t = world.tender()
    link = f'href="/documents/{t.documents[0].id}"'
    end = clock.to_cst(t.doc_issue_end).strftime("%Y-%m-%d")
    during = client.get(f"/tenders/{t.id}").text
    assert link in during and f"{end} 前无需报名或登录即可下载" in during
    assert " download>" not in during  # a refusal shows as a page, not as a failed file
    clock.shift(timedelta(days=10))
    after = client.get(f"/tenders/{t.id}").text
    assert f"招标文件发售期已于 {end} 结束" in after
    clock.shift(timedelta(days=-10) - (clock.now() - t.doc_issue_start) - timedelta(hours=1))
    before = client.get(f"/tenders/{t.id}").text
    assert link not in before and "届时无需报名或登录即可下载" in before
    r = client.get(f"/documents/{t.documents[0].id}")
    assert r.status_code == 409 and "起发售" in r.text


# ------------------------------------------------------------- E21: who downloaded or registered stays secret


def _normalise(html: str) -> str:
    return re.sub(r'name="_csrf_token" value="[^"]*"', "", html)


def test_nobody_learns_who_downloaded_or_registered_before_the_deadline(app, world):
    t = world.tender()
    viewers = (None, "yuanjing", "agent", "school", "watcher", "agent2")
    with clients(app, *viewers, "hongda") as cs:
        before_pages = {v: _normalise(cs[v].get(f"/tenders/{t.id}").text) for v in viewers}
        before_api = {v: cs[v].get(f"/api/v1/notices/{t.id}").json() for v in viewers}
        before_list = {v: cs[v].get("/api/v1/notices").json() for v in viewers}

        participation.register(
            world.db, world.actor(world.bidder), t.id, t.lots[0].id, "李经理", "13800000000"
        )
        world.db.commit()
        for doc in t.documents:
            assert cs["hongda"].get(f"/documents/{doc.id}").status_code == 200

        for v in viewers:
            page = cs[v].get(f"/tenders/{t.id}").text
            for secret in ("宏达建设集团有限公司", "hongda", "李经理", "13800000000"):
                assert secret not in page, (v, secret)
            assert _normalise(page) == before_pages[v], v  # not even a count changes
            api = cs[v].get(f"/api/v1/notices/{t.id}")
            assert api.json() == before_api[v], v
            assert "宏达" not in api.text
            assert cs[v].get("/api/v1/notices").json() == before_list[v], v


def test_region_filter_lists_regions_of_public_notices_only(world):
    from tender import notices

    bulk_tenders(world.db, world, 4)
    world.tender(publish=False, region="草稿镇")
    world.tender(region="")
    world.db.commit()
    assert notices.public_regions(world.db) == ["城关镇", "开发区"]
