"""Demo data: a county public resource trading centre with its agencies, purchasers, bidders, supervisors,
an expert pool and tenders in several states.

Everything after the first administrator goes through the services (accounts.services, tender's),
so the audit log records every change exactly as it would record a person's. Credit codes, names and
phone numbers come from a fixed random seed: the demo is the same on every installation."""

from __future__ import annotations

import hashlib
import io
import json
import random
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import services as accounts
from accounts.events import AccountTag
from accounts.models import Organisation, User, actor_for
from accounts.passwords import hash_password, strength_problems
from accounts.services import OrgInput, UserInput
from audit import record
from core import clock, credit_code
from core.clock import CST
from core.errors import N_, Conflict
from core.identity import SYSTEM, Actor
from core.signing import SigningKey
from demo import evaluation_room, evaluation_stages, results_award, results_publicity
from demo import marketplace as demo_marketplace
from demo import workbenches as demo_workbenches
from demo.files import TenderFacts, pdf_document, tender_document
from evaluation.pool import catalogue
from evaluation.pool import experts as pool
from evaluation.pool import rules as evaluation_rules
from storage.base import BlobStore
from tender import (
    clarifications,
    deadlines,
    drafting,
    keyfiles,
    keyholders,
    objections,
    participation,
    questions,
    sealing,
    supervision,
)
from tender.bids import submission as bids
from tender.drafting import FileInput, LotInput, TenderInput
from tender.models import Tender

SEED = 2026
IP = "127.0.0.1"
MAX_BYTES = 50 * 1024 * 1024
MAX_BID_BYTES = 2 * 1024**3
COUNTY = "某某县"
OPENING_PLACE = "某某县公共资源交易中心 第一开标室"

# One password per role, documented in docs/demo-accounts.md. Change them before real use. Each must pass the
# strength rule (accounts.passwords.strength_problems), which creating the accounts applies.
PASSWORDS = {
    "admin": "Demo-2026-admin",
    "centre": "Demo-2026-centre",
    "agency": "Demo-2026-agency",
    "purchaser": "Demo-2026-purchaser",
    "bidder": "Demo-2026-bidder",
    "monitor": "Demo-2026-monitor",
    "expert": "Demo-2026-expert",
}


@dataclass(frozen=True)
class OrgSpec:
    key: str
    name: str
    kind: str
    authority: str  # GB 32100-2015: 1 institutional bodies, 9 enterprises (registered with market regulation)
    category: str  # 1 government body / enterprise, 2 public institution
    division: str
    legal_representative: str
    phone: str
    address: str
    region: str = COUNTY


@dataclass(frozen=True)
class AccountSpec:
    username: str
    full_name: str
    role: str
    org: str | None  # OrgSpec.key


ORGS = [
    OrgSpec(
        "centre",
        "某某县公共资源交易中心",
        "trading_centre",
        "1",
        "2",
        "330127",
        "陈志刚",
        "0571-6480 1000",
        "某某县人民大道188号 公共资源交易中心大楼",
    ),
    OrgSpec(
        "agency_a",
        "某某华正招标代理有限公司",
        "agency",
        "9",
        "1",
        "330106",
        "李国华",
        "0571-8703 2211",
        "某某市西湖区文三路 90 号 6 楼",
        "某某市",
    ),
    OrgSpec(
        "agency_b",
        "某某明远工程项目管理有限公司",
        "agency",
        "9",
        "1",
        "330127",
        "赵振东",
        "0571-6482 5566",
        "某某县城南路 36 号",
    ),
    OrgSpec(
        "education",
        "某某县教育局",
        "purchaser",
        "1",
        "1",
        "330127",
        "周建国",
        "0571-6480 2300",
        "某某县文教路 12 号",
    ),
    OrgSpec(
        "hospital",
        "某某县人民医院",
        "purchaser",
        "1",
        "2",
        "330127",
        "郑海涛",
        "0571-6480 3120",
        "某某县健康路 1 号",
    ),
    OrgSpec(
        "housing",
        "某某县住房和城乡建设局",
        "purchaser",
        "1",
        "1",
        "330127",
        "黄立新",
        "0571-6480 4400",
        "某某县人民大道 200 号",
    ),
    OrgSpec(
        "b_hongyuan",
        "某某市宏远建设工程有限公司",
        "bidder",
        "9",
        "1",
        "330105",
        "马永刚",
        "0571-8811 2345",
        "某某市拱墅区湖墅南路 210 号",
        "某某市",
    ),
    OrgSpec(
        "b_huajian",
        "某某市华建市政工程有限公司",
        "bidder",
        "9",
        "1",
        "330110",
        "王卫东",
        "0571-8862 7788",
        "某某市余杭区临平大道 518 号",
        "某某市",
    ),
    OrgSpec(
        "b_jinding",
        "某某金鼎建筑装饰工程有限公司",
        "bidder",
        "9",
        "1",
        "330127",
        "徐德明",
        "0571-6489 0099",
        "某某县工业园区兴业路 8 号",
    ),
    OrgSpec(
        "b_kangtai",
        "某某市康泰医疗器械有限公司",
        "bidder",
        "9",
        "1",
        "330104",
        "孙晓明",
        "0571-8677 4321",
        "某某市上城区秋涛路 66 号",
        "某某市",
    ),
    OrgSpec(
        "b_lvyuan",
        "某某市绿源园林绿化工程有限公司",
        "bidder",
        "9",
        "1",
        "330108",
        "林海燕",
        "0571-8890 1357",
        "某某市滨江区江南大道 3888 号",
        "某某市",
    ),
    OrgSpec(
        "b_bowen",
        "某某市博文教学设备有限公司",
        "bidder",
        "9",
        "1",
        "330102",
        "胡文军",
        "0571-8702 2468",
        "某某市上城区解放路 105 号",
        "某某市",
    ),
    OrgSpec(
        "b_qingyuan",
        "某某清源环境服务有限公司",
        "bidder",
        "9",
        "1",
        "330127",
        "高春燕",
        "0571-6487 3690",
        "某某县环城北路 77 号",
    ),
    OrgSpec(
        "b_zhilian",
        "某某市智联信息技术有限公司",
        "bidder",
        "9",
        "1",
        "330106",
        "郭俊杰",
        "0571-8577 8899",
        "某某市西湖区西斗门路 3 号",
        "某某市",
    ),
    OrgSpec(
        "supervisor",
        "某某县发展和改革局（公共资源交易监督管理办公室）",
        "supervisor",
        "1",
        "1",
        "330127",
        "何建平",
        "0571-6480 5010",
        "某某县人民大道 200 号",
    ),
]

