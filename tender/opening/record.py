"""The opening record (E32): its content (record_body, whose canonical JSON is hashed into record_sha256), the
document served (progress only, counts and no names, until it is published), its version for the live page,
and the published record as PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Organisation, User
from core import clock
from core.errors import N_, Conflict, NotFound
from core.i18n import translate
from core.identity import Actor
from tender.bids import submission as bids
from tender.lifecycle import Status
from tender.models import (
    Bid,
    KeyPart,
    Lot,
    OpenedBid,
    OpenedBidStatus,
    Opening,
    OpeningCheckIn,
    OpeningObjection,
    OpeningStatus,
    Tender,
)
from tender.opening.base import TERMINAL, is_published, key_holders, opening_of

RECORD_FORMAT = "etender-opening-record"
FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


def _iso(value: datetime | None) -> str | None:
    return clock.as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def record_body(session: Session, tender: Tender, op: Opening) -> dict[str, Any]:
    """The opening record's content, the part whose canonical JSON is hashed (record_sha256)."""
    rows = session.execute(
        select(OpenedBid, Bid, Organisation)
        .join(Bid, Bid.id == OpenedBid.bid_id)
        .join(Organisation, Organisation.id == Bid.organisation_id)
        .where(OpenedBid.opening_id == op.id)
        .order_by(Bid.lot_id, Bid.id)
        .execution_options(populate_existing=True)
    ).all()
    counted = bids.counted_bids(session, tender.id)
    lots = []
    for lot in session.scalars(select(Lot).where(Lot.tender_id == tender.id).order_by(Lot.number)):
        entries = []
        for ob, bid, org in rows:
            if bid.lot_id != lot.id:
                continue
            form = ob.price_form or {}
            entries.append(
                {
                    "bid": bid.id,
                    "bidder": org.name,
                    "credit_code": org.credit_code,
                    "sha256": bid.blob_key,
                    "size": bid.size,
                    "submitted_at": _iso(bid.submitted_at),
                    "outcome": ob.status,
                    "reason_code": ob.reason_code,
                    "total_price_fen": form.get("total_price_fen"),
                    "duration_days": form.get("duration_days"),
                    "quality_commitment": form.get("quality_commitment"),
                    "bid_security_reference": form.get("bid_security_reference"),
                    "bid_security_status": (
                        "provided" if form.get("bid_security_reference") else "not_provided"
                    )
                    if ob.status == OpenedBidStatus.opened
                    else "unknown",
                    "files": [
                        {"role": f["role"], "name": f["name"], "size": f["size"]} for f in ob.files or []
                    ],
                }
            )
        count = sum(1 for b in counted if b.lot_id == lot.id)
        lots.append(
            {
                "lot": lot.number,
                "name": lot.name,
                "bids_received": count,
                "opened": bool(entries),
                "not_opened_reason": "" if entries else "fewer_than_3_bids",
                "bids": entries,
            }
        )
    holders = key_holders(tender)
    quorum_users = list(
        session.scalars(
            select(KeyPart.user_id).where(KeyPart.opening_id == op.id, KeyPart.party.is_not(None)).distinct()
        )
    )
    names = (
        {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(holders)))}
        if holders
        else {}
    )
    checked = session.execute(
        select(Organisation.name, OpeningCheckIn.at)
        .join(Organisation, Organisation.id == OpeningCheckIn.organisation_id)
        .where(OpeningCheckIn.opening_id == op.id)
        .order_by(OpeningCheckIn.at)
    ).all()
    return {
        "format": RECORD_FORMAT,
        "version": 1,
        "tender": {
            "id": tender.id,
            "reference": tender.reference,
            "title": tender.title,
            "policy": tender.opening_policy,
            "k": tender.key_threshold,
        },
        "opens_at": _iso(op.opens_at),
        "quorum_at": _iso(op.quorum_at),
        "window_ends_at": _iso(op.window_ends_at),
        "finished_at": _iso(op.finished_at),
        "key_holders": [{"name": names.get(uid, ""), "submitted": uid in quorum_users} for uid in holders],
        "check_ins": [{"bidder": name, "at": _iso(at)} for name, at in checked],
        "lots": lots,
    }


