"""The marketplace's verifiable selection of an intermediary (rules.md §5.3), version `etender-selection-1`.

Pure: no database, no clock, no randomness of its own. Every random step (the random draw, the optimal-price
coefficient, a tie between equal quotes) comes from one seed made by core.fairdraw with the committee draw's
commit-then-reveal protocol (docs/expert-draw.md): the server seed's commitment is logged when sign-up closes,
each party (the project owner) commits to a random value before any is revealed, then the seed is

    derive_seed(server_seed, None, pool_root(applicant ids), request_id, contributions sorted by party)

docs/marketplace-selection.md is this module in words, with a test vector; `etender marketplace
verify-selection RECORD` runs `verify` on a published record.

The methods (rules.md §5.3, Tangshan; 优化营商环境条例 art. 43 for direct choice, which is not drawn):

- random: the first of fairdraw.rank(seed, applicant ids); at least 3 applicants for state funds, 1 otherwise;
- lowest: the lowest quote wins, a tie by rank(seed, tied ids)[0]; at least 3 quotes for state funds;
- optimal: coefficient (basis points) = 9500 + int.from_bytes(seed[:8], "big") mod 301 (95.00 % to 98.00 %);
  one highest and one lowest quote dropped; benchmark = mean of the rest × coefficient / 10000; the quote
  closest to the benchmark (every quote competes, the dropped ones too) wins, a tie by rank(seed, tied)[0];
  fewer than 3 quotes and the purchase fails, whatever the funds.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core import fairdraw

ALGORITHM_VERSION = "etender-selection-1"

RANDOM = "random"
LOWEST = "lowest"
OPTIMAL = "optimal"
DRAWN_METHODS = (RANDOM, LOWEST, OPTIMAL)

COEFFICIENT_MIN_BP = 9500  # 95.00 %
COEFFICIENT_SPAN_BP = 301  # 9500 .. 9800 inclusive

# why a selection fails: the record's result.reason
TOO_FEW_APPLICANTS = "too_few_applicants"
TOO_FEW_QUOTES = "too_few_quotes"


@dataclass(frozen=True)
class Applicant:
    organisation_id: int
    quote_fen: int | None = None  # None for a random draw (no quote asked)


@dataclass(frozen=True)
class Outcome:
    seed: bytes
    winner: int | None  # None: the purchase fails
    reason: str  # "" when a winner was selected
    coefficient_bp: int | None = None
    benchmark: tuple[int, int] | None = None  # numerator, denominator in fen (exact)
    tied: tuple[int, ...] = ()  # the ids tied for the win, before the lottery (empty: no tie-break needed)
    ranking: tuple[int, ...] = ()  # the lottery's ranking (random draw: every applicant; a tie: the tied)


def minimum(method: str, state_funds: bool) -> int:
    """The fewest applicants (random) or quotes (lowest, optimal) the method needs (rules.md §5.3)."""
    if method == OPTIMAL:
        return 3
    return 3 if state_funds else 1


def coefficient_bp(seed: bytes) -> int:
    """The optimal-price coefficient in basis points, 9500 to 9800, from the seed's first 8 bytes."""
    return COEFFICIENT_MIN_BP + int.from_bytes(seed[:8], "big") % COEFFICIENT_SPAN_BP


def benchmark(quotes: list[int], coefficient: int) -> tuple[int, int]:
    """(numerator, denominator) of the benchmark in fen: one highest and one lowest quote dropped, the mean of
    the rest times coefficient / 10000. Needs at least 3 quotes."""
    kept = sorted(quotes)[1:-1]
    return sum(kept) * coefficient, len(kept) * 10000


def seed_of(
    server_seed: bytes, applicant_ids: list[int], request_id: str, contributions: list[tuple[str, bytes]]
) -> bytes:
    return fairdraw.derive_seed(
        server_seed, None, fairdraw.pool_root(applicant_ids), request_id, sorted(contributions)
    )


def _lottery(seed: bytes, tied: list[int]) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    if len(tied) == 1:
        return tied[0], (), ()
    ranking = tuple(fairdraw.rank(seed, tied))
    return ranking[0], tuple(sorted(tied)), ranking


