"""Withheld entries (record(withhold=fact)): salted bytes, the public placeholder, release_where, and what the
feed and its filters show each reader before and after release."""

from __future__ import annotations

import base64
import json
from hashlib import sha256
from pathlib import Path

from audit import feed, record, release_where
from audit.log import AuditEntry, canonical
from audit.merkle import leaf_hash
from audit.verify import check_published_entry, verify_log
from core.disclosure import Fact
from core.identity import Actor
from evaluation.events import EvaluationTag
from tender.events import TenderTag

BIDDER = Actor(user_id=9, username="bidder_a", role="bidder", organisation_id=5, ip="203.0.113.9")
ADMIN = Actor(
    user_id=1,
    username="admin",
    role="admin",
    organisation_id=None,
    ip="198.51.100.1",
    roles=frozenset({"admin"}),
)
MONITOR = Actor(
    user_id=2,
    username="monitor",
    role="monitor",
    organisation_id=None,
    ip="198.51.100.2",
    roles=frozenset({"monitor"}),
)
AGENT = Actor(user_id=3, username="agent", role="agency", organisation_id=3, ip="198.51.100.3")
PLACEHOLDER_KEYS = {"index", "leaf_hash", "withheld"}


def bids(db, tender: int, n: int) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    out = [
        record(
            db,
            TenderTag.bid_submitted,
            actor=BIDDER,
            subject=f"tender:{tender}",
            confidential={"bid": i},
            conceal_actor=True,
            withhold=Fact.participation,
        )
        for i in range(n)
    ]
    db.commit()
    return out


def test_a_withheld_entry_carries_a_salt_and_an_ordinary_one_does_not(db):
    plain = record(db, TenderTag.tender_updated, actor=AGENT, subject="tender:1", details={"t": 1})
    a, b = (
        record(
            db,
            TenderTag.tender_updated,
            actor=AGENT,
            subject="tender:1",
            details={"t": 1},
            withhold=Fact.draft,
        )
        for _ in range(2)
    )
    db.commit()
    assert "salt" not in json.loads(plain.entry_bytes) and plain.salt is None and plain.withheld is None
    for e in (a, b):
        doc = json.loads(e.entry_bytes)
        assert doc["salt"] == e.salt and len(e.salt) == 32 and e.withheld == "draft" and e.released_at is None
        assert canonical(doc) == e.entry_bytes
    # the same tag, subject and details: only the salt tells them apart, so their hashes cannot be guessed
    assert a.salt != b.salt and a.leaf_hash != b.leaf_hash
    assert verify_log(db).ok


def test_before_release_the_public_sees_only_index_and_leaf_hash(db):
    made = bids(db, 4, 3)
    public = feed.entries(db, 0, 10)
    assert [set(p) for p in public] == [PLACEHOLDER_KEYS] * 3
    for item, entry in zip(public, made, strict=True):
        assert item == {
            "index": entry.index,
            "leaf_hash": leaf_hash(entry.entry_bytes).hex(),
            "withheld": True,
        }
        assert check_published_entry(item) is None
    assert (
        feed.entry(db, made[0].index, MONITOR) == public[0]
    )  # participation: not even a monitor, through the log
    assert check_published_entry({**public[0], "leaf_hash": "zz"}) is not None


def test_filters_never_match_an_entry_withheld_from_the_reader(db):
    bids(db, 4, 7)
    record(db, TenderTag.tender_published, actor=AGENT, subject="tender:4", details={})
    db.commit()
    for filt in (
        feed.FeedFilter(tender=4),
        feed.FeedFilter(tag="tender.bid"),
        feed.FeedFilter(actor="(confidential)"),
        feed.FeedFilter(tag="tender"),
    ):
        assert all(
            "withheld" not in i and i["decoded"]["tag"] != "tender.bid.submitted"
            for i in feed.after(db, -1, filt)
        )
    assert [i["decoded"]["tag"] for i in feed.after(db, -1, feed.FeedFilter(tender=4))] == [
        "tender.published"
    ]
    # unfiltered, the stream keeps every index (placeholders) so that the client's last event id moves on
    assert [("withheld" in i) for i in feed.after(db, -1, feed.FeedFilter())] == [True] * 7 + [False]
    assert [i["decoded"]["tag"] for i in feed.recent(db, MONITOR, feed.FeedFilter())] == ["tender.published"]


