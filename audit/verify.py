"""Verification of the whole audit log: recompute the tree from the entry bytes, check the columns and details
against what each entry hashed, every signed checkpoint (signature, root at its size, consistency with the one
before), the confidential details against their digests, and the stored subtree hashes that proofs are served
from. The first entry that does not hold is named.

Two passes of the same checks. The fast pass reads raw rows (the database gives the time as text, in UTC),
rebuilds each entry's bytes from its columns, hashes the details in canonical form, recomputes the tree and
compares every level of stored subtree hashes in one digest per level instead of node by node. It can only say
"all holds"; on any difference at all it gives way to the exact pass, which walks the log entry by entry and
node by node and names the first entry that does not hold (and, when the fast pass was merely stricter than
needed, says that all holds). So the verdict and the entry named are always the exact pass's.

On a large log the fast pass is split over worker processes (one per core): each takes an aligned range of
2^k entries, opens its own connection from the session's database URL, checks the entries, builds the range's
subtree and compares the stored nodes inside the range; the main process folds the range roots into the tree,
checks the checkpointed roots and the levels above the ranges, meanwhile. Only when the session holds nothing
uncommitted (the workers see what is committed; on PostgreSQL they share the main transaction's snapshot), no
other thread runs in this process (the workers are forked) and the database can be opened again (a file, a
server). Any difference there also gives way to the exact pass; a worker that cannot run, to the one-process
pass.

LogReplay is the part shared with the remote verifier and the witness (web/cli.py): it only needs entry
bytes."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import multiprocessing
import os
import sqlite3
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from json.encoder import c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _encode_string
from json.scanner import make_scanner
from typing import Any

from sqlalchemy import URL, Text, cast, func, select
from sqlalchemy.orm import Session

from audit import tree
from audit.checkpoints import AuditCheckpoint, NoteError, open_note
from audit.log import (
    CONCEALED,
    AuditConfidential,
    AuditEntry,
    AuditHead,
    address_digest,
    canonical,
    confidential_digest,
    format_time,
    write_pending,
)
from audit.merkle import leaf_hash, verify_consistency
from core.signing import VerifierKey


@dataclass
class VerifyResult:
    ok: bool
    size: int
    first_bad: int | None = None
    reason: str = ""
    checkpoints: int = 0
    disclosed: int = 0
    withheld: int = 0  # entries the public API served only as their leaf hash (verify --url)
    notes: list[str] = field(default_factory=list)


class Altered(Exception):
    def __init__(self, index: int | None, reason: str):
        super().__init__(reason)
        self.index = index
        self.reason = reason


class LogReplay:
    """Rebuilds the tree leaf by leaf (O(log n) memory) and checks signed roots as their sizes are reached."""

    def __init__(self) -> None:
        self.frontier: list[bytes] = []
        self.size = 0
        self.roots: dict[int, bytes] = {}  # size -> root that must hold there (from verified checkpoints)
        self.last_good = 0  # the largest checkpointed size reached with a matching root

    def add(self, index: int, entry_bytes: bytes, *, check_index: bool = True) -> bytes:
        """check_index=False when the caller already compared the bytes with columns that include the
        index."""
        if index != self.size:
            raise Altered(self.size, f"entry {self.size} is missing (the next stored entry is {index})")
        if check_index:
            try:
                doc = json.loads(entry_bytes)
            except ValueError as e:
                raise Altered(index, "the entry bytes are not JSON") from e
            if not isinstance(doc, dict) or doc.get("index") != index:
                raise Altered(
                    index,
                    f"entry {index} carries index {doc.get('index') if isinstance(doc, dict) else '?'}: "
                    "entries were moved",
                )
        return self.add_leaf(index, leaf_hash(entry_bytes))

    def add_leaf(self, index: int, leaf: bytes) -> bytes:
        """A leaf whose entry cannot be checked (a withheld entry of the public log: only its hash is
        published); the tree and the signed roots still are."""
        if index != self.size:
            raise Altered(self.size, f"entry {self.size} is missing (the next stored entry is {index})")
        tree.extend(self.frontier, index, leaf)
        self.size += 1
        want = self.roots.get(self.size)
        if want is not None:
            if tree.frontier_root(self.frontier) != want:
                raise Altered(
                    self.last_good,
                    f"the entries before {self.size} do not give the root of the signed checkpoint of size "
                    f"{self.size}; the first entry not covered by an earlier matching checkpoint is "
                    f"{self.last_good}",
                )
            self.last_good = self.size
        return leaf

    @property
    def root(self) -> bytes:
        return tree.frontier_root(self.frontier)


def _check_checkpoints(
    session: Session, keys: list[VerifierKey] | None, origin: str | None, result: VerifyResult
) -> tuple[list[tuple[int, bytes]], str]:
    """The (size, root) each checkpoint holds, from the signed note when keys are given (the stored columns
    could be rewritten, the signature cannot), and any disagreement between the stored columns and the
    note."""
    cps = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size, AuditCheckpoint.id)))
    if keys is None:
        return [(cp.size, bytes(cp.root)) for cp in cps], ""
    out: list[tuple[int, bytes]] = []
    problem = ""
    for cp in cps:
        try:
            opened = open_note(cp.note, keys)
        except NoteError as e:
            raise Altered(None, f"checkpoint of size {cp.size}: {e}") from e
        if opened.origin != origin:
            raise Altered(
                None, f"checkpoint of size {cp.size} is for the log {opened.origin!r}, not {origin!r}"
            )
        if (opened.size, opened.root) != (cp.size, bytes(cp.root)) and not problem:
            problem = f"checkpoint of size {opened.size}: its stored size or root differ from the signed note"
        out.append((opened.size, opened.root))
    result.checkpoints = len(cps)
    return sorted(out), problem


def _check_nodes(
    session: Session, size: int, leaves: Callable[[], None] | None = None, chunk: int = 65536
) -> None:
    """Every stored interior node must be the hash of its two stored children (the leaves were compared with
    the recomputed leaf hashes while replaying), and every complete subtree must be stored."""
    level = 1
    while (1 << level) <= size:
        count = size >> level
        for start in range(0, count, chunk):
            stop = min(count, start + chunk)
            kids = dict(
                session.execute(
                    select(tree.AuditNode.key, tree.AuditNode.hash).where(
                        tree.AuditNode.key >= tree.node_key(level - 1, 2 * start),
                        tree.AuditNode.key < tree.node_key(level - 1, 2 * stop),
                    )
                ).all()
            )
            mine = dict(
                session.execute(
                    select(tree.AuditNode.key, tree.AuditNode.hash).where(
                        tree.AuditNode.key >= tree.node_key(level, start),
                        tree.AuditNode.key < tree.node_key(level, stop),
                    )
                ).all()
            )
            for position in range(start, stop):
                left = kids.get(tree.node_key(level - 1, 2 * position))
                right = kids.get(tree.node_key(level - 1, 2 * position + 1))
                stored = mine.get(tree.node_key(level, position))
                if (
                    left is None
                    or right is None
                    or stored is None
                    or bytes(stored) != hashlib.sha256(b"\x01" + left + right).digest()
                ):
                    raise Altered(
                        position << level,
                        f"the stored subtree hash at level {level} over entries from {position << level} "
                        "does not match its children: proofs from it would not verify",
                    )
        level += 1


def verify_log(
    session: Session,
    keys: list[VerifierKey] | None = None,
    origin: str | None = None,
    *,
    check_nodes: bool = True,
) -> VerifyResult:
    """Check the whole log as stored in this database. `keys` are the verifier keys checkpoints may be signed
    with; without them the checkpoints' signatures are not checked (their stored roots still are)."""
    # Worker processes only when this session holds nothing uncommitted (other connections see the log as it
    # does) and this process runs no other thread (a lock another thread holds at fork() would be held forever
    # in the worker).
    parallel = not session.in_transaction() and _only_thread()
    write_pending(session)  # this session's own appends, if any, as they will be committed
    result = _verify(session, keys, origin, check_nodes, fast=True, parallel=parallel)
    if result is None:  # the fast pass saw something differ: the exact pass names it
        result = _verify(session, keys, origin, check_nodes, fast=False)
    assert result is not None  # the exact pass always has a verdict
    return result


