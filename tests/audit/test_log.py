"""The audit log (audit/log.py, audit/verify.py): appends to the Merkle tree, the fixed tag vocabulary,
confidential commitments and their disclosure, tamper detection naming the first bad entry, and concurrent
writers on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, text, update

from audit import merkle, record, tree
from audit.log import (
    AuditConfidential,
    AuditEntry,
    AuditHead,
    address_digest,
    canonical,
    confidential_digest,
)
from audit.verify import verify_chain
from core.identity import SYSTEM, Actor
from tender.events import TenderTag
from tests.factories.retention import deleting

ALICE = Actor(user_id=7, username="alice", role="agency", organisation_id=3, ip="198.51.100.7")


def append(db, n: int = 5) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    out = [
        record(
            db,
            TenderTag.tender_updated,
            actor=ALICE,
            subject=f"tender:{i}",
            details={"title": f"T{i}", "n": i},
        )
        for i in range(n)
    ]
    db.commit()
    return out


def entry(db, index: int) -> AuditEntry:  # type: ignore[no-untyped-def]
    return db.scalars(select(AuditEntry).where(AuditEntry.index == index)).one()


def tamper(db, index: int, **values) -> None:  # type: ignore[no-untyped-def]
    """Change stored columns behind the ORM's back, as someone with database access would."""
    db.execute(update(AuditEntry).where(AuditEntry.index == index).values(**values))
    db.commit()
    db.expire_all()


# ---------------------------------------------------------------- appending


def test_empty_log_verifies(db):
    result = verify_chain(db)
    assert (result.ok, result.size, result.first_bad) == (True, 0, None)


def test_record_appends_consecutive_entries_to_the_tree(db):
    entries = append(db, 5)
    assert [e.index for e in entries] == [0, 1, 2, 3, 4]
    leaves = [merkle.leaf_hash(e.entry_bytes) for e in entries]
    assert [e.leaf_hash for e in entries] == leaves
    head = db.get(AuditHead, 1)
    assert head.size == 5 and head.root == merkle.root(leaves)
    # the stored nodes are exactly the complete subtrees: 5 leaves, 2 + 1 interior nodes
    keys = set(db.scalars(select(tree.AuditNode.key)))
    assert keys == {0, 1, 2, 3, 4, tree.node_key(1, 0), tree.node_key(1, 1), tree.node_key(2, 0)}
    assert tree.root(db, 5) == merkle.root(leaves) and tree.root(db, 3) == merkle.root(leaves[:3])
    assert verify_chain(db).ok and verify_chain(db).size == 5


