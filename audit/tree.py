"""The stored Merkle tree behind the audit log: every complete subtree hash, written as entries are appended,
so that roots and proofs are answered with O(log n) reads instead of recomputing the tree.

A node is the RFC 9162 hash of a *perfect* aligned subtree: level L, position i covers leaves
[i * 2^L, (i + 1) * 2^L). Level 0 holds the leaf hashes. Appending leaf n writes its leaf node plus one node
per trailing 1 bit of n (amortised two rows per append). The right edge of the tree (the "frontier": one
perfect subtree per 1 bit of the size, largest first) lives in the head row, so an append reads nothing but
the head.

Any RFC subtree MTH(D[lo:hi]) met in a proof starts at a multiple of a power of two at least as large as its
left part, so it is the right-to-left fold of the perfect subtrees of its binary decomposition."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import BigInteger, LargeBinary, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.merkle import EMPTY_ROOT, HASH_SIZE, node_hash
from core.db import Base

LEVEL_SHIFT = 42  # positions below 2^42 (4.4e12 entries); a node's key is level << 42 | position


class AuditNode(Base):
    """One complete subtree hash. key = level << 42 | position, so the leaves (level 0) have key = entry
    index."""

    __tablename__ = "audit_nodes"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


def node_key(level: int, position: int) -> int:
    return (level << LEVEL_SHIFT) | position


def split_frontier(raw: bytes) -> list[bytes]:
    return [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)]


def extend(frontier: list[bytes], index: int, leaf: bytes) -> list[tuple[int, bytes]]:
    """Append leaf `index` (== the current size) to the frontier in place; return the nodes it completes."""
    nodes = [(node_key(0, index), leaf)]
    h, level, position = leaf, 0, index
    while position & 1:
        h = node_hash(frontier.pop(), h)
        position >>= 1
        level += 1
        nodes.append((node_key(level, position), h))
    frontier.append(h)
    return nodes


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    if not frontier:
        return EMPTY_ROOT
    h = frontier[-1]
    for left in reversed(frontier[:-1]):
        h = node_hash(left, h)
    return h


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def decompose(lo: int, hi: int) -> list[int]:
    """The node keys of the perfect subtrees making up [lo, hi), left to right."""
    keys = []
    while lo < hi:
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while lo + (1 << level) > hi:
            level -= 1
        keys.append(node_key(level, lo >> level))
        lo += 1 << level
    return keys


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """§2.1.3.1 PATH(index, D[size]) as leaf ranges, in proof order (deepest sibling first)."""
    out = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    return out[::-1]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """§2.1.4.1 PROOF(first, D[second]) as leaf ranges, in proof order."""
    if first == 0 or first == second:
        return []
    siblings = []
    terminal: list[tuple[int, int]] = []
    lo, hi, m, b = 0, second, first, True
    while True:
        if m == hi - lo:
            if not b:
                terminal = [(lo, hi)]
            break
        k = _split(hi - lo)
        if m <= k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            m -= k
            lo += k
            b = False
    return terminal + siblings[::-1]


def fetch(session: Session, keys: Iterable[int]) -> dict[int, bytes]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.execute(select(AuditNode.key, AuditNode.hash).where(AuditNode.key.in_(wanted))).all()
    found = {k: bytes(h) for k, h in rows}
    missing = [k for k in wanted if k not in found]
    if missing:
        raise LookupError(
            f"the stored tree lacks node {missing[0] >> LEVEL_SHIFT}/{missing[0] & ((1 << LEVEL_SHIFT) - 1)}"
        )
    return found


def _fold(nodes: dict[int, bytes], lo: int, hi: int) -> bytes:
    keys = decompose(lo, hi)
    h = nodes[keys[-1]]
    for k in reversed(keys[:-1]):
        h = node_hash(nodes[k], h)
    return h


def needed(ranges: list[tuple[int, int]]) -> set[int]:
    return {k for lo, hi in ranges for k in decompose(lo, hi)}


def hashes_from(nodes: dict[int, bytes], ranges: list[tuple[int, int]]) -> list[bytes]:
    return [_fold(nodes, lo, hi) for lo, hi in ranges]


def _hashes(session: Session, ranges: list[tuple[int, int]]) -> list[bytes]:
    return hashes_from(fetch(session, needed(ranges)), ranges)


def root(session: Session, size: int) -> bytes:
    """MTH(D[size]) from the stored nodes (size must not exceed the log's size)."""
    if size == 0:
        return EMPTY_ROOT
    return _hashes(session, [(0, size)])[0]


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size:
        raise ValueError(f"need 0 <= index < tree_size, got {index=} {size=}")
    return _hashes(session, inclusion_ranges(index, size))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    if not 0 <= first <= second:
        raise ValueError(f"need 0 <= first <= second, got {first=} {second=}")
    return _hashes(session, consistency_ranges(first, second))