def verify_chain(session: Session) -> VerifyResult:
    """The whole log recomputed and checked against itself, without checkpoint signatures."""
    return verify_log(session)


def _verify(
    session: Session,
    keys: list[VerifierKey] | None,
    origin: str | None,
    check_nodes: bool,
    *,
    fast: bool,
    parallel: bool = False,
) -> VerifyResult | None:
    """One pass of verify_log; None when the fast pass cannot vouch for the entries and the stored tree."""
    result = VerifyResult(True, 0)
    replay = LogReplay()
    try:
        cps, checkpoint_problem = _check_checkpoints(session, keys, origin, result)
        for size, root in cps:
            if replay.roots.setdefault(size, root) != root:
                raise Altered(
                    None, f"two signed checkpoints of size {size} have different roots: the log forked"
                )
        if not fast:
            _replay_entries(session, replay)
        elif not _fast_replay(session, replay, check_nodes, parallel=parallel):
            return None
        result.size = replay.size
        for size, _ in cps:
            if size > replay.size:
                raise Altered(
                    replay.size,
                    f"entry {replay.size} is missing: a signed checkpoint covers {size} entries, "
                    f"the database holds {replay.size}",
                )
        for (a, ra), (b, rb) in zip(cps, cps[1:], strict=False):
            proof = tree.consistency_proof(session, a, b)
            if not verify_consistency(a, b, ra, rb, proof):
                raise Altered(
                    a, f"the stored tree does not prove checkpoint {b} consistent with checkpoint {a}"
                )
        if checkpoint_problem:
            raise Altered(None, checkpoint_problem)
        if check_nodes and not fast:  # the fast pass compared every level already
            _check_nodes(session, replay.size)
        head = session.get(AuditHead, 1)
        if head is not None and head.size > replay.size:
            raise Altered(
                replay.size,
                f"the log is shorter than its head says ({replay.size} entries stored, {head.size} "
                f"appended): entry {replay.size} and later were removed",
            )
        if head is not None and (
            head.size != replay.size or bytes(head.frontier or b"") != b"".join(replay.frontier)
        ):
            raise Altered(
                min(head.size, replay.size),
                f"the log head (size {head.size}) does not hold the tree edge that the "
                f"{replay.size} stored entries give: entries were removed or changed",
            )
        result.disclosed = _check_confidential(session)
        if check_nodes and not fast:
            stored_leaves = session.scalar(
                select(func.count())
                .select_from(tree.AuditNode)
                .where(tree.AuditNode.key < tree.node_key(1, 0))
            )
            if stored_leaves != replay.size:
                raise Altered(
                    replay.size, f"the stored tree has {stored_leaves} leaves for {replay.size} entries"
                )
    except Altered as e:
        return VerifyResult(False, replay.size, e.index, e.reason, result.checkpoints, result.disclosed)
    return result


