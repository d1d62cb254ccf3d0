"""The RFC 9162 (Certificate Transparency 2.0) §2.1 Merkle tree: hashes, roots, inclusion and consistency
proofs.

Pure functions, no database. Every tree-building function takes the *leaf hashes* (leaf_hash(entry) for each
entry, in log order), never the raw entries: the log stores leaf hashes, and a later piece of work will serve
proofs from stored subtree hashes instead of recomputing them from the leaves as these recursive generators
do.

The verifiers implement the algorithms of §2.1.3.2 and §2.1.4.2 step by step. Note that, as in the RFC, a
proof commits to the shape of the path, not to the tree size itself: the size must be bound by the signed tree
head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # §2.1.1: MTH({}) = HASH()


def leaf_hash(entry: bytes) -> bytes:
    """§2.1.1: MTH({d(0)}) = HASH(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """§2.1.1: an interior node is HASH(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """§2.1.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes]) -> bytes:
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """§2.1.1: the Merkle Tree Hash MTH(D[n]) of the tree whose leaves hash to leaf_hashes."""
    return _mth(list(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """§2.1.3.1: PATH(index, D[tree_size]), the audit path of leaf index in the tree of the first tree_size
    leaves."""
    if not 0 <= index < tree_size <= len(leaf_hashes):
        raise ValueError(f"need 0 <= index < tree_size <= {len(leaf_hashes)}, got {index=} {tree_size=}")
    return _path(index, list(leaf_hashes[:tree_size]))


def _path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []  # PATH(0, {d(0)}) = {}
    k = _split(n)
    if m < k:  # PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])
        return [*_path(m, hashes[:k]), _mth(hashes[k:])]
    # PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])
    return [*_path(m - k, hashes[k:]), _mth(hashes[:k])]


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """§2.1.3.2: whether proof shows the leaf hash at index in the tree of tree_size leaves with this root."""
    if any(len(p) != HASH_SIZE for p in proof):
        return False
    # 1. leaf_index must be smaller than tree_size.
    if not 0 <= index < tree_size:
        return False
    # 2.-3.
    fn, sn = index, tree_size - 1
    r = leaf_hash
    # 4.
    for p in proof:
        if sn == 0:  # a.
            return False
        if fn & 1 or fn == sn:  # b.
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # c.
        sn >>= 1
    # 5.
    return sn == 0 and r == root


def consistency_proof(leaf_hashes: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """§2.1.4.1: PROOF(first, D[second]). Empty when first == second, and (outside the RFC, which defines
    PROOF only for 0 < first) when first == 0: every tree extends the empty tree."""
    if not 0 <= first <= second <= len(leaf_hashes):
        raise ValueError(f"need 0 <= first <= second <= {len(leaf_hashes)}, got {first=} {second=}")
    if first == 0:
        return []
    return _subproof(first, list(leaf_hashes[:second]), True)


def _subproof(m: int, hashes: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        # SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
        return [] if b else [_mth(hashes)]
    k = _split(n)
    if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
        return [*_subproof(m, hashes[:k], b), _mth(hashes[k:])]
    # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """§2.1.4.2: whether proof shows the tree of second leaves with second_root extends the tree of first
    leaves with first_root. The RFC algorithm covers 0 < first < second; the trivial cases are handled first:
    first == second needs an empty proof and equal roots, first == 0 an empty proof and the empty root."""
    if any(len(c) != HASH_SIZE for c in proof):
        return False
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    # 1.
    if not proof:
        return False
    path = list(proof)
    # 2. If first is an exact power of 2, prepend first_hash.
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    # 3.
    fn, sn = first - 1, second - 1
    # 4.
    if fn & 1:
        while fn & 1:
            fn >>= 1
            sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:  # a.
            return False
        if fn & 1 or fn == sn:  # b.
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # c.
        sn >>= 1
    # 7.
    return fr == first_root and sr == second_root and sn == 0