def select(
    method: str,
    state_funds: bool,
    applicants: list[Applicant],
    server_seed: bytes,
    request_id: str,
    contributions: list[tuple[str, bytes]],
) -> Outcome:
    ids = [a.organisation_id for a in applicants]
    seed = seed_of(server_seed, ids, request_id, contributions)
    if method == RANDOM:
        if len(ids) < minimum(method, state_funds):
            return Outcome(seed, None, TOO_FEW_APPLICANTS)
        ranking = tuple(fairdraw.rank(seed, ids))
        return Outcome(seed, ranking[0], "", ranking=ranking)
    if method not in (LOWEST, OPTIMAL):
        raise ValueError(f"not a drawn selection method: {method!r}")
    quoted = [a for a in applicants if a.quote_fen is not None]
    if len(quoted) < minimum(method, state_funds):
        return Outcome(seed, None, TOO_FEW_QUOTES)
    if method == LOWEST:
        low = min(a.quote_fen for a in quoted)  # type: ignore[type-var]
        winner, tied, ranking = _lottery(seed, [a.organisation_id for a in quoted if a.quote_fen == low])
        return Outcome(seed, winner, "", tied=tied, ranking=ranking)
    coefficient = coefficient_bp(seed)
    num, den = benchmark([a.quote_fen for a in quoted], coefficient)  # type: ignore[misc]
    # |quote - num/den| compared exactly as |quote*den - num|
    distance = {a.organisation_id: abs(a.quote_fen * den - num) for a in quoted}  # type: ignore[operator]
    best = min(distance.values())
    winner, tied, ranking = _lottery(seed, [i for i, d in distance.items() if d == best])
    return Outcome(seed, winner, "", coefficient, (num, den), tied, ranking)


# ---------------------------------------------------------------- the record


def to_record(
    *,
    purchase: dict[str, Any],
    method: str,
    state_funds: bool,
    request_id: str,
    applicants: list[Applicant],
    server_seed: bytes,
    contributions: list[tuple[str, bytes]],
    outcome: Outcome,
) -> dict[str, Any]:
    """The published record: everything needed to re-run the selection (docs/marketplace-selection.md)."""
    return {
        "algorithm_version": ALGORITHM_VERSION,
        "purchase": purchase,
        "method": method,
        "state_funds": state_funds,
        "request_id": request_id,
        "applicants": [
            {"organisation_id": a.organisation_id, "quote_fen": a.quote_fen}
            for a in sorted(applicants, key=lambda a: a.organisation_id)
        ],
        "pool_root": fairdraw.pool_root([a.organisation_id for a in applicants]).hex(),
        "server_seed": server_seed.hex(),
        "commitment": fairdraw.commitment(server_seed).hex(),
        "contributions": [
            {"party": p, "commitment": fairdraw.sha256(v).hex(), "value": v.hex()}
            for p, v in sorted(contributions)
        ],
        "result": _result(outcome),
    }


def _result(outcome: Outcome) -> dict[str, Any]:
    return {
        "seed": outcome.seed.hex(),
        "outcome": "selected" if outcome.winner is not None else "failed",
        "reason": outcome.reason,
        "winner": outcome.winner,
        "coefficient_bp": outcome.coefficient_bp,
        "benchmark": list(outcome.benchmark) if outcome.benchmark else None,
        "tied": list(outcome.tied),
        "ranking": list(outcome.ranking),
    }