COLUMNS = (
    AuditEntry.index,
    AuditEntry.entry_bytes,
    AuditEntry.tag,
    AuditEntry.time,
    AuditEntry.actor,
    AuditEntry.actor_user_id,
    AuditEntry.role,
    AuditEntry.organisation_id,
    AuditEntry.ip,
    AuditEntry.subject,
    AuditEntry.details_digest,
    cast(AuditEntry.details, Text),  # the stored JSON text: "{}" needs no parsing
    AuditEntry.salt,
    AuditEntry.address,
    AuditEntry.address_salt,
    tree.AuditNode.hash,
)
EMPTY_DETAILS_DIGEST = hashlib.sha256(b"{}").hexdigest()


def _json_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _entry_bytes(
    index: int,
    tag: str,
    time: str,
    actor: str,
    actor_id: int | None,
    role: str | None,
    org: int | None,
    ip: str,
    subject: str,
    details_digest: str,
    salt: str | None = None,
    address: str | None = None,
    address_salt: str | None = None,
) -> bytes:
    """canonical() of an entry built from its columns, written out in the sorted key order (the hot loop of
    verification: about three times faster than json.dumps with sort_keys, and the same bytes). A withheld
    entry's salt sits between "role" and "subject"; an ordinary entry (salt NULL or "") has no salt key. An
    entry with an address salt carries "address_digest" (between "actor_id" and "details_digest") and no "ip";
    one written before has "ip" (between "index" and "organisation")."""
    salted = f'"salt":{_json_value(salt)},' if salt else ""
    committed = (
        f'"address_digest":"{address_digest(address_salt, address or "")}",'
        if address_salt is not None
        else ""
    )
    shown = f'"ip":{_json_value(ip)},' if address_salt is None else ""
    return (
        f'{{"actor":{_json_value(actor)},"actor_id":{_json_value(actor_id)},{committed}'
        f'"details_digest":{_json_value(details_digest)},'
        f'"index":{_json_value(index)},{shown}"organisation":{_json_value(org)},"role":{_json_value(role)},'
        f"{salted}"
        f'"subject":{_json_value(subject)},"tag":{_json_value(tag)},"time":{_json_value(time)}}}'
    ).encode()


def _shown_address_agrees(ip: str, actor: str, address: str | None, address_salt: str | None) -> bool:
    """The `ip` column monitors are shown says what the entry committed to: the committed address, or
    "(confidential)" with a concealed actor. An entry written before (no address salt) has it in its bytes."""
    if address_salt is None:
        return address is None
    return ip == address or (ip == CONCEALED and actor == CONCEALED)


