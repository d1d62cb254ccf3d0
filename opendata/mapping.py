"""From the platform's facts to OCDS 1.1.5 release fragments: pure functions, no database, no clock
(docs/opendata.md describes every field). releases.py gathers the facts, asks the disclosure policy whether
and from when each is public, and stores what these functions build.

Money is kept in fen (分); OCDS amounts are yuan in CNY: fen / 100 as a Decimal, exact (never a float)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

CURRENCY = "CNY"
CST = timezone(timedelta(hours=8))  # China Standard Time: a contract's dates are days in China

# OCDS codelists (closed ones exactly as the schema lists them)
CATEGORY = {"works": "works", "goods": "goods", "services": "services"}  # mainProcurementCategory
AWARD_CRITERIA = {  # the awardCriteria codelist (1.1): the lowest price, or points
    "lowest_price": "lowestCost",
    "comprehensive": "ratedCriteria",
    "average_benchmark": "ratedCriteria",
}
BID_STATUS = {  # opened-bid outcome -> the bid extension's bidStatus
    "opened": "valid",
    "withdrawn": "withdrawn",  # 撤回 (E31): through no fault of the bidder
    "revoked": "disqualified",  # 撤销 (E31): through the bidder's own fault
    "pending": "pending",
    "decrypting": "pending",
}


def money(fen: int | None) -> dict[str, Any] | None:
    if fen is None:
        return None
    return {"amount": Decimal(int(fen)) / 100, "currency": CURRENCY}


def iso(value: datetime | None) -> str | None:
    """A time in UTC, to the second, with its offset (OCDS: RFC 3339 date-time)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def day_start(value: date | None) -> str | None:
    """A calendar day in China as the date-time of its start there."""
    return None if value is None else datetime.combine(value, time(0, 0), CST).isoformat()


@dataclass(frozen=True)
class Org:
    id: int
    name: str
    credit_code: str
    region: str = ""
    address: str = ""
    phone: str = ""


def party_id(scheme: str, org: Org) -> str:
    """A party's id: its identifier under the org-id scheme (stable across processes and publishers)."""
    return f"{scheme}-{org.credit_code}" if org.credit_code else f"etender-org-{org.id}"


def org_ref(scheme: str, org: Org) -> dict[str, Any]:
    return {"id": party_id(scheme, org), "name": org.name}


