"""Every word on a page is for people (issue 16): the demo county (demo/county.py, the seeded world `make run`
shows) rendered as every role, in Chinese and in English, every page its links reach, with no raw rule code,
audit tag, enum value, message key or subject, no English sentence on a Chinese page and no Chinese on an
English one (user-entered text excepted: tests/factories/page_words.py says how).

The crawl starts from each role's landing pages and follows every same-site GET link breadth-first. Pages
of one route pattern (their ids and query values collapsed) are rendered up to PER_PATTERN times: the same
template with other rows says the same words, and the walk stays bounded.

The first tests check the checker: each detector fires on a bad sample and keeps quiet on a good one."""

from __future__ import annotations

import re
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import pytest
from litestar.testing import TestClient
from sqlalchemy import JSON, String, Text, select

from cli.database import upgrade_database
from core import i18n, tasks
from core.db import Base, make_engine, make_sessionmaker, transaction
from core.settings import Settings
from core.signing import signing_key
from storage import open_store
from tender.models import Tender
from tests.factories.page_words import NO_USER_TEXTS, UserTexts, findings, page_lang, segments
from web.app import create_app

# ------------------------------------------------------------------------------------------ the checker


def _page(body: str, lang: str = "zh-CN") -> str:
    return f'<!doctype html><html lang="{lang}"><head><title>t</title></head><body>{body}</body></html>'


def _kinds(html: str, user: UserTexts = NO_USER_TEXTS) -> list[str]:
    return [f.kind for f in findings(html, user)]


def test_visible_text_skips_scripts_styles_and_machine_attributes() -> None:
    html = _page(
        '<script>var a = "auth.login.succeeded";</script><style>.x_y{}</style>'
        '<a href="/tenders/13?status=sealed_not_sealed" class="tender_link" data-tag="tender.bid.refused">'
        '投标</a><input type="hidden" name="lot_id" value="lot_id">'
        '<img alt="招标公告" src="a_b.png"><span title="开标记录">记录</span>'
        '<input placeholder="参考编号" name="ref_no"><button type="submit" value="提交">提交</button>'
    )
    texts = [s.text for s in segments(html)]
    assert texts == ["t", "投标", "招标公告", "开标记录", "记录", "参考编号", "提交"]
    assert findings(html) == []


def test_each_code_detector_fires_on_a_raw_code() -> None:
    assert _kinds(_page("<p>截止时间须晚于发布（R22）</p>")) == ["rule code"]
    assert _kinds(_page("<p>评标委员会（P35）、（GR50）</p>")) == ["rule code", "rule code"]
    assert _kinds(_page("<td>auth.login.succeeded</td>")) == ["audit tag"]
    assert _kinds(_page("<td>tender.bid.refused</td>")) == ["audit tag"]
    assert _kinds(_page("<td>原因：sealed_not_sealed</td>")) == ["enum value"]
    assert _kinds(_page("<td>对象 tender:13</td>")) == ["message key"]
    assert _kinds(_page("<td>status:bidding_closed</td>")) == ["message key"]


def test_language_detectors_fire_on_the_other_language() -> None:
    assert _kinds(_page("<p>Evaluation committee: please confirm by 5 May</p>")) == [
        "English on a Chinese page"
    ]
    assert _kinds(_page("<p>The tender was suspended</p>", lang="en")) == []
    assert _kinds(_page("<p>流标原因：投标人不足三家</p>", lang="en")) == ["Chinese on an English page"]
    assert _kinds(_page("<p>Opening record 开标记录</p>", lang="en")) == ["Chinese on an English page"]


def test_what_is_not_a_problem() -> None:
    # the product's reference to a rule, names in Latin letters, file and host names, times, hashes in <code>
    good = _page(
        '<p>《招标投标法》第二十四条 <a href="/rules#R22">见规则</a> PDF 下载，OCDS 1.1.5，RFC 9162</p>'
        "<p>文件 report.pdf，时间 10:30，E1 与 E2 为扣分系数</p>"
        "<code>etender audit verify-bundle procedure_file.zip</code>"
        '<a href="/lang/en" lang="en">English</a>'
    )
    assert findings(good) == []
    assert _kinds(_page('<p>Tender <span lang="zh-CN">某某县教育局</span> opened</p>', lang="en")) == []


