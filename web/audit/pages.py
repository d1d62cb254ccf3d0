"""The public audit log for people (issue 12): the newest entries in the reader's language, older ones page by
page, and each entry with its inclusion proof checked in the browser (web/static/js/audit-proof.js) against
the latest signed checkpoint. The same view as the public API (audit.feed with the reader): a withheld entry
shows only that it exists and its leaf hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import feed
from core.identity import Actor
from tender.models import Tender
from web.deps import page
from web.supervision.monitor import EVENT_LABELS

PAGE = 50


def _row(item: dict[str, Any], references: dict[int, str]) -> dict[str, Any]:
    if item.get("withheld"):
        return {"index": item["index"], "withheld": True, "leaf_hash": item["leaf_hash"]}
    doc = item["decoded"]
    tender_id = _tender_of(item)
    return {
        "index": item["index"],
        "withheld": False,
        "leaf_hash": item["leaf_hash"],
        "time": datetime.strptime(doc["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        "label": EVENT_LABELS.get(doc["tag"]),
        "role": doc.get("role"),
        "tender": (tender_id, references.get(tender_id, "")) if tender_id is not None else None,
    }


def _tender_of(item: dict[str, Any]) -> int | None:
    subject = str((item.get("decoded") or {}).get("subject", ""))
    return int(subject[7:]) if subject.startswith("tender:") and subject[7:].isdigit() else None


def _references(db: Session, items: list[dict[str, Any]]) -> dict[int, str]:
    ids = {t for t in map(_tender_of, items) if t is not None}
    if not ids:
        return {}
    # only published tenders have a public reference; a draft's entries are withheld anyway
    rows = db.execute(select(Tender.id, Tender.reference).where(Tender.id.in_(ids), Tender.status != "draft"))
    return {tid: ref for tid, ref in rows}


@get("/audit", sync_to_thread=True)
def audit_log(
    request: Request,
    db: Session,
    actor: Actor,
    before: Annotated[int | None, Parameter(ge=0, description="Show entries older than this index")] = None,
) -> Template:
    size = feed.size(db)
    end = size if before is None else min(before, size)
    start = max(0, end - PAGE)
    items = list(reversed(feed.entries(db, start, end, actor)))
    references = _references(db, items)
    return page(
        request,
        "public/audit.html",
        rows=[_row(i, references) for i in items],
        size=size,
        older=start if start > 0 else None,
        newer=min(end + PAGE, size) if end < size else None,
    )


@get("/audit/entries/{index:int}", sync_to_thread=True)
def audit_entry(request: Request, db: Session, actor: Actor, index: int) -> Template:
    item = feed.entry(db, index, actor)
    return page(
        request,
        "public/audit_entry.html",
        item=item,
        row=_row(item, _references(db, [item])),
        details_json=json.dumps(item.get("details", {}), ensure_ascii=False, indent=1, sort_keys=True),
    )


ROUTES = [audit_log, audit_entry]
