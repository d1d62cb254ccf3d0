"""The award notice and the result notice as PDF (中标通知书, 中标结果通知书; L45): deterministic (the same
content gives the same bytes: the creation date is the notice's issue time, no random ids), in Chinese and
English with the Noto CJK font the opening record uses (tender.opening.record.font_path). The PDF is what a
person reads and files; what the platform signs is the statement after it (award.decision.notice_format)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tender.opening.record import font_path

TITLES = {"award": "中标通知书 Award notice", "result": "中标结果通知书 Result notice"}


def yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


def notice_pdf(content: dict[str, Any]) -> bytes | None:
    """The notice as PDF; None when the CJK font is not installed."""
    path = font_path()
    if path is None:
        return None
    from fpdf import FPDF

    issued = datetime.fromisoformat(content["issued_at"].replace("Z", "+00:00"))
    tender, winner, recipient = content["tender"], content["winner"], content["recipient"]

    class Notice(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font_size(7)
            self.cell(0, 5, f"{content['number']} · {content['origin']} · docs/award-notice.md", align="C")

    pdf = Notice(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(issued)  # deterministic bytes: the date is the notice's own
    pdf.set_producer("etender")
    pdf.set_title(f"{tender['reference']} {TITLES[content['kind']]}")
    pdf.add_font("noto", fname=path, collection_font_number=2)  # Noto Sans CJK SC, as the opening record
    pdf.set_font("noto", size=11)
    pdf.add_page()

    def para(text: str, size: int = 11, h: float = 7) -> None:
        pdf.set_font_size(size)
        pdf.multi_cell(0, h, text, align="L", new_x="LMARGIN", new_y="NEXT")

    para(TITLES[content["kind"]], 18, 12)
    para(f"编号 No. {content['number']}", 9, 5)
    pdf.ln(4)
    para(f"致 To：{recipient['name']}（{recipient['credit_code']}）")
    pdf.ln(2)
    lines = [
        f"项目 Tender：{tender['title']}（{tender['reference']}）",
        f"招标人 Purchaser：{content['purchaser']['name']}",
        f"招标代理机构 Agency：{content['agency']['name']}",
        f"中标人 Winner：{winner['name']}（{winner['credit_code']}），中标候选人第 {winner['rank']} 名 "
        f"candidate no. {winner['rank']}",
        f"中标价 Awarded price：{yuan(winner['amount_fen'])}",
    ]
    for line in lines:
        para(line)
    pdf.ln(3)
    if content["kind"] == "award":
        para(
            "经评标委员会评审并经中标候选人公示，贵单位被确定为本项目中标人。请于 "
            f"{content['contract_deadline']} 前与招标人签订书面合同（《招标投标法》第四十六条）。"
        )
        para(
            "Following the evaluation and the publicity of the winning candidates, you are awarded this "
            "tender. "
            f"Sign the written contract with the purchaser by {content['contract_deadline']} (Tendering and "
            "Bidding Law, art. 46).",
            9,
            5,
        )
    else:
        para(
            "本项目中标结果如上。感谢贵单位参与投标；投标保证金将于合同签订后 5 日内退还"
            "（《招标投标法实施条例》第五十七条）。"
        )
        para(
            "This is the result of the tender. Thank you for taking part; your bid security is refunded "
            "within "
            "5 days after the contract is signed (Implementing Regulation, art. 57).",
            9,
            5,
        )
    pdf.ln(6)
    para(f"发出时间 Issued：{content['issued_at_cst']}（北京时间 Beijing time）", 10, 6)
    para(f"审计日志条目 Audit log entry：{content['audit_index']}", 10, 6)
    pdf.ln(4)
    para(
        "本通知书由平台以 Ed25519 签名，签名附于本文件末尾；可用 etender award verify-notice 离线核验。"
        "This notice is signed by the platform (Ed25519); the signature follows the PDF in this file: "
        "check it "
        "offline with `etender award verify-notice`.",
        8,
        4.5,
    )
    return bytes(pdf.output())