def test_glosses_and_lists_of_names() -> None:
    # a term of the other language in brackets explains the words beside it
    assert _kinds(_page("<p>Avoidance (回避) looks back 3 years</p>", lang="en")) == []
    assert _kinds(_page("<th>姓名 (Name)</th><td>从业年限 (Years in the field)</td>")) == []
    assert _kinds(_page("<p>开标记录（Opening record）</p>")) == []
    assert _kinds(_page("<li>姓名 (Name)</li>", lang="en")) == []
    # but not a bracket of the page's own words around the other language
    assert _kinds(_page("<p>Direct choice (优化营商环境条例 art. 43)</p>", lang="en")) == [
        "Chinese on an English page"
    ]
    # names of a list are each the data's
    user = UserTexts(["某某市宏远建设工程有限公司", "某某清源环境服务有限公司"])
    assert (
        _kinds(
            _page("<p>Valid bids: 某某市宏远建设工程有限公司、某某清源环境服务有限公司</p>", lang="en"), user
        )
        == []
    )
    assert _kinds(_page("<p>Valid bids: 某某市宏远建设工程有限公司、无效投标</p>", lang="en"), user) == [
        "Chinese on an English page"
    ]


def test_user_entered_text_is_excepted() -> None:
    # marked in the page
    assert (
        _kinds(_page("<p>Title: <span data-user>某某县第一中学 sealed_not_sealed</span></p>", lang="en"))
        == []
    )
    # or known as the world's data: a Chinese title on an English page, an English title on a Chinese one
    user = UserTexts(["某某县第一中学教学楼改造", "Supply of laboratory glassware"])
    assert _kinds(_page("<td>Tender: 某某县第一中学教学楼改造</td>", lang="en"), user) == []
    assert _kinds(_page("<td>项目：Supply of laboratory glassware</td>"), user) == []
    # a code in the data is the data's, with its neighbours: the same code in the product's words is not
    user_codes = UserTexts(["交货期须符合R22的规定"])
    assert _kinds(_page("<td>交货期须符合R22的规定</td>"), user_codes) == []
    assert _kinds(_page("<td>将依法重新招标（R22）</td>"), user_codes) == ["rule code"]
    # but the data excuses only itself
    assert _kinds(_page("<td>Tender: 某某县第一中学教学楼改造 已开标</td>", lang="en"), user) == [
        "Chinese on an English page"
    ]


# ------------------------------------------------------------------------------------------ the seeded world

PER_PATTERN = 3
LANGS = ("zh", "en")
# One person per role; centre1 and monitor1 also hold keys for the demo's openings (demo/county.py), so the
# key holder's pages are walked with them.
ROLES: dict[str, tuple[str, str] | None] = {
    "anonymous": None,
    "admin": ("admin", "Demo-2026-admin"),
    "centre (key holder)": ("centre1", "Demo-2026-centre"),
    "agency": ("agency1", "Demo-2026-agency"),
    "purchaser": ("purchaser1", "Demo-2026-purchaser"),
    "bidder": ("bidder1", "Demo-2026-bidder"),
    "monitor (key holder)": ("monitor1", "Demo-2026-monitor"),
    "expert": ("expert6", "Demo-2026-expert"),
    "intermediary": ("zhongjie1", "Demo-2026-market"),
    "project owner": ("yezhu1", "Demo-2026-market"),
}
# Links that are not pages to read: the language switch (it would change the walk's language) and files.
SKIP = re.compile(r"^/(?:lang/|static/)|\.(?:pdf|zip|json|csv|xlsx|docx?|etkey)$|/(?:download|export)(?:/|$)")
# Pages everyone may read, anonymous visitors too: the notice, its opening (its public state before the
# record, issue 16), the results.
PUBLIC = re.compile(r"/tenders/\d+(?:/opening)?|/rules|/audit")
IDENTIFIER = re.compile(r"[a-z0-9_.:/-]*")


@dataclass
class World:
    client: TestClient[Any]
    user: UserTexts
    failed_openings: list[str]  # the failed tenders' opening pages, where every walk starts too


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _user_texts(session: Any) -> Iterator[str]:
    """Every text the world holds in its tables' text and JSON columns (a tender's scoring factors are JSON),
    but for the product's own: identifiers (enum values, tags, keys) and messages stored as keys (a
    catalogue's msgid, a %(param)s template)."""
    msgids = set(i18n.catalogue("zh"))
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON):
                continue
            for stored in session.scalars(select(column).distinct()):
                for value in _strings(stored):
                    if (
                        value.strip()
                        and not IDENTIFIER.fullmatch(value)
                        and "%(" not in value
                        and value not in msgids
                    ):
                        yield value


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The demo county on its own SQLite database (the demo's words do not depend on the backend), served
    by the app through Litestar's test client."""
    from demo import county as demo

    data: Path = tmp_path_factory.mktemp("page_words")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'words.db'}",
        blob_dir=data / "blobs",
        secret_key=uuid.uuid4().hex,
        scheduler_interval=0,
        demo=False,
    )
    upgrade_database(settings.database_url)
    tasks.configure(settings)  # the demo's bids queue their decryption, as the app's would
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        demo.load(
            session, open_store(settings), data / "demo-keys", signing_key(settings.data_dir, settings.origin)
        )
    with factory() as session:
        user = UserTexts(_user_texts(session))
        failed = [
            f"/tenders/{t}/opening"
            for t in session.scalars(select(Tender.id).where(Tender.status == "failed"))
        ]
    assert failed, "the demo has no failed tender"
    with TestClient(app=create_app(settings)) as client:
        yield World(client, user, failed)
    engine.dispose()


