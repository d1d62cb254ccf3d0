"""The stored tree (audit/tree.py): complete subtree hashes written as leaves are appended, and roots and
proofs answered from them. Cross-checked against the pure RFC 9162 functions of audit/merkle.py, the CT known
answers, and on the database through record()."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from audit import merkle, record, tree
from core.identity import Actor
from tender.events import TenderTag
from tests.factories.merkle import CT_CONSISTENCY, CT_HASHES, CT_INCLUSION, CT_ROOTS, unhex
from tests.factories.retention import deleting

ALICE = Actor(user_id=7, username="alice", role="agency", organisation_id=3, ip="198.51.100.7")


def build(leaves: list[bytes]) -> tuple[dict[int, bytes], list[bytes]]:
    nodes: dict[int, bytes] = {}
    frontier: list[bytes] = []
    for i, leaf in enumerate(leaves):
        nodes.update(tree.extend(frontier, i, leaf))
    return nodes, frontier


def stored_inclusion(nodes: dict[int, bytes], index: int, size: int) -> list[bytes]:
    ranges = tree.inclusion_ranges(index, size)
    assert tree.needed(ranges) <= nodes.keys()
    return tree.hashes_from(nodes, ranges)


def stored_consistency(nodes: dict[int, bytes], first: int, second: int) -> list[bytes]:
    ranges = tree.consistency_ranges(first, second)
    assert tree.needed(ranges) <= nodes.keys()
    return tree.hashes_from(nodes, ranges)


def stored_root(nodes: dict[int, bytes], size: int) -> bytes:
    return merkle.EMPTY_ROOT if size == 0 else tree.hashes_from(nodes, [(0, size)])[0]


# ---------------------------------------------------------------- known answers


def test_ct_roots_from_stored_nodes() -> None:
    nodes, frontier = build(CT_HASHES)
    for size, want in CT_ROOTS.items():
        assert stored_root(nodes, size).hex() == want
    assert tree.frontier_root(frontier).hex() == CT_ROOTS[8]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_ct_inclusion_from_stored_nodes(index: int, size: int, path: list[str]) -> None:
    nodes, _ = build(CT_HASHES)
    assert stored_inclusion(nodes, index, size) == unhex(path)


@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY)
def test_ct_consistency_from_stored_nodes(first: int, second: int, proof: list[str]) -> None:
    nodes, _ = build(CT_HASHES)
    assert stored_consistency(nodes, first, second) == unhex(proof)


def test_appends_write_amortised_two_nodes() -> None:
    for n in (1, 2, 3, 7, 8, 100, 1000, 1024):
        nodes, frontier = build([merkle.leaf_hash(str(i).encode()) for i in range(n)])
        assert len(nodes) == 2 * n - bin(n).count("1")  # n leaves + n - popcount(n) interior nodes
        assert len(frontier) == bin(n).count("1")


def test_proofs_read_logarithmically_many_nodes() -> None:
    n = 1_000_000
    worst = max(len(tree.needed(tree.inclusion_ranges(i, n))) for i in (0, 1, n // 2, n - 2, n - 1, 123_457))
    worst_c = max(len(tree.needed(tree.consistency_ranges(m, n))) for m in (1, 3, 500_001, n - 1, 777_777))
    assert worst <= 2 * 20 and worst_c <= 2 * 20


# ---------------------------------------------------------------- properties over random trees


@settings(deadline=None, max_examples=150)
@given(size=st.integers(1, 300), data=st.data())
def test_stored_proofs_equal_the_pure_proofs_and_verify(size: int, data: st.DataObject) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    nodes, frontier = build(leaves)
    assert tree.frontier_root(frontier) == merkle.root(leaves)
    n = data.draw(st.integers(1, size))
    i = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(0, n))
    root_n, root_m = stored_root(nodes, n), stored_root(nodes, m)
    assert root_n == merkle.root(leaves[:n]) and root_m == merkle.root(leaves[:m])
    path = stored_inclusion(nodes, i, n)
    assert path == merkle.inclusion_proof(leaves, i, n)
    assert merkle.verify_inclusion(leaves[i], i, n, path, root_n)
    proof = stored_consistency(nodes, m, n)
    assert proof == merkle.consistency_proof(leaves, m, n)
    assert merkle.verify_consistency(m, n, root_m, root_n, proof)


@settings(deadline=None, max_examples=100)
@given(size=st.integers(2, 200), data=st.data())
def test_any_changed_node_breaks_the_proofs_that_use_it(size: int, data: st.DataObject) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    nodes, _ = build(leaves)
    n = data.draw(st.integers(2, size))
    i = data.draw(st.integers(0, n - 1))
    used = sorted(tree.needed(tree.inclusion_ranges(i, n)))
    key = data.draw(st.sampled_from(used))
    forged = dict(nodes)
    forged[key] = bytes([forged[key][0] ^ 1]) + forged[key][1:]
    path = stored_inclusion(forged, i, n)
    assert not merkle.verify_inclusion(leaves[i], i, n, path, merkle.root(leaves[:n]))


# ---------------------------------------------------------------- on the database


def test_proofs_from_the_database_equal_the_pure_proofs(db):
    entries = [
        record(db, TenderTag.tender_updated, actor=ALICE, subject=f"tender:{i}", details={"i": i})
        for i in range(37)
    ]
    db.commit()
    leaves = [merkle.leaf_hash(e.entry_bytes) for e in entries]
    for n in (1, 2, 5, 16, 17, 37):
        root_n = tree.root(db, n)
        assert root_n == merkle.root(leaves[:n])
        for i in {0, n // 2, n - 1}:
            path = tree.inclusion_proof(db, i, n)
            assert path == merkle.inclusion_proof(leaves, i, n) and merkle.verify_inclusion(
                leaves[i], i, n, path, root_n
            )
        for m in {0, 1, n // 3, n - 1, n}:
            proof = tree.consistency_proof(db, m, n)
            assert proof == merkle.consistency_proof(leaves, m, n)
            assert merkle.verify_consistency(m, n, merkle.root(leaves[:m]), root_n, proof)


def test_a_changed_stored_node_makes_its_proofs_fail(db):
    entries = [record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1") for _ in range(8)]
    db.commit()
    leaves = [merkle.leaf_hash(e.entry_bytes) for e in entries]
    good_root = merkle.root(leaves)
    db.execute(
        update(tree.AuditNode).where(tree.AuditNode.key == tree.node_key(1, 1)).values(hash=b"\x00" * 32)
    )
    db.commit()
    path = tree.inclusion_proof(db, 0, 8)
    assert not merkle.verify_inclusion(leaves[0], 0, 8, path, good_root)
    assert (
        db.scalar(select(tree.AuditNode.hash).where(tree.AuditNode.key == tree.node_key(1, 1)))
        == b"\x00" * 32
    )


def test_a_missing_node_is_reported(db):
    for _ in range(4):
        record(db, TenderTag.tender_updated, actor=ALICE, subject="tender:1")
    db.commit()
    deleting(db, tree.AuditNode.__table__.delete().where(tree.AuditNode.key == tree.node_key(1, 0)))
    db.commit()
    with pytest.raises(LookupError, match="lacks node 1/0"):
        tree.inclusion_proof(db, 2, 3)
