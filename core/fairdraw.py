"""The verifiable random draw's core, shared by every random step of the platform (design.md, "Random expert
draw, verifiable afterwards"): the committee draw (evaluation.committee.draw), the marketplace's selection of
intermediaries, tie-breaks. Pure: no database, no clock, no randomness of its own.

The protocol, byte for byte (docs/expert-draw.md gives test vectors):

1. pool root: RFC 9162 Merkle tree hash over the eligible ids sorted numerically ascending; each leaf's entry
   bytes are the id in decimal ASCII without sign or leading zeros ("42"): leaf = SHA-256(0x00 || entry),
   node = SHA-256(0x01 || left || right), the empty list hashes to SHA-256("").
2. commitment = SHA-256(server_seed), logged before anyone else contributes; the server seed is published
   once the result may be known, and anyone checks it against the commitment.
3. seed = SHA-256(P(server_seed) || P(public_entropy or "") || P(pool_root) || P(UTF-8 of request_id)
   [|| P(UTF-8 of party) || P(value) for each contribution, in the order given]), where P(x) = len(x) as a
   4-byte big-endian unsigned integer, followed by x. The contributions are the random values of parties other
   than the operator, each committed (SHA-256 of the value) after the server seed's commitment and revealed
   only once every party has committed (docs/expert-draw.md); the caller fixes their order.
4. ranking: the ids sorted ascending by SHA-256(seed || id as an 8-byte big-endian unsigned integer), then by
   id. What the ranking fills (committee seats, a shortlist) is the caller's algorithm, versioned by the
   caller.

Ids are integers from 0 to 2**64 - 1, unique within a pool.
"""

from __future__ import annotations

import hashlib
import operator
import struct
from collections.abc import Sequence
from itertools import islice
from typing import Any

MAX_ID = 2**64 - 1  # ids are hashed as 8-byte unsigned integers
_ID8 = struct.Struct(">Q")  # an id as 8 big-endian bytes, without a to_bytes call per id
_KEY_ID = struct.Struct(">32xQ")  # a ranking key: the 32-byte digest, then the id


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def check_id(id_: Any) -> int:
    if type(id_) is not int or not 0 <= id_ <= MAX_ID:
        raise ValueError(f"expert id must be an integer from 0 to 2**64-1, got {id_!r}")
    return id_


def unique_ids(ids: Any) -> list[int]:
    checked = list(ids)
    if set(map(type, checked)) - {int} or (checked and (min(checked) < 0 or max(checked) > MAX_ID)):
        for i in checked:
            check_id(i)  # names the first bad id
    if len(set(checked)) != len(checked):
        raise ValueError("expert ids must be unique")
    return checked


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH, computed bottom-up: pairing neighbours level by level and carrying an odd last node up
    unchanged gives the same tree as splitting at the largest power of two below n (the last node of a level
    is always the right edge of that split), without the recursion."""
    if not leaves:
        return sha256(b"")
    sha = hashlib.sha256
    return _tree([sha(b"\x00" + e).digest() for e in leaves])


def _tree(level: list[bytes]) -> bytes:
    """The root above a non-empty level of leaf hashes (merkle_root's pairing)."""
    sha = hashlib.sha256
    while len(level) > 1:
        pairs = iter(level)  # zip of one iterator with itself: (0, 1), (2, 3)... without indexing
        paired = [sha(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def pool_root(eligible_ids: Any) -> bytes:
    """RFC 9162 Merkle root of the eligible ids, sorted numerically, each leaf the id in decimal ASCII."""
    return pool_root_checked(unique_ids(eligible_ids))


def pool_root_checked(ids: list[int]) -> bytes:
    """pool_root() of ids already checked by unique_ids(). b"%d" % i is the id in decimal ASCII, as
    str(i).encode("ascii"), formatted straight into the leaf's bytes (one object per leaf instead of
    three)."""
    if not ids:
        return sha256(b"")
    sha = hashlib.sha256
    return _tree([sha(b"\x00%d" % i).digest() for i in sorted(ids)])


def commitment(server_seed: bytes) -> bytes:
    return sha256(server_seed)


def _prefixed(part: bytes) -> bytes:
    return len(part).to_bytes(4, "big") + part


def derive_seed(
    server_seed: bytes,
    public_entropy: bytes | None,
    pool_root: bytes,
    request_id: str,
    contributions: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """SHA-256 over the parts, each preceded by its length as a 4-byte big-endian unsigned integer:

        len(server_seed) || server_seed || len(E) || E || len(pool_root) || pool_root || len(R) || R
        || len(party_1) || party_1 || len(value_1) || value_1 || ...

    where E = public_entropy (no entropy is the empty string, so None and b"" give the same seed),
    R = request_id encoded in UTF-8 and each contribution (party, value) in the order given, the party's name
    in UTF-8. Without contributions the seed is the four parts' alone (etender-draw-1). The prefixes keep
    different splits of the same bytes apart."""
    parts = [server_seed, public_entropy or b"", pool_root, request_id.encode("utf-8")]
    for party, value in contributions:
        parts += [party.encode("utf-8"), value]
    return sha256(b"".join(_prefixed(p) for p in parts))


def rank(seed: bytes, ids: Any) -> list[int]:
    """ids sorted ascending by SHA-256(seed || id as 8-byte big-endian unsigned), then by id."""
    return rank_checked(seed, unique_ids(ids))


def rank_checked(seed: bytes, ids: list[int]) -> list[int]:
    """rank() of ids already checked by unique_ids(), without checking them again (a pool of 100,000 ids)."""
    sha = hashlib.sha256
    # digest (32 bytes) followed by the 8-byte id sorts exactly as the pair (digest, id), with one bytes
    # compare
    keys = [sha(seed + b).digest() + b for b in map(_ID8.pack, ids)]
    keys.sort()
    # the ids back from the sorted keys, unpacked from their concatenation (each key: 32 bytes skipped, one
    # id); iter_unpack keeps one small format, where a format per pool size would stay in struct's cache
    return list(map(operator.itemgetter(0), _KEY_ID.iter_unpack(b"".join(keys))))


def is_ranking(seed: bytes, ranking: list[int]) -> bool:
    """Whether `ranking` (ids already checked by unique_ids()) is rank(seed, ranking): its keys strictly
    ascending. A verifier holding a published ranking checks it in one pass instead of sorting again."""
    sha = hashlib.sha256
    keys = [sha(seed + b).digest() + b for b in map(_ID8.pack, ranking)]
    return all(map(operator.lt, keys, islice(keys, 1, None)))
