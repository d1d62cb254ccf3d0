"""core.fairdraw against an independent reading of its docstring (and docs/expert-draw.md steps 1, 2, 4, 5):
the Merkle split at the largest power of two written recursively, the length-prefixed seed and the ranking by
hash. The bottom-up tree and the one-compare ranking in the module must agree with it on every input."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import fairdraw


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(entries: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, as written there."""
    if not entries:
        return _h(b"")
    if len(entries) == 1:
        return _h(b"\x00" + entries[0])
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return _h(b"\x01" + _mth(entries[:k]) + _mth(entries[k:]))


def _seed(server_seed: bytes, entropy: bytes | None, root: bytes, request_id: str) -> bytes:
    parts = [server_seed, entropy or b"", root, request_id.encode()]
    return _h(b"".join(len(p).to_bytes(4, "big") + p for p in parts))


def _ranking(seed: bytes, ids: list[int]) -> list[int]:
    return sorted(ids, key=lambda i: (_h(seed + i.to_bytes(8, "big")), i))


ids_strategy = st.lists(st.integers(min_value=0, max_value=2**64 - 1), unique=True, max_size=70)


@settings(max_examples=200, deadline=None)
@given(
    ids=ids_strategy,
    server_seed=st.binary(min_size=16, max_size=40),
    entropy=st.none() | st.binary(max_size=40),
    request_id=st.text(max_size=20),
)
def test_the_module_agrees_with_the_protocol_as_written(ids, server_seed, entropy, request_id):
    root = fairdraw.pool_root(ids)
    assert root == _mth([str(i).encode() for i in sorted(ids)])
    seed = fairdraw.derive_seed(server_seed, entropy, root, request_id)
    assert seed == _seed(server_seed, entropy, root, request_id)
    assert fairdraw.rank(seed, ids) == _ranking(seed, ids)
    assert fairdraw.rank_checked(seed, list(ids)) == _ranking(seed, ids)


def test_a_fixed_vector():
    # Computed once with the reading above; another implementation of the protocol can check itself against
    # it.
    server_seed = bytes(range(32))  # 00 01 02 ... 1f
    root = fairdraw.pool_root([3, 1, 2])
    assert root.hex() == "fe6e9d4604f578602851a2c15ef3894ca07b9517f7d5f7dedc28179ca888580d"
    seed = fairdraw.derive_seed(server_seed, None, root, "ZB-2026-0042/draw-1")
    assert seed.hex() == "11c528e64977822607a7473d9d70f1b0f2e91a2515b7a43f74b94ab7b84e8f63"
    assert fairdraw.rank(seed, [1, 2, 3, 10, 42]) == [3, 42, 10, 1, 2]
    assert fairdraw.commitment(server_seed).hex() == hashlib.sha256(server_seed).hexdigest()
    assert fairdraw.pool_root([]) == hashlib.sha256(b"").digest()
    # None and the empty entropy give the same seed; a different request id gives another.
    assert fairdraw.derive_seed(server_seed, None, root, "r") == fairdraw.derive_seed(
        server_seed, b"", root, "r"
    )
    assert fairdraw.derive_seed(server_seed, None, root, "r") != fairdraw.derive_seed(
        server_seed, None, root, "s"
    )


@pytest.mark.parametrize("bad", [[-1], [2**64], [1, 1], ["7"], [True]])
def test_ids_outside_the_protocol_are_refused(bad):
    with pytest.raises(ValueError):
        fairdraw.pool_root(bad)


@settings(max_examples=100, deadline=None)
@given(ids=ids_strategy, seed=st.binary(min_size=32, max_size=32), data=st.data())
def test_a_ranking_is_recognised_in_one_pass_and_nothing_else_is(ids, seed, data):
    ranking = _ranking(seed, ids)
    assert fairdraw.is_ranking(seed, ranking)
    other = data.draw(st.permutations(ranking))
    assert fairdraw.is_ranking(seed, other) == (other == ranking)
    assert fairdraw.pool_root_checked(list(ids)) == _mth([str(i).encode() for i in sorted(ids)])


def test_the_largest_ids_rank_and_hash_as_8_bytes_and_decimal():
    ids = [0, 2**64 - 1, 2**63, 10**19]
    seed = bytes(32)
    assert fairdraw.rank(seed, ids) == _ranking(seed, ids)
    assert fairdraw.pool_root(ids) == _mth([str(i).encode() for i in sorted(ids)])
    assert fairdraw.rank(seed, []) == [] and fairdraw.is_ranking(seed, [])
