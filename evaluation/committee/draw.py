"""The random expert draw of design.md ("Random expert draw, verifiable afterwards") and rules.md §3.

Pure: no database, no clock and no randomness of its own. The caller passes the eligible candidates (avoidance
rules, rules.md §3.3, are applied before this module sees them) and a secret server seed, logs
`commitment(server_seed)` and `pool_root(...)` before the draw, and publishes the seed once the result is
final; anyone can then re-run the draw with `verify(record)`.

Algorithm "etender-draw-2", byte for byte, so that it can be reimplemented elsewhere (steps 1 to 4 are the
platform's one verifiable draw, core.fairdraw; steps 5 and 6 are the committee's). "etender-draw-1", the
algorithm of draws made before the contributions existed, is the same without them; its records still verify:

1. pool root: RFC 9162 Merkle tree hash over the eligible expert ids sorted numerically ascending; each leaf's
   entry bytes are the id in decimal ASCII without sign or leading zeros ("42"):
   leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right), a list of n > 1 leaves splits at the
   largest power of two smaller than n, and the empty list hashes to SHA-256("").
2. commitment = SHA-256(server_seed).
3. seed = SHA-256(P(server_seed) || P(public_entropy or "") || P(pool_root) || P(UTF-8 of request_id)
   || P(UTF-8 of party) || P(value) for each contribution, the contributions sorted by the UTF-8 bytes of
   their party's name), where P(x) = len(x) as a 4-byte big-endian unsigned integer, followed by x. Each
   contribution is a party's 32 random bytes, committed as SHA-256(value) after the server's commitment was
   logged and revealed once every party had committed (evaluation.committee.draws runs that exchange).
   etender-draw-1 has no contributions.
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
    is_ranking,
    pool_root,
    pool_root_checked,
    rank,
    rank_checked,
    sha256,
    unique_ids,
)

# The draw's public record names the protocol's own steps (core.fairdraw) as part of this module's API.
__all__ = ["commitment", "derive_seed", "pool_root", "rank"]

ALGORITHM_V1 = "etender-draw-1"  # draws before the contributions (issue 5): their records verify as they were
ALGORITHM_VERSION = "etender-draw-2"  # the server seed and every party's contribution (issue 12)
ALGORITHM_VERSIONS = (ALGORITHM_V1, ALGORITHM_VERSION)
CONTRIBUTION_BYTES = 32  # each party's random value
MIN_CONTRIBUTIONS = 2  # policy: the requesting agency and the supervising monitors (E48), at least
# the audit tags of a contribution's two steps (evaluation.events), spelled out for the verifier
TAG_CONTRIBUTION_COMMITTED = "evaluation.draw.contribution.committed"
TAG_CONTRIBUTION_REVEALED = "evaluation.draw.contribution.revealed"
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
class Contribution:
    """A party's revealed random value (etender-draw-2): `party` names it in the seed, e.g. "agency:<credit
    code>"."""

    party: str
    value: bytes


def canonical_order(contributions: Any) -> list[Contribution]:
    """The contributions in the seed's order: by the UTF-8 bytes of the party's name."""
    return sorted(contributions, key=lambda c: c.party.encode("utf-8"))


def contribution_pairs(contributions: Any) -> list[tuple[str, bytes]]:
    return [(c.party, c.value) for c in contributions]


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
    contributions: list[Contribution] | None = None,
) -> DrawResult:
    """`root`, when the caller has already computed pool_root of these candidates, saves hashing it again.
    With `contributions` (in any order; the seed takes them in canonical_order) the draw is etender-draw-2;
    without, etender-draw-1."""
    _refuse_bad_request(request, server_seed)
    ids = unique_ids([c.expert_id for c in candidates])
    held = {c.expert_id: c.specialties for c in candidates}
    pairs = None if contributions is None else contribution_pairs(canonical_order(contributions))
    return _draw(request, ids, held, server_seed, public_entropy, root, contributions=pairs)


