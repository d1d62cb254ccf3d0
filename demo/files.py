"""The demo's files: the tenders' documents as Chinese PDFs (招标文件), and a small valid PDF standing in for
the bids' parts and the marketplace's signed files."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime


def pdf_document(lines: list[str]) -> bytes:
    """A small valid PDF (one A4 page of Helvetica text; ASCII only, as the standard fonts have no CJK)."""

    def esc(s: str) -> str:
        return (
            s.encode("ascii", "replace")
            .decode()
            .replace("\\", "\\\\")
            .replace("(", "\\(")
            .replace(")", "\\)")
        )

    text = "BT /F1 11 Tf 15 TL 56 780 Td " + " ".join(f"({esc(line)}) Tj T*" for line in lines) + " ET"
    stream = text.encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << "
        b"/F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


CATEGORY = {"works": "工程", "goods": "货物", "services": "服务"}
METHOD = {
    "comprehensive": "综合评估法",
    "lowest_price": "经评审的最低投标价法",
    "average_benchmark": "综合评估法（平均值基准价）",
}


@dataclass(frozen=True)
class TenderFacts:
    """What the demo's tender document states, from the tender as published."""

    title: str
    reference: str
    purchaser: str
    agency: str
    category: str
    method: str
    description: str
    lots: tuple[tuple[int, str, int, int, int], ...]  # number, name, estimate, ceiling, security (fen)


WHERE = "在电子招标投标交易平台下载，无需报名或登录（E20）。"


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def _sections(f: TenderFacts) -> list[tuple[str, list[str]]]:
    lots = [
        f"第{n}标段（包）：{name}；招标控制价（最高投标限价）{_yuan(ceiling)} 元，"
        f"投标保证金 {_yuan(security)} 元。"
        for n, name, _estimate, ceiling, security in f.lots
    ]
    return [
        (
            "第一章  招标公告",
            [
                f"1. 招标条件：本招标项目{f.title}已具备招标条件，招标人为{f.purchaser}，"
                f"招标代理机构为{f.agency}，现对该项目进行公开招标。",
                f"2. 项目概况与招标范围：{f.description}",
                *lots,
                "3. 投标人资格要求：具有独立法人资格，具备本项目所需的资质和能力，近三年内无重大违法记录；"
                "本项目不接受联合体投标。",
                f"4. 招标文件的获取：在招标公告载明的发售期内，{WHERE}",
                "5. 投标文件的递交：投标截止时间及开标时间以招标公告及其澄清、"
                "修改载明的时间为准（北京时间）。"
                "投标文件须在投标人本地加密后"
                "上传，逾期送达或未加密的投标文件，交易平台不予受理。",
            ],
        ),
        (
            "第二章  投标人须知",
            [
                "1. 投标文件由资格证明文件、商务文件和技术文件组成，每一部分单独上传。",
                "2. 投标保证金以银行转账或保函形式提交，于投标截止时间前到账；未按要求提交的，投标无效。",
                "3. 开标由招标代理机构在交易平台上主持，投标人代表在线解密并签到；"
                "不足三家的，不予开标，依法重新招标。",
                "4. 投标有效期为投标截止之日起 90 日历天。",
            ],
        ),
        (
            "第三章  评标办法",
            [
                f"1. 评标办法：{METHOD.get(f.method, f.method)}。"
                "评标委员会由依法从专家库随机抽取的专家和招标人代表组成。",
                "2. 初步评审：形式评审、资格评审和响应性评审，任何一项不合格的，投标无效。",
                "3. 详细评审：按本章评分标准逐项打分，评标委员会推荐不超过三名排序的中标候选人。",
            ],
        ),
        (
            "第四章  合同条款及格式",
            [
                "1. 中标人应在中标通知书发出之日起 30 日内与招标人订立书面合同（招标投标法第四十六条）。",
                "2. 履约保证金不超过中标合同金额的 10%。",
            ],
        ),
        ("第五章  技术标准和要求", ["详见招标文件附件《技术标准和要求》。"]),
    ]


@functools.lru_cache(maxsize=64)
def tender_document(f: TenderFacts) -> bytes:
    """The tender's documents (招标文件) as a Chinese PDF in the Noto CJK font the opening record uses, with a
    cover and the usual chapters; without that font installed, the one-page ASCII stand-in. Its times are the
    notice's (they move with the demo's clock), so the same tender's document is the same bytes on every load
    and is made once a process (embedding the CJK font's subset takes most of a second)."""
    from fpdf import FPDF

    from tender.opening.record import font_path

    path = font_path()
    if path is None:
        return pdf_document(
            [f"Tender documents {f.reference}", "(install fonts-noto-cjk for the Chinese PDF)"]
        )
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))  # the same bytes on every load
    pdf.set_title(f"{f.title} 招标文件")
    pdf.add_font("noto", fname=path, collection_font_number=2)  # index 2 of the collection: Noto Sans CJK SC
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("noto", size=22)
    pdf.ln(50)
    pdf.multi_cell(0, 14, f.title, align="C")
    pdf.ln(6)
    pdf.set_font("noto", size=28)
    pdf.cell(0, 16, "招 标 文 件", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(30)
    pdf.set_font("noto", size=13)
    for line in (
        f"项目编号：{f.reference}",
        f"项目类别：{CATEGORY.get(f.category, f.category)}",
        f"招 标 人：{f.purchaser}",
        f"招标代理机构：{f.agency}",
    ):
        pdf.cell(0, 10, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(30)
    pdf.set_font("noto", size=10)
    pdf.multi_cell(0, 6, "本文件由 etender 演示数据生成，仅供演示，不具有法律效力。", align="C")
    pdf.add_page()
    for heading, paragraphs in _sections(f):
        pdf.ln(6)
        pdf.set_font("noto", size=16)
        pdf.cell(0, 12, heading, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("noto", size=11)
        for text in paragraphs:
            # fpdf2 breaks lines at spaces, else anywhere: a Chinese paragraph has none, so it wraps evenly
            pdf.multi_cell(0, 7, text.replace(" ", ""))
            pdf.ln(2)
    return bytes(pdf.output())
