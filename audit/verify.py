"""Verification of the whole audit log: recompute the tree from the entry bytes, check the columns and details
against what each entry hashed, every signed checkpoint (signature, root at its size, consistency with the one
before), the confidential details against their digests, and the stored subtree hashes that proofs are served
from. The first entry that does not hold is named.

LogReplay is the part shared with the remote verifier and the witness (web/cli.py): it only needs entry bytes."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _encode_string  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from audit import tree
from audit.checkpoints import AuditCheckpoint, NoteError, open_note
from audit.log import AuditConfidential, AuditEntry, AuditHead, canonical, confidential_digest, format_time
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
        """check_index=False when the caller already compared the bytes with columns that include the index."""
        if index != self.size:
            raise Altered(self.size, f"entry {self.size} is missing (the next stored entry is {index})")
        if check_index:
            try:
                doc = json.loads(entry_bytes)
            except ValueError as e:
                raise Altered(index, "the entry bytes are not JSON") from e
            if not isinstance(doc, dict) or doc.get("index") != index:
                raise Altered(index, f"entry {index} carries index {doc.get('index') if isinstance(doc, dict) else '?'}: entries were moved")
        leaf = leaf_hash(entry_bytes)
        tree.extend(self.frontier, index, leaf)
        self.size += 1
        want = self.roots.get(self.size)
        if want is not None:
            if tree.frontier_root(self.frontier) != want:
                raise Altered(self.last_good, f"the entries before {self.size} do not give the root of the signed checkpoint of size "
                                              f"{self.size}; the first entry not covered by an earlier matching checkpoint is {self.last_good}")
            self.last_good = self.size
        return leaf

    @property
    def root(self) -> bytes:
        return tree.frontier_root(self.frontier)


def _check_checkpoints(session: Session, keys: list[VerifierKey] | None, origin: str | None,
                       result: VerifyResult) -> tuple[list[tuple[int, bytes]], str]:
    """The (size, root) each checkpoint holds, from the signed note when keys are given (the stored columns
    could be rewritten, the signature cannot), and any disagreement between the stored columns and the note."""
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
            raise Altered(None, f"checkpoint of size {cp.size} is for the log {opened.origin!r}, not {origin!r}")
        if (opened.size, opened.root) != (cp.size, bytes(cp.root)) and not problem:
            problem = f"checkpoint of size {opened.size}: its stored size or root differ from the signed note"
        out.append((opened.size, opened.root))
    result.checkpoints = len(cps)
    return sorted(out), problem


def _check_nodes(session: Session, size: int, leaves: Callable[[], None] | None = None, chunk: int = 65536) -> None:
    """Every stored interior node must be the hash of its two stored children (the leaves were compared with the
    recomputed leaf hashes while replaying), and every complete subtree must be stored."""
    level = 1
    while (1 << level) <= size:
        count = size >> level
        for start in range(0, count, chunk):
            stop = min(count, start + chunk)
            kids = dict(session.execute(select(tree.AuditNode.key, tree.AuditNode.hash).where(
                tree.AuditNode.key >= tree.node_key(level - 1, 2 * start), tree.AuditNode.key < tree.node_key(level - 1, 2 * stop))).all())
            mine = dict(session.execute(select(tree.AuditNode.key, tree.AuditNode.hash).where(
                tree.AuditNode.key >= tree.node_key(level, start), tree.AuditNode.key < tree.node_key(level, stop))).all())
            for position in range(start, stop):
                left = kids.get(tree.node_key(level - 1, 2 * position))
                right = kids.get(tree.node_key(level - 1, 2 * position + 1))
                stored = mine.get(tree.node_key(level, position))
                if left is None or right is None or stored is None or bytes(stored) != hashlib.sha256(b"\x01" + left + right).digest():
                    raise Altered(position << level, f"the stored subtree hash at level {level} over entries from {position << level} "
                                                     "does not match its children: proofs from it would not verify")
        level += 1


def verify_log(session: Session, keys: list[VerifierKey] | None = None, origin: str | None = None, *, check_nodes: bool = True) -> VerifyResult:
    """Check the whole log as stored in this database. `keys` are the verifier keys checkpoints may be signed with;
    without them the checkpoints' signatures are not checked (their stored roots still are)."""
    result = VerifyResult(True, 0)
    replay = LogReplay()
    try:
        cps, checkpoint_problem = _check_checkpoints(session, keys, origin, result)
        for size, root in cps:
            if replay.roots.setdefault(size, root) != root:
                raise Altered(None, f"two signed checkpoints of size {size} have different roots: the log forked")
        _replay_entries(session, replay)
        result.size = replay.size
        for size, _ in cps:
            if size > replay.size:
                raise Altered(replay.size, f"entry {replay.size} is missing: a signed checkpoint covers {size} entries, "
                                           f"the database holds {replay.size}")
        for (a, ra), (b, rb) in zip(cps, cps[1:], strict=False):
            proof = tree.consistency_proof(session, a, b)
            if not verify_consistency(a, b, ra, rb, proof):
                raise Altered(a, f"the stored tree does not prove checkpoint {b} consistent with checkpoint {a}")
        if checkpoint_problem:
            raise Altered(None, checkpoint_problem)
        if check_nodes:
            _check_nodes(session, replay.size)
        head = session.get(AuditHead, 1)
        if head is not None and head.size > replay.size:
            raise Altered(replay.size, f"the log is shorter than its head says ({replay.size} entries stored, {head.size} "
                                       f"appended): entry {replay.size} and later were removed")
        if head is not None and (head.size != replay.size or bytes(head.frontier or b"") != b"".join(replay.frontier)):
            raise Altered(min(head.size, replay.size), f"the log head (size {head.size}) does not hold the tree edge that the "
                                                       f"{replay.size} stored entries give: entries were removed or changed")
        result.disclosed = _check_confidential(session)
        if check_nodes:
            stored_leaves = session.scalar(select(func.count()).select_from(tree.AuditNode).where(tree.AuditNode.key < tree.node_key(1, 0)))
            if stored_leaves != replay.size:
                raise Altered(replay.size, f"the stored tree has {stored_leaves} leaves for {replay.size} entries")
    except Altered as e:
        return VerifyResult(False, replay.size, e.index, e.reason, result.checkpoints, result.disclosed)
    return result