def objections_of(session: Session, op: Opening, named: bool) -> list[dict[str, Any]]:
    rows = session.execute(
        select(OpeningObjection, Organisation)
        .join(Organisation, Organisation.id == OpeningObjection.organisation_id)
        .where(OpeningObjection.opening_id == op.id)
        .order_by(OpeningObjection.id)
    ).all()
    return [
        {
            "id": o.id,
            "bidder": org.name if named else None,
            "text": o.text,
            "raised_at": _iso(o.raised_at),
            "answer": o.answer,
            "answered_at": _iso(o.answered_at),
        }
        for o, org in rows
    ]


def progress(session: Session, tender: Tender, op: Opening) -> dict[str, Any]:
    """What anyone watching may see before the record is published: counts only, never who bid or a price."""
    statuses = list(
        session.scalars(
            select(OpenedBid.status)
            .join(Bid, Bid.id == OpenedBid.bid_id)
            .where(OpenedBid.opening_id == op.id)
            .order_by(Bid.lot_id, Bid.id)
        )
    )
    holders = key_holders(tender)
    names = (
        {u.id: u.full_name for u in session.scalars(select(User).where(User.id.in_(holders)))}
        if holders
        else {}
    )
    parts = dict(
        session.execute(
            select(KeyPart.user_id, func.count())
            .where(KeyPart.opening_id == op.id, KeyPart.party.is_not(None))
            .group_by(KeyPart.user_id)
        ).all()
    )
    checkins = (
        session.scalar(
            select(func.count()).select_from(OpeningCheckIn).where(OpeningCheckIn.opening_id == op.id)
        )
        or 0
    )
    return {
        "status": op.status,
        "opens_at": _iso(op.opens_at),
        "quorum_at": _iso(op.quorum_at),
        "window_ends_at": _iso(op.window_ends_at),
        "finished_at": _iso(op.finished_at),
        "bids": len(statuses),
        "k": tender.key_threshold,
        "policy": tender.opening_policy,
        "outcomes": {
            s: statuses.count(s) for s in (OpenedBidStatus.pending, OpenedBidStatus.decrypting, *TERMINAL)
        },
        "bid_statuses": [{"n": i + 1, "status": s} for i, s in enumerate(statuses)],
        "key_holders": [{"name": names.get(uid, ""), "parts": int(parts.get(uid, 0))} for uid in holders],
        "check_ins": int(checkins),
    }


def record_document(session: Session, tender_id: int, actor: Actor | None = None) -> dict[str, Any]:
    """The opening record (E32) as served: public once published; before that only progress (counts)."""
    tender = session.get(Tender, tender_id)
    if tender is None or tender.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    op = opening_of(session, tender.id)
    if op is None:
        raise NotFound.one(
            "opening_not_started", N_("The opening has not started: it starts by itself at the bid deadline.")
        )
    doc: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "tender_id": tender.id,
        "reference": tender.reference,
        "title": tender.title,
        "status": op.status,
        "published": is_published(op),
    }
    if op.status == OpeningStatus.failed:
        # in the record's language (Chinese, as its PDF); the key and its parameters for other programs
        doc["failed"] = (
            translate("zh", tender.end_reason_key, tender.end_reason_params) or tender.cancel_reason
        )
        doc["failed_reason"] = {"key": tender.end_reason_key, "params": tender.end_reason_params}
        return doc
    doc["progress"] = progress(session, tender, op)
    if is_published(op):
        doc["record"] = record_body(session, tender, op)
        doc["sha256"] = op.record_sha256
        doc["objections"] = objections_of(session, op, named=True)
    else:
        doc["objections"] = objections_of(session, op, named=False)
    return doc


def published_record(session: Session, tender_id: int) -> dict[str, Any]:
    doc = record_document(session, tender_id)
    if doc["status"] == OpeningStatus.failed:
        raise Conflict.one(
            "opening_failed",
            N_(
                "No bid was opened: fewer than 3 bids were received and the tender "
                "failed (R44). The notice says why."
            ),
            rule="R44",
        )
    if not doc["published"]:
        raise Conflict.one(
            "record_not_published",
            N_(
                "The opening record is published once every bid has its outcome; "
                "follow the opening page until then."
            ),
            rule="E32",
        )
    return doc