def feasibility_problems(request: DrawRequest, candidates: list[Candidate]) -> list[tuple[str, int, int]]:
    """The quotas no ranking can fill, whatever the seed: (specialty, seats, missing) for each quota held by
    fewer candidates than its seats, in request order; then, when every quota alone could be filled but the
    candidates holding any quota's specialty are fewer than all seats, the last quota with the total
    shortfall. Checked when the draw is requested, before the seed exists (a greedy walk can still come out
    short for some seeds when experts hold several quotas' specialties: then the draw fails visibly)."""
    holders = {q.specialty: 0 for q in request.quotas}
    anyone = 0
    for c in candidates:
        matched = False
        for s in c.specialties:
            if s in holders:
                holders[s] += 1
                matched = True
        anyone += matched
    short = [
        (q.specialty, q.seats, q.seats - holders[q.specialty])
        for q in request.quotas
        if holders[q.specialty] < q.seats
    ]
    seats = sum(q.seats for q in request.quotas)
    if not short and request.quotas and anyone < seats:
        last = request.quotas[-1]
        short = [(last.specialty, last.seats, seats - anyone)]
    return short


def _refuse_bad_request(request: DrawRequest, server_seed: bytes) -> None:
    problems = _request_problems(request)
    if problems:
        raise ValidationFailed(problems)
    if len(server_seed) < MIN_SERVER_SEED_BYTES:
        raise ValueError(f"server seed must be at least {MIN_SERVER_SEED_BYTES} bytes")