def _replay_entries(session: Session, replay: LogReplay, batch: int = 5000) -> None:
    stmt = (
        select(*COLUMNS)
        .outerjoin(tree.AuditNode, tree.AuditNode.key == AuditEntry.index)
        .order_by(AuditEntry.index)
    )
    for row in session.connection().execute(
        stmt.execution_options(yield_per=batch)
    ):  # Core rows: no ORM loading
        (
            index,
            entry_bytes,
            tag,
            time,
            actor,
            actor_id,
            role,
            org,
            ip,
            subject,
            details_digest,
            details,
            salt,
            address,
            address_salt,
            stored_leaf,
        ) = row
        entry_bytes = bytes(entry_bytes)
        # The columns are what pages and filters show: they must say what the entry hashed (index included).
        # The address shown must be the one committed to, or concealed with the actor.
        if _entry_bytes(
            index,
            tag,
            format_time(time),
            actor,
            actor_id,
            role,
            org,
            ip,
            subject,
            details_digest,
            salt,
            address,
            address_salt,
        ) != entry_bytes or not _shown_address_agrees(ip, actor, address, address_salt):
            if index == replay.size:
                replay.add(index, entry_bytes)  # names a moved entry as such
            raise Altered(
                min(index, replay.size),
                f"entry {min(index, replay.size)}: the stored columns differ from the hashed entry"
                if index == replay.size
                else f"entry {replay.size} is missing (the next stored entry is {index})",
            )
        leaf = replay.add(index, entry_bytes, check_index=False)
        try:
            digest = (
                EMPTY_DETAILS_DIGEST
                if details == "{}"
                else hashlib.sha256(canonical(json.loads(details))).hexdigest()
            )
        except (TypeError, ValueError):
            digest = ""  # not JSON: certainly not what the entry committed to
        if digest != details_digest:
            raise Altered(index, f"entry {index}: the details do not match their digest")
        if stored_leaf is None or bytes(stored_leaf) != leaf:
            raise Altered(index, f"entry {index}: the stored leaf hash differs from the entry's hash")


# The fast pass. Canonical JSON with the C encoder and scanner built once (json.dumps builds both on every
# call): the same bytes as canonical(), see tests/audit/test_log.py.
_scan_json = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # what json.loads parses with, without its wrappers
if c_make_encoder is not None:
    _canonical_chunks = c_make_encoder(None, None, _encode_string, None, ":", ",", True, False, True)
else:  # a Python without the json accelerator: the same text, more slowly

    def _canonical_chunks(value: Any, _level: int) -> tuple[str]:
        return (canonical(value).decode(),)


# The entry's time as the database holds it, "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (SQLite keeps that text; from
# PostgreSQL's binary timestamptz, see _pg_time_text: its to_char() cost the server 3 µs an entry), and what
# every stored time must look like for that text to be what format_time() gives (else the exact pass looks at
# the times).
_FAST_TIME = {"sqlite": "time", "postgresql": "time"}
_FAST_TIMES_WELL_FORMED = {
    "sqlite": "SELECT count(*) FROM audit_entries WHERE NOT (typeof(time) = 'text' AND time GLOB "
    "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] "
    "[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]')",
    "postgresql": "SELECT count(*) FROM audit_entries "
    "WHERE NOT (time >= TIMESTAMPTZ '1000-01-01 00:00:00+00' AND "
    "time < TIMESTAMPTZ '9999-12-31 00:00:00+00')",
}
_FAST_DETAILS = {"sqlite": "details", "postgresql": "details::text"}
_PG_EPOCH = datetime(2000, 1, 1)  # noqa: DTZ001 - PostgreSQL's binary timestamptz: microseconds since then, in UTC


