"""OCDS releases: one per change the public may see, stored once it has become public (sync), then served as
a paged release package (feed), a record package per process (record) and a streamed export (stream).

sync() asks the one disclosure policy (core.disclosure through tender.disclosure.phase_of) for every release:
the tender and its amendments once published (Fact.draft), the bids once the opening record is public
(Fact.bids), the candidates and their scores with the publicity (Fact.scores, R54), the committee and each
member's scores once the result is final (Fact.evaluation_report, L37), the award and the contract from the
award package's rows. A release's `date` is when its change became public, never the sync's own time, and a
release is never built before that change exists: nothing here looks ahead.

It is safe to run twice and from several processes: a release's id is fixed by what it reflects, it is
inserted only when absent, and the writers are serialised by the audit log's head lock (the sync records its
own entry before inserting), so `seq` grows in commit order and the feed's cursor never skips a release."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accounts.models import Organisation
from audit import record
from audit.queries import Entry, entries_tagged
from award.models import Award, AwardStatus, Contract, Publicity
from core import clock
from core.disclosure import Audience, Fact, Phase, may_see
from core.errors import N_, BadRequest, NotFound
from core.identity import SYSTEM
from core.settings import Settings
from evaluation.report.events import ReportTag
from evaluation.report.models import EvaluationReport
from opendata import mapping, schema
from opendata.events import OpendataTag
from opendata.mapping import Org
from opendata.models import OcdsRelease, OcdsSyncState
from tender.bids.submission import counted_bids
from tender.disclosure import phase_of
from tender.events import TenderTag
from tender.lifecycle import Status
from tender.models import Bid, Clarification, Lot, OpenedBid, Opening, OpeningStatus, Tender, TenderDocument

PUBLIC = {Audience.public}
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_ENCODER = msgspec.json.Encoder(decimal_format="number")  # Decimal amounts written as exact JSON numbers
_ENTRY_TAGS = [
    TenderTag.tender_published,
    TenderTag.tender_clarified,
    TenderTag.tender_cancelled,
    TenderTag.tender_failed,
    TenderTag.opening_record_published,
]


def encode(doc: Any) -> bytes:
    return _ENCODER.encode(doc)


def decode(text: str | bytes) -> Any:
    """A stored document back as Python values, amounts as Decimal (exact, as they were written)."""
    return json.loads(text, parse_float=Decimal)


def ocid_for(settings: Settings, tender_id: int) -> str:
    return f"{settings.ocid_prefix}{tender_id}"


@dataclass
class Candidate:
    """A release that may be stored: its change is public and happened at `date`."""

    release_id: str
    tags: list[str]
    date: datetime
    audit_index: int | None
    doc: dict[str, Any]


# ---------------------------------------------------------------- gathering the facts of one tender


def _org(row: Organisation) -> Org:
    return Org(row.id, row.name, row.credit_code, row.region, row.address, row.contact_phone)


class _Builder:
    """The releases of one tender that are public now."""

    def __init__(self, session: Session, settings: Settings, tender: Tender, reviewers: list[Org]):
        self.s = session
        self.settings = settings
        self.scheme = settings.ocds_identifier_scheme
        self.tender = tender
        self.ocid = ocid_for(settings, tender.id)
        self.phase = phase_of(session, tender)
        self.reviewers = reviewers
        self.entries: dict[str, list[Entry]] = defaultdict(list)
        for e in entries_tagged(session, _ENTRY_TAGS, subject=f"tender:{tender.id}"):
            # an entry the log still withholds (its tag, time and subject are not public yet) is never named
            if not getattr(e, "hidden", False):
                self.entries[e.tag].append(e)
        ids = {tender.purchaser_id, tender.agency_id}
        self.orgs = {
            o.id: _org(o) for o in session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
        }

    def _entry(self, tag: str, **details: Any) -> Entry | None:
        for e in self.entries.get(tag, []):
            if all((e.details or {}).get(k) == v for k, v in details.items()):
                return e
        return None

    def _audit(self, index: int | None, tag: str | None, when: datetime | None) -> dict[str, Any] | None:
        return mapping.audit_ref(self.settings.public_url, index, tag, when)

    def _buyer_parties(self) -> list[dict[str, Any]]:
        t = self.tender
        parties = []
        if (buyer := self.orgs.get(t.purchaser_id)) is not None:
            parties.append(mapping.party(self.scheme, buyer, ["buyer"]))
        if (agency := self.orgs.get(t.agency_id)) is not None:
            contact = {"name": t.contact_name, "telephone": t.contact_phone}
            parties.append(mapping.party(self.scheme, agency, ["procuringEntity"], contact))
        # R60: complaints go to the supervising authority
        parties += [mapping.party(self.scheme, r, ["reviewBody"]) for r in self.reviewers]
        return parties

    def _base(self, rid: str, when: datetime, tags: list[str], **sections: Any) -> dict[str, Any]:
        buyer = self.orgs.get(self.tender.purchaser_id)
        return mapping.release(
            self.ocid,
            f"{self.ocid}-{rid}",
            when,
            tags,
            buyer=mapping.org_ref(self.scheme, buyer) if buyer else None,
            **sections,
        )

    # -- the releases, each returning None while its change is not public

    def tender_release(self) -> Candidate | None:
        t = self.tender
        # Fact.draft: a tender is public with its publication, not before (a draft has no release)
        if t.published_at is None or not may_see(Fact.draft, PUBLIC, self.phase):
            return None
        agency = self.orgs.get(t.agency_id)
        docs = [
            mapping.DocFacts(d.id, d.filename, d.content_type, d.uploaded_at)
            for d in self.s.scalars(
                select(TenderDocument)
                .where(TenderDocument.tender_id == t.id, TenderDocument.clarification_id.is_(None))
                .order_by(TenderDocument.id)
            )
            if d.uploaded_at <= t.published_at
        ]
        lots = [
            mapping.LotFacts(
                lot.number,
                lot.name,
                lot.description,
                lot.estimated_price,
                lot.price_ceiling,
                lot.bid_security,
            )
            for lot in self.s.scalars(select(Lot).where(Lot.tender_id == t.id).order_by(Lot.number))
        ]
        section = mapping.tender_section(
            reference=t.reference,
            title=t.title,
            description=t.description,
            category=t.category,
            method=t.evaluation_method,
            procuring_entity=mapping.org_ref(self.scheme, agency) if agency else {},
            published_at=t.published_at,
            bid_deadline=t.original_bid_deadline or t.bid_deadline,
            question_deadline=t.question_deadline,
            lots=lots,
            docs=mapping.documents(self.settings.public_url, docs, "tenderNotice", t.published_at),
        )
        entry = self._entry(TenderTag.tender_published)
        doc = self._base(
            "tender",
            t.published_at,
            ["tender"],
            parties=self._buyer_parties(),
            tender=section,
            auditEntry=self._audit(
                entry.index if entry else None, TenderTag.tender_published, entry.time if entry else None
            ),
        )
        return Candidate(doc["id"], doc["tag"], t.published_at, entry.index if entry else None, doc)

    def amendment_releases(self) -> list[Candidate]:
        """R21: each clarification is public when issued; one that changes what bidders must offer (or moves
        the deadline) is a tenderAmendment, any other a tenderUpdate."""
        t = self.tender
        if t.published_at is None:
            return []
        out = []
        clarifications = self.s.scalars(
            select(Clarification).where(Clarification.tender_id == t.id).order_by(Clarification.number)
        )
        for c in clarifications:
            docs = [
                mapping.DocFacts(d.id, d.filename, d.content_type, d.uploaded_at)
                for d in self.s.scalars(
                    select(TenderDocument)
                    .where(TenderDocument.clarification_id == c.id)
                    .order_by(TenderDocument.id)
                )
            ]
            amends = c.affects_bids or c.deadline_after != c.deadline_before
            entry = self._entry(TenderTag.tender_clarified, number=c.number)
            section: dict[str, Any] = {
                "id": t.reference,
                "tenderPeriod": {"endDate": mapping.iso(c.deadline_after)},
                "amendments": [
                    {
                        "id": str(c.number),
                        "date": mapping.iso(c.issued_at),
                        "rationale": c.title,
                        "description": c.body,
                    }
                ],
            }
            if docs:
                section["documents"] = mapping.documents(
                    self.settings.public_url, docs, "clarifications", c.issued_at
                )
            doc = self._base(
                f"amendment-{c.number}",
                c.issued_at,
                ["tenderAmendment" if amends else "tenderUpdate"],
                tender=section,
                auditEntry=self._audit(
                    entry.index if entry else None, TenderTag.tender_clarified, c.issued_at
                ),
            )
            out.append(Candidate(doc["id"], doc["tag"], c.issued_at, entry.index if entry else None, doc))
        return out

    def _status_release(
        self, rid: str, tag: str, ocds_status: str, entry_tag: str, rationale: str
    ) -> Candidate | None:
        t = self.tender
        entry = self._entry(entry_tag)
        when = entry.time if entry else t.updated_at
        section: dict[str, Any] = {"id": t.reference, "status": ocds_status}
        if rationale:
            section["amendments"] = [{"id": rid, "date": mapping.iso(when), "rationale": rationale}]
        doc = self._base(
            rid,
            when,
            [tag],
            tender=section,
            auditEntry=self._audit(entry.index if entry else None, entry_tag, when),
        )
        return Candidate(doc["id"], doc["tag"], when, entry.index if entry else None, doc)

    def end_release(self) -> Candidate | None:
        """A published tender cancelled (tenderCancellation) or failed (tenderUpdate, unsuccessful: R44 fewer
        than 3 bids, or every bid rejected): public as the notice's status is, from the moment it changed."""
        t = self.tender
        if t.published_at is None:
            return None
        if t.status == Status.cancelled:
            return self._status_release(
                "cancellation", "tenderCancellation", "cancelled", TenderTag.tender_cancelled, t.cancel_reason
            )
        if t.status == Status.failed:
            return self._status_release(
                "unsuccessful", "tenderUpdate", "unsuccessful", TenderTag.tender_failed, t.end_reason_key
            )
        return None

    def bids_release(self) -> Candidate | None:
        """E29/E32: the bidders' names and prices are public once the opening record is published; before,
        not even how many bid (E21, L22)."""
        t = self.tender
        if not may_see(Fact.bids, PUBLIC, self.phase):
            return None
        opening = self.s.scalar(select(Opening).where(Opening.tender_id == t.id))
        if opening is None or opening.status not in (OpeningStatus.done, OpeningStatus.failed):
            return None
        entry = self._entry(TenderTag.opening_record_published)
        when = entry.time if entry else (opening.finished_at or opening.opens_at)
        rows = self.s.execute(
            select(OpenedBid, Bid, Organisation, Lot.number)
            .join(Bid, Bid.id == OpenedBid.bid_id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .join(Lot, Lot.id == Bid.lot_id)
            .where(OpenedBid.opening_id == opening.id)
            .order_by(Lot.number, Bid.id)
        ).all()
        bids = [
            mapping.BidFacts(
                bid.id,
                number,
                _org(org),
                ob.status,
                bid.submitted_at,
                (ob.price_form or {}).get("total_price_fen"),
                (ob.price_form or {}).get("duration_days"),
                bid.blob_key,
            )
            for ob, bid, org, number in rows
        ]
        # the bids counted at the deadline (E27: each company's newest complete submission), opened or not: a
        # failed opening (R44) has no opened bids but its count is public with the failure
        numbers = dict(self.s.execute(select(Lot.id, Lot.number).where(Lot.tender_id == t.id)).tuples().all())
        received = {n: 0 for n in numbers.values()}
        for counted in counted_bids(self.s, t.id):
            received[numbers[counted.lot_id]] += 1
        tenderers = {b.org.id: b.org for b in bids}
        parties = self._buyer_parties() + [
            mapping.party(self.scheme, o, ["tenderer"]) for o in tenderers.values()
        ]
        doc = self._base(
            "bids",
            when,
            ["tenderUpdate"],
            parties=parties,
            tender={
                "id": t.reference,
                "numberOfTenderers": len(tenderers),
                "tenderers": [mapping.org_ref(self.scheme, o) for o in tenderers.values()],
            },
            bids=mapping.bids_section(self.scheme, received, bids, when),
            auditEntry=self._audit(entry.index if entry else None, TenderTag.opening_record_published, when),
        )
        return Candidate(doc["id"], doc["tag"], when, entry.index if entry else None, doc)

    def _report(self) -> tuple[EvaluationReport | None, dict[str, Any]]:
        report = self.s.scalar(
            select(EvaluationReport)
            .where(EvaluationReport.tender_id == self.tender.id, EvaluationReport.completed_at.is_not(None))
            .order_by(EvaluationReport.id.desc())
            .limit(1)
        )
        return report, (json.loads(report.document) if report is not None else {})

    def _bid_orgs(self, bid_ids: list[int]) -> dict[int, tuple[Org, int]]:
        rows = self.s.execute(
            select(Bid.id, Organisation, Lot.number)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .join(Lot, Lot.id == Bid.lot_id)
            .where(Bid.id.in_(bid_ids))
        ).all()
        return {bid_id: (_org(org), number) for bid_id, org, number in rows}

    def publicity_release(self) -> Candidate | None:
        """R54: the winning candidates with their scores are public with the publicity (Fact.scores): pending
        awards, one per candidate, and the ranking's results."""
        if not may_see(Fact.scores, PUBLIC, self.phase):
            return None
        pub = self.s.scalar(select(Publicity).where(Publicity.tender_id == self.tender.id))
        if pub is None:
            return None
        cands = [c for c in pub.candidates or [] if c.get("bid_id") is not None]
        orgs = self._bid_orgs([int(c["bid_id"]) for c in cands])
        awards, parties = [], self._buyer_parties()
        for c in sorted(cands, key=lambda c: c.get("rank", 0)):
            org, lot = orgs.get(int(c["bid_id"]), (None, None))
            if org is None:
                continue
            award: dict[str, Any] = {
                "id": mapping.award_id(int(c["bid_id"])),
                "title": f"第{c.get('rank')}中标候选人",
                "status": "pending",
                "date": mapping.iso(pub.published_at),
                "value": mapping.money(c.get("price_fen")),
                "suppliers": [mapping.org_ref(self.scheme, org)],
                "relatedLots": [mapping.lot_id(lot)] if lot is not None else None,
            }
            awards.append({k: v for k, v in award.items() if v is not None})
            parties.append(mapping.party(self.scheme, org, ["tenderer"]))
        tender: dict[str, Any] = {"id": self.tender.reference}
        report, document = self._report()
        if document:
            bidders = {int(b["opened_bid"]): b for b in document.get("bidders") or []}
            rejected = [
                int(r["bid"]) for r in (document.get("review") or {}).get("rejected") or [] if "bid" in r
            ]
            tender["evaluation"] = {
                "method": (document.get("ranking") or {}).get("method"),
                "results": mapping.ranking_results(document.get("ranking") or {}, bidders, rejected),
            }
        doc = self._base(
            "publicity",
            pub.published_at,
            ["award"],
            parties=parties,
            tender=tender,
            awards=awards,
            auditEntry=self._audit(pub.audit_index, None, None),
        )
        return Candidate(doc["id"], doc["tag"], pub.published_at, pub.audit_index, doc)

    def award_releases(self) -> list[Candidate]:
        """The purchaser's award (R55) and, if it later ended (declined, set aside), its cancellation."""
        if self.phase < Phase.publicity:
            return []
        rows = list(self.s.scalars(select(Award).where(Award.tender_id == self.tender.id).order_by(Award.id)))
        if not rows:
            return []
        orgs = self._bid_orgs([a.bid_id for a in rows])
        out = []
        for a in rows:
            org, lot = orgs.get(a.bid_id, (None, None))
            if org is None:
                continue
            base = {
                "id": mapping.award_id(a.bid_id),
                "suppliers": [mapping.org_ref(self.scheme, org)],
                "relatedLots": [mapping.lot_id(lot)] if lot is not None else None,
            }
            active = {
                **base,
                "status": "active",
                "date": mapping.iso(a.decided_at),
                "value": mapping.money(a.amount),
            }
            parties = self._buyer_parties() + [mapping.party(self.scheme, org, ["tenderer", "supplier"])]
            doc = self._base(
                f"award-{a.id}",
                a.decided_at,
                ["award"],
                parties=parties,
                tender={"id": self.tender.reference, "status": "complete"},
                awards=[{k: v for k, v in active.items() if v is not None}],
                auditEntry=self._audit(a.audit_index, None, None),
            )
            out.append(Candidate(doc["id"], doc["tag"], a.decided_at, a.audit_index, doc))
            if a.status != AwardStatus.active and a.ended_at is not None:
                ended = {**base, "status": "cancelled"}
                doc = self._base(
                    f"award-{a.id}-ended",
                    a.ended_at,
                    ["awardCancellation"],
                    awards=[{k: v for k, v in ended.items() if v is not None}],
                )
                out.append(Candidate(doc["id"], doc["tag"], a.ended_at, None, doc))
        return out

    def contract_releases(self) -> list[Candidate]:
        """L46: the contract recorded after the award. A government-procurement contract is public when the
        platform publishes it (its contracts are published on time); any other once recorded."""
        if self.phase < Phase.publicity:
            return []
        out = []
        rows = self.s.execute(
            select(Contract, Award.bid_id)
            .join(Award, Award.id == Contract.award_id)
            .where(Contract.tender_id == self.tender.id)
            .order_by(Contract.id)
        ).all()
        for c, bid_id in rows:
            when = c.published_at if self.tender.government_procurement else (c.published_at or c.recorded_at)
            if when is None:
                continue
            contract: dict[str, Any] = {
                "id": str(c.id),
                "awardID": mapping.award_id(bid_id),
                "status": "active",
                "value": mapping.money(c.amount),
                "dateSigned": mapping.day_start(c.signed_on),
            }
            if c.starts_on or c.ends_on:
                contract["period"] = {
                    k: v
                    for k, v in (
                        ("startDate", mapping.day_start(c.starts_on)),
                        ("endDate", mapping.day_start(c.ends_on)),
                    )
                    if v
                }
            if c.filename:
                contract["documents"] = [
                    {
                        "id": f"contract-{c.id}",
                        "documentType": "contractSigned",
                        "title": c.filename,
                        "datePublished": mapping.iso(when),
                    }
                ]
            doc = self._base(
                f"contract-{c.id}",
                when,
                ["contract"],
                contracts=[contract],
                auditEntry=self._audit(c.audit_index, None, None),
            )
            out.append(Candidate(doc["id"], doc["tag"], when, c.audit_index, doc))
        return out

    def _final_at(self) -> datetime | None:
        """When the result became final: the first award, or the tender's failure or cancellation."""
        if self.tender.status == Status.awarded:
            first = self.s.scalar(select(func.min(Award.decided_at)).where(Award.tender_id == self.tender.id))
            return first or self.tender.updated_at
        for tag in (TenderTag.tender_failed, TenderTag.tender_cancelled):
            if (e := self._entry(tag)) is not None:
                return e.time
        return self.tender.updated_at

    def evaluation_release(self) -> Candidate | None:
        """L37/P8: the committee's names and each member's scores are public once the result is final
        (Fact.evaluation_report), from the signed report."""
        if not may_see(Fact.evaluation_report, PUBLIC, self.phase):
            return None
        report, document = self._report()
        if report is None:
            return None
        final = self._final_at()
        when = max(d for d in (report.completed_at, final) if d is not None)
        doc = self._base(
            "evaluation",
            when,
            ["tenderUpdate"],
            tender={
                "id": self.tender.reference,
                "evaluation": mapping.report_evaluation(document, report.sha256, report.completed_at),
            },
            auditEntry=self._audit(report.audit_index, ReportTag.report_generated, report.generated_at),
        )
        return Candidate(doc["id"], doc["tag"], when, report.audit_index, doc)

    def all(self) -> list[Candidate]:
        found: list[Candidate | None] = [self.tender_release()]
        found += self.amendment_releases()
        found += [self.bids_release(), self.publicity_release()]
        found += self.award_releases()
        found += [self.evaluation_release(), self.end_release()]
        found += self.contract_releases()
        return sorted((c for c in found if c is not None), key=lambda c: c.date)


def _reviewers(session: Session) -> list[Org]:
    rows = session.scalars(
        select(Organisation)
        .where(Organisation.kind == "supervisor", Organisation.active.is_(True))
        .order_by(Organisation.id)
    )
    return [_org(o) for o in rows]


def public_releases(session: Session, settings: Settings, tender: Tender) -> list[Candidate]:
    """Every release of this tender whose change is public now, oldest first (nothing is stored)."""
    return _Builder(session, settings, tender, _reviewers(session)).all()


# ---------------------------------------------------------------- storing


def _digests(session: Session, tenders: list[Tender]) -> dict[int, str]:
    """Each tender's digest of the facts its releases are built from (OcdsSyncState), a few grouped queries
    per batch."""
    ids = [t.id for t in tenders]
    now = clock.now()
    parts: dict[int, list[Any]] = {
        t.id: [
            t.status,
            t.resume_to,
            mapping.iso(t.published_at),
            mapping.iso(t.updated_at),
            t.bid_deadline is not None and now >= t.bid_deadline,
        ]
        for t in tenders
    }
    queries = [
        select(Clarification.tender_id, func.count(), func.max(Clarification.issued_at)).group_by(
            Clarification.tender_id
        ),
        select(Opening.tender_id, Opening.status, Opening.finished_at),
        select(Publicity.tender_id, Publicity.published_at),
        select(
            Award.tender_id,
            func.count(),
            func.max(Award.decided_at),
            func.count(Award.ended_at),
            func.max(Award.ended_at),
            func.max(Award.status),
        ).group_by(Award.tender_id),
        select(
            Contract.tender_id,
            func.count(),
            func.max(Contract.recorded_at),
            func.count(Contract.published_at),
            func.max(Contract.published_at),
        ).group_by(Contract.tender_id),
        select(EvaluationReport.tender_id, func.count(EvaluationReport.completed_at)).group_by(
            EvaluationReport.tender_id
        ),
    ]
    for n, stmt in enumerate(queries):
        column = stmt.selected_columns[0]
        for row in session.execute(stmt.where(column.in_(ids))).tuples():
            values = [mapping.iso(v) if isinstance(v, datetime) else v for v in row[1:]]
            tender_id: int = row[0]  # type: ignore[assignment]  # the first column is always the tender id
            parts[tender_id].append((n, values))
    return {
        tid: hashlib.sha256(json.dumps(p, sort_keys=True, default=str).encode()).hexdigest()
        for tid, p in parts.items()
    }


def _save_digests(session: Session, digests: dict[int, str]) -> None:
    if not digests:
        return
    rows = [{"tender_id": t, "digest": d, "synced_at": clock.now()} for t, d in digests.items()]
    dialect = session.get_bind().dialect.name
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_(OcdsSyncState).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[OcdsSyncState.tender_id],
        set_={"digest": stmt.excluded.digest, "synced_at": stmt.excluded.synced_at},
    )
    session.execute(stmt)