def _draw(
    request: DrawRequest,
    ids: list[int],
    held_by: dict[int, tuple[str, ...]],
    server_seed: bytes,
    public_entropy: bytes | None,
    root: bytes | None = None,
    claimed_ranking: list[int] | None = None,
    contributions: list[tuple[str, bytes]] | None = None,
) -> DrawResult:
    """draw() on checked ids and each id's specialties (a verifier reads them from the record without
    building a Candidate per expert). `claimed_ranking`, a permutation of `ids` (a published ranking), is used
    when it is the ranking, which one pass over its keys shows; otherwise the ids are ranked by sorting.
    The request and the seed are checked by the caller (_refuse_bad_request). `contributions`, (party, value)
    in the seed's order, are etender-draw-2's; None is etender-draw-1."""
    if root is None:
        root = pool_root_checked(ids)
    seed = derive_seed(server_seed, public_entropy, root, request.request_id, contributions or ())
    if claimed_ranking is not None and is_ranking(seed, claimed_ranking):
        ranking = list(claimed_ranking)
    else:
        ranking = rank_checked(seed, ids)

    open_seats = {q.specialty: q.seats for q in request.quotas}
    order = [q.specialty for q in request.quotas]
    members: list[tuple[int, str]] = []
    spare: list[tuple[int, str]] = []
    unfilled = sum(open_seats.values())
    for expert_id in ranking:
        held = set(held_by[expert_id])
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
    contributions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The plain JSON-able record that `verify` re-runs: bytes as lowercase hex, no entropy as null. With
    `contributions` ({"party", "commitment", "value", "committed_audit_index", "revealed_audit_index"}, values
    in hex) an etender-draw-2 record, the contributions in the seed's order; without, etender-draw-1."""
    ids = [c.expert_id for c in candidates]
    doc: dict[str, Any] = {
        "algorithm_version": ALGORITHM_V1 if contributions is None else ALGORITHM_VERSION,
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
    if contributions is not None:
        doc["contributions"] = [
            {
                key: c[key]
                for key in ("party", "commitment", "value", "committed_audit_index", "revealed_audit_index")
            }
            for c in sorted(contributions, key=lambda c: str(c["party"]).encode("utf-8"))
        ]
    return doc


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    return [(expert_id, specialty) for expert_id, specialty in value]


def _permutation(value: Any, ids: set[int]) -> list[int] | None:
    """`value` as a list of ids when it is a permutation of `ids` (integers, each once), else None."""
    if not isinstance(value, list) or len(value) != len(ids) or any(type(i) is not int for i in value):
        return None
    return value if set(value) == ids else None


def verify(record: dict[str, Any]) -> list[str]:
    """Re-run the draw from its published record. Returns the differences found; an empty list means the
    record reproduces exactly. The caller must still check that `commitment` and `pool_root` are the ones the
    audit log recorded before the draw: this function can only check that the record agrees with itself.
    Every input and output of the draw must be present (a record without its exclusions digest, seed or
    ranking is malformed, not a record with fewer checks); RECORD_SCHEMA is the full shape."""
    version = record.get("algorithm_version")
    if version not in ALGORITHM_VERSIONS:
        return [
            f"unknown algorithm version {version!r}; this verifier implements "
            + " and ".join(repr(v) for v in ALGORITHM_VERSIONS)
        ]
    try:
        req = record["request"]
        request = DrawRequest(
            request_id=req["request_id"],
            committee_size=req["committee_size"],
            quotas=[Quota(q["specialty"], q["seats"]) for q in req["quotas"]],
            substitutes=req["substitutes"],
            representative_seats=req["representative_seats"],
        )
        # ids and specialties straight from the record: no Candidate object per expert (100,000 of them)
        candidate_ids = [c["expert_id"] for c in record["candidates"]]
        held_by = {c["expert_id"]: tuple(c["specialties"]) for c in record["candidates"]}
        exclusions = [
            Exclusion(e["expert_id"], e["reason"], e["rule"], e["detail"]) for e in record["exclusions"]
        ]
        published_exclusions_digest = record["exclusions_digest"]
        server_seed = bytes.fromhex(record["server_seed"])
        entropy_hex = record["public_entropy"]
        public_entropy = None if entropy_hex is None else bytes.fromhex(entropy_hex)
        published_root = bytes.fromhex(record["pool_root"])
        published_commitment = bytes.fromhex(record["commitment"])
        published = record["result"]
        published_seed = published["seed"]
        published_ranking = published["ranking"]
        published_members = _pairs(published["members"])
        published_substitutes = _pairs(published["substitutes"])
        contributions = None
        if version != ALGORITHM_V1:
            contributions = [
                (c["party"], bytes.fromhex(c["value"]), bytes.fromhex(c["commitment"]))
                for c in record["contributions"]
            ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"record is malformed: {exc!r}"]

    differences: list[str] = []
    if contributions is not None:
        differences += _contribution_differences(contributions)
    if commitment(server_seed) != published_commitment:
        differences.append(
            f"commitment mismatch: SHA-256 of the published server seed is {commitment(server_seed).hex()}, "
            f"the record commits to {published_commitment.hex()}"
        )
    try:
        digest = exclusions_digest(exclusions).hex()
    except TypeError as exc:  # e.g. a null detail beside a text one: the list has no canonical order
        return [*differences, f"the exclusion list is invalid: {exc}"]
    if digest != published_exclusions_digest:
        differences.append(
            f"exclusions digest mismatch: the exclusion list hashes to {digest}, "
            f"the record says {published_exclusions_digest}"
        )
    try:
        ids = unique_ids(candidate_ids)
    except ValueError as exc:
        return [*differences, f"candidate list is invalid: {exc}"]
    pool = set(ids)
    both = sorted({e.expert_id for e in exclusions} & pool)
    if both:
        differences.append(f"experts both excluded and in the pool: {both}")
    root = pool_root_checked(ids)
    if root != published_root:
        differences.append(
            f"pool root mismatch: the candidate list hashes to {root.hex()}, the record says "
            f"{published_root.hex()}"
        )
    try:
        _refuse_bad_request(request, server_seed)
        result = _draw(
            request,
            ids,
            held_by,
            server_seed,
            public_entropy,
            root,
            _permutation(published_ranking, pool),
            # in the record's order: a reordered list gives another seed (and is reported as out of order)
            None if contributions is None else [(party, value) for party, value, _ in contributions],
        )
    except (InsufficientPool, ValidationFailed, ValueError) as exc:
        return [*differences, f"the draw cannot be re-run: {exc}"]

    if published_seed != result.seed.hex():
        differences.append(
            f"seed mismatch: re-run gives {result.seed.hex()}, the record says {published_seed}"
        )
    if published_ranking != result.ranking:
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


def _contribution_differences(contributions: list[tuple[str, bytes, bytes]]) -> list[str]:
    """etender-draw-2: each revealed value hashes to its commitment, the parties are named once each, in the
    seed's order, and there are at least MIN_CONTRIBUTIONS of them."""
    out = []
    if len(contributions) < MIN_CONTRIBUTIONS:
        out.append(
            f"the record holds {len(contributions)} contribution(s); a draw combines at least "
            f"{MIN_CONTRIBUTIONS} parties' values"
        )
    for i, (party, value, committed) in enumerate(contributions):
        if len(value) != CONTRIBUTION_BYTES:
            out.append(f"contributions[{i}] ({party}): the value is not {CONTRIBUTION_BYTES} bytes")
        if sha256(value) != committed:
            out.append(
                f"contributions[{i}] ({party}): commitment mismatch: SHA-256 of the revealed value is "
                f"{sha256(value).hex()}, the party committed to {committed.hex()}"
            )
    parties = [party for party, _, _ in contributions]
    if len(set(parties)) != len(parties):
        out.append("contributions: a party contributes more than once")
    elif parties != sorted(parties, key=lambda p: p.encode("utf-8")):
        out.append(
            "contributions are not in the seed's order (sorted by the UTF-8 bytes of the party's name)"
        )
    return out


# --- the record's shape and its audit-log entries (etender experts verify-draw) ----------------------------

_HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_ID = {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}
_TEXT = {"type": "string", "minLength": 1}
_SEAT = {"type": "array", "prefixItems": [_ID, _TEXT], "items": False, "minItems": 2}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """Every documented key present, and no other."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_INDEX = {"type": "integer", "minimum": 0}


def _record_schema(version: str) -> dict[str, Any]:
    """The schema of a record of `version`: etender-draw-2 adds `contributions` and the draw's
    `abandoned_before`, and its commitment's audit index is never null (the contributions are checked against
    it)."""
    v2 = version != ALGORITHM_V1
    draw_fields: dict[str, Any] = {
        "id": {"type": "integer", "minimum": 1},
        "tender": _TEXT,
        "evaluation_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        "regions": {"type": "array", "items": _TEXT},
        "exclude_local": {"type": "boolean"},
        "commitment_audit_index": _INDEX if v2 else {"anyOf": [{"type": "null"}, _INDEX]},
    }
    if v2:
        draw_fields["abandoned_before"] = _INDEX
    extra: dict[str, Any] = {}
    if v2:
        extra["contributions"] = {
            "type": "array",
            "minItems": MIN_CONTRIBUTIONS,
            "items": _object(
                {
                    "party": _TEXT,
                    "commitment": _HEX32,
                    "value": {"type": "string", "pattern": f"^[0-9a-f]{{{2 * CONTRIBUTION_BYTES}}}$"},
                    "committed_audit_index": _INDEX,
                    "revealed_audit_index": _INDEX,
                }
            ),
        }
    return _base_schema(version, draw_fields, extra)


# docs/expert-draw.md, "The record (JSON)": a published record, key by key. The reasons, seat kinds and seat
# statuses are the values the platform writes (evaluation.committee.avoidance.Reason, models.SeatKind and
# SeatStatus), spelled out here so that the schema is the document's and a verifier needs nothing else.
def _base_schema(version: str, draw_fields: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_object(
            {
                "algorithm_version": {"const": version},
                "request": _object(
                    {
                        "request_id": _TEXT,
                        "committee_size": {"type": "integer", "minimum": MIN_COMMITTEE_SIZE},
                        "representative_seats": {"type": "integer", "minimum": 0},
                        "quotas": {
                            "type": "array",
                            "minItems": 1,
                            "items": _object(
                                {"specialty": _TEXT, "seats": {"type": "integer", "minimum": 1}}
                            ),
                        },
                        "substitutes": {"type": "integer", "minimum": 0},
                    }
                ),
                "candidates": {
                    "type": "array",
                    "items": _object(
                        {
                            "expert_id": _ID,
                            "specialties": {"type": "array", "items": _TEXT, "uniqueItems": True},
                        }
                    ),
                },
                "exclusions": {
                    "type": "array",
                    "items": _object(
                        {
                            "expert_id": _ID,
                            "reason": {
                                "enum": [
                                    "bidder_employment",
                                    "bidder_interest",
                                    "purchaser_employment",
                                    "agency_employment",
                                    "supervisor_staff",
                                    "penalty",
                                    "status",
                                    "unavailable",
                                    "draw_cap",
                                ]
                            },
                            "rule": {"type": "string"},
                            "detail": {"type": "string"},  # "" when the reason needs none; never null
                        }
                    ),
                },
                "exclusions_digest": _HEX32,
                "server_seed": {
                    "type": "string",
                    "pattern": f"^([0-9a-f]{{2}}){{{MIN_SERVER_SEED_BYTES},}}$",
                },
                "public_entropy": {
                    "anyOf": [{"type": "null"}, {"type": "string", "pattern": "^([0-9a-f]{2})*$"}]
                },
                "pool_root": _HEX32,
                "commitment": _HEX32,
                "result": _object(
                    {
                        "seed": _HEX32,
                        "ranking": {"type": "array", "items": _ID},
                        "members": {"type": "array", "items": _SEAT},
                        "substitutes": {"type": "array", "items": _SEAT},
                    }
                ),
                "draw": _object(draw_fields),
                "committee": {
                    "type": "array",
                    "items": _object({"expert_id": _ID, "name": {"type": "string"}, "specialty": _TEXT}),
                },
                "confirmations": {
                    "type": "array",
                    "items": _object(
                        {
                            "expert_id": _ID,
                            "position": {"type": "integer", "minimum": 1},
                            "kind": {"enum": ["member", "substitute"]},
                            "status": {
                                "enum": [
                                    "notified",
                                    "confirmed",
                                    "declined",
                                    "timed_out",
                                    "conflict",
                                    "standby",
                                    "unused",
                                ]
                            },
                            "specialty": _TEXT,
                            "replaces_position": {
                                "anyOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]
                            },
                        }
                    ),
                },
                **extra,
            }
        ),
    }


RECORD_SCHEMA_V1 = _record_schema(ALGORITHM_V1)
RECORD_SCHEMA = _record_schema(ALGORITHM_VERSION)  # the records of draws made now
RECORD_SCHEMAS = {ALGORITHM_V1: RECORD_SCHEMA_V1, ALGORITHM_VERSION: RECORD_SCHEMA}


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the record"


def schema_problems(record: Any, limit: int = 20) -> list[str]:
    """Where `record` departs from RECORD_SCHEMA, each problem naming its field (`candidates[3].expert_id`),
    in document order, at most `limit` of them (then one line saying how many more)."""
    import jsonschema  # only the verifier needs it; the draw itself does not

    version = record.get("algorithm_version") if isinstance(record, dict) else None
    if isinstance(record, dict) and version not in RECORD_SCHEMAS:
        known = " or ".join(RECORD_SCHEMAS)
        return [f"algorithm_version: {version!r} is not a version this verifier knows ({known})"]
    schema = RECORD_SCHEMAS.get(version, RECORD_SCHEMA) if isinstance(version, str) else RECORD_SCHEMA
    validator = jsonschema.Draft202012Validator(schema)
    out: list[str] = []
    for error in validator.iter_errors(record):
        path = list(error.absolute_path)
        if error.validator == "required":  # one line per missing key, named by its full path
            out.extend(
                f"{_where([*path, k])}: missing" for k in error.validator_value if k not in error.instance
            )
        elif error.validator == "additionalProperties":
            known = error.schema.get("properties", {})
            out.extend(
                f"{_where([*path, k])}: not a field of the record" for k in error.instance if k not in known
            )
        else:
            out.append(f"{_where(path)}: {error.message}"[:300])
    # "required" and "additionalProperties" report the whole object once per key: one line each
    out = sorted(dict.fromkeys(out), key=lambda line: line.split(":")[0])
    if len(out) > limit:
        out = [*out[:limit], f"... and {len(out) - limit} more"]
    return out


def record_sha256(record: dict[str, Any]) -> str:
    """The record's SHA-256 as the audit log's `evaluation.draw.record.published` entry gives it: of its
    canonical JSON (keys sorted, separators without spaces, UTF-8 with non-ASCII characters as themselves)."""
    return sha256(
        json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ).hex()


def log_differences(
    record: dict[str, Any], committed: dict[str, Any], published: dict[str, Any] | None
) -> list[str]:
    """Compare a record with the public details of its audit entries: `committed` (evaluation.draw.committed,
    logged before the draw) and `published` (evaluation.draw.record.published, or None when the log holds
    none). Each dict is {"index": ..., "details": {...}} as the public audit API serves an entry."""
    out = []
    logged = committed["details"]
    expected = {
        "commitment": record["commitment"],
        "pool_root": record["pool_root"],
        "exclusions_digest": record["exclusions_digest"],
        "request_id": record["request"]["request_id"],
        "algorithm_version": record["algorithm_version"],
        "quotas": record["request"]["quotas"],
    }
    # logged beside them by this version of the platform, compared when the entry has them
    also = {
        "committee_size": record["request"]["committee_size"],
        "representative_seats": record["request"]["representative_seats"],
        "substitutes": record["request"]["substitutes"],
        "public_entropy": record["public_entropy"],
        "pool_size": len(record["candidates"]),
        "exclusions": len(record["exclusions"]),
        "evaluation_date": record["draw"]["evaluation_date"],
    }
    expected.update((key, value) for key, value in also.items() if key in logged)
    if record["algorithm_version"] != ALGORITHM_V1:
        # etender-draw-2 names the contributing parties before anyone contributes
        expected["parties"] = [c["party"] for c in record["contributions"]]
    for key, value in expected.items():
        if logged.get(key) != value:
            out.append(
                f"{key} differs from the audit log's commitment entry {committed['index']}: log "
                f"{logged.get(key)!r}, record {value!r}"
            )
    if published is None:
        out.append(f"the audit log holds no publication of draw {record['draw']['id']}'s record")
        return out
    details = published["details"]
    if details.get("record_sha256") != record_sha256(record):
        out.append(f"the record's SHA-256 differs from the one published in audit entry {published['index']}")
    if details.get("server_seed") != record["server_seed"]:
        out.append(f"server_seed differs from the one published in audit entry {published['index']}")
    return out


def contribution_log_differences(
    record: dict[str, Any], committed_index: int, entries: dict[int, dict[str, Any]]
) -> list[str]:
    """etender-draw-2: each contribution's two audit entries against the record. `entries` maps an audit index
    to {"tag", "subject", "details"} of the entry there (the public details), for at least the indices the
    contributions name. Each commitment must have been logged after the server's commitment (entry
    `committed_index`), and each reveal after the last commitment: nobody revealed before every party was
    bound, and no party could choose its value knowing another's."""
    out: list[str] = []
    subject = f"draw:{record['draw']['id']}"
    contributions = record["contributions"]
    wanted = {
        "committed_audit_index": TAG_CONTRIBUTION_COMMITTED,
        "revealed_audit_index": TAG_CONTRIBUTION_REVEALED,
    }
    for i, c in enumerate(contributions):
        for key, tag in wanted.items():
            index = c[key]
            entry = entries.get(index)
            step = "commitment" if key == "committed_audit_index" else "reveal"
            if entry is None:
                out.append(
                    f"contributions[{i}] ({c['party']}): the audit log holds no entry {index} ({step})"
                )
                continue
            if entry.get("tag") != tag or entry.get("subject") != subject:
                out.append(
                    f"contributions[{i}] ({c['party']}): audit entry {index} is not the {step} of a "
                    f"contribution to {subject} (it is {entry.get('tag')} about {entry.get('subject')})"
                )
                continue
            details = entry.get("details") or {}
            logged = {"party": c["party"], "commitment": c["commitment"]}
            if step == "reveal":
                logged["value"] = c["value"]
            for name, value in logged.items():
                if details.get(name) != value:
                    out.append(
                        f"contributions[{i}] ({c['party']}): {name} differs from audit entry {index} "
                        f"({step}): log {details.get(name)!r}, record {value!r}"
                    )
        if c["committed_audit_index"] <= committed_index:
            out.append(
                f"contributions[{i}] ({c['party']}): committed in audit entry "
                f"{c['committed_audit_index']}, not after the server's commitment (entry {committed_index})"
            )
    last_commit = max((c["committed_audit_index"] for c in contributions), default=committed_index)
    for i, c in enumerate(contributions):
        if c["revealed_audit_index"] <= last_commit:
            out.append(
                f"contributions[{i}] ({c['party']}): revealed in audit entry "
                f"{c['revealed_audit_index']}, before the last party committed (entry {last_commit})"
            )
    return out
