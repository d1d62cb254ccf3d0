"""OCDS releases (opendata.releases): one per public change, each valid against the 1.1.5 release schema
patched with etender's extensions, none before its disclosure time, stored once however often the sync runs,
and the record's compiled release the one ocdsmerge gives."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from opendata import releases, schema
from opendata.models import OcdsRelease
from tender import supervision
from tests.factories.accounts import cast
from tests.factories.ocds import STAGES, procedure
from tests.factories.tenders import draft_tender


def _stored(db) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(r.document) for r in db.scalars(select(OcdsRelease).order_by(OcdsRelease.seq))]


def _kinds(docs: list[dict]) -> list[str]:
    return [
        d["id"].rsplit("-", 1)[-1] if d["id"].split("-")[-1].isdigit() is False else d["id"] for d in docs
    ]


def test_a_draft_has_no_release(db, make, blobs, settings):
    w = cast(db, make)
    draft_tender(w, blobs)
    assert releases.sync(db, settings) == 0
    assert _stored(db) == []


EXPECTED = {
    "published": ["tender"],
    "clarified": ["tender", "tenderAmendment"],
    "deadline": ["tender", "tenderAmendment"],  # bidding closed: not even how many bid (E21)
    "opened": ["tender", "tenderAmendment", "tenderUpdate"],  # the bids, with the opening record (E32)
    "evaluated": ["tender", "tenderAmendment", "tenderUpdate"],  # the report signed: still confidential (L37)
    "publicity": ["tender", "tenderAmendment", "tenderUpdate", "award"],  # candidates and scores (R54)
    "awarded": ["tender", "tenderAmendment", "tenderUpdate", "award", "award", "tenderUpdate"],
    "contracted": ["tender", "tenderAmendment", "tenderUpdate", "award", "award", "tenderUpdate", "contract"],
}


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_has_exactly_the_releases_its_disclosure_allows(db, make, blobs, settings, stage):
    procedure(db, make, blobs, upto=stage)
    releases.sync(db, settings)
    docs = _stored(db)
    assert [d["tag"][0] for d in sorted(docs, key=lambda d: d["date"])] == EXPECTED[stage]
    for doc in docs:
        assert schema.release_errors(doc) == [], doc["id"]
        assert doc["date"] <= releases.mapping.iso(clock.now())  # never dated ahead
    text = json.dumps(docs, ensure_ascii=False)
    if STAGES.index(stage) < STAGES.index("opened"):
        assert "Bidder One Ltd" not in text and '"bids"' not in text  # who bid: not before the opening record
    if STAGES.index(stage) < STAGES.index("awarded"):
        assert "Expert Zhang" not in text and "memberScores" not in text  # the committee: not before final


def test_every_release_is_dated_when_its_change_became_public(db, make, blobs, settings):
    w = procedure(db, make, blobs)
    releases.sync(db, settings)
    by_id = {d["id"].removeprefix(d["ocid"] + "-"): d for d in _stored(db)}
    iso = releases.mapping.iso
    assert by_id["tender"]["date"] == iso(w.at["published"])
    assert by_id["amendment-1"]["date"] == iso(w.clarification.issued_at)
    assert by_id["bids"]["date"] == iso(w.at["opened"])
    assert by_id["publicity"]["date"] == iso(w.at["publicity"])
    assert by_id[f"award-{w.award.id}"]["date"] == iso(w.at["awarded"])
    assert by_id["evaluation"]["date"] == iso(
        w.at["awarded"]
    )  # final with the award, not with the signatures
    assert by_id[f"contract-{w.contract.id}"]["date"] == iso(w.at["contracted"])


def test_the_sync_is_idempotent_and_numbers_the_feed_in_order(db, make, blobs, settings):
    procedure(db, make, blobs, upto="opened")
    first = releases.sync(db, settings)
    assert first == 3
    assert releases.sync(db, settings) == 0
    seqs = list(db.scalars(select(OcdsRelease.seq).order_by(OcdsRelease.seq)))
    assert len(seqs) == 3 and seqs == sorted(set(seqs))


def test_the_mapping_of_the_tender_parties_money_and_bids(db, make, blobs, settings):
    w = procedure(db, make, blobs)
    releases.sync(db, settings)
    ocid = releases.ocid_for(settings, w.tender.id)
    assert ocid == f"ocds-213czf-{w.tender.id}"
    by_id = {d["id"].removeprefix(ocid + "-"): d for d in _stored(db)}
    tender = by_id["tender"]["tender"]
    assert tender["id"] == w.tender.reference
    assert tender["value"] == {"amount": 1_500_000, "currency": "CNY"}
    assert tender["lots"][0]["maximumValue"] == {"amount": 1_050_000, "currency": "CNY"}
    assert tender["mainProcurementCategory"] == "goods"
    roles = {p["name"]: p["roles"] for p in by_id["tender"]["parties"]}
    assert roles["County Education Bureau"] == ["buyer"]
    assert roles["Agency A"] == ["procuringEntity"]
    assert roles["County Development and Reform Commission"] == ["reviewBody"]
    buyer = next(p for p in by_id["tender"]["parties"] if "buyer" in p["roles"])
    assert buyer["identifier"] == {
        "scheme": "CN-SAIC",
        "id": w.purchaser_org.credit_code,
        "legalName": "County Education Bureau",
    }
    bids = by_id["bids"]["bids"]
    assert [s["value"] for s in bids["statistics"] if s["measure"] == "bids"] == [3, 0]
    # fen to yuan exactly: 1 020 000.05 yuan, not a float's approximation
    raw = next(r.document for r in db.scalars(select(OcdsRelease)) if r.release_id.endswith("-bids"))
    assert "1020000.05" in raw
    assert json.loads(raw, parse_float=Decimal)["bids"]["details"][2]["value"]["amount"] == Decimal(
        "1020000.05"
    )
    award = by_id[f"award-{w.award.id}"]
    assert award["awards"][0]["status"] == "active"
    assert {p["name"]: p["roles"] for p in award["parties"]}["Bidder One Ltd"] == ["tenderer", "supplier"]
    evaluation = by_id["evaluation"]["tender"]["evaluation"]
    assert [m["name"] for m in evaluation["committee"]] == ["Expert Zhang", "Expert Wang"]
    assert evaluation["results"][0]["memberScores"] == [
        {"id": "101", "score": 91},
        {"id": "102", "score": 90},
    ]
    assert by_id["amendment-1"]["auditEntry"]["tag"] == "tender.clarified"


def test_the_compiled_release_is_ocdsmerges(db, make, blobs, settings):
    import ocdsmerge

    w = procedure(db, make, blobs)
    releases.sync(db, settings)
    package = releases.record_package(db, settings, releases.ocid_for(settings, w.tender.id))
    rec = package["records"][0]
    expected = ocdsmerge.Merger(schema=schema.release_schema()).create_compiled_release(rec["releases"])
    assert rec["compiledRelease"] == expected
    compiled = json.loads(releases.encode(rec["compiledRelease"]))
    assert schema.release_errors(compiled) == []
    assert compiled["tag"] == ["compiled"]
    assert compiled["awards"][0]["status"] == "active"  # the candidate's pending award moved on
    assert compiled["tender"]["tenderPeriod"]["endDate"] == releases.mapping.iso(
        w.clarification.deadline_after
    )


def test_a_tender_cancelled_has_its_cancellation(db, make, blobs, settings):
    w = procedure(db, make, blobs, upto="published")
    clock.freeze(clock.now() + timedelta(hours=2))  # frozen: the entry's time and now are the same second
    supervision.cancel(db, w.agency, w.tender.id, "The budget was withdrawn")
    releases.sync(db, settings)
    docs = _stored(db)
    assert [d["tag"] for d in docs] == [["tender"], ["tenderCancellation"]]
    assert docs[1]["tender"]["status"] == "cancelled"
    assert docs[1]["date"] == releases.mapping.iso(clock.now())
    assert all(schema.release_errors(d) == [] for d in docs)


def test_a_release_is_not_changed_once_stored(db, make, blobs, settings):
    w = procedure(db, make, blobs, upto="published")
    releases.sync(db, settings)
    before = _stored(db)
    w.tender.title = "Something else"
    db.flush()
    releases.sync(db, settings)
    assert _stored(db) == before


def test_a_failed_opening_publishes_the_count_and_no_bidder(db, make, blobs, settings):
    """R44: fewer than 3 bids (here the third withdrew): the tender fails at the deadline; how many bid is
    public with the failure, who bid is not (nothing was opened)."""
    from audit import record
    from core.identity import SYSTEM
    from tender.events import TenderTag

    w = procedure(db, make, blobs, upto="deadline")
    w.bids[2].status = "withdrawn"
    for ob in w.opened:
        db.delete(ob)
    w.opening.status = "failed"
    w.tender.status = "failed"
    w.tender.end_reason_key = "Fewer than 3 bids were received."
    record(
        db, TenderTag.tender_failed, actor=SYSTEM, subject=f"tender:{w.tender.id}", details={"rule": "R44"}
    )
    db.flush()
    releases.sync(db, settings)
    docs = {d["id"].removeprefix(d["ocid"] + "-"): d for d in _stored(db)}
    assert set(docs) == {"tender", "amendment-1", "bids", "unsuccessful"}
    assert docs["unsuccessful"]["tender"]["status"] == "unsuccessful"
    stats = {s["id"]: s["value"] for s in docs["bids"]["bids"]["statistics"]}
    assert stats == {"1-bids": 2, "1-opened": 0, "2-bids": 0, "2-opened": 0}
    assert docs["bids"]["bids"]["details"] == [] and "Bidder One Ltd" not in json.dumps(docs)
    assert all(schema.release_errors(d) == [] for d in docs.values())


def test_an_unchanged_tender_is_skipped_and_any_change_is_seen(db, make, blobs, settings, monkeypatch):
    """OcdsSyncState: the sync builds nothing for a tender whose facts are unchanged, and sees a later change
    of any of them (here an award that ends, with no change to the tender row)."""
    w = procedure(db, make, blobs, upto="awarded")
    built: list[int] = []
    real = releases._Builder.all

    def counting(self):  # type: ignore[no-untyped-def]
        built.append(self.tender.id)
        return real(self)

    monkeypatch.setattr(releases._Builder, "all", counting)
    assert releases.sync(db, settings) == 6 and built == [w.tender.id]
    assert releases.sync(db, settings) == 0 and built == [w.tender.id]  # skipped
    assert releases.sync(db, settings, full=True) == 0 and len(built) == 2  # built again, nothing new
    clock.shift(timedelta(days=1))
    w.award.status = "declined"
    w.award.ended_at = clock.now()
    db.flush()
    assert releases.sync(db, settings) == 1
    ended = _stored(db)[-1]
    assert ended["tag"] == ["awardCancellation"] and ended["awards"][0]["status"] == "cancelled"