def sync(session: Session, settings: Settings, *, batch: int = 200, full: bool = False) -> int:
    """Store every release that has become public and is not stored yet; returns how many were stored.
    Idempotent: run it twice and the second run stores nothing. A tender whose facts are unchanged since the
    last sync (OcdsSyncState) is skipped; `full` builds every tender's releases again."""
    reviewers = _reviewers(session)
    stored = 0
    last_id = 0
    locked = False
    while True:
        tenders = list(
            session.scalars(
                select(Tender)
                .where(Tender.published_at.is_not(None), Tender.id > last_id)
                .order_by(Tender.id)
                .limit(batch)
            )
        )
        if not tenders:
            break
        last_id = tenders[-1].id
        digests = _digests(session, tenders)
        if not full:
            seen = dict(
                session.execute(
                    select(OcdsSyncState.tender_id, OcdsSyncState.digest).where(
                        OcdsSyncState.tender_id.in_(list(digests))
                    )
                )
                .tuples()
                .all()
            )
            tenders = [t for t in tenders if seen.get(t.id) != digests[t.id]]
            digests = {t.id: digests[t.id] for t in tenders}
        found = [c for t in tenders for c in _Builder(session, settings, t, reviewers).all()]
        _save_digests(session, digests)
        if not found:
            continue
        have = set(
            session.scalars(
                select(OcdsRelease.release_id).where(
                    OcdsRelease.release_id.in_([c.release_id for c in found])
                )
            )
        )
        new = [c for c in found if c.release_id not in have]
        if not new:
            continue
        if not locked:
            # the serialisation point: the audit head's lock, held to the commit (see the module's docstring);
            # then look again, since another sync may have stored these while this one waited ("found": what
            # this sync had found before it held the lock; the releases stored are the feed's from then on)
            record(
                session,
                OpendataTag.releases_published,
                actor=SYSTEM,
                subject="opendata:releases",
                details={"found": len(new), "first_tender": new[0].doc["ocid"]},
            )
            locked = True
            have = set(
                session.scalars(
                    select(OcdsRelease.release_id).where(
                        OcdsRelease.release_id.in_([c.release_id for c in new])
                    )
                )
            )
            new = [c for c in new if c.release_id not in have]
        for c in new:
            session.add(
                OcdsRelease(
                    release_id=c.release_id,
                    ocid=c.doc["ocid"],
                    tender_id=int(c.doc["ocid"][len(settings.ocid_prefix) :]),
                    tag=",".join(c.tags),
                    date=c.date,
                    audit_index=c.audit_index,
                    document=encode(c.doc).decode("utf-8"),
                )
            )
        session.flush()
        stored += len(new)
    return stored