def version(session: Session, tender_id: int) -> tuple[Any, ...]:
    """A cheap fingerprint of everything the ceremony page shows (the live stream sends a snapshot when it
    changes)."""
    op = opening_of(session, tender_id)
    if op is None:
        return (None,)
    parts = session.execute(
        select(func.count(), func.max(KeyPart.id)).where(KeyPart.opening_id == op.id)
    ).one()
    checkins = session.scalar(
        select(func.count()).select_from(OpeningCheckIn).where(OpeningCheckIn.opening_id == op.id)
    )
    outcomes = tuple(
        session.execute(
            select(OpenedBid.status, func.count())
            .where(OpenedBid.opening_id == op.id)
            .group_by(OpenedBid.status)
            .order_by(OpenedBid.status)
        ).all()
    )
    objections = session.execute(
        select(func.count(), func.count(OpeningObjection.answered_at)).where(
            OpeningObjection.opening_id == op.id
        )
    ).one()
    return (op.status, op.quorum_at, tuple(parts), checkins, outcomes, tuple(objections))


# ---------------------------------------------------------------- the PDF of the record


def font_path() -> str | None:
    import os

    return next((p for p in FONT_PATHS if os.path.exists(p)), None)


# The reasons a bid did not open (E31), in words for the printed record; the codes stay in the JSON record.
OUTCOME_ZH = {
    OpenedBidStatus.opened: "已开启",
    OpenedBidStatus.revoked: "撤销（投标人原因）",
    OpenedBidStatus.withdrawn: "撤回（非投标人原因）",
}
REASON_ZH = {
    "blob_missing": "存储的密封投标文件缺失",
    "blob_hash_mismatch": "存储的密封投标文件与回执摘要不一致",
    "blob_unreadable": "存储的密封投标文件无法读取",
    "key_check_failed": "密钥分片校验通过但未能恢复投标密钥",
    "chunk_altered": "投标文件数据块在上传前被改动，无法认证",
    "bid_truncated": "投标文件在最后一个数据块前结束",
    "bid_trailing_data": "投标文件最后一个数据块后有多余数据",
    "container_invalid": "投标文件可解密但内容清单无效",
    "sealed_header_invalid": "投标文件头无效",
    "bidder_part_missing": "投标人未在解密时限内提交其密钥分片",
}
# Policy: the printed record keeps at most this many rendered PDFs in each process (the record of one tender
# changes only while objections are answered; each version is rendered once, then served from here).
PDF_CACHE_SIZE = 64
_pdf_cache: dict[str, bytes] = {}


def _cst(value: str | None) -> str:
    """An ISO time of the record in Beijing time, as people read it on the printed record."""
    if not value:
        return "—"
    return clock.to_cst(datetime.fromisoformat(value.replace("Z", "+00:00"))).strftime("%Y-%m-%d %H:%M:%S")


def _cache_key(doc: dict[str, Any]) -> str:
    import hashlib
    import json

    body = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def record_pdf(doc: dict[str, Any]) -> bytes | None:
    """The published record as PDF, in Chinese with the Noto CJK font; None when the font is not installed.
    Rendered once per version of the record and kept (PDF_CACHE_SIZE): the opening page shows its SHA-256 on
    every view."""
    key = _cache_key(doc)
    cached = _pdf_cache.get(key)
    if cached is not None:
        return cached
    rendered = _render_pdf(doc)
    if rendered is not None and PDF_CACHE_SIZE > 0:
        if len(_pdf_cache) >= PDF_CACHE_SIZE:
            _pdf_cache.pop(next(iter(_pdf_cache)))
        _pdf_cache[key] = rendered
    return rendered