def party(
    scheme: str, org: Org, roles: Iterable[str], contact: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A party with its roles. Every release that names a party states all its roles at that moment: OCDS
    merges a roles list as a whole, so a later release must not drop an earlier role."""
    doc: dict[str, Any] = {
        "id": party_id(scheme, org),
        "name": org.name,
        "identifier": {"scheme": scheme, "id": org.credit_code, "legalName": org.name},
        "roles": list(dict.fromkeys(roles)),
    }
    address = {k: v for k, v in (("streetAddress", org.address), ("region", org.region)) if v}
    if address:
        doc["address"] = {**address, "countryName": "中国"}
    point = {k: v for k, v in (contact or {}).items() if v}
    if point:
        doc["contactPoint"] = point
    return doc


def release(ocid: str, release_id: str, when: datetime, tags: list[str], **sections: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ocid": ocid,
        "id": release_id,
        "date": iso(when),
        "tag": tags,
        "initiationType": "tender",
        "language": "zh",
    }
    doc.update({k: v for k, v in sections.items() if v is not None})
    return doc


def audit_ref(
    public_url: str, index: int | None, tag: str | None, when: datetime | None
) -> dict[str, Any] | None:
    """The etender_audit extension: the entry that records the change, and where its proof is. `tag` and
    `when` only when this side knows them (a row of another package names its entry by index alone)."""
    if index is None:
        return None
    base = public_url.rstrip("/")
    ref = {
        "index": index,
        "tag": tag,
        "time": iso(when),
        "entryUrl": f"{base}/api/v1/audit/entries/{index}",
        "proofUrl": f"{base}/api/v1/audit/proof/inclusion?index={index}",
    }
    return {k: v for k, v in ref.items() if v is not None}


@dataclass(frozen=True)
class LotFacts:
    number: int
    name: str
    description: str
    estimated_fen: int
    ceiling_fen: int
    security_fen: int


@dataclass(frozen=True)
class DocFacts:
    id: int
    filename: str
    content_type: str
    uploaded_at: datetime


def lot_id(number: int) -> str:
    return str(number)


def documents(
    public_url: str, docs: Iterable[DocFacts], kind: str, published: datetime
) -> list[dict[str, Any]]:
    base = public_url.rstrip("/")
    return [
        {
            "id": str(d.id),
            "documentType": kind,
            "title": d.filename,
            "url": f"{base}/documents/{d.id}",
            "format": d.content_type,
            "datePublished": iso(max(d.uploaded_at, published)),
            "language": "zh",
        }
        for d in docs
    ]


def tender_section(
    *,
    reference: str,
    title: str,
    description: str,
    category: str,
    method: str,
    procuring_entity: dict[str, Any],
    published_at: datetime,
    bid_deadline: datetime | None,
    question_deadline: datetime | None,
    lots: list[LotFacts],
    docs: list[dict[str, Any]],
) -> dict[str, Any]:
    """The tender as published (R27: the ceiling is public; P35: the method with the documents). The deadline
    is the one published: a clarification's later one comes in its own amendment release."""
    section: dict[str, Any] = {
        "id": reference,
        "title": title,
        "description": description or None,
        "status": "active",
        "procuringEntity": procuring_entity,
        "value": money(sum(lot.estimated_fen for lot in lots)) if lots else None,
        "procurementMethod": "open",
        "procurementMethodDetails": "公开招标",
        "mainProcurementCategory": CATEGORY.get(category),
        "awardCriteria": AWARD_CRITERIA.get(method),
        "awardCriteriaDetails": method,
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": iso(published_at), "endDate": iso(bid_deadline)},
        "enquiryPeriod": {"startDate": iso(published_at), "endDate": iso(question_deadline)}
        if question_deadline
        else None,
        "documents": docs or None,
        "lots": [
            {
                "id": lot_id(lot.number),
                "title": lot.name,
                "description": lot.description or None,
                "status": "active",
                "value": money(lot.estimated_fen),
                "maximumValue": money(lot.ceiling_fen),
                "bidSecurity": money(lot.security_fen),
            }
            for lot in lots
        ],
    }
    return {k: v for k, v in section.items() if v is not None}


@dataclass(frozen=True)
class BidFacts:
    bid_id: int
    lot_number: int
    org: Org
    outcome: str  # OpenedBidStatus
    submitted_at: datetime | None
    total_price_fen: int | None
    duration_days: int | None
    sealed_sha256: str


def bids_section(
    scheme: str, lots_received: Mapping[int, int], bids: list[BidFacts], when: datetime
) -> dict[str, Any]:
    """The bids extension's part once the opening record is public (E29, E32): per lot the bids counted at
    the deadline and those opened, and each counted bid with its opened price."""
    stats: list[dict[str, Any]] = []
    for number in sorted(lots_received):
        stats.append(
            {
                "id": f"{number}-bids",
                "measure": "bids",
                "value": lots_received[number],
                "relatedLot": lot_id(number),
                "date": iso(when),
            }
        )
        opened = sum(1 for b in bids if b.lot_number == number and b.outcome == "opened")
        stats.append(
            {
                "id": f"{number}-opened",
                "measure": "opened",
                "value": opened,
                "relatedLot": lot_id(number),
                "date": iso(when),
            }
        )
    details = []
    for b in bids:
        item: dict[str, Any] = {
            "id": str(b.bid_id),
            "date": iso(b.submitted_at),
            "status": BID_STATUS.get(b.outcome, "pending"),
            "tenderers": [org_ref(scheme, b.org)],
            "relatedLots": [lot_id(b.lot_number)],
            "sealedFileSha256": b.sealed_sha256 or None,
        }
        if b.outcome == "opened" and b.total_price_fen is not None:
            item["value"] = money(b.total_price_fen)
        if b.outcome == "opened" and isinstance(b.duration_days, int):
            item["durationInDays"] = b.duration_days
        details.append({k: v for k, v in item.items() if v is not None})
    return {"statistics": stats, "details": details}


def award_id(bid_id: int) -> str:
    """An award is named by the bid it is for: the candidate's pending award and the purchaser's award of the
    same bid are one award whose status moves on (OCDS merges awards by id)."""
    return f"bid-{bid_id}"


def decimal_or_none(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def ranking_results(
    ranking: Mapping[str, Any], bidders: Mapping[int, Mapping[str, Any]], rejected: Iterable[int]
) -> list[dict[str, Any]]:
    """The evaluation results the public sees with the candidates (R54; Fact.scores): each ranked bid's rank,
    total and evaluated price, and which bids the review rejected. `bidders` maps an opened-bid id to its
    report entry (bid id, lot)."""
    candidates = set(ranking.get("candidates") or [])
    results: list[dict[str, Any]] = []
    for row in ranking.get("ranking") or []:
        who = bidders.get(int(row["bid"]))
        if who is None:
            continue
        item: dict[str, Any] = {
            "id": str(who["bid"]),
            "bidID": str(who["bid"]),
            "relatedLot": lot_id(int(who["lot"])),
            "status": "valid",
            "rank": int(row["rank"]),
            "candidate": int(row["bid"]) in candidates,
            "totalScore": decimal_or_none(row.get("total")),
            "evaluatedValue": money(row.get("evaluated_price_fen")),
        }
        results.append({k: v for k, v in item.items() if v is not None})
    for opened_bid in rejected:
        who = bidders.get(int(opened_bid))
        if who is not None:
            results.append(
                {
                    "id": str(who["bid"]),
                    "bidID": str(who["bid"]),
                    "relatedLot": lot_id(int(who["lot"])),
                    "status": "rejected",
                }
            )
    return results


def report_evaluation(
    document: Mapping[str, Any], sha256: str, completed_at: datetime | None
) -> dict[str, Any]:
    """The etender_evaluation extension from the signed report (R53), once it is public (L37: final): the
    committee by seat, each result with every member's total for the bid from their sheet."""
    bidders = {int(b["opened_bid"]): b for b in document.get("bidders") or []}
    review = document.get("review") or {}
    rejected = [int(r["bid"]) for r in review.get("rejected") or [] if "bid" in r]
    results = ranking_results(document.get("ranking") or {}, bidders, rejected)
    summary = ((document.get("sections") or {}).get("scoring") or {}).get("summary") or {}
    if isinstance(summary, list):
        summary = {str(row.get("bid")): row for row in summary if isinstance(row, Mapping)}
    by_bid = {str(b["bid"]): ob for ob, b in bidders.items()}
    for result in results:
        row = summary.get(str(by_bid.get(result["id"], ""))) if isinstance(summary, Mapping) else None
        sums = (row or {}).get("member_sums") if isinstance(row, Mapping) else None
        if isinstance(sums, Mapping):
            result["memberScores"] = [
                {"id": str(seat), "score": decimal_or_none(score)}
                for seat, score in sorted(sums.items(), key=lambda kv: str(kv[0]))
            ]
    committee = document.get("committee") or {}
    return {
        "method": (document.get("ranking") or {}).get("method")
        or (document.get("tender") or {}).get("method"),
        "reportSha256": sha256,
        "reportDate": iso(completed_at),
        "committee": [
            {
                "id": str(m["seat"]),
                "name": m.get("name") or None,
                "chair": bool(m.get("chair")),
                "specialty": m.get("specialty") or None,
            }
            for m in committee.get("members") or []
        ],
        "results": results,
    }