@functools.cache
def _pg_time_text() -> type[Any]:
    """A psycopg loader giving a binary timestamptz as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), formatting each
    second once."""
    from psycopg import pq
    from psycopg.adapt import Loader

    class TimeText(Loader):
        format = pq.Format.BINARY
        second, prefix = None, ""

        def load(self, data: Any) -> str:
            second, micro = divmod(int.from_bytes(data, "big", signed=True), 1_000_000)
            if second != self.second:
                try:
                    self.prefix = (_PG_EPOCH + timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")
                except (
                    OverflowError
                ):  # +-infinity, or beyond year 9999: no entry's time, the exact pass looks at it
                    return ""
                self.second = second
            return f"{self.prefix}.{micro:06d}"

    return TimeText


_FAST_ENTRIES = {
    dialect: f'SELECT "index", entry_bytes, tag, {time}, actor, actor_user_id, role, organisation_id, '  # noqa: S608
    f"ip, subject, details_digest, {_FAST_DETAILS[dialect]}, salt, address, address_salt "
    'FROM audit_entries ORDER BY "index"'
    for dialect, time in _FAST_TIME.items()
}


def _details_digest(text: str) -> str:
    """sha256 of canonical(json.loads(text)); "" when the text is not JSON."""
    if text == "{}":
        return EMPTY_DETAILS_DIGEST
    try:
        value, end = _scan_json(text, 0)
        if end != len(text):
            value = json.loads(text)  # surrounding whitespace: what json.loads accepts
        return hashlib.sha256("".join(_canonical_chunks(value, 0)).encode()).hexdigest()
    except (TypeError, ValueError, StopIteration, RecursionError):
        try:
            return hashlib.sha256(canonical(json.loads(text))).hexdigest()
        except (TypeError, ValueError):
            return ""


def _batches(cur: Any, batch: int, *, prefetch: bool) -> Generator[list[Any], None, None]:
    """The cursor's rows in batches. With prefetch the next batch is fetched in a thread while the caller
    works on this one (for PostgreSQL: the driver waits for the server without holding the GIL)."""
    if not prefetch:
        while rows := cur.fetchmany(batch):
            yield rows
        return
    with ThreadPoolExecutor(1, thread_name_prefix="audit-verify") as pool:
        future = pool.submit(cur.fetchmany, batch)
        while rows := future.result():
            future = pool.submit(cur.fetchmany, batch)
            yield rows


def _leaves(rows: list[Any], index: int, out: list[bytes]) -> bool:
    """The leaf hashes of these rows, appended to `out`; False when the rows are not entries `index`,
    `index` + 1, ... or an entry's columns or details do not say what its bytes hashed (a column of an
    unexpected type or form raises TypeError, ValueError or AttributeError: the exact pass looks at it)."""
    sha256, enc, details_digest, append = hashlib.sha256, _encode_string, _details_digest, out.append
    for (
        index_,
        entry_bytes,
        tag,
        time,
        actor,
        actor_id,
        role,
        org,
        ip,
        subject,
        digest,
        details,
        salt,
        address,
        address_salt,
    ) in rows:
        if index_ != index:
            return False
        # canonical() of the columns, keys in order. The digest goes in as it is (it must be the hex digest of
        # the details, checked next) and so does the time (checked for its form by _FAST_TIMES_WELL_FORMED).
        # A withheld entry's salt sits between "role" and "subject"; an ordinary entry has none. An entry
        # with an address salt commits to its address by digest and has no "ip" key.
        salted = f'"salt":{enc(salt)},' if salt else ""
        if address_salt is None:
            if address is not None:
                return False
            committed, shown = "", f'"ip":{enc(ip)},'
        else:
            if ip != address and not (ip == CONCEALED and actor == CONCEALED):
                return False
            text = f'{{"ip":{enc(address)},"salt":{enc(address_salt)}}}'.encode()
            committed, shown = f'"address_digest":"{sha256(text).hexdigest()}",', ""
        if (
            f'{{"actor":{enc(actor)},"actor_id":{"null" if actor_id is None else f"{actor_id:d}"},{committed}'
            f'"details_digest":"{digest}","index":{index_:d},{shown}'
            f'"organisation":{"null" if org is None else f"{org:d}"},'
            f'"role":{"null" if role is None else enc(role)},{salted}'
            f'"subject":{enc(subject)},"tag":{enc(tag)},"time":"{time[:10]}T{time[11:]}Z"}}'
        ).encode() != entry_bytes:
            return False
        # record() stores the canonical text itself: hashing it is the check; other forms are parsed
        if digest != sha256(details.encode()).hexdigest() and digest != details_digest(details):
            return False
        append(sha256(b"\x00" + entry_bytes).digest())
        index += 1
    return True


def _fast_replay(
    session: Session, replay: LogReplay, check_nodes: bool, batch: int = 20_000, *, parallel: bool = False
) -> bool:
    """The fast pass over the entries and the stored tree: True when every entry's columns and details agree
    with its bytes, the recomputed tree gives every checkpointed root, and every level of stored subtree
    hashes (only the leaves without check_nodes) equals the recomputed one, none missing, none extra. It sets
    the replay's size and frontier as the exact pass would. With `parallel`, a large log is checked by worker
    processes."""
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect not in _FAST_TIME:
        return False
    dbapi: Any = (
        conn.connection.dbapi_connection
    )  # the driver's own connection (sqlite3, psycopg), same transaction
    postgres = dialect == "postgresql"
    if parallel:
        source = _reopenable(session)
        if source is not None:
            outcome = _parallel_replay(dbapi, dialect, source, replay, check_nodes)
            if outcome is not None:
                return outcome
    # a server-side cursor on PostgreSQL: the log is streamed, not held in memory
    cur = dbapi.cursor(name="audit_verify") if postgres else dbapi.cursor()
    if postgres:
        cur.adapters.register_loader("timestamptz", _pg_time_text())
    sha256 = hashlib.sha256
    roots = replay.roots
    frontier: list[bytes] = []
    levels = [sha256()]  # the recomputed hashes of each level, in position order, digested
    size = 0
    leaves: list[bytes] = []
    batches = _batches(cur, batch, prefetch=postgres)
    try:
        cur.execute(_FAST_ENTRIES[dialect], binary=True) if postgres else cur.execute(_FAST_ENTRIES[dialect])
        for rows in batches:
            leaves.clear()
            if not _leaves(rows, size, leaves):
                return False
            levels[0].update(b"".join(leaves))
            for h in leaves:
                position, level = size, 0
                while position & 1:
                    h = sha256(b"\x01" + frontier.pop() + h).digest()
                    position >>= 1
                    level += 1
                    if level == len(levels):
                        levels.append(sha256())
                    levels[level].update(h)
                frontier.append(h)
                size += 1
                if size in roots and tree.frontier_root(frontier) != roots[size]:
                    return False
    except (
        TypeError,
        ValueError,
        AttributeError,
        OverflowError,
    ):  # a column of an unexpected type or form: the exact pass looks at it
        return False
    finally:
        batches.close()
        cur.close()
    if not _times_well_formed(dbapi, dialect):
        return False
    replay.size, replay.frontier = size, frontier
    replay.last_good = max((s for s in roots if s <= size), default=0)
    return _stored_levels_match(dbapi, postgres, size, levels if check_nodes else levels[:1])


def _times_well_formed(dbapi: Any, dialect: str) -> bool:
    cur = dbapi.cursor()
    try:
        cur.execute(_FAST_TIMES_WELL_FORMED[dialect])
        return bool(cur.fetchone() == (0,))
    finally:
        cur.close()


def _stored_levels_match(
    dbapi: Any, postgres: bool, size: int, levels: list[Any], chunk: int = 100_000, first_level: int = 0
) -> bool:
    """Each level's stored hashes, in key order, digested and counted against the recomputed level: the whole
    level, so a missing, extra, changed or moved node shows. `levels` are the digests of levels first_level,
    first_level + 1, ..."""
    sql = (
        "SELECT hash FROM audit_nodes WHERE key >= %s AND key < %s ORDER BY key"
        if postgres
        else "SELECT hash FROM audit_nodes WHERE key >= ? AND key < ? ORDER BY key"
    )
    cur = dbapi.cursor()
    try:
        for level, recomputed in enumerate(levels, first_level):
            count = size >> level
            digest = hashlib.sha256()
            for start in range(0, max(count, 1), chunk):
                stop = start + chunk
                hi = tree.node_key(level, stop) if stop < count else tree.node_key(level + 1, 0)
                params = (tree.node_key(level, start), hi)
                cur.execute(sql, params, binary=True) if postgres else cur.execute(sql, params)
                hashes = [h for (h,) in cur.fetchall()]
                if len(hashes) != min(chunk, count - start) or not all(map((32).__eq__, map(len, hashes))):
                    return False
                digest.update(b"".join(hashes))
            if digest.digest() != recomputed.digest():
                return False
    finally:
        cur.close()
    return True


# ---------------------------------------------------------------- the fast pass over worker processes

PARALLEL_MIN_ENTRIES = 50_000  # below this, starting the workers costs more than they save
MIN_RANGE_BITS, MAX_RANGE_BITS = 10, 16  # a worker's task: an aligned range of 2^k entries, a perfect subtree
# "fork": the workers start at once with everything imported, and run nothing of the caller's main module,
# which "spawn" and "forkserver" import again in every worker (a caller without an `if __name__ == "__main__"`
# guard would run itself once per worker; the bench took 3 times as long). The workers touch none of the
# connections they inherit: each opens its own (_verify_range) and they leave with os._exit, closing nothing
# of the parent's.
START_METHOD = "fork"


@dataclass(frozen=True)
class _Source:
    """How a worker opens the database again: a file (SQLite) or a libpq connection string and, on PostgreSQL,
    the snapshot of the main transaction, so that every worker reads the log exactly as the main process
    does."""

    dialect: str
    target: str
    snapshot: str | None = None


def _reopenable(session: Session) -> _Source | None:
    """The database of the session's bind, when another process can open it: not an in-memory SQLite
    database."""
    bind = session.get_bind()
    url: URL | None = getattr(bind, "url", None)
    if url is None:
        return None
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or path == ":memory:" or url.query or not os.path.isfile(path):
            return None
        return _Source("sqlite", os.path.abspath(path))
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
        return _Source("postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False))
    return None


def _only_thread() -> bool:
    return threading.active_count() == 1


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _range_bits(size: int, workers: int) -> int:
    """About four ranges per worker (the last ones even out), within MIN_RANGE_BITS..MAX_RANGE_BITS."""
    return max(MIN_RANGE_BITS, min(MAX_RANGE_BITS, (size // (4 * workers)).bit_length() - 1))


def _parallel_replay(
    dbapi: Any, dialect: str, source: _Source, replay: LogReplay, check_nodes: bool
) -> bool | None:
    """The fast pass with worker processes: True or False as _fast_replay says, or None when the log is too
    small for it or the workers could not run (the caller then runs the fast pass in this process)."""
    postgres = dialect == "postgresql"
    cur = dbapi.cursor()
    try:
        cur.execute("SELECT count(*) FROM audit_entries")
        size = int(cur.fetchone()[0])
        workers = _workers()
        if size < PARALLEL_MIN_ENTRIES or workers < 2:
            return None
        if postgres:
            cur.execute("SELECT pg_export_snapshot()")
            source = _Source(source.dialect, source.target, cur.fetchone()[0])
    finally:
        cur.close()
    k = _range_bits(size, workers)
    span = 1 << k
    roots = replay.roots
    ranges = [(a, min(size, a + span)) for a in range(0, size, span)]
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(START_METHOD))
    except (ValueError, OSError):  # no such start method here, or no processes to be had
        return None
    futures: list[Future[tuple[bool, list[bytes], list[list[bytes]]]]] = []
    try:
        try:
            futures = [
                pool.submit(
                    _verify_range, source, a, b, tuple(s for s in sorted(roots) if a < s <= b), check_nodes
                )
                for a, b in ranges
            ]
        except RuntimeError:  # the pool could not start its workers
            return None
        # this process's share meanwhile: the times' form, and no stored node past the end of the tree
        if not _times_well_formed(dbapi, dialect) or not _no_nodes_past(
            dbapi, postgres, size, min(k, size.bit_length() - 1) if check_nodes else 0
        ):
            return False
        frontier: list[bytes] = []  # the perfect subtrees of the complete ranges so far (levels k and up)
        upper: list[list[bytes]] = [
            []
        ]  # the recomputed nodes above level k, level by level (upper[j]: level k + j)
        for (a, b), future in zip(ranges, futures, strict=True):
            try:
                ok, tops, parts = future.result()
            except Exception:  # noqa: BLE001 - a worker could not open or read the database: check it here instead
                return None
            if not ok:
                return False
            for s, part in zip((s for s in sorted(roots) if a < s <= b), parts, strict=True):
                if tree.frontier_root(frontier + part) != roots[s]:
                    return False
            if b - a < span:  # the last, incomplete range: its perfect subtrees end the frontier
                frontier.extend(tops)
                break
            for key, h in tree.extend(frontier, a >> k, tops[0])[1:]:
                j = key >> tree.LEVEL_SHIFT
                if j == len(upper):
                    upper.append([])
                upper[j].append(h)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    replay.size, replay.frontier = size, frontier
    replay.last_good = max((s for s in roots if s <= size), default=0)
    if not check_nodes or len(upper) == 1:
        return True
    return _stored_levels_match(
        dbapi, postgres, size, [hashlib.sha256(b"".join(level)) for level in upper[1:]], first_level=k + 1
    )


def _no_nodes_past(dbapi: Any, postgres: bool, size: int, top: int) -> bool:
    """No stored node at levels 0..top beyond those of a tree of `size` leaves (the workers look only inside
    their ranges)."""
    sql = (
        "SELECT count(*) FROM audit_nodes WHERE key >= %s AND key < %s"
        if postgres
        else "SELECT count(*) FROM audit_nodes WHERE key >= ? AND key < ?"
    )
    cur = dbapi.cursor()
    try:
        for level in range(top + 1):
            cur.execute(sql, (tree.node_key(level, size >> level), tree.node_key(level + 1, 0)))
            if cur.fetchone()[0] != 0:
                return False
    finally:
        cur.close()
    return True


_RANGE_ENTRIES = {
    dialect: sql.replace(
        ' ORDER BY "index"',
        ' WHERE "index" >= {0} AND "index" < {0} ORDER BY "index"'.format(
            "%s" if dialect == "postgresql" else "?"
        ),
    )
    for dialect, sql in _FAST_ENTRIES.items()
}


def _verify_range(
    source: _Source, a: int, b: int, sizes: tuple[int, ...], check_nodes: bool
) -> tuple[bool, list[bytes], list[list[bytes]]]:
    """In a worker process: entries a <= i < b (a a multiple of 2^k, b - a <= 2^k) checked as the fast pass
    checks them, their subtree built and compared with the stored nodes inside the range (only the leaves
    without check_nodes). Returns whether all held, the hashes of the perfect subtrees making up [a, b) (one
    when the range is complete) and, for each checkpointed size s in (a, b], those making up [a, s)."""
    postgres = source.dialect == "postgresql"
    if postgres:
        import psycopg
        from psycopg import sql as pgsql

        conn: Any = psycopg.connect(source.target)
        if source.snapshot is not None:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.execute(pgsql.SQL("SET TRANSACTION SNAPSHOT {}").format(pgsql.Literal(source.snapshot)))
        cur = conn.cursor(name="audit_verify_range")
        cur.adapters.register_loader("timestamptz", _pg_time_text())
    else:
        conn = sqlite3.connect(source.target, timeout=30, isolation_level=None)
        conn.execute("BEGIN")  # one read snapshot for the range
        cur = conn.cursor()
    try:
        leaves: list[bytes] = []
        cur.execute(_RANGE_ENTRIES[source.dialect], (a, b), binary=True) if postgres else cur.execute(
            _RANGE_ENTRIES[source.dialect], (a, b)
        )
        try:
            while rows := cur.fetchmany(5000):
                if not _leaves(rows, a + len(leaves), leaves):
                    return False, [], []
        except (TypeError, ValueError, AttributeError, OverflowError):
            return False, [], []
        if len(leaves) != b - a:
            return False, [], []
        cur.close()
        levels = [leaves]  # levels[l][p]: the node at level l, position (a >> l) + p
        sha256 = hashlib.sha256
        while len(level := levels[-1]) > 1:
            levels.append(
                [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
            )
        cur = conn.cursor()
        for lv, level in enumerate(levels if check_nodes else levels[:1]):
            first = tree.node_key(lv, a >> lv)
            params = (first, first + len(level))
            if (
                postgres
            ):  # the level's hashes as one value, with their count and the length of the shortest and longest
                cur.execute(
                    "SELECT string_agg(hash, ''::bytea ORDER BY key), count(*), min(length(hash)), "
                    "max(length(hash)) FROM audit_nodes WHERE key >= %s AND key < %s",
                    params,
                    binary=True,
                )
                joined, count, shortest, longest = cur.fetchone()
                if (
                    count != len(level)
                    or (count and (shortest, longest) != (32, 32))
                    or (joined or b"") != b"".join(level)
                ):
                    return False, [], []
                continue
            cur.execute("SELECT hash FROM audit_nodes WHERE key >= ? AND key < ? ORDER BY key", params)
            hashes = [h for (h,) in cur.fetchall()]
            if (
                len(hashes) != len(level)
                or not all(map((32).__eq__, map(len, hashes)))
                or b"".join(hashes) != b"".join(level)
            ):
                return False, [], []

        def subtrees(stop: int) -> list[bytes]:
            out = []
            for key in tree.decompose(a, stop):
                lv = key >> tree.LEVEL_SHIFT
                out.append(levels[lv][(key & ((1 << tree.LEVEL_SHIFT) - 1)) - (a >> lv)])
            return out

        return True, subtrees(b), [subtrees(s) for s in sizes]
    finally:
        cur.close()
        conn.close()


def _check_confidential(session: Session) -> int:
    disclosed = 0
    stmt = (
        select(
            AuditConfidential.entry_index,
            AuditConfidential.salt,
            AuditConfidential.data,
            AuditConfidential.disclosed_at,
            AuditEntry.details,
        )
        .join(AuditEntry, AuditEntry.index == AuditConfidential.entry_index)
        .order_by(AuditConfidential.entry_index)
    )
    for index, salt, data, disclosed_at, details in session.execute(stmt):
        if confidential_digest(salt, data) != (details or {}).get("confidential_digest"):
            raise Altered(
                index,
                f"entry {index}: the confidential details do not match the digest the entry committed to",
            )
        disclosed += disclosed_at is not None
    return disclosed


def check_published_entry(item: dict[str, Any]) -> str | None:
    """For a verifier reading the public API: what is wrong with one published entry (None when it holds). A
    withheld entry ({"index", "leaf_hash", "withheld": true}) has nothing to check but its hash's form."""
    if item.get("withheld") is True:
        leaf = item.get("leaf_hash")
        if not isinstance(leaf, str) or len(leaf) != 64 or leaf.strip("0123456789abcdef"):
            return "the withheld entry's leaf hash is not a SHA-256 hash in hex"
        return None
    raw = base64.b64decode(item["entry"])
    doc = json.loads(raw)
    if item.get("leaf_hash") != leaf_hash(raw).hex():
        return "the published leaf hash is not the hash of the entry"
    if "details" in item and hashlib.sha256(canonical(item["details"])).hexdigest() != doc.get(
        "details_digest"
    ):
        return "the published details do not match their digest"
    disclosed = item.get("disclosed")
    if disclosed is not None:
        digest = (item.get("details") or {}).get("confidential_digest")
        if confidential_digest(disclosed["salt"], disclosed["data"]) != digest:
            return "the disclosed details do not match the digest the entry committed to"
    # A monitor's or administrator's view carries the address with its salt: it must be what the entry
    # committed to. Nobody else is ever served an address (docs/audit-log.md).
    shown = item.get("address")
    if isinstance(shown, dict) and "address_digest" in doc:
        if address_digest(str(shown.get("salt")), str(shown.get("ip"))) != doc["address_digest"]:
            return "the address shown does not match the digest the entry committed to"
    return None
