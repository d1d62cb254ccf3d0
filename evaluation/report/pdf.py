"""The evaluation report as PDF
(评标报告): deterministic (the same document and signatures give the same bytes:
the creation date is the report's generation time, no random ids), in Chinese with the Noto CJK font the
opening record uses (tender.opening.record.font_path), page numbers, and the signature block.

The PDF is a rendering for reading and filing; the signed object is the document's canonical JSON
(rules.canonical), whose SHA-256 every page carries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tender.opening.record import font_path

FORMAT_LABELS = {
    "lowest_price": "经评审的最低投标价法 Lowest evaluated price",
    "comprehensive": "综合评估法 Comprehensive scoring",
    "average_benchmark": "平均值基准价法 Average benchmark price",
}
KIND_LABELS = {"signed": "已签名 Signed", "deemed": "视为同意（R53）Deemed to agree"}
OUTCOME_LABELS = {
    "opened": "已开启 Opened",
    "revoked": "撤销 Revoked",
    "withdrawn": "撤回 Withdrawn",
}
SECTION_LABELS = {"review": "初步评审 Review", "scoring": "详细评审 Scoring", "ranking": "排序 Ranking"}


def _yuan(fen: Any) -> str:
    return f"{fen / 100:,.2f}" if isinstance(fen, int) and not isinstance(fen, bool) else "-"


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _criterion(c: Any) -> str:
    """A rejection's criterion (evaluation.review: criterion, reasons, votes) in one phrase."""
    if not isinstance(c, dict):
        return _scalar(c)
    reasons = "；".join(map(str, c.get("reasons") or []))
    votes = f" {c['for']}:{c['against']}" if "for" in c and "against" in c else ""
    return f"{c.get('criterion', '')}{'（' + reasons + '）' if reasons else ''}{votes}"


def _dissent(d: Any) -> str:
    if isinstance(d, dict):
        return " ".join(str(d[k]) for k in ("criterion", "reason", "text") if d.get(k))
    return _scalar(d)


def _flat(value: Any) -> str | None:
    """A one-line form of a scalar, a list of scalars or a dict of those; None when it nests deeper."""
    if not isinstance(value, dict | list):
        return _scalar(value)
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return " ".join(_scalar(v) for v in value) if value else "-"
        return None
    parts = []
    for k in sorted(value):
        inner = value[k]
        if isinstance(inner, dict):
            return None
        if isinstance(inner, list) and any(isinstance(v, dict | list) for v in inner):
            return None
        parts.append(f"{k}={_flat(inner)}")
    return "; ".join(parts)


def _lines(value: Any, indent: str = "") -> Iterable[str]:
    """A nested JSON value as indented lines, compact where it can be (a sheet's row on one line)."""
    if isinstance(value, dict):
        for k in sorted(value):
            flat = _flat(value[k])
            if flat is not None:
                yield f"{indent}{k}: {flat}"
            else:
                yield f"{indent}{k}:"
                yield from _lines(value[k], indent + "  ")
    elif isinstance(value, list):
        for item in value:
            flat = _flat(item)
            if flat is not None:
                yield f"{indent}- {flat}"
            else:
                yield f"{indent}-"
                yield from _lines(item, indent + "  ")
    else:
        yield f"{indent}{_scalar(value)}"