ACCOUNTS = [
    AccountSpec("admin", "周明", "admin", "centre"),
    AccountSpec("centre1", "刘洋", "centre", "centre"),
    AccountSpec("centre2", "孙丽", "centre", "centre"),
    AccountSpec("agency1", "李娜", "agency", "agency_a"),
    AccountSpec("agency2", "王强", "agency", "agency_a"),
    AccountSpec("agency3", "赵敏", "agency", "agency_b"),
    AccountSpec("agency4", "陈刚", "agency", "agency_b"),
    AccountSpec("purchaser1", "吴芳", "purchaser", "education"),
    AccountSpec("purchaser2", "郑伟", "purchaser", "hospital"),
    AccountSpec("purchaser3", "黄磊", "purchaser", "housing"),
    AccountSpec("bidder1", "马超", "bidder", "b_hongyuan"),
    AccountSpec("bidder2", "王磊", "bidder", "b_huajian"),
    AccountSpec("bidder3", "徐静", "bidder", "b_jinding"),
    AccountSpec("bidder4", "孙浩", "bidder", "b_kangtai"),
    AccountSpec("bidder5", "林峰", "bidder", "b_lvyuan"),
    AccountSpec("bidder6", "胡婷", "bidder", "b_bowen"),
    AccountSpec("bidder7", "高飞", "bidder", "b_qingyuan"),
    AccountSpec("bidder8", "郭佳", "bidder", "b_zhilian"),
    AccountSpec("monitor1", "何静", "monitor", "supervisor"),
    AccountSpec("monitor2", "罗军", "monitor", "supervisor"),
]
EXPERT_ACCOUNTS = [
    "expert1",
    "expert2",
    "expert3",
    "expert4",
    "expert5",
]  # the first five experts of the pool

