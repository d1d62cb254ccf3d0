"""Network addresses are never public (E49 records them; Fact.login): an entry commits to its address by a
salted digest, monitors and administrators read it beside the entry, and an entry written before, whose
bytes hold the address, still verifies but is served to the public as its leaf hash only."""

from __future__ import annotations

import hashlib

from sqlalchemy import update

from audit import disclose, feed, record, tree
from audit.log import AuditEntry, _head_for_append, canonical, format_time
from audit.merkle import leaf_hash
from audit.verify import check_published_entry, verify_chain, verify_log
from core import clock
from core.identity import Actor
from tender.events import TenderTag

AGENT = Actor(user_id=4, username="agent1", role="agency", organisation_id=2, ip="198.51.100.7")
BIDDER = Actor(user_id=5, username="bidder1", role="bidder", organisation_id=3, ip="203.0.113.9")
MONITOR = Actor(user_id=1, username="m", role="monitor", organisation_id=1, roles=frozenset({"monitor"}))


def _append_legacy(db, actor: Actor, subject: str) -> int:  # type: ignore[no-untyped-def]
    """An entry as record() wrote it before addresses left the bytes: "ip" in them, no address columns."""
    head = _head_for_append(db)
    index, now = head.size, clock.now()
    digest = hashlib.sha256(b"{}").hexdigest()
    doc = {
        "index": index,
        "tag": TenderTag.tender_updated.value,
        "time": format_time(now),
        "actor": actor.username,
        "actor_id": actor.user_id,
        "role": actor.role,
        "organisation": actor.organisation_id,
        "ip": actor.ip,
        "subject": subject,
        "details_digest": digest,
    }
    raw = canonical(doc)
    head.entries.append(
        {
            "index": index,
            "time": now,
            "tag": doc["tag"],
            "actor_user_id": actor.user_id,
            "actor": actor.username,
            "role": actor.role,
            "organisation_id": actor.organisation_id,
            "ip": actor.ip,
            "address": None,
            "address_salt": None,
            "subject": subject,
            "details": "{}",
            "details_digest": digest,
            "entry_bytes": raw,
            "salt": None,
            "withheld": None,
            "released_at": None,
        }
    )
    head.nodes.extend({"key": k, "hash": h} for k, h in tree.extend(head.frontier, index, leaf_hash(raw)))
    head.size, head.dirty = index + 1, True
    return index


def test_no_served_entry_names_an_address_and_monitors_read_it_beside_the_entry(db):
    new = record(db, TenderTag.tender_updated, actor=AGENT, subject="tender:1", details={})
    concealed = record(
        db,
        TenderTag.tender_registered,
        actor=BIDDER,
        subject="tender:1",
        confidential={"lot": 1},
        conceal_actor=True,
    )
    db.commit()
    public = feed.entries(db, 0, 10)
    assert AGENT.ip not in repr(public) and BIDDER.ip not in repr(public)
    assert "address" not in public[0] and "ip" not in public[0]["decoded"]
    assert check_published_entry(public[0]) is None
    shown = feed.entries(db, 0, 10, MONITOR)
    assert shown[0]["address"] == {"ip": AGENT.ip, "salt": new.address_salt}
    assert check_published_entry(shown[0]) is None
    # a concealed actor's address stays concealed from the monitors too, as the person does
    assert "address" not in shown[1] and concealed.ip == "(confidential)" and concealed.address == BIDDER.ip
    # disclosing the concealed part after the opening discloses no address
    disclose(db, concealed.index, AGENT)
    db.commit()
    assert BIDDER.ip not in repr(feed.entries(db, 0, 10))
    assert verify_chain(db).ok


def test_an_entry_written_before_still_verifies_and_is_served_as_its_leaf_hash(db):
    old = _append_legacy(db, AGENT, "tender:1")
    system = _append_legacy(
        db, Actor(user_id=None, username="system", role="system", organisation_id=None), "x"
    )
    record(db, TenderTag.tender_updated, actor=AGENT, subject="tender:1", details={})
    db.commit()
    assert verify_chain(db).ok and verify_log(db).ok
    public = {i["index"]: i for i in feed.entries(db, 0, 10)}
    entry = db.get(AuditEntry, old)
    assert public[old] == {
        "index": old,
        "leaf_hash": entry.leaf_hash.hex(),
        "withheld": True,
        "reason": "address",
    }
    assert check_published_entry(public[old]) is None
    assert "entry" in public[system]  # no address in it: served in full
    assert AGENT.ip in feed.entries(db, old, old + 1, MONITOR)[0]["decoded"]["ip"]


def test_the_verifier_catches_a_changed_address_or_shown_address(db):
    e = record(db, TenderTag.tender_updated, actor=AGENT, subject="tender:1", details={})
    db.commit()
    index, salt = e.index, e.address_salt
    for values in ({"address": "192.0.2.1"}, {"ip": "192.0.2.1"}, {"address_salt": "00" * 16}):
        db.execute(update(AuditEntry).where(AuditEntry.index == index).values(**values))
        db.commit()
        result = verify_log(db)
        assert not result.ok and result.first_bad == index, values
        db.execute(
            update(AuditEntry)
            .where(AuditEntry.index == index)
            .values(address=AGENT.ip, ip=AGENT.ip, address_salt=salt)
        )
        db.commit()
        assert verify_log(db).ok
