"""The public site: the notice list, a notice, and document downloads (anonymous allowed, E20)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Annotated, Any
from urllib.parse import quote

from litestar import MediaType, Request, Response, get
from litestar.params import Parameter
from litestar.response import Stream, Template
from sqlalchemy.orm import Session

from core.errors import N_, NotFound
from core.identity import Actor
from tender import notices, participation, rules
from web import i18n
from web.cache import render
from web.deps import locale_of, page

MAX_QUERY = 200

# English wording of the coded labels (status:, category:, method:, kind:). Their Chinese is in
# translations/zh/public.po; in English the catalogue is not consulted, so the msgid would show as is.
ENGLISH_LABELS = {
    "status:draft": "Draft",
    "status:published": "Open for bids",
    "status:bidding_closed": "Bidding closed",
    "status:opening": "Opening",
    "status:evaluating": "Under evaluation",
    "status:evaluated": "Evaluation finished",
    "status:publicity": "Candidates published",
    "status:awarded": "Awarded",
    "status:suspended": "Suspended",
    "status:failed": "Failed",
    "status:cancelled": "Cancelled",
    "category:works": "Works",
    "category:goods": "Goods",
    "category:services": "Services",
    "method:lowest_price": "Lowest evaluated price",
    "method:comprehensive": "Comprehensive scoring",
    "method:average_benchmark": "Average benchmark price",
    "kind:purchaser": "Purchaser",
    "kind:agency": "Tendering agency",
    "kind:bidder": "Bidder",
    "kind:intermediary": "Intermediary",
    "kind:trading_centre": "Trading centre",
    "kind:supervisor": "Supervising authority",
}


def labeller(locale: str) -> Callable[[str, str], str]:
    """label("status", "published") -> 招标中 / Open for bids."""

    def label(prefix: str, value: str) -> str:
        key = f"{prefix}:{value}"
        if locale == "en":
            return ENGLISH_LABELS.get(key, value.replace("_", " ").capitalize())
        return i18n.gettext(locale, key)

    return label


@dataclass(frozen=True)
class Filters:
    q: str = ""
    category: str = ""
    region: str = ""
    status: str = ""
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(self.q or self.category or self.region or self.status)


def lenient_filters(q: str, category: str, region: str, status: str, page_number: str) -> Filters:
    """A person's query string: unknown values are ignored rather than refused (the API is strict instead)."""
    try:
        number = max(1, int(page_number))
    except ValueError:
        number = 1
    return Filters(
        q=q.strip()[:MAX_QUERY],
        category=category if category in rules.CATEGORIES else "",
        region=region.strip()[:100],
        status=status if status in notices.STATUS_FILTERS else "",
        page=number,
    )


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@get("/", sync_to_thread=True, include_in_schema=False)
def notice_list(
    request: Request,
    db: Session,
    actor: Actor,
    q: str = "",
    category: str = "",
    region: str = "",
    status: str = "",
    page_number: Annotated[str, Parameter(query="page")] = "1",
) -> Template | Response[bytes]:
    """招标公告列表. Read-only: a plain GET on a read-only unit of work; anonymous renderings are
    micro-cached."""
    cache = request.app.state.public_cache
    key = cache.key(request, "page", actor.anonymous)
    if (hit := cache.get(key)) is not None:
        return Response(hit, media_type=MediaType.HTML)
    f = lenient_filters(q, category, region, status, page_number)
    result = notices.browse(
        db,
        q=f.q,
        category=f.category,
        region=f.region,
        status=f.status,
        page=f.page,
        page_size=request.app.state.settings.page_size,
        with_regions=True,
    )
    context: dict[str, Any] = dict(
        f=f,
        result=result,
        categories=rules.CATEGORIES,
        statuses=notices.STATUS_FILTERS,
        days_left=notices.days_left,
        label=labeller(locale_of(request)),
    )
    if key is None:
        return page(request, "public/notices.html", **context)
    return Response(
        cache.put(key, render(request, "public/notices.html", **context)), media_type=MediaType.HTML
    )


@get("/tenders/{tender_id:int}", sync_to_thread=True, include_in_schema=False)
def notice(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    """招标公告. Drafts are visible only to their agency and purchaser (404 to everyone else)."""
    detail = notices.notice_detail(db, actor, tender_id)
    docs = {d.id: d for d in detail.tender.documents}
    lots = {lot.id: lot for lot in detail.lots}
    return page(
        request,
        "public/notice.html",
        d=detail,
        t=detail.tender,
        docs_by_id=docs,
        lots_by_id=lots,
        file_size=file_size,
        label=labeller(locale_of(request)),
    )


def content_disposition(filename: str, fallback_stem: str) -> str:
    """attachment with an ASCII fallback and the real (often Chinese) name per RFC 6266 / RFC 5987."""
    name = (
        "".join(c for c in filename if unicodedata.category(c)[0] != "C").replace("/", "_").replace("\\", "_")
        or fallback_stem
    )
    stem, ext = os.path.splitext(name)
    ascii_ext = ext if ext.isascii() else ""
    if stem.isascii() and stem.strip():
        ascii_name = stem.replace('"', "'") + ascii_ext
    else:
        ascii_name = fallback_stem + ascii_ext
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@get(
    "/documents/{document_id:int}",
    sync_to_thread=True,
    include_in_schema=False,
    opt={"writes": True, "records": N_("downloaded this tender document")},
)  # not from another site's link
def download(request: Request, db: Session, actor: Actor, document_id: int) -> Stream:
    """Anyone may download during the issue period without registering (E20); the download is recorded,
    confidential until the bid deadline (E21)."""
    doc = participation.download_document(db, actor, document_id)
    chunks: Iterator[bytes] = iter(request.app.state.blobs.open(doc.blob_key))
    try:
        # Open the blob before answering, so that a missing file is an error page (and no recorded download),
        # not a response cut off half-way.
        first = next(chunks, b"")
    except (OSError, ValueError) as e:
        raise NotFound.one(
            "document_file_missing",
            N_("The file of this document cannot be read. Please try again later or contact the agency."),
        ) from e
    headers = {
        "Content-Disposition": content_disposition(doc.filename, f"document-{doc.id}"),
        "Content-Length": str(doc.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Stream(chain([first], chunks), media_type=doc.content_type, headers=headers)


ROUTES = [notice_list, notice, download]