def _render_pdf(doc: dict[str, Any]) -> bytes | None:
    path = font_path()
    if path is None:
        return None
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    rec = doc["record"]
    title = f"{rec['tender']['reference']} {rec['tender']['title']}"

    class RecordPDF(FPDF):
        def footer(self) -> None:  # every page: which record, which page of how many
            self.set_y(-12)
            self.set_font("noto", size=8)
            self.cell(0, 6, f"开标记录 {title}    第 {self.page_no()} 页 共 {{nb}} 页", align="C")

    pdf = RecordPDF(orientation="L", unit="mm", format="A4")
    pdf.alias_nb_pages()
    pdf.set_creation_date(
        datetime(2000, 1, 1, tzinfo=clock.CST)
    )  # deterministic bytes: the date is in the content
    pdf.set_producer("etender")
    pdf.add_font("noto", fname=path, collection_font_number=2)  # index 2 of the collection: Noto Sans CJK SC
    pdf.set_font("noto", size=10)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font_size(15)
    pdf.multi_cell(0, 8, f"开标记录 — {title}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(9)
    lines = [
        "时间均为北京时间。",
        f"开标时间：{_cst(rec['opens_at'])}    密钥持有人法定人数到齐：{_cst(rec['quorum_at'])}    "
        f"完成：{_cst(rec['finished_at'])}",
        "密钥持有人："
        + "、".join(
            f"{h['name']}{'（已提交）' if h['submitted'] else '（未提交）'}" for h in rec["key_holders"]
        ),
        f"记录摘要（SHA-256）：{doc['sha256']}",
    ]
    for line in lines:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    heading = FontFace(emphasis=None, fill_color=(230, 230, 230))  # the CJK font has no bold face loaded
    if rec.get("check_ins"):
        pdf.ln(2)
        pdf.set_font_size(11)
        pdf.multi_cell(0, 6, "投标人签到", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(8)
        with pdf.table(col_widths=(120, 60), width=180, text_align="LEFT", headings_style=heading) as table:
            table.row(["投标人", "签到时间"])
            for c in rec["check_ins"]:
                table.row([c["bidder"], _cst(c["at"])])
    for lot in rec["lots"]:
        pdf.ln(2)
        pdf.set_font_size(11)
        pdf.multi_cell(
            0,
            6,
            f"标段 {lot['lot']} {lot['name']}：收到 {lot['bids_received']} 份投标"
            + ("" if lot["opened"] else "，不足3家，未开标"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font_size(8)
        if not lot["bids"]:
            continue
        # the credit code's column holds its 18 characters on one line: a code is never split
        with pdf.table(
            col_widths=(44, 36, 26, 14, 46, 30, 44), text_align="LEFT", headings_style=heading
        ) as table:
            table.row(
                [
                    "投标人",
                    "统一社会信用代码",
                    "投标总价（元）",
                    "工期（天）",
                    "质量承诺",
                    "投标保证金",
                    "开启结果",
                ]
            )
            for b in lot["bids"]:
                price = f"{b['total_price_fen'] / 100:,.2f}" if isinstance(b["total_price_fen"], int) else "—"
                outcome = OUTCOME_ZH.get(b["outcome"], "—")
                if b["reason_code"]:
                    outcome += "：" + REASON_ZH.get(b["reason_code"], "其他原因")
                table.row(
                    [
                        b["bidder"],
                        b["credit_code"],
                        price,
                        str(b["duration_days"] or "—"),
                        b["quality_commitment"] or "—",
                        b["bid_security_reference"] or "—",
                        outcome,
                    ]
                )
    if doc.get("objections"):
        pdf.ln(2)
        pdf.set_font_size(11)
        pdf.multi_cell(0, 6, "开标现场异议及答复", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(8)
        for o in doc["objections"]:
            pdf.multi_cell(
                0,
                5,
                f"{o['bidder'] or ''}（{_cst(o['raised_at'])}）：{o['text']}\n"
                f"答复：{o['answer'] or '待答复'}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    # the signature block: those who sign the printed record at the ceremony
    pdf.ln(6)
    pdf.set_font_size(10)
    if pdf.will_page_break(24):
        pdf.add_page()
    for role in ("开标主持人", "监标人", "记录人"):
        pdf.cell(90, 10, f"{role}（签字）：________________", new_x="RIGHT", new_y="TOP")
    pdf.ln(12)
    pdf.cell(0, 8, "日期：________________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
