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
        doc["failed"] = tender.cancel_reason
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


# The PDF names its rule as people read it, by the plain reference web.rule_refs gives R44 (tender does not
# import web; tests/web/test_rule_refs.py checks that the two agree).
R44_ZH = "《招标投标法实施条例》第四十四条"
R44_EN = "Tendering Law Regulation, art. 44"


def record_pdf(doc: dict[str, Any]) -> bytes | None:
    """The published record as PDF, in Chinese with the Noto CJK font; None when the font is not installed."""
    path = font_path()
    if path is None:
        return None
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    rec = doc["record"]
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(
        datetime(2000, 1, 1, tzinfo=clock.CST)
    )  # deterministic bytes: the date is in the content
    pdf.set_producer("etender")
    pdf.add_font("noto", fname=path, collection_font_number=2)  # index 2 of the collection: Noto Sans CJK SC
    pdf.set_font("noto", size=10)
    pdf.add_page()
    pdf.set_font_size(15)
    pdf.multi_cell(
        0,
        8,
        f"开标记录 Opening record — {rec['tender']['reference']} {rec['tender']['title']}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font_size(9)
    lines = [
        f"开标时间 opens at: {rec['opens_at']}   密钥持有人法定人数到齐 quorum: "
        f"{rec['quorum_at'] or '-'}   完成 finished: {rec['finished_at'] or '-'}",
        "密钥持有人 key holders: "
        + "、".join(f"{h['name']}{'（已提交）' if h['submitted'] else ''}" for h in rec["key_holders"]),
        f"记录 SHA-256: {doc['sha256']}",
    ]
    for line in lines:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    outcome_zh = {
        OpenedBidStatus.opened: "已开启",
        OpenedBidStatus.revoked: "撤销（投标人原因）",
        OpenedBidStatus.withdrawn: "撤回（非投标人原因）",
    }
    for lot in rec["lots"]:
        pdf.ln(2)
        pdf.set_font_size(11)
        pdf.multi_cell(
            0,
            6,
            f"标段 {lot['lot']} {lot['name']}：收到 {lot['bids_received']} 份投标"
            + ("" if lot["opened"] else f"，不足3家，未开标（{R44_ZH}）"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font_size(8)
        if not lot["bids"]:
            continue
        heading = FontFace(emphasis=None, fill_color=(230, 230, 230))  # the CJK font has no bold face loaded
        with pdf.table(
            col_widths=(40, 30, 25, 15, 50, 30, 40), text_align="LEFT", headings_style=heading
        ) as table:
            table.row(
                [
                    "投标人 Bidder",
                    "统一社会信用代码",
                    "投标总价（元）",
                    "工期（天）",
                    "质量承诺",
                    "投标保证金",
                    "结果 Outcome",
                ]
            )
            for b in lot["bids"]:
                price = f"{b['total_price_fen'] / 100:,.2f}" if isinstance(b["total_price_fen"], int) else "-"
                table.row(
                    [
                        b["bidder"],
                        b["credit_code"],
                        price,
                        str(b["duration_days"] or "-"),
                        b["quality_commitment"] or "-",
                        b["bid_security_reference"] or "-",
                        outcome_zh.get(b["outcome"], b["outcome"])
                        + (f" {b['reason_code']}" if b["reason_code"] else ""),
                    ]
                )
    if doc.get("objections"):
        pdf.ln(2)
        pdf.set_font_size(11)
        pdf.multi_cell(
            0,
            6,
            f"开标现场异议及答复（{R44_ZH}） Objections and answers ({R44_EN})",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font_size(8)
        for o in doc["objections"]:
            pdf.multi_cell(
                0,
                5,
                f"{o['bidder'] or ''}（{o['raised_at']}）：{o['text']}\n答复：{o['answer'] or '待答复'}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    return bytes(pdf.output())