def test_release_where_publishes_the_entries_and_says_so(db):
    made = bids(db, 4, 3)
    other = bids(db, 5, 1)
    released = release_where(db, AGENT, subject="tender:4", fact=Fact.participation)
    db.commit()
    assert released == [e.index for e in made]
    items = feed.entries(db, 0, 10)
    assert [i.get("withheld", False) for i in items] == [False, False, False, True, False]
    for item, entry in zip(items[:3], made, strict=True):
        assert base64.b64decode(item["entry"]) == entry.entry_bytes and item["decoded"]["salt"] == entry.salt
        assert check_published_entry(item) is None
    note = items[-1]["decoded"]
    assert (note["tag"], note["subject"]) == ("audit.entries.released", "tender:4")
    assert items[-1]["details"] == {"fact": "participation", "count": 3, "entries": released}
    assert [i["index"] for i in feed.after(db, -1, feed.FeedFilter(tender=4))] == [*released, 4]
    assert (
        release_where(db, AGENT, subject="tender:4", fact=Fact.participation) == []
    )  # nothing left: no entry
    assert release_where(db, AGENT, subject="tender:5", fact=Fact.draft) == []  # another fact: untouched
    db.commit()
    assert feed.size(db) == 5 and db.get(AuditEntry, other[0].index).released_at is None


def test_logins_and_the_expert_pool_are_shown_in_full_to_monitors_and_administrators_only(db):
    login = record(
        db, TenderTag.tender_updated, actor=BIDDER, subject="user:9", details={}, withhold=Fact.login
    )
    expert = record(
        db,
        EvaluationTag.expert_created,
        actor=ADMIN,
        subject="expert:1",
        details={"name": "x"},
        withhold=Fact.expert_pool,
    )
    draft = record(
        db, TenderTag.tender_created, actor=AGENT, subject="tender:8", details={}, withhold=Fact.draft
    )
    db.commit()
    for reader in (None, BIDDER, AGENT):
        assert all(set(i) == PLACEHOLDER_KEYS for i in feed.entries(db, 0, 10, reader))
        assert feed.after(db, -1, feed.FeedFilter(tag="evaluation"), reader=reader) == []
    for reader in (MONITOR, ADMIN):
        shown = {i["index"]: i for i in feed.entries(db, 0, 10, reader)}
        assert shown[login.index]["address"]["ip"] == BIDDER.ip and shown[expert.index]["details"] == {
            "name": "x"
        }
        assert set(shown[draft.index]) == PLACEHOLDER_KEYS  # a draft is the agency's, not the log's
        assert [i["index"] for i in feed.after(db, -1, feed.FeedFilter(tag="evaluation"), reader=reader)] == [
            expert.index
        ]


def test_the_documented_test_vector_of_a_withheld_entry():
    """docs/audit-log.md gives the bytes of a withheld entry and its leaf hash: other people's verifiers use
    it."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit-log.md").read_text()
    section = doc[doc.index("### Withheld entries") : doc.index("## The tree")]
    raw = next(line.strip() for line in section.splitlines() if line.startswith("    {")).encode()
    entry = json.loads(raw)
    assert canonical(entry) == raw and list(entry).index("salt") == list(entry).index("role") + 1
    details = {"confidential_digest": "0" * 64}
    assert sha256(canonical(details)).hexdigest() == entry["details_digest"]
    placeholder = {"index": 7, "leaf_hash": leaf_hash(raw).hex(), "withheld": True}
    assert json.dumps(placeholder, separators=(",", ":")) in section
    assert check_published_entry(placeholder) is None


def test_the_documented_test_vector_of_an_address_commitment():
    """docs/audit-log.md gives an entry whose bytes commit to its address, the address and salt, and the leaf
    hash: a monitor's verifier checks the address a logged-in view serves with it."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "audit-log.md").read_text()
    section = doc[doc.index("### Network addresses") : doc.index("### Confidential details")]
    raw = next(line.strip() for line in section.splitlines() if line.startswith("    {")).encode()
    entry = json.loads(raw)
    assert canonical(entry) == raw and "ip" not in entry
    assert list(entry).index("address_digest") == list(entry).index("actor_id") + 1
    salt = "ffeeddccbbaa99887766554433221100"
    assert canonical({"ip": "198.51.100.7", "salt": salt}).decode() in section
    assert sha256(canonical({"ip": "198.51.100.7", "salt": salt})).hexdigest() == entry["address_digest"]
    assert sha256(b"{}").hexdigest() == entry["details_digest"] and leaf_hash(raw).hex() in section
    item = {
        "index": 17,
        "leaf_hash": leaf_hash(raw).hex(),
        "entry": base64.b64encode(raw).decode(),
        "decoded": entry,
        "details": {},
        "address": {"ip": "198.51.100.7", "salt": salt},
    }
    assert check_published_entry(item) is None
    assert check_published_entry({**item, "address": {"ip": "198.51.100.8", "salt": salt}}) == (
        "the address shown does not match the digest the entry committed to"
    )
