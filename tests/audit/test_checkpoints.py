"""Signed checkpoints (audit/checkpoints.py), disclosure of confidential details, and the full verification
(audit/verify.py) against the signed checkpoints: a rewritten history, a truncated log and a forged note."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from audit import checkpoints, merkle, record, tree
from audit.log import AuditConfidential, AuditEntry, AuditHead, confidential_digest, disclose
from audit.verify import verify_log
from core import clock
from core.errors import Conflict, NotFound
from core.identity import SYSTEM, Actor
from core.signing import rotate, signing_key, verifier_keys
from tender.events import TenderTag
from tests.factories.retention import deleting

ALICE = Actor(user_id=7, username="alice", role="agency", organisation_id=3, ip="198.51.100.7")
BIDDER = Actor(user_id=9, username="bidder_a", role="bidder", organisation_id=5, ip="203.0.113.9")
ORIGIN = "etender.test/audit"


def append(db, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        record(db, TenderTag.tender_updated, actor=ALICE, subject=f"tender:{i}", details={"i": i})


def test_checkpoint_note_is_a_c2sp_signed_checkpoint(db, settings):
    key = signing_key(settings.data_dir, ORIGIN)
    append(db, 5)
    cp = checkpoints.sign(db, key, ORIGIN)
    db.commit()
    head = db.get(AuditHead, 1)
    root_b64 = base64.b64encode(head.root).decode()
    text, sig_line = cp.note.split("\n\n")
    assert text + "\n" == f"{ORIGIN}\n5\n{root_b64}\n" == checkpoints.body(ORIGIN, 5, head.root)
    assert sig_line.startswith(f"\u2014 {ORIGIN} ") and sig_line.endswith("\n")
    raw = base64.b64decode(sig_line.split(" ")[2])
    assert raw[:4] == key.id and key.verifier.verify(raw[4:], (text + "\n").encode())
    opened = checkpoints.open_note(cp.note, [key.verifier])
    assert (opened.origin, opened.size, opened.root, opened.key_id) == (ORIGIN, 5, head.root, key.id.hex())
    assert cp.root == head.root == tree.root(db, 5)


def test_forged_or_unknown_notes_are_refused(db, settings):
    key = signing_key(settings.data_dir, ORIGIN)
    append(db, 3)
    note = checkpoints.sign(db, key, ORIGIN).note
    other = rotate(settings.data_dir, ORIGIN)
    with pytest.raises(checkpoints.NoteError, match="no known key"):
        checkpoints.open_note(note, [other.verifier])
    with pytest.raises(checkpoints.NoteError, match="no known key"):
        checkpoints.open_note(note.replace("\n3\n", "\n4\n"), [key.verifier])
    with pytest.raises(checkpoints.NoteError, match="blank line"):
        checkpoints.open_note(note.replace("\n\n", "\n"), [key.verifier])
    with pytest.raises(checkpoints.NoteError, match="decimal"):
        checkpoints.open_note(note.replace("\n3\n", "\n03\n"), [key.verifier])


def test_a_checkpoint_is_signed_only_when_the_log_grew_and_the_last_is_stale(db, settings):
    key = signing_key(settings.data_dir, ORIGIN)
    append(db, 2)
    assert checkpoints.sign(db, key, ORIGIN) is not None
    assert checkpoints.sign(db, key, ORIGIN) is None  # nothing new
    append(db, 1)
    assert checkpoints.sign(db, key, ORIGIN, stale_after=timedelta(seconds=2)) is None  # the latest is fresh
    clock.shift(timedelta(seconds=3))
    assert checkpoints.sign(db, key, ORIGIN, stale_after=timedelta(seconds=2)).size == 3
    db.commit()
    assert [c.size for c in checkpoints.all_checkpoints(db)] == [2, 3]


def _signed_log(db, settings, sizes=(3, 6, 10)):  # type: ignore[no-untyped-def]
    key = signing_key(settings.data_dir, ORIGIN)
    done = 0
    for size in sizes:
        append(db, size - done)
        checkpoints.sign(db, key, ORIGIN)
        done = size
    db.commit()
    return verifier_keys(settings.data_dir, ORIGIN)


def test_verify_checks_every_checkpoint_and_their_consistency(db, settings):
    keys = _signed_log(db, settings)
    result = verify_log(db, keys, ORIGIN)
    assert (result.ok, result.size, result.checkpoints) == (True, 10, 3), result.reason


def test_old_checkpoints_still_verify_after_a_key_rotation(db, settings):
    _signed_log(db, settings, (2, 4))
    new = rotate(settings.data_dir, ORIGIN)
    append(db, 3)
    cp = checkpoints.sign(db, new, ORIGIN)
    db.commit()
    assert cp.key_id == new.id.hex()
    assert verify_log(db, verifier_keys(settings.data_dir, ORIGIN), ORIGIN).ok
    assert not verify_log(db, [new.verifier], ORIGIN).ok


def test_a_forged_stored_checkpoint_is_caught(db, settings):
    keys = _signed_log(db, settings)
    db.execute(
        update(checkpoints.AuditCheckpoint)
        .where(checkpoints.AuditCheckpoint.size == 6)
        .values(root=b"\x01" * 32)
    )
    db.commit()
    result = verify_log(db, keys, ORIGIN)
    assert not result.ok and "checkpoint of size 6" in result.reason and "signed note" in result.reason
    db.execute(
        update(checkpoints.AuditCheckpoint).where(checkpoints.AuditCheckpoint.size == 6).values(note="6\n")
    )
    db.commit()
    assert "not a signed note" in verify_log(db, keys, ORIGIN).reason


def test_a_history_rewritten_consistently_is_caught_by_the_signed_checkpoints(db, settings):
    """Someone with write access rewrites entry 4 and recomputes every stored hash and the head: the log
    agrees with itself, but no longer with the checkpoints signed before. The first entry not covered by a
    matching checkpoint (3) is named."""
    keys = _signed_log(db, settings)
    entries = list(db.scalars(select(AuditEntry).order_by(AuditEntry.index)))
    forged = entries[4].entry_bytes.replace(
        f'"subject":"{entries[4].subject}"'.encode(), b'"subject":"tender:99"'
    )
    assert forged != entries[4].entry_bytes
    db.execute(
        update(AuditEntry).where(AuditEntry.index == 4).values(entry_bytes=forged, subject="tender:99")
    )
    deleting(db, delete(tree.AuditNode))
    frontier: list[bytes] = []
    for e in entries:
        leaf = merkle.leaf_hash(forged if e.index == 4 else e.entry_bytes)
        db.execute(
            tree.AuditNode.__table__.insert(),
            [{"key": k, "hash": h} for k, h in tree.extend(frontier, e.index, leaf)],
        )
    db.execute(update(AuditHead).values(frontier=b"".join(frontier)))
    for cp in db.scalars(select(checkpoints.AuditCheckpoint)):
        cp.root = tree.root(db, cp.size)
    db.commit()
    assert verify_log(db).ok  # without the signatures nothing shows
    result = verify_log(db, keys, ORIGIN)
    assert (result.ok, result.first_bad) == (False, 3)
    assert "signed checkpoint of size 6" in result.reason


def test_a_truncated_log_is_caught_by_the_checkpoint(db, settings):
    keys = _signed_log(db, settings)
    deleting(db, delete(AuditEntry).where(AuditEntry.index >= 8))
    db.execute(update(AuditHead).values(size=8))
    db.commit()
    result = verify_log(db, keys, ORIGIN)
    assert (result.ok, result.first_bad) == (False, 8) and "missing" in result.reason


# ---------------------------------------------------------------- disclosure


def test_disclose_publishes_the_salt_and_data_and_records_it(db):
    e = record(
        db, TenderTag.bid_submitted, actor=BIDDER, subject="tender:1", details={"lot": 1}, conceal_actor=True
    )
    db.commit()
    assert e.actor == "(confidential)" and e.ip == "(confidential)" and e.organisation_id is None
    secret = disclose(db, e.index, SYSTEM)
    db.commit()
    assert secret.disclosed_at is not None
    assert confidential_digest(secret.salt, secret.data) == e.details["confidential_digest"]
    assert secret.data["actor"]["organisation"] == 5
    last = db.scalars(select(AuditEntry).order_by(AuditEntry.index.desc()).limit(1)).one()
    assert (last.tag, last.subject, last.details["entry"]) == (
        "audit.details.disclosed",
        f"audit:{e.index}",
        e.index,
    )
    result = verify_log(db)
    assert result.ok and result.disclosed == 1
    with pytest.raises(Conflict):
        disclose(db, e.index, SYSTEM)
    db.rollback()
    with pytest.raises(NotFound):
        disclose(db, last.index, SYSTEM)


def test_verify_catches_changed_confidential_data(db):
    e = record(
        db, TenderTag.bid_submitted, actor=BIDDER, subject="tender:1", details={"lot": 1}, conceal_actor=True
    )
    record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1")
    db.commit()
    db.execute(
        update(AuditConfidential)
        .where(AuditConfidential.entry_index == e.index)
        .values(data={"actor": {"organisation": 6}})
    )
    db.commit()
    result = verify_log(db)
    assert (result.ok, result.first_bad) == (False, e.index) and "confidential" in result.reason


def test_checkpoints_signed_while_writers_append_all_verify(db, factory, settings):
    """Writers append in parallel while a signer signs checkpoints (the web app's background signer): every
    checkpoint is of a consistent prefix, and the log verifies against all of them (PostgreSQL: row locks)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    key = signing_key(settings.data_dir, ORIGIN)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        for i in range(15):
            session = factory()
            try:
                record(
                    session,
                    TenderTag.tender_updated,
                    actor=ALICE,
                    subject=f"tender:{t}",
                    details={"t": t, "i": i},
                )
                session.commit()
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
            finally:
                session.close()

    def signer() -> None:
        while not stop.is_set():
            session = factory()
            try:
                checkpoints.sign(session, key, ORIGIN)
                session.commit()
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
            finally:
                session.close()

    sign_thread = threading.Thread(target=signer)
    sign_thread.start()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(writer, range(4)))
    stop.set()
    sign_thread.join(30)
    checkpoints.sign(db, key, ORIGIN)
    db.commit()
    assert errors == []
    result = verify_log(db, verifier_keys(settings.data_dir, ORIGIN), ORIGIN)
    assert result.ok and result.size == 60 and result.checkpoints >= 2, result.reason