COLUMNS = (
    AuditEntry.index, AuditEntry.entry_bytes, AuditEntry.tag, AuditEntry.time, AuditEntry.actor, AuditEntry.actor_user_id,
    AuditEntry.role, AuditEntry.organisation_id, AuditEntry.ip, AuditEntry.subject, AuditEntry.details_digest,
    cast(AuditEntry.details, Text),  # the stored JSON text: "{}" needs no parsing
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


def _entry_bytes(index: int, tag: str, time: str, actor: str, actor_id: int | None, role: str | None, org: int | None, ip: str,
                 subject: str, details_digest: str) -> bytes:
    """canonical() of an entry built from its columns, written out in the sorted key order (the hot loop of
    verification: about three times faster than json.dumps with sort_keys, and the same bytes)."""
    return (f'{{"actor":{_json_value(actor)},"actor_id":{_json_value(actor_id)},"details_digest":{_json_value(details_digest)},'
            f'"index":{_json_value(index)},"ip":{_json_value(ip)},"organisation":{_json_value(org)},"role":{_json_value(role)},'
            f'"subject":{_json_value(subject)},"tag":{_json_value(tag)},"time":{_json_value(time)}}}').encode()


def _replay_entries(session: Session, replay: LogReplay, batch: int = 5000) -> None:
    stmt = select(*COLUMNS).outerjoin(tree.AuditNode, tree.AuditNode.key == AuditEntry.index).order_by(AuditEntry.index)
    for row in session.connection().execute(stmt.execution_options(yield_per=batch)):  # Core rows: no ORM loading
        index, entry_bytes, tag, time, actor, actor_id, role, org, ip, subject, details_digest, details, stored_leaf = row
        entry_bytes = bytes(entry_bytes)
        # The columns are what pages and filters show: they must say what the entry hashed (index included).
        if _entry_bytes(index, tag, format_time(time), actor, actor_id, role, org, ip, subject, details_digest) != entry_bytes:
            if index == replay.size:
                replay.add(index, entry_bytes)  # names a moved entry as such
            raise Altered(min(index, replay.size), f"entry {min(index, replay.size)}: the stored columns differ from the hashed entry"
                          if index == replay.size else f"entry {replay.size} is missing (the next stored entry is {index})")
        leaf = replay.add(index, entry_bytes, check_index=False)
        try:
            digest = EMPTY_DETAILS_DIGEST if details == "{}" else hashlib.sha256(canonical(json.loads(details))).hexdigest()
        except (TypeError, ValueError):
            digest = ""  # not JSON: certainly not what the entry committed to
        if digest != details_digest:
            raise Altered(index, f"entry {index}: the details do not match their digest")
        if stored_leaf is None or bytes(stored_leaf) != leaf:
            raise Altered(index, f"entry {index}: the stored leaf hash differs from the entry's hash")


def _check_confidential(session: Session) -> int:
    disclosed = 0
    stmt = (select(AuditConfidential.entry_index, AuditConfidential.salt, AuditConfidential.data, AuditConfidential.disclosed_at, AuditEntry.details)
            .join(AuditEntry, AuditEntry.index == AuditConfidential.entry_index).order_by(AuditConfidential.entry_index))
    for index, salt, data, disclosed_at, details in session.execute(stmt):
        if confidential_digest(salt, data) != (details or {}).get("confidential_digest"):
            raise Altered(index, f"entry {index}: the confidential details do not match the digest the entry committed to")
        disclosed += disclosed_at is not None
    return disclosed


def check_published_entry(item: dict[str, Any]) -> str | None:
    """For a verifier reading the public API: what is wrong with one published entry (None when it holds)."""
    raw = base64.b64decode(item["entry"])
    doc = json.loads(raw)
    if item.get("leaf_hash") != leaf_hash(raw).hex():
        return "the published leaf hash is not the hash of the entry"
    if "details" in item and hashlib.sha256(canonical(item["details"])).hexdigest() != doc.get("details_digest"):
        return "the published details do not match their digest"
    disclosed = item.get("disclosed")
    if disclosed is not None:
        digest = (item.get("details") or {}).get("confidential_digest")
        if confidential_digest(disclosed["salt"], disclosed["data"]) != digest:
            return "the disclosed details do not match the digest the entry committed to"
    return None
