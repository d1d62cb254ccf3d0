"""The RFC 9162 §2.1 Merkle tree (audit/merkle.py): the Certificate Transparency known-answer vectors, an
independent bottom-up implementation to cross-check against, and property tests that every proof verifies and
that any tampering with a proof, leaf, root, index or size is caught."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from tests.factories.merkle import CT_CONSISTENCY, CT_HASHES, CT_INCLUSION, CT_ROOTS, H0, H1, unhex


# An independent implementation: the tree built bottom-up, level by level, a lone last node carried up
# unchanged (the form of the tree the CT implementations use). Equal to the recursive §2.1.1 definition.
def naive_levels(hashes: list[bytes]) -> list[list[bytes]]:
    levels = [list(hashes)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [
            hashlib.sha256(b"\x01" + below[i] + below[i + 1]).digest() for i in range(0, len(below) - 1, 2)
        ]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def naive_root(hashes: list[bytes]) -> bytes:
    return naive_levels(hashes)[-1][0] if hashes else hashlib.sha256(b"").digest()


def naive_path(hashes: list[bytes], index: int) -> list[bytes]:
    path = []
    for level in naive_levels(hashes)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index >>= 1
    return path


def naive_leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


# The shape of a proof, from the recursive definitions: which side the sibling is on at each step. An RFC 9162
# proof commits to this shape, not to the sizes it was made for.
def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def path_shape(m: int, n: int) -> list[str]:
    if n == 1:
        return []
    k = split(n)
    return path_shape(m, k) + ["R"] if m < k else path_shape(m - k, n - k) + ["L"]


def subproof_shape(m: int, n: int, b: bool = True) -> list[str]:
    if m == n:
        return [] if b else ["self"]
    k = split(n)
    return subproof_shape(m, k, b) + ["R"] if m <= k else subproof_shape(m - k, n - k, False) + ["L"]


def flip(data: bytes, position: int, bit: int) -> bytes:
    position %= len(data)
    return data[:position] + bytes([data[position] ^ (1 << bit)]) + data[position + 1 :]


# --- known answers ------------------------------------------------------------------------------------------


def test_hash_primitives() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert leaf_hash(b"").hex() == H0
    assert leaf_hash(b"\x00").hex() == H1
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert leaf_hash(b"x") != node_hash(b"", b"x")  # domain separation (0x00 vs 0x01)


@pytest.mark.parametrize("size", range(9))
def test_ct_roots(size: int) -> None:
    assert root(CT_HASHES[:size]).hex() == CT_ROOTS[size]
    assert naive_root(CT_HASHES[:size]).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_ct_inclusion(index: int, size: int, path: list[str]) -> None:
    expected = unhex(path)
    assert inclusion_proof(CT_HASHES, index, size) == expected
    assert naive_path(CT_HASHES[:size], index) == expected
    assert verify_inclusion(CT_HASHES[index], index, size, expected, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY)
def test_ct_consistency(first: int, second: int, proof: list[str]) -> None:
    expected = unhex(proof)
    assert consistency_proof(CT_HASHES, first, second) == expected
    first_root, second_root = bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second])
    assert verify_consistency(first, second, first_root, second_root, expected)


def test_every_proof_of_the_ct_tree_verifies() -> None:
    for n in range(1, 9):
        r = bytes.fromhex(CT_ROOTS[n])
        for i in range(n):
            assert verify_inclusion(CT_HASHES[i], i, n, inclusion_proof(CT_HASHES, i, n), r)
        for m in range(n + 1):
            proof = consistency_proof(CT_HASHES, m, n)
            assert verify_consistency(m, n, bytes.fromhex(CT_ROOTS[m]), r, proof)


# --- edge cases and argument checking -----------------------------------------------------------------------


def test_generators_reject_bad_arguments() -> None:
    for index, size in [(-1, 4), (4, 4), (0, 0), (0, 9)]:
        with pytest.raises(ValueError):
            inclusion_proof(CT_HASHES, index, size)
    for first, second in [(-1, 4), (5, 4), (0, 9)]:
        with pytest.raises(ValueError):
            consistency_proof(CT_HASHES, first, second)


def test_verifiers_reject_bad_arguments() -> None:
    r8 = bytes.fromhex(CT_ROOTS[8])
    path = inclusion_proof(CT_HASHES, 0, 8)
    assert not verify_inclusion(CT_HASHES[0], -1, 8, path, r8)
    assert not verify_inclusion(CT_HASHES[0], 8, 8, path, r8)
    assert not verify_inclusion(CT_HASHES[0], 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(CT_HASHES[0], 0, 8, [*path, path[0]], r8)  # too long
    assert not verify_inclusion(CT_HASHES[0], 0, 8, path[:-1], r8)  # too short
    assert not verify_inclusion(CT_HASHES[0], 0, 8, [p + b"\x00" for p in path], r8)
    # §2.1.3.2 step 4a: elements left over once sn reaches 0 fail the proof, whatever root they would lead to.
    assert not verify_inclusion(CT_HASHES[0], 0, 1, [CT_HASHES[1]], node_hash(CT_HASHES[1], CT_HASHES[0]))
    assert not verify_inclusion(CT_HASHES[0], 0, 8, [*path, CT_HASHES[1]], node_hash(CT_HASHES[1], r8))
    r1, r5 = bytes.fromhex(CT_ROOTS[1]), bytes.fromhex(CT_ROOTS[5])
    assert not verify_consistency(5, 1, r5, r1, [])
    assert not verify_consistency(1, 5, r1, r5, [])  # §2.1.4.2 step 1
    assert not verify_consistency(1, 1, r1, r5, [])  # same size, different roots
    assert not verify_consistency(1, 1, r1, r1, [r1])  # same size needs an empty proof
    assert verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    assert not verify_consistency(0, 5, r1, r5, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, r5, [r1])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    # §2.1.4.2 step 6a: the same for consistency proofs.
    r3, r4, x = bytes.fromhex(CT_ROOTS[3]), bytes.fromhex(CT_ROOTS[4]), CT_HASHES[7]
    proof34 = consistency_proof(CT_HASHES, 3, 4)
    assert not verify_consistency(3, 4, node_hash(x, r3), node_hash(x, r4), [*proof34, x])
    proof = consistency_proof(CT_HASHES, 2, 5)
    assert not verify_consistency(2, 5, bytes.fromhex(CT_ROOTS[2]), r5, [*proof, proof[0]])
    assert not verify_consistency(2, 5, bytes.fromhex(CT_ROOTS[2]), r5, proof[:-1])


def test_exhaustive_small_trees() -> None:
    for n in range(1, 41):
        hashes = [naive_leaf(n.to_bytes(2, "big") + i.to_bytes(2, "big")) for i in range(n)]
        r = root(hashes)
        assert r == naive_root(hashes)
        for i in range(n):
            proof = inclusion_proof(hashes, i, n)
            assert proof == naive_path(hashes, i)
            assert verify_inclusion(hashes[i], i, n, proof, r)
        for m in range(n + 1):
            assert verify_consistency(m, n, root(hashes[:m]), r, consistency_proof(hashes, m, n))


# --- properties over random trees ---------------------------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn, min_size: int = 1) -> list[bytes]:
    """Leaf hashes of a tree of 1..300 distinct entries (distinct, so that no two subtrees hash alike)."""
    n = draw(st.integers(min_size, 300))
    seed = draw(st.binary(max_size=16))
    return [naive_leaf(seed + i.to_bytes(2, "big")) for i in range(n)]


@settings(deadline=None)
@given(hashes=trees())
def test_root_matches_the_bottom_up_tree(hashes: list[bytes]) -> None:
    assert root(hashes) == naive_root(hashes)


@settings(deadline=None)
@given(hashes=trees(min_size=2), data=st.data())
def test_dropped_or_reordered_leaf_changes_the_root(hashes: list[bytes], data: st.DataObject) -> None:
    r = root(hashes)
    n = len(hashes)
    dropped = data.draw(st.integers(0, n - 1))
    assert root(hashes[:dropped] + hashes[dropped + 1 :]) != r
    i, j = data.draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    swapped = list(hashes)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    assert root(swapped) != r


@settings(deadline=None)
@given(hashes=trees(), data=st.data())
def test_inclusion_proofs_verify_and_tampering_fails(hashes: list[bytes], data: st.DataObject) -> None:
    n = len(hashes)
    i = data.draw(st.integers(0, n - 1), label="index")
    r = root(hashes)
    proof = inclusion_proof(hashes, i, n)
    assert proof == naive_path(hashes, i)
    assert verify_inclusion(hashes[i], i, n, proof, r)

    position, bit = data.draw(st.integers(0, 31), label="byte"), data.draw(st.integers(0, 7), label="bit")
    assert not verify_inclusion(flip(hashes[i], position, bit), i, n, proof, r)
    assert not verify_inclusion(hashes[i], i, n, proof, flip(r, position, bit))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1), label="element")
        tampered = [*proof[:k], flip(proof[k], position, bit), *proof[k + 1 :]]
        assert not verify_inclusion(hashes[i], i, n, tampered, r)

    wrong_index = data.draw(st.integers(0, n + 2).filter(lambda j: j != i), label="wrong index")
    assert not verify_inclusion(hashes[i], wrong_index, n, proof, r)
    # The proof commits to its path shape, not the size: a wrong size passes only if it gives the same shape.
    wrong_size = data.draw(st.integers(0, 2 * n + 2).filter(lambda s: s != n), label="wrong size")
    same_shape = i < wrong_size and path_shape(i, wrong_size) == path_shape(i, n)
    assert verify_inclusion(hashes[i], i, wrong_size, proof, r) == same_shape


@settings(deadline=None)
@given(hashes=trees(), data=st.data())
def test_consistency_proofs_verify_and_tampering_fails(hashes: list[bytes], data: st.DataObject) -> None:
    n = data.draw(st.integers(1, len(hashes)), label="second")
    m = data.draw(st.integers(1, n), label="first")
    first_root, second_root = root(hashes[:m]), root(hashes[:n])
    proof = consistency_proof(hashes, m, n)
    assert verify_consistency(m, n, first_root, second_root, proof)

    position, bit = data.draw(st.integers(0, 31), label="byte"), data.draw(st.integers(0, 7), label="bit")
    assert not verify_consistency(m, n, flip(first_root, position, bit), second_root, proof)
    assert not verify_consistency(m, n, first_root, flip(second_root, position, bit), proof)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1), label="element")
        tampered = [*proof[:k], flip(proof[k], position, bit), *proof[k + 1 :]]
        assert not verify_consistency(m, n, first_root, second_root, tampered)
    if m < n:
        # A tree of n leaves is not consistent with a first tree whose leaf was changed.
        changed = data.draw(st.integers(0, m - 1), label="changed leaf")
        other = [*hashes[:changed], naive_leaf(b"other"), *hashes[changed + 1 : m]]
        assert not verify_consistency(m, n, root(other), second_root, proof)

    # As with inclusion, wrong sizes pass only when they give the proof the same shape.
    m2 = data.draw(st.integers(1, 2 * n + 2), label="wrong first")
    n2 = data.draw(st.integers(1, 2 * n + 2), label="wrong second")
    if (m2, n2) != (m, n):
        same_shape = m2 <= n2 and subproof_shape(m2, n2) == subproof_shape(m, n)
        assert verify_consistency(m2, n2, first_root, second_root, proof) == same_shape
