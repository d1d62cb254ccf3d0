"""The random expert draw of design.md ("Random expert draw, verifiable afterwards") and rules.md §3.

Pure: no database, no clock and no randomness of its own. The caller passes the eligible candidates (avoidance
rules, rules.md §3.3, are applied before this module sees them) and a secret server seed, logs
`commitment(server_seed)` and `pool_root(...)` before the draw, and publishes the seed once the result is
final; anyone can then re-run the draw with `verify(record)`.

Algorithm "etender-draw-1", byte for byte, so that it can be reimplemented elsewhere (steps 1 to 4 are the
platform's one verifiable draw, core.fairdraw; steps 5 and 6 are the committee's):

1. pool root: RFC 9162 Merkle tree hash over the eligible expert ids sorted numerically ascending; each leaf's
   entry bytes are the id in decimal ASCII without sign or leading zeros ("42"):
   leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right), a list of n > 1 leaves splits at the
   largest power of two smaller than n, and the empty list hashes to SHA-256("").
2. commitment = SHA-256(server_seed).
3. seed = SHA-256(P(server_seed) || P(public_entropy or "") || P(pool_root) || P(UTF-8 of request_id)),
   where P(x) = len(x) as a 4-byte big-endian unsigned integer, followed by x.
4. ranking: the eligible ids sorted ascending by SHA-256(seed || id as an 8-byte big-endian unsigned integer),
   then by id.
5. members: walk the ranking once. An expert takes a seat of the first quota, in the request's order, that is
   among the expert's specialties and still has a seat; an expert takes at most one seat. Members are listed
   in the order they were chosen (rank order). If any quota is left short, the draw fails (`InsufficientPool`,
   naming the first short quota in the request's order) and returns nothing.
   Note that this walk is greedy: an expert holding several specialties takes the first open one in request
   order, so a quota can come out short even when some other assignment of the same pool would fill them all.
6. substitutes: the experts not chosen as members who hold at least one quota's specialty, in rank order from
   the top of the ranking, up to the number asked for; each is recorded with the first quota in the request's
   order among its specialties. When fewer exist, fewer are returned (the caller sees the shortfall).

The request may reserve `representative_seats` (0 or 1 in practice) for the purchaser's representative, who is
named by the purchaser and not drawn: the quotas then add up to the committee size minus those seats, and the
representatives are at most a third of the committee (L37, P9: experts at least two thirds).

Exclusions (the avoidance rules' results, each with its reason) are not an input of the draw, but the record
carries them and `exclusions_digest` = SHA-256 of their canonical JSON (see `exclusions_digest`), which is
logged with the commitment before the draw; no excluded id may appear among the candidates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.errors import N_, Problem, ValidationFailed
from core.fairdraw import (
    commitment,
    derive_seed,
    merkle_root,
    pool_root,
    rank,
    rank_checked,
    sha256,
    unique_ids,
)

# The draw's public record names the protocol's own steps (core.fairdraw) as part of this module's API.
__all__ = ["commitment", "derive_seed", "pool_root", "rank"]

ALGORITHM_VERSION = "etender-draw-1"
MIN_COMMITTEE_SIZE = 5  # L37, P9: at least 5 members, an odd number
MIN_SERVER_SEED_BYTES = 16  # a shorter seed could be found from its published commitment by brute force


@dataclass(frozen=True)
class Candidate:
    expert_id: int
    specialties: tuple[str, ...]


@dataclass(frozen=True)
class Quota:
    specialty: str
    seats: int


@dataclass(frozen=True)
class DrawRequest:
    request_id: str
    committee_size: int
    quotas: list[Quota]
    substitutes: int
    representative_seats: int = 0  # the purchaser's representative (L37: at most 1/3, never chair); not drawn


@dataclass(frozen=True)
class Exclusion:
    """An expert removed from the pool by an avoidance rule, with the rule's code, its legal source and what
    triggered it (an organisation's credit code, a date...)."""

    expert_id: int
    reason: str
    rule: str = ""
    detail: str = ""


@dataclass(frozen=True)
class DrawResult:
    seed: bytes
    ranking: list[int]
    members: list[tuple[int, str]]  # (expert id, the specialty seat it fills)
    substitutes: list[tuple[int, str]]


class InsufficientPool(Exception):
    """The eligible pool cannot fill a quota; nothing was drawn."""

    def __init__(self, specialty: str, needed: int, short_by: int):
        self.specialty = specialty
        self.needed = needed
        self.short_by = short_by
        super().__init__(
            f"Not enough eligible experts for specialty {specialty!r}: {needed} seat(s) needed, "
            f"{short_by} missing. Widen the pool for this specialty or change the quotas, then draw again."
        )


def exclusions_digest(exclusions: Any) -> bytes:
    """SHA-256 of the exclusions as canonical JSON: a list of {"detail", "expert_id", "reason", "rule"}
    objects sorted by (expert_id, reason, rule, detail), keys sorted, UTF-8, separators "," and ":" without
    spaces, non-ASCII characters as themselves (not escaped)."""
    rows = sorted(
        (
            {"expert_id": e.expert_id, "reason": e.reason, "rule": e.rule, "detail": e.detail}
            for e in exclusions
        ),
        key=lambda r: (r["expert_id"], r["reason"], r["rule"], r["detail"]),
    )
    return sha256(json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


# --- the draw -----------------------------------------------------------------------------------------------


def _request_problems(request: DrawRequest) -> list[Problem]:
    problems: list[Problem] = []
    size = request.committee_size
    if type(size) is not int or size < MIN_COMMITTEE_SIZE or size % 2 == 0:
        problems.append(
            Problem(
                code="draw_committee_size",
                message=N_(
                    "The committee needs an odd number of members, at least 5; %(size)s is not allowed."
                ),
                field="committee_size",
                params={"size": size},
                rule="L37, P9",
            )
        )
    seen: set[str] = set()
    for quota in request.quotas:
        if not isinstance(quota.specialty, str) or not quota.specialty:
            problems.append(
                Problem(
                    code="draw_quota_specialty", message=N_("Each quota needs a specialty."), field="quotas"
                )
            )
        elif quota.specialty in seen:
            problems.append(
                Problem(
                    code="draw_quota_duplicate",
                    message=N_("Specialty %(specialty)s has more than one quota; merge them into one."),
                    field="quotas",
                    params={"specialty": quota.specialty},
                )
            )
        seen.add(quota.specialty)
        if type(quota.seats) is not int or quota.seats < 1:
            problems.append(
                Problem(
                    code="draw_quota_seats",
                    message=N_("The quota for %(specialty)s needs at least one seat."),
                    field="quotas",
                    params={"specialty": quota.specialty},
                )
            )
    reps = request.representative_seats
    if type(reps) is not int or reps < 0 or (type(size) is int and reps * 3 > size):
        problems.append(
            Problem(
                code="draw_representative_seats",
                message=N_(
                    "The purchaser's representatives may hold at most a third of the seats; %(reps)s of "
                    "%(size)s is too many."
                ),
                field="representative_seats",
                params={"reps": reps, "size": size},
                rule="L37, P9",
            )
        )
        reps = 0
    total = sum(q.seats for q in request.quotas if type(q.seats) is int) + reps
    if total != size:
        problems.append(
            Problem(
                code="draw_quota_sum",
                message=N_(
                    "The quota seats add up to %(total)s but the committee has %(size)s members; make them "
                    "equal."
                ),
                field="quotas",
                params={"total": total, "size": size},
            )
        )
    if type(request.substitutes) is not int or request.substitutes < 0:
        problems.append(
            Problem(
                code="draw_substitutes",
                message=N_("The number of substitutes cannot be negative."),
                field="substitutes",
            )
        )
    if not isinstance(request.request_id, str) or not request.request_id:
        problems.append(
            Problem(code="draw_request_id", message=N_("The draw needs a request id."), field="request_id")
        )
    return problems


def draw(
    request: DrawRequest,
    candidates: list[Candidate],
    server_seed: bytes,
    public_entropy: bytes | None,
    root: bytes | None = None,
) -> DrawResult:
    """`root`, when the caller has already computed pool_root of these candidates, saves hashing it again."""
    problems = _request_problems(request)
    if problems:
        raise ValidationFailed(problems)
    if len(server_seed) < MIN_SERVER_SEED_BYTES:
        raise ValueError(f"server seed must be at least {MIN_SERVER_SEED_BYTES} bytes")
    by_id = {c.expert_id: c for c in candidates}
    ids = unique_ids([c.expert_id for c in candidates])

    if root is None:
        root = merkle_root([str(i).encode("ascii") for i in sorted(ids)])
    seed = derive_seed(server_seed, public_entropy, root, request.request_id)
    ranking = rank_checked(seed, ids)

    open_seats = {q.specialty: q.seats for q in request.quotas}
    order = [q.specialty for q in request.quotas]
    members: list[tuple[int, str]] = []
    spare: list[tuple[int, str]] = []
    unfilled = sum(open_seats.values())
    for expert_id in ranking:
        held = set(by_id[expert_id].specialties)
        matching = [s for s in order if s in held]
        if not matching:
            continue
        seat = next((s for s in matching if open_seats[s] > 0), None)
        if seat is None:
            spare.append((expert_id, matching[0]))
        else:
            open_seats[seat] -= 1
            members.append((expert_id, seat))
            unfilled -= 1
        if not unfilled and len(spare) >= request.substitutes:
            break  # the rest of the walk could change nothing

    for quota in request.quotas:
        if open_seats[quota.specialty] > 0:
            raise InsufficientPool(quota.specialty, quota.seats, open_seats[quota.specialty])
    return DrawResult(seed=seed, ranking=ranking, members=members, substitutes=spare[: request.substitutes])


# --- the published record -----------------------------------------------------------------------------------


def to_record(
    request: DrawRequest,
    candidates: list[Candidate],
    server_seed: bytes,
    public_entropy: bytes | None,
    result: DrawResult,
    exclusions: list[Exclusion] | tuple[Exclusion, ...] = (),
) -> dict[str, Any]:
    """The plain JSON-able record that `verify` re-runs: bytes as lowercase hex, no entropy as null."""
    ids = [c.expert_id for c in candidates]
    return {
        "algorithm_version": ALGORITHM_VERSION,
        "request": {
            "request_id": request.request_id,
            "committee_size": request.committee_size,
            "representative_seats": request.representative_seats,
            "quotas": [{"specialty": q.specialty, "seats": q.seats} for q in request.quotas],
            "substitutes": request.substitutes,
        },
        "candidates": [
            {"expert_id": c.expert_id, "specialties": list(c.specialties)}
            for c in sorted(candidates, key=lambda c: c.expert_id)
        ],
        "exclusions": [
            {"expert_id": e.expert_id, "reason": e.reason, "rule": e.rule, "detail": e.detail}
            for e in sorted(exclusions, key=lambda e: (e.expert_id, e.reason, e.rule, e.detail))
        ],
        "exclusions_digest": exclusions_digest(exclusions).hex(),
        "server_seed": server_seed.hex(),
        "public_entropy": None if public_entropy is None else public_entropy.hex(),
        "pool_root": pool_root(ids).hex(),
        "commitment": commitment(server_seed).hex(),
        "result": {
            "seed": result.seed.hex(),
            "ranking": list(result.ranking),
            "members": [[expert_id, specialty] for expert_id, specialty in result.members],
            "substitutes": [[expert_id, specialty] for expert_id, specialty in result.substitutes],
        },
    }


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    return [(expert_id, specialty) for expert_id, specialty in value]


def verify(record: dict[str, Any]) -> list[str]:
    """Re-run the draw from its published record. Returns the differences found; an empty list means the
    record reproduces exactly. The caller must still check that `commitment` and `pool_root` are the ones the
    audit log recorded before the draw: this function can only check that the record agrees with itself."""
    version = record.get("algorithm_version")
    if version != ALGORITHM_VERSION:
        return [f"unknown algorithm version {version!r}; this verifier implements {ALGORITHM_VERSION!r}"]
    try:
        req = record["request"]
        request = DrawRequest(
            request_id=req["request_id"],
            committee_size=req["committee_size"],
            quotas=[Quota(q["specialty"], q["seats"]) for q in req["quotas"]],
            substitutes=req["substitutes"],
            representative_seats=req.get("representative_seats", 0),
        )
        candidates = [Candidate(c["expert_id"], tuple(c["specialties"])) for c in record["candidates"]]
        exclusions = [
            Exclusion(e["expert_id"], e["reason"], e.get("rule", ""), e.get("detail", ""))
            for e in record.get("exclusions", [])
        ]
        published_exclusions_digest = record.get("exclusions_digest")
        server_seed = bytes.fromhex(record["server_seed"])
        entropy_hex = record["public_entropy"]
        public_entropy = None if entropy_hex is None else bytes.fromhex(entropy_hex)
        published_root = bytes.fromhex(record["pool_root"])
        published_commitment = bytes.fromhex(record["commitment"])
        published = record["result"]
        published_members = _pairs(published["members"])
        published_substitutes = _pairs(published["substitutes"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"record is malformed: {exc!r}"]

    differences: list[str] = []
    if commitment(server_seed) != published_commitment:
        differences.append(
            f"commitment mismatch: SHA-256 of the published server seed is {commitment(server_seed).hex()}, "
            f"the record commits to {published_commitment.hex()}"
        )
    if published_exclusions_digest is not None:
        digest = exclusions_digest(exclusions).hex()
        if digest != published_exclusions_digest:
            differences.append(
                f"exclusions digest mismatch: the exclusion list hashes to {digest}, "
                f"the record says {published_exclusions_digest}"
            )
    both = sorted({e.expert_id for e in exclusions} & {c.expert_id for c in candidates})
    if both:
        differences.append(f"experts both excluded and in the pool: {both}")
    try:
        root = pool_root([c.expert_id for c in candidates])
    except ValueError as exc:
        return [*differences, f"candidate list is invalid: {exc}"]
    if root != published_root:
        differences.append(
            f"pool root mismatch: the candidate list hashes to {root.hex()}, the record says "
            f"{published_root.hex()}"
        )
    try:
        result = draw(request, candidates, server_seed, public_entropy, root=root)
    except (InsufficientPool, ValidationFailed, ValueError) as exc:
        return [*differences, f"the draw cannot be re-run: {exc}"]

    if "seed" in published and published["seed"] != result.seed.hex():
        differences.append(
            f"seed mismatch: re-run gives {result.seed.hex()}, the record says {published['seed']}"
        )
    if "ranking" in published and list(published["ranking"]) != result.ranking:
        differences.append("ranking differs from the re-run")
    if published_members != result.members:
        differences.append(
            f"members differ: re-run gives {result.members}, the record says {published_members}"
        )
    if published_substitutes != result.substitutes:
        differences.append(
            f"substitutes differ: re-run gives {result.substitutes}, the record says {published_substitutes}"
        )
    return differences