def record_sha256(record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_HEX = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
_HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_ID = {"type": "integer", "minimum": 0, "maximum": fairdraw.MAX_ID}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


RECORD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_object(
        {
            "algorithm_version": {"const": ALGORITHM_VERSION},
            "purchase": _object(
                {"id": {"type": "integer", "minimum": 1}, "reference": {"type": "string", "minLength": 1}}
            ),
            "method": {"enum": list(DRAWN_METHODS)},
            "state_funds": {"type": "boolean"},
            "request_id": {"type": "string", "minLength": 1},
            "applicants": {
                "type": "array",
                "items": _object(
                    {"organisation_id": _ID, "quote_fen": {"type": ["integer", "null"], "minimum": 0}}
                ),
            },
            "pool_root": _HEX32,
            "server_seed": {**_HEX, "minLength": 32},
            "commitment": _HEX32,
            "contributions": {
                "type": "array",
                "minItems": 1,
                "items": _object(
                    {"party": {"type": "string", "minLength": 1}, "commitment": _HEX32, "value": _HEX32}
                ),
            },
            "result": _object(
                {
                    "seed": _HEX32,
                    "outcome": {"enum": ["selected", "failed"]},
                    "reason": {"enum": ["", TOO_FEW_APPLICANTS, TOO_FEW_QUOTES]},
                    "winner": {"type": ["integer", "null"]},
                    "coefficient_bp": {"type": ["integer", "null"]},
                    "benchmark": {
                        "anyOf": [
                            {"type": "null"},
                            {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                        ]
                    },
                    "tied": {"type": "array", "items": _ID},
                    "ranking": {"type": "array", "items": _ID},
                }
            ),
        }
    ),
}


@functools.cache
def _validator() -> Any:
    import jsonschema  # only the verifier needs it

    return jsonschema.Draft202012Validator(RECORD_SCHEMA)


def schema_problems(record: Any) -> list[str]:
    """Where `record` departs from RECORD_SCHEMA, each problem naming its field."""
    out = []
    for error in _validator().iter_errors(record):
        where = ".".join(str(p) for p in error.absolute_path) or "record"
        out.append(f"{where}: {error.message}"[:300])
    return out


def verify(record: dict[str, Any]) -> list[str]:
    """Re-run the selection from a well-formed record (schema_problems is empty); each difference named."""
    out: list[str] = []
    server_seed = bytes.fromhex(record["server_seed"])
    if fairdraw.commitment(server_seed).hex() != record["commitment"]:
        out.append("commitment mismatch: SHA-256 of server_seed is not the record's commitment")
    ids = [a["organisation_id"] for a in record["applicants"]]
    if len(set(ids)) != len(ids):
        return [*out, "applicants: an organisation is listed twice"]
    if ids != sorted(ids):
        out.append("applicants: not sorted by organisation_id")
    if fairdraw.pool_root(ids).hex() != record["pool_root"]:
        out.append("pool root mismatch: the applicant list is not the one the root was computed over")
    parties = [c["party"] for c in record["contributions"]]
    if parties != sorted(parties) or len(set(parties)) != len(parties):
        out.append("contributions: not in ascending order of party, each once")
    pairs = []
    for i, c in enumerate(record["contributions"]):
        value = bytes.fromhex(c["value"])
        if fairdraw.sha256(value).hex() != c["commitment"]:
            out.append(f"contributions[{i}]: SHA-256 of value is not its commitment")
        pairs.append((c["party"], value))
    applicants = [Applicant(a["organisation_id"], a["quote_fen"]) for a in record["applicants"]]
    outcome = select(
        record["method"], record["state_funds"], applicants, server_seed, record["request_id"], pairs
    )
    again = _result(outcome)
    for key, value in again.items():
        if record["result"][key] != value:
            out.append(
                f"{key} differs: the record says {record['result'][key]!r}, the re-run gives {value!r}"
            )
    return out


# ---------------------------------------------------------------- against the audit log

TAG_COMMITTED = "marketplace.selection.committed"
TAG_CONTRIBUTION_COMMITTED = "marketplace.selection.contribution.committed"
TAG_CONTRIBUTION_REVEALED = "marketplace.selection.contribution.revealed"
TAGS_DONE = ("marketplace.selection.completed", "marketplace.selection.failed")


def log_differences(record: dict[str, Any], entries: list[tuple[int, str, dict[str, Any]]]) -> list[str]:
    """The record against the audit log's entries of its purchase (index, tag, details; in log order): the
    server's commitment entry, logged when sign-up closed, must carry the record's commitment, pool root,
    request id, method, funds, parties and number of applicants; each party's commitment and reveal entries
    its commitment and value, every commitment after the server's and every reveal after the last commitment;
    the completion entry the record's server seed and the SHA-256 of the record."""
    committed = next(((i, d) for i, t, d in entries if t == TAG_COMMITTED), None)
    if committed is None:
        return [f"the audit log holds no selection commitment for purchase {record['purchase']['id']}"]
    index, details = committed
    out = []
    expected = {
        "algorithm_version": record["algorithm_version"],
        "commitment": record["commitment"],
        "pool_root": record["pool_root"],
        "request_id": record["request_id"],
        "method": record["method"],
        "state_funds": record["state_funds"],
        "parties": [c["party"] for c in record["contributions"]],
        "applicants": len(record["applicants"]),
    }
    for key, value in expected.items():
        if details.get(key) != value:
            out.append(f"{key} differs from the audit log's commitment entry {index}")
    commits = {d.get("party"): (i, d) for i, t, d in entries if t == TAG_CONTRIBUTION_COMMITTED}
    reveals = {d.get("party"): (i, d) for i, t, d in entries if t == TAG_CONTRIBUTION_REVEALED}
    last_commit = max((i for i, _ in commits.values()), default=-1)
    for c in record["contributions"]:
        party = c["party"]
        if party not in commits or commits[party][1].get("commitment") != c["commitment"]:
            out.append(f"contribution of {party}: no matching commitment entry in the audit log")
        elif commits[party][0] < index:
            out.append(f"contribution of {party}: committed before the server's commitment entry")
        if party not in reveals or reveals[party][1].get("value") != c["value"]:
            out.append(f"contribution of {party}: no matching reveal entry in the audit log")
        elif reveals[party][0] < last_commit:
            out.append(f"contribution of {party}: revealed before every party had committed")
    done = next(((i, d) for i, t, d in entries if t in TAGS_DONE), None)
    if done is None:
        return [*out, "the audit log holds no completion of this selection"]
    if done[1].get("server_seed") != record["server_seed"]:
        out.append(f"server_seed differs from the audit log's completion entry {done[0]}")
    if done[1].get("record_sha256") != record_sha256(record):
        out.append(f"the record is not the one logged (record_sha256 of the completion entry {done[0]})")
    return out