# ---------------------------------------------------------------- reading


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, seq = text.partition(":")
        # the feed position is a 32-bit integer column: anything larger was not made here
        if version != "v1" or not seq.isdigit() or int(seq) >= 2**31:
            raise ValueError(text)
        return int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest.one(
            "ocds_bad_cursor",
            N_("This page link is not valid. Start again from the first page of the releases."),
            field="cursor",
        ) from None


def publisher(settings: Settings) -> dict[str, Any]:
    return {"name": settings.ocds_publisher, "uri": settings.public_url.rstrip("/")}


def extension_urls(settings: Settings) -> list[str]:
    base = settings.public_url.rstrip("/")
    return [f"{base}/api/v1/ocds/extensions/{name}/extension.json" for name in schema.EXTENSIONS]


@dataclass
class FeedPage:
    releases: list[OcdsRelease]
    next_cursor: str | None  # None: no more releases now (a later look may find new ones after the last)
    last_seq: int


def page(session: Session, cursor: str | None, limit: int = PAGE_SIZE) -> FeedPage:
    """Releases after the cursor, in feed order (oldest stored first). The next cursor is the last seq read:
    new releases only ever come after it, so a page read again stays the same."""
    after = decode_cursor(cursor) if cursor else 0
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = list(
        session.scalars(
            select(OcdsRelease).where(OcdsRelease.seq > after).order_by(OcdsRelease.seq).limit(limit)
        )
    )
    last = rows[-1].seq if rows else after
    return FeedPage(rows, encode_cursor(last), last)