# Each demo field's specialties in the shipped catalogue (evaluation/data/specialties.csv).
SPECIALTIES = {
    "A01": ["A0101", "A0102", "A0103", "A0104", "A0105", "A0106", "A0110"],
    "A02": ["A0201", "A0202", "A0203", "A0206"],
    "A03": ["A0301", "A0302"],
    "A04": ["A0401", "A0402", "A0403"],
    "A05": ["A0501", "A0502"],
    "A06": ["A0107"],  # decoration and fit-out
    "A07": ["A0701", "A0702", "A0703"],
    "B01": ["B0101", "B0102", "B0103"],
    "B02": ["B0201", "B0202", "B0203"],
    "B03": ["B0301", "B0302"],
    "B04": ["B0401", "B0402"],
    "C01": ["C0101"],
    "C02": ["C0201"],
}
# The pool leans towards works, as a county centre's projects do.
EXPERT_PRIMARY = (
    ["A01"] * 8
    + ["A02"] * 6
    + ["A03"] * 2
    + ["A04"] * 4
    + ["A05"] * 3
    + ["A06"] * 3
    + ["A07"] * 3
    + ["B01"] * 4
    + ["B02"] * 3
    + ["B03", "B04", "C01", "C02"]
)
EXPERT_TITLES = {
    "A": ["高级工程师", "正高级工程师", "高级工程师", "教授级高级工程师"],
    "A07": ["高级工程师（注册造价工程师）", "高级经济师"],
    "B01": ["主任医师", "副主任医师", "高级工程师（医学工程）"],
    "B02": ["高级工程师", "教授", "正高级工程师"],
    "B": ["高级工程师", "高级经济师"],
    "C": ["高级经济师", "高级工程师"],
}
EXPERT_EMPLOYERS = {
    "A": [
        ("某某市建筑设计研究院有限公司", "9"),
        ("某某市市政工程设计研究院", "1"),
        ("某某大学建筑工程学院", "1"),
        ("某某市水利水电勘测设计院", "1"),
        ("某某市园林规划设计院", "1"),
        ("某某市建设工程质量安全监督站", "1"),
    ],
    "A07": [("某某正源工程造价咨询有限公司", "9"), ("某某市建设工程造价管理站", "1")],
    "B01": [("某某市第一人民医院", "1"), ("某某市中心医院", "1"), ("某某医科大学附属第二医院", "1")],
    "B02": [("某某大学信息工程学院", "1"), ("某某市大数据发展管理中心", "1")],
    "B": [("某某市机关事务管理局", "1"), ("某某市教育技术装备中心", "1")],
    "C": [("某某市环境卫生管理处", "1"), ("某某市物业管理协会", "1")],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = [
    "建华",
    "志强",
    "海燕",
    "国平",
    "卫东",
    "丽萍",
    "晓明",
    "文军",
    "红梅",
    "建平",
    "永刚",
    "春燕",
    "德明",
    "玉兰",
    "立新",
    "秀英",
    "振华",
    "淑芬",
    "宏伟",
    "桂芳",
    "俊杰",
    "雪梅",
    "光辉",
    "凤英",
    "金龙",
    "慧敏",
    "国强",
    "文静",
    "明华",
    "亚军",
]


def accounts_markdown() -> str:
    """The table of demo accounts as docs/demo-accounts.md shows it."""
    names = {o.key: o.name for o in ORGS}
    rows = [(a.username, a.role, names[a.org] if a.org else "—", PASSWORDS[a.role]) for a in ACCOUNTS]
    rows += [
        (u, "expert", "—（专家库成员 / expert in the pool）", PASSWORDS["expert"]) for u in EXPERT_ACCOUNTS
    ]
    lines = ["| username | role | organisation | password |", "|---|---|---|---|"]
    lines += [f"| `{u}` | {r} | {o} | `{p}` |" for u, r, o, p in rows]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- documents


def docx_document(paragraphs: list[str]) -> bytes:
    """A small valid Word document (Office Open XML), Chinese text included."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' for p in paragraphs)
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/>'
            "</Relationships>"
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>'
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


# ---------------------------------------------------------------- tenders


def _qualification(category: str) -> list[str]:
    common = [
        "具有独立承担民事责任的能力，持有有效的营业执照",
        "近三年内在经营活动中没有重大违法记录，未被列入失信被执行人名单",
    ]
    if category == "works":
        return common + [
            "具备相应专业施工总承包资质及有效的安全生产许可证",
            "拟派项目经理具备相应专业注册建造师执业资格，且无在建工程",
        ]
    if category == "goods":
        return common + ["具有良好的商业信誉和健全的财务会计制度", "有依法缴纳税收和社会保障资金的良好记录"]
    return common + ["具有履行合同所必需的设备和专业技术能力", "有依法缴纳税收和社会保障资金的良好记录"]


def _criteria(method: str, category: str) -> dict[str, Any]:
    qualification = _qualification(category)
    if method == "lowest_price":
        return {"qualification": qualification, "factors": []}
    if method == "average_benchmark":
        return {
            "qualification": qualification,
            "price": {"points": 60},
            "factors": [
                {"name": "施工组织设计", "points": 25, "kind": "subjective"},
                {"name": "项目管理机构", "points": 10, "kind": "objective"},
                {"name": "企业信誉与类似工程业绩", "points": 5, "kind": "objective"},
            ],
            "benchmark": {"e1": 1.0, "e2": 0.5},
        }
    if category == "goods":
        return {
            "qualification": qualification,
            "price": {"points": 30},
            "factors": [
                {"name": "技术参数响应程度", "points": 30, "kind": "objective"},
                {"name": "产品质量与性能", "points": 15, "kind": "subjective"},
                {"name": "供货、安装及培训方案", "points": 10, "kind": "subjective"},
                {"name": "售后服务承诺", "points": 10, "kind": "subjective"},
                {"name": "近三年类似项目业绩", "points": 5, "kind": "objective"},
            ],
        }
    return {
        "qualification": qualification,
        "price": {"points": 20},
        "factors": [
            {"name": "服务方案", "points": 30, "kind": "subjective"},
            {"name": "人员及设备配置", "points": 20, "kind": "objective"},
            {"name": "质量保障与考核措施", "points": 15, "kind": "subjective"},
            {"name": "应急预案", "points": 10, "kind": "subjective"},
            {"name": "近三年类似项目业绩", "points": 5, "kind": "objective"},
        ],
    }


@dataclass
class TenderSpec:
    title: str
    agency_user: str
    purchaser: str
    category: str
    method: str
    lots: list[tuple[str, int, int, int]]  # name, estimate, ceiling, security (yuan)
    description: str
    government_procurement: bool = False
    region: str = COUNTY


TENDERS: dict[str, TenderSpec] = {
    "school": TenderSpec(
        "某某县第一中学教学楼改扩建工程施工",
        "agency1",
        "education",
        "works",
        "average_benchmark",
        [("教学楼改扩建工程施工", 18_200_000, 18_600_000, 360_000)],
        "新建五层教学楼一幢，建筑面积约 8,600 平方米，并对原有教学楼进行加固改造；计划工期 360 日历天。",
    ),
    "hospital_equipment": TenderSpec(
        "某某县人民医院医疗设备采购",
        "agency3",
        "hospital",
        "goods",
        "comprehensive",
        [
            ("第1包：彩色多普勒超声诊断仪", 2_800_000, 2_800_000, 50_000),
            ("第2包：全自动生化分析仪", 1_500_000, 1_500_000, 30_000),
        ],
        "采购彩色多普勒超声诊断仪 2 台、全自动生化分析仪 1 台，含运输、安装、调试、培训及三年质保。",
        True,
    ),
    "greening": TenderSpec(
        "某某县城区道路绿化养护服务",
        "agency2",
        "housing",
        "services",
        "comprehensive",
        [("城区道路绿化养护服务（2026—2027 年度）", 960_000, 960_000, 19_000)],
        "城区主次干道行道树、绿化带及街头绿地约 42 万平方米的日常养护，服务期两年。",
        True,
        "某某县城关镇",
    ),
    "water": TenderSpec(
        "某某县农村饮水安全巩固提升工程",
        "agency4",
        "housing",
        "works",
        "lowest_price",
        [
            ("青山片区供水管网", 3_600_000, 3_700_000, 70_000),
            ("白沙片区水厂改造", 2_400_000, 2_450_000, 45_000),
        ],
        "新建及改造供水管网约 38 公里，改造白沙水厂净水设备一套，惠及 12 个行政村。",
        False,
        "某某县青山镇",
    ),
    "smart_campus": TenderSpec(
        "某某县智慧校园信息化建设项目",
        "agency1",
        "education",
        "goods",
        "comprehensive",
        [("智慧校园平台及教室多媒体设备", 2_350_000, 2_400_000, 45_000)],
        "为全县 18 所中小学建设智慧校园管理平台，配置交互式教学一体机 120 套。",
        True,
    ),
    "garbage": TenderSpec(
        "某某县城乡生活垃圾收运一体化服务",
        "agency3",
        "housing",
        "services",
        "comprehensive",
        [("城乡生活垃圾收集运输服务", 5_600_000, 5_600_000, 100_000)],
        "全县 15 个乡镇生活垃圾的收集、转运及转运站运行管理，服务期三年。",
        True,
    ),
    "desks": TenderSpec(
        "某某县中小学课桌椅采购",
        "agency2",
        "education",
        "goods",
        "comprehensive",
        [("学生课桌椅 6,000 套", 1_080_000, 1_080_000, 20_000)],
        "采购可升降学生课桌椅 6,000 套，含送货及安装。",
        True,
    ),
    "outpatient": TenderSpec(
        "某某县人民医院门诊楼装修改造工程",
        "agency4",
        "hospital",
        "works",
        "average_benchmark",
        [("门诊楼装修改造工程施工", 6_400_000, 6_500_000, 120_000)],
        "门诊楼一至四层室内装修、给排水及电气改造，建筑面积约 9,200 平方米。",
    ),
    "sewer": TenderSpec(
        "某某县城东片区雨污分流改造工程",
        "agency1",
        "housing",
        "works",
        "lowest_price",
        [("城东片区雨污分流改造工程施工", 8_900_000, 9_000_000, 170_000)],
        "改造雨污管网约 21 公里，涉及 9 个住宅小区及周边道路。",
        False,
        "某某县城关镇",
    ),
    "playground": TenderSpec(
        "某某县实验小学运动场改造工程",
        "agency2",
        "education",
        "works",
        "lowest_price",
        [("运动场改造工程施工", 1_250_000, 1_280_000, 25_000)],
        "改造 300 米塑胶跑道运动场一座，含人造草坪足球场及排水系统。",
    ),
    "river": TenderSpec(
        "某某县青溪河综合治理工程（一期）",
        "agency1",
        "housing",
        "works",
        "average_benchmark",
        [("河道整治及堤防加固工程", 12_800_000, 12_500_000, 380_000)],
        "青溪河城区段 6.3 公里河道清淤、堤防加固及滨河步道建设。",
    ),
    "consumables": TenderSpec(
        "某某县人民医院医用耗材配送服务",
        "agency3",
        "hospital",
        "services",
        "comprehensive",
        [("医用耗材集中配送服务", 3_000_000, 3_000_000, 60_000)],
        "医院常用医用耗材的集中采购配送及库存管理服务，服务期一年。",
        True,
    ),
}


def _cst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CST)


@contextmanager
def _days_ago(days: int) -> Iterator[None]:
    """Run part of the demo with the clock moved back, so that a tender can be published in the past."""
    clock.shift(timedelta(days=-days))
    try:
        yield
    finally:
        clock.reset()


class _Loader:
    def __init__(self, session: Session, blobs: BlobStore, signer: SigningKey):
        self.session = session
        self.blobs = blobs
        self.signer = signer
        self.rng = random.Random(SEED)
        self.orgs: dict[str, Organisation] = {}
        self.users: dict[str, User] = {}
        self.tenders: dict[str, Tender] = {}
        self.admin: Actor = SYSTEM
        self.holder_keys: dict[int, X25519PrivateKey] = {}

    def actor(self, username: str) -> Actor:
        return actor_for(self.users[username], IP)

    def phone(self) -> str:
        return "1" + self.rng.choice("3589") + "".join(self.rng.choice("0123456789") for _ in range(9))

    # ------------------------------------------------------------ organisations and accounts

    def code(self, spec: OrgSpec) -> str:
        return credit_code.generate(
            self.rng, authority=spec.authority, kind=spec.category, division=spec.division
        )

    def bootstrap(self) -> None:
        """The trading centre and its administrator: nobody exists yet to create them through the services."""
        spec = ORGS[0]
        code = self.code(spec)
        if self.session.scalar(select(Organisation.id).where(Organisation.credit_code == code)) is not None:
            raise Conflict.one("demo_present", N_("The demo data is already loaded in this database."))
        centre = Organisation(
            credit_code=code,
            name=spec.name,
            kind=spec.kind,
            region=spec.region,
            legal_representative=spec.legal_representative,
            contact_phone=spec.phone,
            address=spec.address,
        )
        self.session.add(centre)
        self.session.flush()
        record(
            self.session,
            AccountTag.org_created,
            actor=SYSTEM,
            subject=f"org:{centre.id}",
            details={
                "credit_code": centre.credit_code,
                "name": centre.name,
                "kind": centre.kind,
                "bootstrap": True,
            },
        )
        first = ACCOUNTS[0]
        # the bootstrap administrator is made without accounts.create_user (nobody could authorise it), so the
        # strength rule create_user applies is applied here
        weak = strength_problems(PASSWORDS[first.role], [first.username, first.full_name, centre.name])
        if weak:
            raise ValueError(f"the demo password of {first.username} is too weak: {[p.code for p in weak]}")
        admin = User(
            username=first.username,
            full_name=first.full_name,
            organisation_id=centre.id,
            roles=[first.role],
            email=f"{first.username}@example.com",
            phone=self.phone(),
            password_hash=hash_password(PASSWORDS[first.role]),
        )
        self.session.add(admin)
        self.session.flush()
        record(
            self.session,
            AccountTag.user_created,
            actor=SYSTEM,
            subject=f"user:{admin.id}",
            details={
                "username": admin.username,
                "roles": admin.roles,
                "organisation": centre.id,
                "bootstrap": True,
            },
        )
        self.orgs[spec.key], self.users[admin.username] = centre, admin
        self.admin = self.actor(admin.username)

    def organisations_and_accounts(self) -> None:
        for spec in ORGS[1:]:
            self.orgs[spec.key] = accounts.create_organisation(
                self.session,
                self.admin,
                OrgInput(
                    credit_code=self.code(spec),
                    name=spec.name,
                    kind=spec.kind,
                    region=spec.region,
                    legal_representative=spec.legal_representative,
                    contact_phone=spec.phone,
                    address=spec.address,
                ),
            )
        for a in ACCOUNTS[1:]:
            self.users[a.username] = accounts.create_user(
                self.session,
                self.admin,
                UserInput(
                    username=a.username,
                    full_name=a.full_name,
                    organisation_id=self.orgs[a.org].id if a.org else None,
                    roles=[a.role],
                    email=f"{a.username}@example.com",
                    phone=self.phone(),
                    password=PASSWORDS[a.role],
                ),
            )

    def experts(self) -> None:
        """The pool, through evaluation.pool like an administrator: the shipped catalogue, employment
        histories, a few declared interests and unavailable days, one suspended and one penalised expert."""
        catalogue.load_catalogue(self.session)
        extra = random.Random(SEED + 5)  # its own sequence, so that the tenders' random data stays as it was
        names: list[str] = []
        while len(names) < len(EXPERT_PRIMARY):
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if name not in names:
                names.append(name)
        experts = []
        for i, (name, primary) in enumerate(zip(names, EXPERT_PRIMARY, strict=True)):
            group = primary if primary in EXPERT_TITLES else primary[0]
            specialties = [extra.choice(SPECIALTIES[primary])]
            if primary[0] == "A" and primary != "A07" and self.rng.random() < 0.4:
                specialties.append(extra.choice(SPECIALTIES["A07"]))
            employer, authority = self.rng.choice(EXPERT_EMPLOYERS[group])
            user_id = None
            if i < len(EXPERT_ACCOUNTS):
                user = accounts.create_user(
                    self.session,
                    self.admin,
                    UserInput(
                        username=EXPERT_ACCOUNTS[i],
                        full_name=name,
                        organisation_id=None,
                        roles=["expert"],
                        email=f"{EXPERT_ACCOUNTS[i]}@example.com",
                        phone=self.phone(),
                        password=PASSWORDS["expert"],
                    ),
                )
                self.users[user.username] = user
                user_id = user.id
            title = self.rng.choice(EXPERT_TITLES[group])
            first17 = (
                "330127"
                + (date(1960, 1, 1) + timedelta(days=extra.randrange(9000))).strftime("%Y%m%d")
                + f"{extra.randrange(1000):03d}"
            )
            expert = pool.create_expert(
                self.session,
                self.admin,
                pool.ExpertInput(
                    name=name,
                    id_number=first17 + evaluation_rules.resident_id_check(first17),
                    title=title,
                    title_level=evaluation_rules.level_of_title(title),
                    years=self.rng.randint(8, 32),
                    specialties=specialties,
                    employer_code=credit_code.generate(
                        self.rng,
                        authority=authority,
                        kind="1" if authority == "9" else "2",
                        division="330100",
                    ),
                    employer_name=employer,
                    region=self.rng.choice(["某某市", "某某市", "某某县", "某某市某某区"]),
                    phone=self.phone(),
                    email=f"expert{i + 1}@example.com",
                    user_id=user_id,
                ),
            )
            experts.append(expert)
        self.expert_histories(experts, extra)

    def expert_histories(self, experts: list[Any], rng: random.Random) -> None:
        today = clock.to_cst(clock.now()).date()
        bidders = [self.orgs[k] for k in ("b_hongyuan", "b_huajian", "b_jinding", "b_lvyuan", "b_zhilian")]
        # Past employers: some at firms that bid in the county, which the draw's 3-year look-back reads (GR9).
        for n, expert in enumerate(experts[:12]):
            past = bidders[n % len(bidders)] if n % 3 == 0 else None
            years_ago = 2 + n % 5
            left = today - timedelta(days=365 * years_ago + rng.randrange(200))
            code = (
                past.credit_code
                if past
                else credit_code.generate(rng, authority="9", kind="1", division="330100")
            )
            name = past.name if past else f"某某市第{n + 1}建筑工程有限公司"
            pool.add_employment(
                self.session,
                self.admin,
                expert.id,
                pool.EmploymentInput(
                    code,
                    name,
                    left - timedelta(days=365 * (3 + n % 6)),
                    left,
                    rng.choice(["技术负责人", "项目经理", "总工程师", "工程师"]),
                ),
            )
        # Declared interests (P12), one by an expert signed in as themself.
        pool.declare_conflict(
            self.session,
            self.actor("expert1"),
            experts[0].id,
            pool.ConflictInput(
                "relative_employer",
                bidders[1].credit_code,
                bidders[1].name,
                today - timedelta(days=800),
                None,
                "配偶在该公司财务部任职",
            ),
        )
        pool.declare_conflict(
            self.session,
            self.admin,
            experts[7].id,
            pool.ConflictInput(
                "shareholding",
                bidders[2].credit_code,
                bidders[2].name,
                today - timedelta(days=1500),
                None,
                "本人持股 3%",
            ),
        )
        pool.declare_conflict(
            self.session,
            self.admin,
            experts[20].id,
            pool.ConflictInput(
                "other_interest",
                self.orgs["b_kangtai"].credit_code,
                self.orgs["b_kangtai"].name,
                None,
                None,
                "曾为该公司提供有偿技术咨询",
            ),
        )
        # Unavailable days ahead (business trips, a course), one declared by the expert.
        pool.add_unavailability(
            self.session,
            self.actor("expert2"),
            experts[1].id,
            today + timedelta(days=20),
            today + timedelta(days=24),
            "外出学习",
        )
        pool.add_unavailability(
            self.session,
            self.admin,
            experts[9].id,
            today + timedelta(days=5),
            today + timedelta(days=6),
            "出差",
        )
        pool.add_unavailability(
            self.session,
            self.admin,
            experts[15].id,
            today + timedelta(days=26),
            today + timedelta(days=40),
            "住院手术",
        )
        # One suspended for a while, one penalised (P12: never drawn while the penalty stands).
        pool.set_status(
            self.session,
            self.admin,
            experts[30].id,
            "suspended",
            today - timedelta(days=10),
            today + timedelta(days=80),
            "连续两次确认参加后无故缺席评标，暂停抽取三个月",
        )
        pool.set_status(
            self.session,
            self.admin,
            experts[33].id,
            "penalised",
            today - timedelta(days=120),
            None,
            "某某县发展和改革局行政处罚决定书（某发改罚〔2026〕3号）：评标中未按招标文件规定的标准评审",
        )

    # ------------------------------------------------------------ tenders

    def tender_input(
        self, spec: TenderSpec, deadline_days: int | None = 25, key_holders: bool = True
    ) -> TenderInput:
        agent = self.users[spec.agency_user]
        today = clock.to_cst(clock.now()).date()
        bid_deadline = (
            _cst(today + timedelta(days=deadline_days), 9, 30) if deadline_days is not None else None
        )
        return TenderInput(
            title=spec.title,
            purchaser_id=self.orgs[spec.purchaser].id,
            category=spec.category,
            evaluation_method=spec.method,
            lots=[LotInput(name, est * 100, ceil * 100, sec * 100) for name, est, ceil, sec in spec.lots],
            description=spec.description,
            government_procurement=spec.government_procurement,
            state_funded=True,
            region=spec.region,
            criteria=_criteria(spec.method, spec.category),
            doc_issue_start=clock.now() if deadline_days is not None else None,
            doc_issue_end=_cst(today + timedelta(days=min(7, max(deadline_days - 1, 0))), 17)
            if deadline_days is not None
            else None,
            bid_deadline=bid_deadline,
            opening_place=OPENING_PLACE,
            key_holder_ids=[agent.id, self.users["monitor1"].id, self.users["centre1"].id]
            if key_holders
            else [],
            key_threshold=2,
            contact_name=agent.full_name,
            contact_phone=agent.phone,
        )

    def documents(self, key: str, tender: Tender, spec: TenderSpec) -> None:
        agent = self.actor(spec.agency_user)

        pdf = tender_document(
            TenderFacts(
                title=spec.title,
                reference=tender.reference,
                purchaser=self.session.get(Organisation, tender.purchaser_id).name,  # type: ignore[union-attr]
                agency=self.session.get(Organisation, tender.agency_id).name,  # type: ignore[union-attr]
                category=tender.category,
                method=tender.evaluation_method,
                description=spec.description,
                lots=tuple(
                    (lot.number, lot.name, lot.estimated_price, lot.price_ceiling, lot.bid_security)
                    for lot in tender.lots
                ),
            )
        )
        drafting.add_document(
            self.session,
            agent,
            self.blobs,
            tender.id,
            FileInput(f"{tender.reference} 招标文件.pdf", [pdf]),
            MAX_BYTES,
        )
        lots = "；".join(
            f"{lot.name}（最高投标限价 {lot.price_ceiling / 100:,.2f} 元）" for lot in tender.lots
        )
        docx = docx_document(
            [
                f"{spec.title}",
                "第五章  技术标准和要求（演示文件）",
                f"项目概况：{spec.description}",
                f"标段(包)：{lots}",
                "投标人应按本章要求逐项响应，未响应的视为偏离。",
                "本文件由演示数据生成，不具有法律效力。",
            ]
        )
        drafting.add_document(
            self.session, agent, self.blobs, tender.id, FileInput("技术标准和要求.docx", [docx]), MAX_BYTES
        )

    def create(
        self, key: str, *, deadline_days: int | None = 25, docs: bool = True, key_holders: bool = True
    ) -> Tender:
        spec = TENDERS[key]
        tender = drafting.create_tender(
            self.session, self.actor(spec.agency_user), self.tender_input(spec, deadline_days, key_holders)
        )
        if docs:
            self.documents(key, tender, spec)
        if (
            key_holders
        ):  # issue 3: each demo key holder has one key pair, its key file under <data_dir>/demo-keys/
            keyholders.generate_keys_for(self.session, tender, self.holder_keys)
        self.tenders[key] = tender
        return tender

    def publish(self, key: str, *, deadline_days: int = 25) -> Tender:
        tender = self.create(key, deadline_days=deadline_days)
        problems = drafting.publication_problems(tender)
        assert not problems, f"demo tender {key} cannot be published: {problems}"
        return drafting.publish(self.session, self.actor(TENDERS[key].agency_user), tender.id)

    def download_all(self, tender: Tender, *bidders: str) -> None:
        for username in bidders:
            for doc in tender.documents:
                participation.download_document(self.session, self.actor(username), doc.id)

    def register(self, tender: Tender, bidder: str, lot_number: int = 1) -> None:
        user = self.users[bidder]
        lot = next(lot for lot in tender.lots if lot.number == lot_number)
        participation.register(
            self.session,
            self.actor(bidder),
            tender.id,
            lot.id,
            contact_name=user.full_name,
            contact_phone=user.phone,
        )

    def ask(self, tender: Tender, bidder: str, text: str, answer: str | None) -> None:
        q = questions.ask_question(self.session, self.actor(bidder), tender.id, text)
        if answer:
            questions.answer_question(
                self.session, self.actor(TENDERS[self._key(tender)].agency_user), q.id, answer
            )

    def bid(self, tender: Tender, bidder: str, price_yuan: int, days: int, lot_number: int = 1) -> None:
        """The bidder seals a bid on its side (the same sealing as `etender bid seal`) and uploads it in parts
        through the submission services, which sign its receipt (E26, E27)."""
        lot = next(lot for lot in tender.lots if lot.number == lot_number)
        org_key = next(a.org for a in ACCOUNTS if a.username == bidder)
        assert org_key is not None, bidder  # every demo bidder belongs to a company
        org = self.orgs[org_key]
        files = []
        for role, name, lines in (
            (
                "qualification",
                "资格证明文件.pdf",
                [
                    f"{org.name}",
                    f"Credit code {org.credit_code}",
                    "Business licence, qualification certificates",
                ],
            ),
            (
                "technical",
                "技术标.pdf",
                [
                    f"Technical proposal for {tender.reference} lot {lot.number}",
                    f"Construction period {days} days",
                ],
            ),
            ("commercial", "商务标.pdf", [f"Commercial proposal, total price CNY {price_yuan:,}"]),
        ):
            content = pdf_document(lines)
            files.append(sealing.BidFile(role, name, "application/pdf", len(content), io.BytesIO(content)))
        price_form = {
            "total_price_fen": price_yuan * 100,
            "duration_days": days,
            "quality_commitment": "合格",
            "bid_security_reference": f"BH-{tender.reference}-{org.credit_code[-6:]}",
        }
        bundle = keyholders.bundle_of(self.session, tender.id)
        assert bundle is not None
        out = io.BytesIO()
        sealing.seal(bundle, lot.id, files, price_form, out)
        data, actor = out.getvalue(), self.actor(bidder)
        bid = bids.begin(
            self.session, actor, self.blobs, tender.id, lot.id, len(data), max_bytes=MAX_BID_BYTES
        )
        step = 64 * 1024
        for number, start in enumerate(range(0, len(data), step), start=1):
            bids.write_part(self.session, actor, self.blobs, bid.id, number, [data[start : start + step]])
        bids.complete(self.session, actor, self.blobs, bid.id, self.signer)

    def demo_draw(self, tender: Tender) -> None:
        """The outpatient building's committee, drawn by the whole protocol (docs/expert-draw.md): its agency
        requests the draw, then THE DEMO LOADER makes the agency's and the monitors' random numbers on their
        behalf, commits both and reveals both. In earnest each party's number is made and kept in its own
        browser (web/static/js/draw-contribution.js); this shortcut exists only to give the demo a drawn
        committee (its experts are asked to confirm) and a draw with both contributions to look at."""
        from accounts.notifications import LogChannel
        from evaluation.committee import draws

        agency = self.actor(TENDERS[self._key(tender)].agency_user)
        monitor = self.actor("monitor1")
        day = (clock.to_cst(clock.now()) + timedelta(days=3)).date()
        data = draws.DrawInput(
            committee_size=5, quotas=[("A01", 3), ("A04", 2)], evaluation_date=day, substitutes=2
        )
        channel = LogChannel()
        draw_row = draws.request_draw(self.session, agency, tender.id, data, channel)
        # the loader's stand-in for two browsers' crypto.getRandomValues, on its own sequence so that the
        # demo's other random data stays as it was
        rng = random.Random(SEED + 12)
        values = {actor.user_id: rng.randbytes(32) for actor in (agency, monitor)}
        for actor in (agency, monitor):
            commitment = hashlib.sha256(values[actor.user_id]).hexdigest()
            draws.commit_contribution(self.session, actor, draw_row.id, commitment)
        for actor in (agency, monitor):
            draws.reveal_contribution(self.session, actor, draw_row.id, values[actor.user_id].hex(), channel)

    def _key(self, tender: Tender) -> str:
        return next(k for k, t in self.tenders.items() if t.id == tender.id)

    def tenders_in_states(self) -> None:
        s, who = self.session, self.actor

        # Bidding closed: published 30 days ago with a deadline 21 days after that (so 9 days ago).
        with _days_ago(30):
            for key, bidders in (
                ("outpatient", ["bidder1", "bidder2", "bidder3"]),
                ("sewer", ["bidder1", "bidder2"]),
            ):
                tender = self.publish(key, deadline_days=21)
                self.download_all(tender, *bidders)
                for b in bidders:
                    self.register(tender, b)
        # The sealed bids went in before the deadline: three for the outpatient building, so its opening
        # awaits the key holders (demo-keys/); only two for the sewer works, so that tender fails at the
        # deadline (R44).
        with _days_ago(12):
            outpatient, sewer = self.tenders["outpatient"], self.tenders["sewer"]
            self.bid(outpatient, "bidder1", 6_318_000, 240)
            self.bid(outpatient, "bidder2", 6_275_500, 220)
            self.bid(outpatient, "bidder3", 6_402_800, 235)
            self.bid(sewer, "bidder1", 8_812_000, 300)
            self.bid(sewer, "bidder2", 8_870_000, 280)
        deadlines.close_due_tenders(s)
        self.demo_draw(outpatient)

        # Published 10 days ago; a clarification today that affects bids extends the deadline so that 15 days
        # remain (R21).
        with _days_ago(10):
            water = self.publish("water", deadline_days=22)
            self.download_all(water, "bidder1", "bidder2")
            self.register(water, "bidder2", 1)
            self.register(water, "bidder2", 2)
            self.register(water, "bidder1", 1)
        clarifications.clarify(
            s,
            who("agency4"),
            self.blobs,
            water.id,
            "关于第1标段管材规格的修改",
            "第1标段 DN200 以上供水管材由 PE100 级调整为 PE100RC 级（耐慢速裂纹增长）"
            "，工程量清单相应调整，详见附件。",
            True,
            [
                FileInput(
                    "修改后的工程量清单说明.docx",
                    [docx_document(["第1标段管材规格修改说明", "DN200 以上管材调整为 PE100RC 级。"])],
                )
            ],
            MAX_BYTES,
        )

        # Open for bids, with documents, questions, a clarification and registrations.
        school = self.publish("school")
        self.download_all(school, "bidder1", "bidder2", "bidder3")
        self.register(school, "bidder1")
        self.register(school, "bidder3")
        self.bid(school, "bidder1", 18_150_000, 350)  # a receipt to look at; replacing it is one upload away
        self.ask(
            school,
            "bidder1",
            "招标文件要求拟派项目经理“无在建工程”，已完工但尚未办理竣工验收备案的项目是否视为在建工程？",
            "以竣工验收备案表或竣工验收报告为准；已通过竣工验收的项目不视为在建工程，投标时须提供相应证明材料。",
        )
        self.ask(school, "bidder3", "工程量清单中外墙保温做法与施工图设计说明不一致，以哪个为准？", None)
        clarifications.clarify(
            s,
            who("agency1"),
            self.blobs,
            school.id,
            "关于投标文件格式的澄清",
            "投标函附录中的“质量目标”统一填写“合格”；投标文件电子版须使用平台投标工具加密后上传，纸质文件不再递交。",
            False,
            [],
            MAX_BYTES,
        )

        equipment = self.publish("hospital_equipment")
        self.download_all(equipment, "bidder4", "bidder8")
        self.register(equipment, "bidder4", 1)
        self.register(equipment, "bidder4", 2)
        self.ask(
            equipment,
            "bidder4",
            "第1包超声诊断仪要求“不少于4个探头接口”，激活的探头接口是否包括铅笔式多普勒探头接口？",
            "不包括。要求的4个接口均应为可同时连接并激活的成像探头接口。",
        )

        greening = self.publish("greening")
        self.download_all(greening, "bidder5", "bidder7")
        self.register(greening, "bidder5")
        objection = objections.raise_objection(
            s,
            who("bidder7"),
            greening.id,
            "评分办法要求投标人“具有本县园林绿化养护业绩”，限定了特定行政区域的业绩，属于以不合理条件限制、排斥潜在投标人。",
        )
        objections.answer_objection(
            s,
            who("agency2"),
            objection.id,
            "经研究，异议成立。已删除“本县”业绩的限定，类似业绩不限地域，修改内容将以澄清方式发布。",
        )

        campus = self.publish("smart_campus")
        self.download_all(campus, "bidder8", "bidder6")
        self.register(campus, "bidder8")
        self.ask(
            campus,
            "bidder6",
            "交互式教学一体机是否接受 86 英寸规格？",
            "接受，但显示尺寸不得小于 86 英寸，其他参数须满足招标文件要求。",
        )

        # Suspended by a monitor on a supervisory instruction (E52).
        garbage = self.publish("garbage")
        self.download_all(garbage, "bidder7")
        self.register(garbage, "bidder7")
        supervision.suspend(
            s,
            who("monitor1"),
            garbage.id,
            "接到投诉，反映招标文件资格条件可能排斥潜在投标人。根据监督部门意见暂停招标活动，待核查后决定是否恢复。",
        )

        # Cancelled, with the reason published.
        desks = self.publish("desks")
        self.download_all(desks, "bidder6")
        supervision.cancel(
            s,
            who("agency2"),
            desks.id,
            "因全县中小学布局调整，采购数量和规格发生重大变化，经采购人申请终止本次招标，调整需求后另行组织采购。",
        )

        # Drafts: one ready to publish, one with publication problems, one just started.
        self.create("playground")
        self.create(
            "river", deadline_days=12, docs=False
        )  # deadline too soon (L24), ceiling below estimate, security over 2% (R26), no documents
        self.create("consumables", deadline_days=None, docs=False, key_holders=False)


DEMO_KEY_PASSPHRASE = "demo-key-passphrase"  # documented in docs/demo-accounts.md; demo only


def write_demo_key_files(session: Session, keys: dict[int, X25519PrivateKey], key_dir: Path) -> None:
    """The demo key holders' key files, so that an opening can be walked: <username>.etkey.json."""
    key_dir.mkdir(parents=True, exist_ok=True)
    for uid, private in keys.items():
        user = session.get(User, uid)
        assert user is not None
        doc = keyfiles.protect(private, DEMO_KEY_PASSPHRASE, label=f"{user.full_name} ({user.username})")
        (key_dir / f"{user.username}.etkey.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2))


def load(
    session: Session, blobs: BlobStore, key_dir: Path | None = None, signer: SigningKey | None = None
) -> _Loader:
    """Fill an empty database with the demo. Runs in the caller's transaction and never commits. With
    `key_dir`, the key holders' key files are written there (passphrase DEMO_KEY_PASSPHRASE). `signer` signs
    the demo bids' receipts: the platform's key (a throwaway key when None, for tests that don't verify
    receipts). Returns the loader (its tenders by key, which demo.evaluation_stages.evaluated_tenders
    reads)."""
    if signer is None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        signer = SigningKey("demo.etender.localhost/audit", Ed25519PrivateKey.generate())
    loader = _Loader(session, blobs, signer)
    loader.bootstrap()
    loader.organisations_and_accounts()
    loader.experts()
    loader.tenders_in_states()
    evaluation_room.load(loader)  # issue 13: a tender in evaluation with a booked session
    evaluation_stages.load(loader)  # issue 13: mid-scoring, awaiting signatures, three evaluated
    # issue 14: of the evaluated, the oldest awarded and contracted, one in its publicity with an objection
    # answered; the third waits for its agency to publish
    results_award.load_ended(loader, loader.tenders["stage_evaluated_dissent"])
    results_publicity.load(loader, loader.tenders["stage_evaluated"])
    demo_marketplace.load(loader)  # issue 15: the intermediary marketplace
    demo_workbenches.load(loader)  # issue 16: the centre's intake, opening-room bookings and witnessing
    session.flush()
    if key_dir is not None:
        write_demo_key_files(session, loader.holder_keys, key_dir)
        demo_marketplace.write_key_file(key_dir)  # issue 15: the demo owner's key for its sealed quotes
    return loader
