"""The JSON API, version 1: the public notices (the twin of the public site), documented in OpenAPI at
/schema. Times are ISO 8601 in UTC; money is in fen (1/100 yuan) as integers.

Errors are JSON: {"error": {"code", "message", "problems": [{"code", "field", "rule", "message"}]}}."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, Router, get
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.serialization import encode_json
from sqlalchemy.orm import Session

from core.errors import N_, Problem
from core.identity import Actor
from tender import notices, rules
from tender.lifecycle import Status
from tender.models import TenderDocument
from web.deps import locale_of
from web.problems import problems_json

TAG = "Notices"


class Category(enum.StrEnum):
    works = "works"
    goods = "goods"
    services = "services"


StatusFilter = enum.StrEnum("StatusFilter", {s: s for s in notices.STATUS_FILTERS})  # type: ignore[misc]


# ---------------------------------------------------------------- response types

STATUS_DOC = "Lifecycle status: " + ", ".join(s.value for s in Status if s != Status.draft)


class LotInfo(msgspec.Struct):
    number: int
    name: str
    estimated_price_fen: int
    price_ceiling_fen: Annotated[int, msgspec.Meta(description="最高投标限价 (R27), in fen")]
    bid_security_fen: Annotated[
        int, msgspec.Meta(description="投标保证金, at most 2% of the estimate (R26), in fen")
    ]


class NoticeSummary(msgspec.Struct):
    id: int
    reference: str
    title: str
    category: Annotated[str, msgspec.Meta(description="works | goods | services")]
    region: str
    status: Annotated[str, msgspec.Meta(description=STATUS_DOC)]
    published_at: datetime | None
    bid_deadline: Annotated[
        datetime | None, msgspec.Meta(description="Bid deadline and opening time (L34), UTC")
    ]
    url: Annotated[str, msgspec.Meta(description="The notice page on the public site")]
    lots: list[LotInfo]


class NoticePage(msgspec.Struct):
    items: list[NoticeSummary]
    total: int
    page: int
    page_size: int
    pages: int


class ScoringFactor(msgspec.Struct):
    name: str
    points: float
    kind: Annotated[str, msgspec.Meta(description="objective | subjective")]
    description: str


class EvaluationCriteria(msgspec.Struct):
    evaluation_method: Annotated[
        str, msgspec.Meta(description="lowest_price | comprehensive | average_benchmark")
    ]
    qualification: Annotated[
        list[str], msgspec.Meta(description="资格审查: pass/fail before scoring (R18-20)")
    ]
    compliance: Annotated[list[str], msgspec.Meta(description="符合性审查: pass/fail before scoring")]
    factors: list[ScoringFactor]
    price_points: float | None
    benchmark_e1: Annotated[
        float | None, msgspec.Meta(description="Points deducted per 1% above the benchmark price")
    ]
    benchmark_e2: Annotated[
        float | None, msgspec.Meta(description="Points deducted per 1% below the benchmark price")
    ]
    total_points: float


class Timeline(msgspec.Struct):
    published_at: datetime | None
    documents_from: datetime | None
    documents_until: datetime | None
    question_deadline: datetime | None
    objection_deadline: Annotated[
        datetime | None, msgspec.Meta(description="Last moment for objections to the documents (R22)")
    ]
    bid_deadline: datetime | None
    original_bid_deadline: Annotated[
        datetime | None,
        msgspec.Meta(
            description=(
                "As published, before a clarification extended it (R21) or a monitor set a new one on "
                "resuming after a suspension (E52)"
            )
        ),
    ]
    opening_time: Annotated[datetime | None, msgspec.Meta(description="The bid deadline itself (L34)")]
    opening_place: str


class DocumentLink(msgspec.Struct):
    id: int
    filename: str
    content_type: str
    size: int
    url: Annotated[str, msgspec.Meta(description="Download link; no registration needed (E20)")]


class ClarificationNotice(msgspec.Struct):
    number: int
    title: str
    body: str
    affects_bids: bool
    issued_at: datetime
    deadline_before: datetime
    deadline_after: datetime
    files: list[DocumentLink]


class AnsweredQuestion(msgspec.Struct):
    question: str
    answer: str
    answered_at: datetime | None


class NoticeDetail(msgspec.Struct):
    id: int
    reference: str
    title: str
    description: str
    status: str
    suspended_by: Annotated[
        str | None, msgspec.Meta(description="monitor (E52) or objection (R22) when suspended")
    ]
    cancel_reason: str | None
    category: str
    region: str
    government_procurement: bool
    state_funded: bool
    purchaser: str
    agency: str
    contact_name: str
    contact_phone: str
    url: str
    lots: list[LotInfo]
    criteria: EvaluationCriteria
    timeline: Timeline
    documents: list[DocumentLink]
    clarifications: list[ClarificationNotice]
    questions: Annotated[
        list[AnsweredQuestion], msgspec.Meta(description="Answered questions; the asker is never disclosed")
    ]


class ErrorProblem(msgspec.Struct):
    code: str
    field: str | None
    rule: str | None
    message: str


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    problems: list[ErrorProblem]


class ErrorResponse(msgspec.Struct):
    error: ErrorDetail


# ---------------------------------------------------------------- bad query parameters


PARAMETER_PROBLEMS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "page": ("page_invalid", N_("The parameter %(name)s must be a whole number, 1 or more."), {}),
    "page_size": (
        "page_size_invalid",
        N_("The parameter %(name)s must be a whole number from 1 to %(max)s."),
        {"max": 100},
    ),
    "category": (
        "category_invalid",
        N_("The parameter %(name)s must be one of: %(allowed)s."),
        {"allowed": ", ".join(rules.CATEGORIES)},
    ),
    "status": (
        "status_invalid",
        N_("The parameter %(name)s must be one of: %(allowed)s."),
        {"allowed": ", ".join(notices.STATUS_FILTERS)},
    ),
    "q": (
        "q_invalid",
        N_("The parameter %(name)s must be text of at most %(max)s characters."),
        {"max": 200},
    ),
    "region": (
        "region_invalid",
        N_("The parameter %(name)s must be text of at most %(max)s characters."),
        {"max": 100},
    ),
}


def parameter_problems(exc: ValidationException) -> list[Problem]:
    out = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        key = str(item.get("key", "")) if isinstance(item, dict) else ""
        code, message, params = PARAMETER_PROBLEMS.get(
            key, ("parameter_invalid", N_("The parameter %(name)s is not valid."), {})
        )
        out.append(
            Problem(code=code, message=message, field=key or None, params={"name": key or "?", **params})
        )
    return out or [
        Problem(
            "invalid_request", N_("The request is not valid: %(detail)s"), params={"detail": str(exc.detail)}
        )
    ]


def validation_error_handler(request: Request, exc: ValidationException) -> Response[Any]:
    """A bad query parameter is a 400 with a stable code and a message naming the parameter."""
    return Response(
        problems_json(locale_of(request), parameter_problems(exc)), status_code=400, media_type=MediaType.JSON
    )


# ---------------------------------------------------------------- conversion


def _lot(lot: Any) -> LotInfo:
    return LotInfo(lot.number, lot.name, lot.estimated_price, lot.price_ceiling, lot.bid_security)


def _document(doc: TenderDocument) -> DocumentLink:
    return DocumentLink(doc.id, doc.filename, doc.content_type, doc.size, f"/documents/{doc.id}")


def notice_page(result: notices.NoticeList) -> NoticePage:
    p = result.page
    items = [
        NoticeSummary(
            id=t.id,
            reference=t.reference,
            title=t.title,
            category=t.category,
            region=t.region,
            status=t.status,
            published_at=t.published_at,
            bid_deadline=t.bid_deadline,
            url=f"/tenders/{t.id}",
            lots=[_lot(lot) for lot in result.lots.get(t.id, [])],
        )
        for t in p.items
    ]
    return NoticePage(items=items, total=p.total, page=p.page, page_size=p.page_size, pages=p.pages)


def notice_out(d: notices.NoticeDetail) -> NoticeDetail:
    t, c = d.tender, d.criteria
    suspended_by = None
    if t.status == Status.suspended:
        suspended_by = "monitor" if t.monitor_suspended else "objection"
    return NoticeDetail(
        id=t.id,
        reference=t.reference,
        title=t.title,
        description=t.description,
        status=t.status,
        suspended_by=suspended_by,
        cancel_reason=t.cancel_reason or None if t.status == Status.cancelled else None,
        category=t.category,
        region=t.region,
        government_procurement=t.government_procurement,
        state_funded=t.state_funded,
        purchaser=d.purchaser_name,
        agency=d.agency_name,
        contact_name=t.contact_name,
        contact_phone=t.contact_phone,
        url=f"/tenders/{t.id}",
        lots=[_lot(lot) for lot in d.lots],
        criteria=EvaluationCriteria(
            evaluation_method=t.evaluation_method,
            qualification=c.qualification,
            compliance=c.compliance,
            factors=[ScoringFactor(f.name, f.points, f.kind, f.description) for f in c.factors],
            price_points=c.price_points,
            benchmark_e1=c.e1,
            benchmark_e2=c.e2,
            total_points=c.total_points,
        ),
        timeline=Timeline(
            published_at=t.published_at,
            documents_from=t.doc_issue_start,
            documents_until=t.doc_issue_end,
            question_deadline=t.question_deadline,
            objection_deadline=d.objection_deadline,
            bid_deadline=t.bid_deadline,
            original_bid_deadline=t.original_bid_deadline,
            opening_time=t.bid_deadline,
            opening_place=t.opening_place,
        ),
        documents=[_document(doc) for doc in d.documents],
        clarifications=[
            ClarificationNotice(
                number=cv.clarification.number,
                title=cv.clarification.title,
                body=cv.clarification.body,
                affects_bids=cv.clarification.affects_bids,
                issued_at=cv.clarification.issued_at,
                deadline_before=cv.clarification.deadline_before,
                deadline_after=cv.clarification.deadline_after,
                files=[_document(doc) for doc in cv.files],
            )
            for cv in d.clarifications
        ],
        questions=[AnsweredQuestion(q.text, q.answer, q.answered_at) for q in d.questions],
    )


# ---------------------------------------------------------------- handlers

LIST_ERRORS = {
    400: ResponseSpec(
        ErrorResponse,
        description=(
            "A query parameter is not valid (code page_invalid, page_size_invalid, "
            "category_invalid, status_invalid, ...)"
        ),
    ),
}
DETAIL_ERRORS = {
    400: ResponseSpec(ErrorResponse, description="The id is not a number"),
    404: ResponseSpec(
        ErrorResponse, description="No such notice (code tender_not_found); drafts are not public"
    ),
}


@get(
    "/notices",
    sync_to_thread=True,
    summary="List tender notices",
    description=(
        "Published notices, newest first, with the same search, filters and paging as the public notice list."
    ),
    responses=LIST_ERRORS,
)
def list_notices(
    request: Request,
    db: Session,
    q: Annotated[
        str, Parameter(max_length=200, description="Words in the title or the reference number")
    ] = "",
    category: Annotated[Category | None, Parameter(description="works, goods or services")] = None,
    region: Annotated[str, Parameter(max_length=100, description="Exact region name")] = "",
    status: Annotated[
        StatusFilter | None,
        Parameter(description="open (accepting bids) or a lifecycle status; all public statuses when absent"),  # type: ignore[valid-type]
    ] = None,
    page: Annotated[int, Parameter(ge=1, description="Page number, from 1")] = 1,
    page_size: Annotated[int, Parameter(ge=1, le=100, description="Notices per page (1-100)")] = 20,
) -> Response[NoticePage]:
    cache = request.app.state.public_cache
    key = cache.key(request, "api", True)  # the JSON list is the same for everyone
    if (hit := cache.get(key)) is not None:
        return Response(hit, media_type=MediaType.JSON)  # type: ignore[arg-type]
    result = notices.browse(
        db,
        q=q.strip(),
        category=category.value if category else "",
        region=region.strip(),
        status=status.value if status else "",
        page=page,
        page_size=page_size,
        with_lots=True,
    )
    return Response(cache.put(key, encode_json(notice_page(result))), media_type=MediaType.JSON)  # type: ignore[arg-type]


@get(
    "/notices/{tender_id:int}",
    sync_to_thread=True,
    summary="Get a tender notice",
    description=(
        "A notice with its lots, evaluation criteria (P35), timeline, documents with download links, "
        "clarifications and answered questions. Who downloaded or registered is never part of it (E21)."
    ),
    responses=DETAIL_ERRORS,
)
def get_notice(
    db: Session, actor: Actor, tender_id: Annotated[int, Parameter(description="The notice id")]
) -> NoticeDetail:
    return notice_out(notices.notice_detail(db, actor, tender_id))


api_v1 = Router(
    "/api/v1",
    route_handlers=[list_notices, get_notice],
    tags=[TAG],
    exception_handlers={ValidationException: validation_error_handler},
)

ROUTES = [api_v1]