def test_entry_bytes_are_canonical_and_carry_e49_fields(db):
    e = record(db, TenderTag.tender_created, actor=ALICE, subject="tender:1", details={"b": 1, "a": "招标"})
    db.commit()
    doc = json.loads(e.entry_bytes)
    assert canonical(doc) == e.entry_bytes
    assert (
        doc["index"],
        doc["tag"],
        doc["actor"],
        doc["actor_id"],
        doc["role"],
        doc["organisation"],
        doc["subject"],
    ) == (
        0,
        "tender.created",
        "alice",
        7,
        "agency",
        3,
        "tender:1",
    )
    # E49: the address is recorded, committed to by its salted digest, never in the bytes themselves
    assert "ip" not in doc and b"198.51.100.7" not in e.entry_bytes
    assert (e.ip, e.address) == ("198.51.100.7", "198.51.100.7") and len(e.address_salt) == 32
    assert doc["address_digest"] == address_digest(e.address_salt, "198.51.100.7")
    assert datetime.strptime(doc["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) == e.time
    assert "招标".encode() in canonical(e.details)  # UTF-8, not \u escapes


def test_anonymous_actor_is_named_anonymous(db):
    e = record(
        db,
        TenderTag.tender_document_downloaded,
        actor=Actor(None, "", None, None, "203.0.113.1"),
        subject="tender:1",
    )
    assert e.actor == "anonymous" and e.details == {}


def test_unknown_tag_is_refused(db):
    with pytest.raises(ValueError):
        record(db, "tender.secretly.changed", actor=ALICE, subject="tender:1")  # type: ignore[arg-type]
    db.rollback()
    assert db.scalar(select(AuditEntry.index)) is None


def test_entries_are_part_of_the_callers_transaction(db):
    append(db, 2)
    record(db, TenderTag.tender_cancelled, actor=ALICE, subject="tender:9", details={"reason": "x"})
    db.rollback()
    assert [e.index for e in db.scalars(select(AuditEntry))] == [0, 1]
    assert db.get(AuditHead, 1).size == 2
    assert record(db, TenderTag.tender_cancelled, actor=ALICE, subject="tender:9").index == 2
    db.commit()
    assert verify_chain(db).ok


def test_an_append_undone_with_its_savepoint_leaves_no_gap(db):
    append(db, 2)
    record(
        db, TenderTag.tender_updated, actor=ALICE, subject="tender:1"
    )  # index 2, this transaction holds the head
    with pytest.raises(RuntimeError), db.begin_nested():
        record(db, TenderTag.tender_cancelled, actor=ALICE, subject="tender:1")  # index 3, undone below
        raise RuntimeError("the service refused after recording")
    with db.begin_nested():
        assert record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1").index == 3
    assert record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1").index == 4
    db.commit()
    assert [e.tag for e in db.scalars(select(AuditEntry).order_by(AuditEntry.index))][2:] == [
        "tender.updated"
    ] * 3
    result = verify_chain(db)
    assert result.ok and result.size == 5, result.reason


def test_several_appends_in_one_transaction_and_a_checkpoint_between_them(db, settings):
    from audit import checkpoints
    from core.signing import signing_key

    key = signing_key(settings.data_dir, settings.origin)
    record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1")
    assert checkpoints.sign(db, key, settings.origin).size == 1
    record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1")
    assert checkpoints.sign(db, key, settings.origin).size == 2
    db.commit()
    assert verify_chain(db).ok and db.get(AuditHead, 1).size == 2


# ---------------------------------------------------------------- confidential details


def test_confidential_details_are_committed_to_by_a_salted_digest(db):
    secret = {"organisation": 42, "lot": 3}
    e = record(
        db,
        TenderTag.tender_registered,
        actor=ALICE,
        subject="tender:1",
        details={"registration": 5},
        confidential=secret,
    )
    db.commit()
    stored = db.get(AuditConfidential, e.index)
    assert stored.data == secret and stored.disclosed_at is None
    assert len(stored.salt) == 32
    assert e.details == {"registration": 5, "confidential_digest": confidential_digest(stored.salt, secret)}
    assert e.details["confidential_digest"] != confidential_digest(
        stored.salt, {"organisation": 43, "lot": 3}
    )
    assert e.details["confidential_digest"] != confidential_digest("0" * 32, secret)
    assert "42" not in json.dumps(e.details).replace(e.details["confidential_digest"], "")
    assert verify_chain(db).ok


def test_same_confidential_data_gets_a_different_salt_each_time(db):
    a = record(
        db, TenderTag.tender_registered, actor=ALICE, subject="tender:1", confidential={"organisation": 1}
    )
    b = record(
        db, TenderTag.tender_registered, actor=ALICE, subject="tender:1", confidential={"organisation": 1}
    )
    db.commit()
    assert a.details["confidential_digest"] != b.details["confidential_digest"]


def test_several_confidential_entries_in_one_transaction(db):
    """Regression: the confidential row refers to its entry, so the entry must be written first."""
    for i in range(3):
        record(
            db,
            TenderTag.tender_question_asked,
            actor=ALICE,
            subject="tender:1",
            details={"question": i},
            confidential={"organisation": i},
        )
    db.commit()
    assert sorted(c.entry_index for c in db.scalars(select(AuditConfidential))) == [0, 1, 2]
    assert verify_chain(db).ok


def test_changed_confidential_data_no_longer_matches_its_commitment(db):
    e = record(
        db, TenderTag.tender_registered, actor=ALICE, subject="tender:1", confidential={"organisation": 42}
    )
    db.commit()
    db.execute(
        update(AuditConfidential)
        .where(AuditConfidential.entry_index == e.index)
        .values(data={"organisation": 41})
    )
    db.commit()
    db.expire_all()
    stored = db.get(AuditConfidential, e.index)
    assert entry(db, e.index).details["confidential_digest"] != confidential_digest(stored.salt, stored.data)


# ---------------------------------------------------------- tampering is caught and the first bad entry named


def test_edited_details_are_caught(db):
    append(db, 5)
    tamper(db, 2, details={"title": "T2 (edited)", "n": 2})
    result = verify_chain(db)
    assert (result.ok, result.first_bad) == (False, 2)
    assert "details" in result.reason


def test_edited_entry_bytes_are_caught(db):
    append(db, 5)
    doc = json.loads(entry(db, 2).entry_bytes)
    doc["time"] = "2020-01-01T00:00:00.000000Z"
    tamper(db, 2, entry_bytes=canonical(doc))
    result = verify_chain(db)
    assert (result.ok, result.first_bad) == (False, 2)


def test_edited_entry_with_columns_and_leaf_rewritten_is_caught_by_the_stored_tree(db):
    append(db, 5)
    doc = json.loads(entry(db, 2).entry_bytes)
    doc["time"] = "2020-01-01T00:00:00.000000Z"
    forged = canonical(doc)
    tamper(db, 2, entry_bytes=forged, time=datetime(2020, 1, 1, tzinfo=UTC))
    db.execute(update(tree.AuditNode).where(tree.AuditNode.key == 2).values(hash=merkle.leaf_hash(forged)))
    db.commit()
    result = verify_chain(db)
    # the parent of leaf 2 (covering 2..3) no longer matches its children: entry 2 is named
    assert (result.ok, result.first_bad) == (False, 2)


def test_non_canonical_entry_bytes_are_caught(db):
    append(db, 3)
    tamper(db, 1, entry_bytes=json.dumps(json.loads(entry(db, 1).entry_bytes), indent=1).encode())
    assert verify_chain(db).first_bad == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [("subject", "tender:999"), ("tag", "tender.cancelled"), ("actor", "mallory"), ("ip", "10.0.0.1")],
)
def test_edited_hashed_columns_are_caught(db, column, value):
    append(db, 4)
    tamper(db, 1, **{column: value})
    result = verify_chain(db)
    assert (result.ok, result.first_bad) == (False, 1)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("time", datetime(2020, 1, 1, tzinfo=UTC)),
        ("actor_user_id", 999),
        ("organisation_id", 999),
        ("role", "admin"),
    ],
)
def test_edited_unhashed_columns_are_caught(db, column, value):
    append(db, 4)
    tamper(db, 1, **{column: value})
    result = verify_chain(db)
    assert (result.ok, result.first_bad) == (False, 1)


