"""The two passes of the full verification (audit/verify.py): the fast pass vouches for an intact log on its
own, and every kind of tampering that the exact pass names makes the fast pass give way to it (so the verdict
and the entry named are the exact pass's, see tests/audit/test_log.py and test_checkpoints.py for those)."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from audit import checkpoints, merkle, record, tree
from audit import verify as verify_module
from audit.log import AuditConfidential, AuditEntry, AuditHead, canonical
from audit.verify import VerifyResult, _details_digest, _verify, verify_log
from core import clock
from core.db import make_engine
from core.disclosure import Fact
from core.identity import Actor
from core.signing import signing_key, verifier_keys
from tender.events import TenderTag
from tests.factories.retention import deleting

ALICE = Actor(user_id=7, username="alice", role="agency", organisation_id=3, ip="198.51.100.7")
NOBODY = Actor(user_id=None, username="", role=None, organisation_id=None, ip="203.0.113.1")
ORIGIN = "etender.test/audit"


def varied_log(db, n: int = 37) -> None:  # type: ignore[no-untyped-def]
    """Entries of every shape record() writes: confidential parts, a concealed actor, no role, non-ASCII and
    characters that JSON escapes, nested details, withheld entries (salted bytes), released or not."""
    for i in range(n):
        kind = i % 5
        if kind == 0:
            record(
                db,
                TenderTag.tender_updated,
                actor=ALICE,
                subject=f"tender:{i}",
                details={"title": f"招标 {i}", "n": i, "x": [1.5, None, True]},
            )
        elif kind == 1:
            record(
                db,
                TenderTag.bid_submitted,
                actor=ALICE,
                subject=f"tender:{i}",
                details={"lot": i},
                confidential={"bid": i},
                conceal_actor=True,
                withhold=Fact.participation,
            )
        elif kind == 2:
            record(
                db,
                TenderTag.tender_document_downloaded,
                actor=NOBODY,
                subject=f'tender:{i} "quoted" \\ \t\u2028',
            )
        elif kind == 3:
            odd = Actor(
                user_id=8, username='张 "q" \\', role="bidder", organisation_id=None, ip="2001:db8::1"
            )
            record(
                db,
                TenderTag.tender_registered,
                actor=odd,
                subject=f"tender:{i}",
                confidential={"organisation": i},
                withhold=Fact.participation,
            )
        else:
            record(
                db,
                TenderTag.tender_updated,
                actor=ALICE,
                subject="tender:x",
                details={"b": {"z": 1, "a": [{}]}, "a": "\x00\x1f"},
            )
    # a released one too (release_where would add an entry: the tests count them)
    db.execute(
        update(AuditEntry)
        .where(AuditEntry.index == 1, AuditEntry.withheld.is_not(None))
        .values(released_at=clock.now())
    )
    db.commit()


@pytest.fixture
def exact_pass_forbidden(monkeypatch):  # type: ignore[no-untyped-def]
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the exact pass ran: the fast pass did not vouch for an intact log")

    monkeypatch.setattr(verify_module, "_replay_entries", refuse)
    monkeypatch.setattr(verify_module, "_check_nodes", refuse)


def fast(db) -> VerifyResult | None:  # type: ignore[no-untyped-def]
    """What the fast pass alone says (None: it gives way to the exact pass)."""
    db.expire_all()
    result = _verify(db, None, None, True, fast=True)
    db.rollback()
    return result


# ----------------------------------------------------------- an intact log is verified by the fast pass alone


def test_the_fast_pass_vouches_for_an_intact_log(db, settings, exact_pass_forbidden):
    key = signing_key(settings.data_dir, ORIGIN)
    varied_log(db, 20)
    checkpoints.sign(db, key, ORIGIN)
    varied_log(db, 17)
    checkpoints.sign(db, key, ORIGIN)
    db.commit()
    result = verify_log(db, verifier_keys(settings.data_dir, ORIGIN), ORIGIN)
    assert (result.ok, result.size, result.checkpoints) == (True, 37, 2), result.reason


@pytest.mark.parametrize("size", [0, 1, 2, 3, 8, 33])
def test_the_fast_pass_at_small_sizes(db, size, exact_pass_forbidden):
    for i in range(size):
        record(db, TenderTag.tender_updated, actor=ALICE, subject=f"tender:{i}")
    db.commit()
    result = verify_log(db)
    assert (result.ok, result.size) == (True, size), result.reason


def test_details_written_otherwise_still_verify_fast(db, exact_pass_forbidden):
    """record() stores the canonical details text; rows whose details were written in another JSON form (the
    same value) are parsed instead."""
    varied_log(db, 10)
    stored = db.execute(select(AuditEntry.index, AuditEntry.details)).all()
    for index, details in stored:
        db.execute(
            update(AuditEntry).where(AuditEntry.index == index).values(details=details)
        )  # the ORM's json.dumps
    db.commit()
    assert db.scalar(text("SELECT count(*) FROM audit_entries WHERE CAST(details AS TEXT) LIKE '%\": %'")) > 0
    assert verify_log(db).ok


def test_details_are_stored_as_their_canonical_text(db):
    e = record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1", details={"b": 1, "a": "招标"})
    db.commit()
    cast_text = "details::text" if db.get_bind().dialect.name == "postgresql" else "details"
    stored = db.scalar(text(f'SELECT {cast_text} FROM audit_entries WHERE "index" = :i'), {"i": e.index})  # noqa: S608
    assert stored == '{"a":"招标","b":1}' == canonical(e.details).decode()
    assert hashlib.sha256(stored.encode()).hexdigest() == e.details_digest
    db.expire_all()
    assert db.get(AuditEntry, e.index).details == {"b": 1, "a": "招标"}


def test_a_time_with_no_fraction_of_a_second(db, exact_pass_forbidden, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2030, 1, 1, 8, 0, 0, tzinfo=UTC))
    e = record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1")
    db.commit()
    assert json.loads(e.entry_bytes)["time"] == "2030-01-01T08:00:00.000000Z"
    assert verify_log(db).ok


# ---------------------------------------------------------- any tampering makes it give way to the exact pass


def _entry(db, index: int) -> AuditEntry:  # type: ignore[no-untyped-def]
    return db.scalars(select(AuditEntry).where(AuditEntry.index == index)).one()


def _set(db, index: int, **values) -> None:  # type: ignore[no-untyped-def]
    db.execute(update(AuditEntry).where(AuditEntry.index == index).values(**values))


def _set_node(db, key: int, value: bytes) -> None:  # type: ignore[no-untyped-def]
    db.execute(update(tree.AuditNode).where(tree.AuditNode.key == key).values(hash=value))


def _swap(db, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
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
    ea, eb = _entry(db, a), _entry(db, b)
    va, vb = {c: getattr(ea, c) for c in cols}, {c: getattr(eb, c) for c in cols}
    _set(db, a, **vb)
    _set(db, b, **va)


def _forge_entry_and_leaf(db, index: int) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(_entry(db, index).entry_bytes)
    doc["time"] = "2020-01-01T00:00:00.000000Z"
    forged = canonical(doc)
    _set(db, index, entry_bytes=forged, time=datetime(2020, 1, 1, tzinfo=UTC))
    _set_node(db, index, merkle.leaf_hash(forged))


TAMPERING = {
    "details": lambda db: _set(db, 3, details={"title": "edited"}),
    "details digest": lambda db: _set(db, 3, details_digest="0" * 64),
    "entry bytes": lambda db: _set(db, 3, entry_bytes=_entry(db, 3).entry_bytes.replace(b'"tag"', b'"tag" ')),
    "subject": lambda db: _set(db, 3, subject="tender:999"),
    "tag": lambda db: _set(db, 3, tag="tender.cancelled"),
    "actor": lambda db: _set(db, 3, actor="mallory"),
    "ip": lambda db: _set(db, 3, ip="10.0.0.1"),
    "time": lambda db: _set(db, 3, time=datetime(2020, 1, 1, tzinfo=UTC)),
    "actor id": lambda db: _set(db, 3, actor_user_id=999),
    "organisation": lambda db: _set(db, 3, organisation_id=999),
    "role": lambda db: _set(db, 3, role="admin"),
    "salt of a withheld entry": lambda db: _set(db, 3, salt="0" * 32),
    "salt removed": lambda db: _set(db, 3, salt=None),
    "salt added to an ordinary entry": lambda db: _set(db, 0, salt="0" * 32),
    "withheld entry bytes": lambda db: _set(
        db, 1, entry_bytes=_entry(db, 1).entry_bytes.replace(b'"salt":"', b'"salt":"0')
    ),
    "deleted row": lambda db: deleting(db, delete(AuditEntry).where(AuditEntry.index == 2)),
    "deleted last row": lambda db: (
        deleting(db, delete(AuditConfidential).where(AuditConfidential.entry_index == 36)),
        deleting(db, delete(AuditEntry).where(AuditEntry.index == 36)),
    ),
    "swapped rows": lambda db: _swap(db, 1, 3),
    "entry and its leaf": lambda db: _forge_entry_and_leaf(db, 3),
    "leaf node": lambda db: _set_node(db, tree.node_key(0, 5), b"\x00" * 32),
    "interior node": lambda db: _set_node(db, tree.node_key(3, 1), b"\x00" * 32),
    "short node": lambda db: _set_node(db, tree.node_key(1, 2), _entry(db, 0).entry_bytes[:31]),
    "missing node": lambda db: deleting(
        db, delete(tree.AuditNode).where(tree.AuditNode.key == tree.node_key(2, 3))
    ),
    "extra leaf": lambda db: db.execute(tree.AuditNode.__table__.insert().values(key=37, hash=b"\x00" * 32)),
    "head size": lambda db: db.execute(update(AuditHead).values(size=36)),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_makes_the_fast_pass_give_way(db, how):
    varied_log(db, 37)
    assert fast(db).ok
    TAMPERING[how](db)
    db.commit()
    assert not verify_log(db).ok, how
    if how == "head size":  # checked after the entries and the tree, by the same code in both passes
        assert not fast(db).ok
    else:
        assert fast(db) is None, how


def test_a_malformed_stored_time_makes_the_fast_pass_give_way(db):
    varied_log(db, 4)
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite keeps the time as text")
    db.execute(text("UPDATE audit_entries SET time = replace(time, ' ', 'x') WHERE \"index\" = 2"))
    db.commit()
    assert fast(db) is None


# ---------------------------------------------------------------- the canonical encoding of the fast pass


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(deadline=None, max_examples=300)
@given(value=st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5))
def test_the_fast_details_digest_is_the_digest_of_canonical_json(value):
    want = hashlib.sha256(canonical(value)).hexdigest()
    for text_form in (
        json.dumps(value),
        canonical(value).decode(),
        json.dumps(value, indent=1, ensure_ascii=False),
    ):
        assert _details_digest(text_form) == want
    assert _details_digest("{not json") == ""


# ---------------------------------------------------------------- the fast pass over worker processes


@pytest.fixture
def small_ranges(monkeypatch):  # type: ignore[no-untyped-def]
    """The parallel fast pass on a small log: ranges of 8 entries (so 37 entries are 5 ranges), two
    workers."""
    monkeypatch.setattr(verify_module, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(verify_module, "MIN_RANGE_BITS", 3)
    monkeypatch.setattr(verify_module, "MAX_RANGE_BITS", 3)
    monkeypatch.setattr(verify_module, "_workers", lambda: 2)


def parallel(db, check_nodes: bool = True) -> tuple[bool | None, verify_module.LogReplay]:  # type: ignore[no-untyped-def]
    """What the parallel fast pass alone says (None: it could not run), and the tree it rebuilt."""
    db.expire_all()
    replay = verify_module.LogReplay()
    replay.roots = {cp.size: bytes(cp.root) for cp in db.scalars(select(checkpoints.AuditCheckpoint))}
    conn = db.connection()
    source = verify_module._reopenable(db)
    assert source is not None
    outcome = verify_module._parallel_replay(
        conn.connection.dbapi_connection, conn.dialect.name, source, replay, check_nodes
    )
    db.rollback()
    return outcome, replay


def test_the_parallel_pass_vouches_for_an_intact_log(db, settings, small_ranges, exact_pass_forbidden):
    key = signing_key(settings.data_dir, ORIGIN)
    varied_log(db, 12)
    checkpoints.sign(db, key, ORIGIN)  # inside the second range
    varied_log(db, 4)
    checkpoints.sign(db, key, ORIGIN)  # at the end of the second range
    varied_log(db, 21)
    checkpoints.sign(db, key, ORIGIN)
    db.commit()
    outcome, replay = parallel(db)
    assert outcome is True
    assert replay.size == 37 and replay.root == tree.root(db, 37) == checkpoints.latest(db).root
    assert b"".join(replay.frontier) == db.get(AuditHead, 1).frontier
    assert parallel(db, check_nodes=False)[0] is True
    result = verify_log(db, verifier_keys(settings.data_dir, ORIGIN), ORIGIN)
    assert (result.ok, result.size, result.checkpoints) == (True, 37, 3), result.reason


@pytest.mark.parametrize(
    "how",
    [
        "subject",
        "details",
        "entry and its leaf",
        "leaf node",
        "interior node",
        "deleted row",
        "missing node",
        "extra leaf",
        "extra node above the ranges",
    ],
)
def test_the_parallel_pass_gives_way_to_the_exact_pass_that_names_the_entry(db, small_ranges, how):
    """Tampering in the middle of the second range (entries 8..15): the parallel pass sees it and the exact
    pass names the entry, as with one process."""
    varied_log(db, 37)
    assert parallel(db)[0] is True
    {
        "subject": lambda: _set(db, 12, subject="tender:999"),
        "details": lambda: _set(db, 12, details={"title": "edited"}),
        "entry and its leaf": lambda: _forge_entry_and_leaf(db, 12),
        "leaf node": lambda: _set_node(db, tree.node_key(0, 12), b"\x00" * 32),
        "interior node": lambda: _set_node(db, tree.node_key(2, 3), b"\x00" * 32),  # entries 12..15
        "deleted row": lambda: deleting(db, delete(AuditEntry).where(AuditEntry.index == 12)),
        "missing node": lambda: deleting(
            db, delete(tree.AuditNode).where(tree.AuditNode.key == tree.node_key(1, 6))
        ),
        "extra leaf": lambda: db.execute(tree.AuditNode.__table__.insert().values(key=37, hash=b"\x00" * 32)),
        "extra node above the ranges": lambda: db.execute(
            tree.AuditNode.__table__.insert().values(key=tree.node_key(4, 2), hash=b"\x00" * 32)
        ),
    }[how]()
    db.commit()
    assert parallel(db)[0] is False, how
    assert fast(db) is None, how  # as the fast pass in one process says
    result = verify_log(db)
    if how == "extra node above the ranges":  # the exact pass looks at the nodes a tree of this size has
        assert result.ok, result.reason
    elif how == "extra leaf":
        assert (result.ok, result.first_bad) == (False, 37), result.reason
    else:  # the entry, or the subtree over entries 12..15
        assert (result.ok, result.first_bad) == (False, 12), (how, result.reason)


def test_the_parallel_pass_is_used_by_verify_log(db, small_ranges, monkeypatch):
    varied_log(db, 37)
    calls = []
    real, only_thread = verify_module._parallel_replay, verify_module._only_thread
    monkeypatch.setattr(verify_module, "_parallel_replay", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(
        verify_module, "_only_thread", lambda: True
    )  # other tests leave logging threads behind
    assert verify_log(db).ok and calls == [1]
    record(
        db, TenderTag.tender_updated, actor=ALICE, subject="tender:1"
    )  # uncommitted: other connections would not see it
    assert verify_log(db).ok and verify_log(db).size == 38 and calls == [1]
    db.commit()
    monkeypatch.setattr(verify_module, "_only_thread", only_thread)
    done = threading.Event()
    other = threading.Thread(target=done.wait)  # another thread: the workers are not forked
    other.start()
    try:
        assert verify_log(db).ok and calls == [1]
    finally:
        done.set()
        other.join()


def test_workers_that_cannot_read_the_database_give_way_to_the_one_process_pass(
    db, small_ranges, tmp_path, monkeypatch
):
    varied_log(db, 37)
    elsewhere = verify_module._Source("sqlite", str(tmp_path / "elsewhere.db"))  # no tables there
    monkeypatch.setattr(verify_module, "_reopenable", lambda session: elsewhere)
    assert parallel(db)[0] is None
    result = verify_log(db)
    assert (result.ok, result.size) == (True, 37), result.reason


def test_an_in_memory_database_is_checked_in_one_process():
    engine = make_engine("sqlite://")
    try:
        with Session(engine) as session:
            assert verify_module._reopenable(session) is None
    finally:
        engine.dispose()