def report_pdf(
    document: Mapping[str, Any],
    sha256: str,
    signatures: Sequence[Mapping[str, Any]],
    generated_at: datetime,
) -> bytes | None:
    """The report as PDF; None when the CJK font is not installed. `signatures`: {"seat", "kind",
    "signed_at", "dissent", "public_key"} for the signature block."""
    path = font_path()
    if path is None:
        return None
    from fpdf import FPDF

    tender = document["tender"]
    committee = document["committee"]
    names = {m["seat"]: m["name"] for m in committee["members"]}
    bidder = {b["opened_bid"]: b["bidder"] for b in document.get("bidders") or []}

    def who(opened_bid: Any) -> str:
        return bidder.get(opened_bid, _scalar(opened_bid))

    class Report(FPDF):
        def header(self) -> None:
            self.set_font_size(7)
            self.cell(0, 4, f"{tender['reference']} 评标报告 Evaluation report · SHA-256 {sha256}", align="L")
            self.ln(5)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font_size(8)
            self.cell(
                0, 6, f"第 {self.page_no()} 页 / 共 {{nb}} 页   Page {self.page_no()} of {{nb}}", align="C"
            )

    pdf = Report(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(generated_at)  # deterministic bytes: the date is the report's own
    pdf.set_producer("etender")
    pdf.set_title(f"{tender['reference']} 评标报告")
    pdf.add_font("noto", fname=path, collection_font_number=2)  # Noto Sans CJK SC, as the opening record
    pdf.set_font("noto", size=9)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_fill_color(230, 230, 230)  # the headings' rows (the CJK font has no bold face loaded)

    def title(text: str, size: int = 11) -> None:
        pdf.ln(2)
        pdf.set_font_size(size)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(8)

    widths: dict[tuple[float, str], float] = {}

    def measure(text: str) -> float:
        """The text's width at the current size, from each character's width measured once (fpdf does not
        kern: the sum is its own measure)."""
        total, size = 0.0, pdf.font_size_pt
        for ch in text:
            w = widths.get((size, ch))
            if w is None:
                w = widths[size, ch] = pdf.get_string_width(ch)
            total += w
        return total

    space = measure(" ")

    def line(text: str) -> None:
        """One line of text, wrapped at spaces here: fpdf's own wrapping (multi_cell) measures the growing
        line again for every character, which made a 300-bid report's sheets take a minute."""
        if measure(text) <= pdf.epw:
            pdf.cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")
            return
        current: list[str] = []
        width = 0.0
        for word in text.split(" "):
            w = measure(word)
            if current and width + space + w > pdf.epw:
                pdf.cell(0, 4, " ".join(current), new_x="LMARGIN", new_y="NEXT")
                current, width = [], 0.0
            if w > pdf.epw:  # one long word (CJK text has no spaces): fpdf wraps it
                pdf.multi_cell(0, 4, word, new_x="LMARGIN", new_y="NEXT")
                continue
            width = width + space + w if current else w
            current.append(word)
        if current:
            pdf.cell(0, 4, " ".join(current), new_x="LMARGIN", new_y="NEXT")

    def table(widths: tuple[int, ...], rows: Iterable[Sequence[str]]) -> None:
        """A grid, its first row the heading. A row whose every cell fits on one line is drawn cell by cell
        (fpdf's table lays each cell out as a paragraph: a 300-row ranking took seconds); a row that needs
        wrapping goes through fpdf's table."""
        for n, row in enumerate(rows):
            cells = [str(c) for c in row]
            if all(measure(c) <= w - 2 for c, w in zip(cells, widths, strict=True)):
                if pdf.will_page_break(5):
                    pdf.add_page()
                for c, w in zip(cells, widths, strict=True):
                    pdf.cell(w, 5, c, border=1, fill=n == 0)
                pdf.ln(5)
                continue
            with pdf.table(
                col_widths=widths, text_align="LEFT", first_row_as_headings=False, width=sum(widths)
            ) as t:
                t.row(cells)

    pdf.set_font_size(15)
    pdf.multi_cell(0, 8, f"评标报告 Evaluation report — {tender['reference']} {tender['title']}",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font_size(8)
    line(f"生成时间 Generated: {document['generated_at']}   报告 SHA-256: {sha256}")

    title("一、基本情况 Basic data")
    line(f"评标办法 Method: {FORMAT_LABELS.get(tender['method'], tender['method'])}")
    table(
        (15, 95, 40, 40),
        [("标段 Lot", "名称 Name", "估算价（元）", "最高投标限价（元）")]
        + [
            (
                str(lot["number"]),
                lot["name"],
                _yuan(lot["estimated_price_fen"]),
                _yuan(lot["price_ceiling_fen"]),
            )
            for lot in tender["lots"]
        ],
    )
    criteria = tender.get("criteria") or {}
    if criteria:
        line("评标标准 Criteria:")
        for text in _lines(criteria, "  "):
            line(text)

    title("二、评标委员会 Committee")
    line(f"评标室 Room: {committee['room']}   时间 Time: {committee['starts_at']} – {committee['ends_at']}")
    table(
        (15, 45, 30, 25, 75),
        [("席位 Seat", "姓名 Name", "专业 Specialty", "主任委员 Chair", "签到时间 Checked in")]
        + [
            (
                str(m["position"] if m.get("position") is not None else m["seat"]),
                m["name"],
                (m.get("specialty_name") or {}).get("zh") or m["specialty"],
                "是" if m["chair"] else "",
                m["checked_in_at"] or "-",
            )
            for m in committee["members"]
        ],
    )
    for m in committee.get("left") or []:
        line(f"退出 Left: {m['name']} {m['left_at']} {m['reason']}")

    opening = document.get("opening")
    if opening:
        title("三、开标记录 Opening record")
        for lot in opening["lots"]:
            line(f"标段 {lot['lot']} {lot['name']}：收到 {lot['bids_received']} 份投标")
            if lot["bids"]:
                table(
                    (15, 70, 40, 30, 35),
                    [("编号 Bid", "投标人 Bidder", "投标总价（元）", "工期（天）", "结果 Outcome")]
                    + [
                        (
                            str(b["bid"]),
                            b["bidder"],
                            _yuan(b["total_price_fen"]),
                            _scalar(b["duration_days"]),
                            OUTCOME_LABELS.get(b["outcome"], b["outcome"]),
                        )
                        for b in lot["bids"]
                    ],
                )

    clar = document.get("clarifications") or {}
    title("四、澄清 Clarifications")
    for c in clar.get("tender") or []:
        line(f"澄清/修改 第{c['number']}号 {c['title']}（{c['issued_at']}）")
    if clar.get("review"):
        line("评标中要求投标人澄清 Clarifications asked in the review: " + " ".join(map(str, clar["review"])))
    if not clar.get("tender") and not clar.get("review"):
        line("无 None")

    review = document.get("review") or {}
    title("五、初步评审 Review")
    line("有效投标 Valid bids: " + ("、".join(who(b) for b in review.get("valid") or []) or "无 none"))
    for rej in review.get("rejected") or []:
        if isinstance(rej, dict):
            grounds = "；".join(_criterion(c) for c in rej.get("criteria") or [])
            line(f"否决 Rejected: {who(rej.get('bid'))}: {grounds}")

    title("六、详细评审 Scoring")
    for text in _lines(document.get("scoring") or {}, "  "):
        line(text)

    ranking = document.get("ranking") or {}
    title("七、排序与中标候选人 Ranking and candidates")
    if document.get("failed"):
        failed = document["failed"]
        few = isinstance(failed, dict) and failed.get("reason") == "too_few_valid"
        line(
            "评标结果：否决全部投标 All bids rejected"
            + ("（有效投标不足三家 fewer than 3 valid)" if few else "")
        )
    rows = ranking.get("ranking") or []
    if rows:
        table(
            (15, 55, 20, 35, 35, 30),
            [
                (
                    "名次 Rank",
                    "投标人 Bidder",
                    "得分 Total",
                    "投标价（元）",
                    "评标价（元）",
                    "并列处理 Tie-break",
                )
            ]
            + [
                (
                    _scalar(x.get("rank")),
                    who(x.get("bid")),
                    _scalar(x.get("total")),
                    _yuan(x.get("price_fen")),
                    _yuan(x.get("evaluated_price_fen")),
                    _scalar(x.get("tie_break")),
                )
                for x in rows
            ],
        )
    line(
        "中标候选人 Candidates: " + ("、".join(who(c) for c in document.get("candidates") or []) or "无 none")
    )

    title("八、不同意见 Dissents")
    dissents = document.get("dissents") or []
    for d in dissents:
        about = f" {who(d['bid'])}" if d.get("bid") is not None else ""
        line(f"[{SECTION_LABELS.get(d['step'], d['step'])}{about}] {_dissent(d['dissent'])}")
    if not dissents:
        line("无 None")

    for key in sorted(document.get("sections") or {}):
        title(f"附：{SECTION_LABELS.get(key, key)}")
        for text in _lines(document["sections"][key], "  "):
            line(text)

    title("九、签名 Signatures (Ed25519 over SHA-256, docs/evaluation-report.md)")
    by_seat = {s["seat"]: s for s in signatures}
    table(
        (40, 40, 45, 65),
        [("姓名 Name", "签名 Signature", "时间 Time", "公钥 Public key")]
        + [
            (
                names.get(m["seat"], ""),
                KIND_LABELS.get(by_seat[m["seat"]]["kind"], "") if m["seat"] in by_seat else "未签 Not yet",
                by_seat[m["seat"]]["signed_at"] if m["seat"] in by_seat else "",
                (by_seat[m["seat"]].get("public_key") or "")[:32] if m["seat"] in by_seat else "",
            )
            for m in committee["members"]
        ],
    )
    for s in signatures:
        if s.get("dissent"):
            line(f"{names.get(s['seat'], '')} 的书面不同意见 Written dissent: {s['dissent']}")
    return bytes(pdf.output())