def test_deleted_row_is_caught(db):
    append(db, 5)
    deleting(db, delete(AuditEntry).where(AuditEntry.index == 2))
    db.commit()
    result = verify_chain(db)
    assert (result.ok, result.first_bad) == (False, 2)
    assert "missing" in result.reason


def _swap_content(db, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    cols = [
        "time",
        "tag",
        "actor_user_id",
        "actor",
        "role",
        "organisation_id",
        "ip",
        "subject",
        "details",
        "details_digest",
        "entry_bytes",
    ]
    ea, eb = entry(db, a), entry(db, b)
    va, vb = {c: getattr(ea, c) for c in cols}, {c: getattr(eb, c) for c in cols}
    db.expunge_all()
    tamper(db, a, **vb)
    tamper(db, b, **va)


def test_swapped_rows_are_caught(db):
    append(db, 5)
    _swap_content(db, 1, 3)
    result = verify_chain(db)
    assert (result.ok, result.first_bad) == (False, 1)


def test_swapped_rows_with_renumbered_bytes_are_caught(db):
    """Even rewriting each swapped entry's index into its bytes leaves the chain broken at the first swap."""
    append(db, 5)
    _swap_content(db, 1, 3)
    for index in (1, 3):
        doc = json.loads(entry(db, index).entry_bytes)
        doc["index"] = index
        tamper(db, index, entry_bytes=canonical(doc))
    assert verify_chain(db).first_bad == 1


def test_truncated_tail_is_caught_by_the_head(db):
    append(db, 5)
    deleting(db, delete(AuditEntry).where(AuditEntry.index >= 3))
    db.commit()
    result = verify_chain(db)
    assert (result.ok, result.first_bad, result.size) == (False, 3, 3)
    assert "shorter" in result.reason


def test_rewritten_head_size_after_truncation_is_caught_by_the_tree_edge(db):
    append(db, 5)
    deleting(db, delete(AuditEntry).where(AuditEntry.index == 4))
    db.execute(update(AuditHead).values(size=4))
    db.commit()
    db.expire_all()
    assert verify_chain(db).first_bad == 4


def test_tampering_reports_the_first_of_several_bad_entries(db):
    append(db, 6)
    tamper(db, 4, subject="tender:x")
    tamper(db, 1, details={"forged": True})
    assert verify_chain(db).first_bad == 1


# ---------------------------------------------------------------- concurrent writers


def _concurrent_appends(factory, threads: int, per_thread: int) -> list[BaseException]:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            session = factory()
            try:
                record(
                    session,
                    TenderTag.tender_updated,
                    actor=ALICE,
                    subject=f"tender:{t}",
                    details={"thread": t, "i": i},
                )
                session.commit()
            except BaseException as e:  # noqa: BLE001
                session.rollback()
                errors.append(e)
            finally:
                session.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return errors


def test_concurrent_appends_leave_no_gap_or_duplicate(db, factory):
    record(db, TenderTag.tender_created, actor=SYSTEM, subject="tender:0")
    db.commit()
    threads, per_thread = 8, 10
    errors = _concurrent_appends(factory, threads, per_thread)
    assert errors == []
    db.expire_all()
    indexes = list(db.scalars(select(AuditEntry.index).order_by(AuditEntry.index)))
    assert indexes == list(range(1 + threads * per_thread))
    result = verify_chain(db)
    assert result.ok and result.size == 1 + threads * per_thread
    per = {}
    for e in db.scalars(select(AuditEntry).where(AuditEntry.tag == "tender.updated")):
        per.setdefault(e.details["thread"], []).append(e.details["i"])
    assert all(sorted(v) == list(range(per_thread)) for v in per.values()) and len(per) == threads


def test_concurrent_first_appends_on_an_empty_log(db, factory, engine, request):
    """Two transactions write the very first entry at once (a fresh installation: the migration creates no
    head row). The second must wait for the first, then append after it."""
    first = factory()
    record(
        first, TenderTag.tender_created, actor=ALICE, subject="tender:1"
    )  # holds the write lock, not committed
    outcome: dict[str, object] = {}

    def second_writer() -> None:
        session = factory()
        try:
            outcome["index"] = record(
                session, TenderTag.tender_created, actor=ALICE, subject="tender:2"
            ).index
            session.commit()
        except BaseException as e:  # noqa: BLE001
            session.rollback()
            outcome["error"] = e
        finally:
            session.close()

    worker = threading.Thread(target=second_writer)
    worker.start()
    if engine.dialect.name == "postgresql":
        _wait_for_a_blocked_backend(db)
    else:
        time.sleep(0.5)
    first.commit()
    first.close()
    worker.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["index"] == 1
    db.expire_all()
    assert verify_chain(db).ok and verify_chain(db).size == 2


def _wait_for_a_blocked_backend(db, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
        )
        db.rollback()
        if waiting:
            return
        time.sleep(0.05)


@pytest.mark.parametrize("actor", ["alice", "张伟", 'quote " and \\ back', "tab\tnew\nline", "\u2028"])
def test_the_fast_entry_encoder_gives_the_canonical_bytes(actor):
    from audit.verify import _entry_bytes

    doc = {
        "index": 3,
        "tag": "tender.updated",
        "time": "2026-01-01T00:00:00.000000Z",
        "actor": actor,
        "actor_id": None,
        "role": "agency",
        "organisation": 12,
        "ip": "203.0.113.1",
        "subject": "tender:1",
        "details_digest": "ab" * 32,
    }
    assert _entry_bytes(**{k if k != "organisation" else "org": v for k, v in doc.items()}) == canonical(doc)
    salted = {**doc, "salt": "5a" * 16}  # a withheld entry: the salt sorts between "role" and "subject"
    assert _entry_bytes(**{k if k != "organisation" else "org": v for k, v in salted.items()}) == canonical(
        salted
    )
    # an entry since addresses left the bytes: the salted digest between "actor_id" and "details_digest"
    args = {k if k != "organisation" else "org": v for k, v in salted.items()}
    committed = {k: v for k, v in salted.items() if k != "ip"}
    committed["address_digest"] = address_digest("77" * 16, actor)
    assert _entry_bytes(**args, address=actor, address_salt="77" * 16) == canonical(committed)


# ---------------------------------------------------------------- rows written once per transaction


def test_appends_are_seen_by_statements_in_the_same_transaction(db):
    """record() keeps the rows in memory; every statement run through the session writes them first."""
    append(db, 2)
    for i in range(3):
        record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1", details={"i": i})
    assert list(db.scalars(select(AuditEntry.index).order_by(AuditEntry.index))) == [0, 1, 2, 3, 4]
    assert db.scalar(text("SELECT size FROM audit_head")) == 5
    leaves = [
        merkle.leaf_hash(bytes(b))
        for b in db.scalars(select(AuditEntry.entry_bytes).order_by(AuditEntry.index))
    ]
    assert tree.root(db, 5) == merkle.root(leaves)
    assert verify_chain(db).ok and verify_chain(db).size == 5  # before the commit too
    record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1")
    db.commit()
    assert verify_chain(db).size == 6


def test_a_rolled_back_transaction_leaves_nothing_pending_in_the_session(db):
    append(db, 1)
    for _ in range(3):
        record(db, TenderTag.tender_cancelled, actor=ALICE, subject="tender:1")
    db.rollback()
    assert record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:2").index == 1
    db.commit()
    assert [e.tag for e in db.scalars(select(AuditEntry).order_by(AuditEntry.index))] == [
        "tender.updated"
    ] * 2
    assert verify_chain(db).ok


def test_an_orm_row_may_refer_to_an_entry_of_the_same_transaction(db):
    """The ORM's flush writes the entries first (the confidential row's foreign key needs its entry)."""
    e = record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1")
    db.add(AuditConfidential(entry_index=e.index, salt="00" * 16, data={"x": 1}))
    db.flush()  # no foreign key violation
    assert db.scalar(select(AuditConfidential.entry_index)) == 0
    db.rollback()
    assert db.scalar(select(AuditEntry.index)) is None


def test_concurrent_transactions_of_several_appends_leave_no_gap_or_duplicate(db, factory):
    errors: list[BaseException] = []
    threads, per_thread, batch = 6, 4, 5
    start = threading.Barrier(threads)

    def worker(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            session = factory()
            try:
                for j in range(batch):
                    record(
                        session,
                        TenderTag.tender_updated,
                        actor=ALICE,
                        subject=f"tender:{t}",
                        details={"t": t, "i": i, "j": j},
                        confidential={"t": t} if j == 2 else None,
                    )
                session.commit()
            except BaseException as e:  # noqa: BLE001
                session.rollback()
                errors.append(e)
            finally:
                session.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    assert errors == []
    db.expire_all()
    n = threads * per_thread * batch
    assert list(db.scalars(select(AuditEntry.index).order_by(AuditEntry.index))) == list(range(n))
    # each transaction's entries are consecutive
    rows = db.execute(select(AuditEntry.index, AuditEntry.details).order_by(AuditEntry.index)).all()
    for k in range(0, n, batch):
        assert len({(d["t"], d["i"]) for _, d in rows[k : k + batch]}) == 1
    result = verify_chain(db)
    assert result.ok and result.size == n, result.reason