def _pattern(url: str) -> str:
    """The route a URL renders: numbers and long tokens as {id}, query values dropped."""
    parts = urlsplit(url)
    path = "/".join(
        "{id}" if re.fullmatch(r"\d+|[0-9a-f]{16,}|[A-Z]{2,}-[\w-]+", p) else p for p in parts.path.split("/")
    )
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(keys) if keys else "")


def _links(html: str, base: str) -> Iterator[str]:
    for href in re.findall(r"<a\b[^>]*\bhref=\"([^\"]+)\"", html):
        href = href.replace("&amp;", "&")
        url, _ = urldefrag(urljoin(base, href))
        parts = urlsplit(url)
        if parts.scheme in {"", "http"} and parts.netloc in {"", "testserver.local"} and parts.path:
            local = parts.path + ("?" + parts.query if parts.query else "")
            if not SKIP.search(parts.path):
                yield local


def _login(client: TestClient[Any], username: str, password: str) -> str:
    client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": client.cookies.get("etender_csrf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, f"{username} could not log in: {r.status_code}"
    return r.headers["location"]


@dataclass
class Walk:
    pages: int = 0
    per_role: Counter[str] = field(default_factory=Counter)
    shown: dict[str, set[str]] = field(default_factory=dict)  # role -> the pages' paths it read
    problems: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)


def _walk(world: World, role: str, lang: str, walk: Walk) -> None:
    client = world.client
    client.cookies.clear()
    account = ROLES[role]
    start = ["/", *world.failed_openings]
    if account is not None:
        start.insert(0, _login(client, *account))
    client.cookies.set("lang", lang)
    seen: set[str] = set()
    per_pattern: Counter[str] = Counter()
    queue = deque(start)
    while queue:
        url = queue.popleft()
        pattern = _pattern(url)
        if url in seen or per_pattern[pattern] >= PER_PATTERN:
            continue
        seen.add(url)
        per_pattern[pattern] += 1
        r = client.get(url)
        if r.status_code >= 500:
            walk.broken.append(f"{role} [{lang}] {url}: HTTP {r.status_code}")
            continue
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        if PUBLIC.fullmatch(urlsplit(url).path) and urlsplit(str(r.url)).path == "/login":
            walk.broken.append(f"{role} [{lang}] {url}: sent to log in, but the page is public")
        html = r.text
        walk.pages += 1
        walk.per_role[role] += 1
        walk.shown.setdefault(role, set()).add(urlsplit(str(r.url)).path)
        assert page_lang(html) == lang, f"{url} as {role} is not in {lang}"
        for f in findings(html, world.user):
            walk.problems.append(f"{role} [{lang}] {url}: {f}")
        for link in _links(html, str(r.url)):
            if link not in seen:
                queue.append(link)


def test_every_page_of_the_demo_speaks_to_people(world: World, record_property: Any) -> None:
    walk = Walk()
    for role in ROLES:
        for lang in LANGS:
            _walk(world, role, lang, walk)
    summary = (
        f"page words: {walk.pages} pages rendered, {len(ROLES)} roles, {len(LANGS)} languages, "
        f"problems found: {len(walk.problems)}"
    )
    print("\n" + summary + "\n" + ", ".join(f"{r}: {n}" for r, n in walk.per_role.items()))
    for key, value in (("pages", walk.pages), ("roles", len(ROLES)), ("languages", len(LANGS))):
        record_property(key, value)
    record_property("problems", len(walk.problems))
    # every role reached pages of its own beyond the public ones
    assert all(walk.per_role[r] > 4 for r in ROLES), walk.per_role
    # an anonymous visitor reads the openings (the failed tender's among them: its public state, issue 16)
    assert set(world.failed_openings) <= walk.shown["anonymous"], sorted(walk.shown["anonymous"])
    assert walk.broken == walk.problems == [], "\n".join([summary, *walk.broken, *sorted(set(walk.problems))])