def package_bytes(
    settings: Settings, uri: str, releases: list[bytes], links: dict[str, str] | None = None
) -> bytes:
    """A release package around stored release documents, embedded as they were stored (not re-encoded)."""
    doc: dict[str, Any] = {
        "uri": uri,
        "version": schema.VERSION,
        "extensions": extension_urls(settings),
        "publishedDate": mapping.iso(clock.now()),
        "publisher": publisher(settings),
        "releases": [msgspec.Raw(r) for r in releases],
    }
    if links:
        doc["links"] = links
    return encode(doc)


def record_package(session: Session, settings: Settings, ocid: str) -> dict[str, Any]:
    """The record package of one process: every release stored for it and its compiled release (ocdsmerge)."""
    rows = list(
        session.scalars(select(OcdsRelease).where(OcdsRelease.ocid == ocid).order_by(OcdsRelease.seq))
    )
    if not rows:
        raise NotFound.one(
            "ocds_record_not_found",
            N_("No published contracting process has this ocid. The release feed lists every published one."),
        )
    releases = [decode(r.document) for r in rows]
    base = settings.public_url.rstrip("/")
    return {
        "uri": f"{base}/api/v1/ocds/records/{ocid}",
        "version": schema.VERSION,
        "extensions": extension_urls(settings),
        "publishedDate": mapping.iso(clock.now()),
        "publisher": publisher(settings),
        "packages": [f"{base}/api/v1/ocds/releases"],
        "records": [
            {"ocid": ocid, "releases": releases, "compiledRelease": schema.compile_releases(releases)}
        ],
    }


def stream(session: Session, *, after: int = 0, batch: int = 1000) -> Iterator[OcdsRelease]:
    """Every stored release after `after`, in feed order, a batch at a time (constant memory)."""
    while True:
        rows = list(
            session.scalars(
                select(OcdsRelease).where(OcdsRelease.seq > after).order_by(OcdsRelease.seq).limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def count(session: Session, *, after: int = 0) -> int:
    return session.scalar(select(func.count(OcdsRelease.seq)).where(OcdsRelease.seq > after)) or 0


def ocids(session: Session, *, after: str = "", batch: int = 1000) -> Iterator[str]:
    """Every process with a stored release, in ocid order, a batch at a time."""
    while True:
        found = list(
            session.scalars(
                select(OcdsRelease.ocid)
                .where(OcdsRelease.ocid > after)
                .group_by(OcdsRelease.ocid)
                .order_by(OcdsRelease.ocid)
                .limit(batch)
            )
        )
        if not found:
            return
        yield from found
        after = found[-1]


def releases_of(session: Session, ocid: str) -> list[OcdsRelease]:
    return list(
        session.scalars(select(OcdsRelease).where(OcdsRelease.ocid == ocid).order_by(OcdsRelease.seq))
    )
