"""The marketplace's verifiable selection of an intermediary (rules.md §5.3): records `etender-selection-1`
(random, lowest, optimal) and `etender-selection-2` (the credit shortlist, whose record holds more).

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
  fewer than 3 quotes and the purchase fails, whatever the funds;
- credit (信用择优, Guangdong): the long list is the applicants ordered by their credit score frozen at
  sign-up close (descending; equal scores by ascending organisation id), at most `long_list_max` of them;
  the short list the first `short_list_size` of fairdraw.rank(seed, long-list ids); the owner then chooses
  one of the short list (not drawn: recorded with who and when, and checked to be on the short list).
  Fewer than 2 applicants and the purchase fails, whatever the funds (rules.md §5.3: "fewer than 2
  applicants for a credit or proposal selection").
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core import fairdraw

ALGORITHM_VERSION = "etender-selection-1"  # random, lowest, optimal: unchanged since they shipped
ALGORITHM_V2 = "etender-selection-2"  # credit: the scores, long and short lists and the owner's choice
ALGORITHM_VERSIONS = (ALGORITHM_VERSION, ALGORITHM_V2)

RANDOM = "random"
LOWEST = "lowest"
OPTIMAL = "optimal"
DRAWN_METHODS = (RANDOM, LOWEST, OPTIMAL)  # the methods of etender-selection-1
CREDIT = "credit"  # etender-selection-2

# Policy (Guangdong's 信用择优 leaves the sizes to local rules): the long list holds at most this many of the
# best-scored applicants, the short list this many drawn from it. Frozen into each selection at sign-up
# close and carried by its record, so that a later change of policy never changes an old record's re-run.
LONG_LIST_MAX = 10
SHORT_LIST_SIZE = 3


def version_of(method: str) -> str:
    return ALGORITHM_V2 if method == CREDIT else ALGORITHM_VERSION


COEFFICIENT_MIN_BP = 9500  # 95.00 %
COEFFICIENT_SPAN_BP = 301  # 9500 .. 9800 inclusive

# why a selection fails: the record's result.reason
TOO_FEW_APPLICANTS = "too_few_applicants"
TOO_FEW_QUOTES = "too_few_quotes"


@dataclass(frozen=True)
class Applicant:
    organisation_id: int
    quote_fen: int | None = None  # None for a random draw (no quote asked)
    credit_score: int | None = None  # the credit shortlist only: the score frozen at sign-up close


@dataclass(frozen=True)
class Outcome:
    seed: bytes
    winner: int | None  # None: the purchase fails
    reason: str  # "" when a winner was selected
    coefficient_bp: int | None = None
    benchmark: tuple[int, int] | None = None  # numerator, denominator in fen (exact)
    tied: tuple[int, ...] = ()  # the ids tied for the win, before the lottery (empty: no tie-break needed)
    ranking: tuple[int, ...] = ()  # the lottery's ranking (random draw: every applicant; a tie: the tied;
    # credit: the long list)
    long_list: tuple[tuple[int, int], ...] = ()  # credit: (organisation id, score), best first
    short_list: tuple[int, ...] = ()  # credit: the first short_list_size of the ranking


def minimum(method: str, state_funds: bool) -> int:
    """The fewest applicants (random, credit) or quotes (lowest, optimal) the method needs (rules.md §5.3)."""
    if method == OPTIMAL:
        return 3
    if method == CREDIT:
        return 2  # "fewer than 2 applicants for a credit or proposal selection: the purchase fails"
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


def long_list(applicants: list[Applicant], long_list_max: int) -> list[tuple[int, int]]:
    """The credit shortlist's long list: (id, score) by score descending, equal scores by ascending id, at
    most long_list_max. Independent of the order the applicants are given in."""
    scored = []
    for a in applicants:
        if a.credit_score is None:
            raise ValueError(f"applicant {a.organisation_id} has no credit score")
        scored.append((a.organisation_id, a.credit_score))
    return sorted(scored, key=lambda x: (-x[1], x[0]))[:long_list_max]


def select(
    method: str,
    state_funds: bool,
    applicants: list[Applicant],
    server_seed: bytes,
    request_id: str,
    contributions: list[tuple[str, bytes]],
    long_list_max: int = LONG_LIST_MAX,
    short_list_size: int = SHORT_LIST_SIZE,
) -> Outcome:
    ids = [a.organisation_id for a in applicants]
    seed = seed_of(server_seed, ids, request_id, contributions)
    if method == CREDIT:
        if len(ids) < minimum(method, state_funds):
            return Outcome(seed, None, TOO_FEW_APPLICANTS)
        longs = tuple(long_list(applicants, long_list_max))
        ranking = tuple(fairdraw.rank(seed, [i for i, _ in longs]))
        # no winner yet: the owner chooses from the short list (record_choice)
        return Outcome(seed, None, "", ranking=ranking, long_list=longs, short_list=ranking[:short_list_size])
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
    long_list_max: int = LONG_LIST_MAX,
    short_list_size: int = SHORT_LIST_SIZE,
    scores_on: str = "",
    choice: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The published record: everything needed to re-run the selection (docs/marketplace-selection.md).
    A credit shortlist's record (etender-selection-2) also carries the policy sizes, the day the scores were
    frozen, each applicant's score, the lists and the owner's `choice` ({organisation_id, party, chosen_at};
    None while the owner has not chosen, and for a failed selection)."""
    ordered = sorted(applicants, key=lambda a: a.organisation_id)
    common = {
        "purchase": purchase,
        "method": method,
        "state_funds": state_funds,
        "request_id": request_id,
    }
    tail = {
        "pool_root": fairdraw.pool_root([a.organisation_id for a in applicants]).hex(),
        "server_seed": server_seed.hex(),
        "commitment": fairdraw.commitment(server_seed).hex(),
        "contributions": [
            {"party": p, "commitment": fairdraw.sha256(v).hex(), "value": v.hex()}
            for p, v in sorted(contributions)
        ],
    }
    if method != CREDIT:
        return {
            "algorithm_version": ALGORITHM_VERSION,
            **common,
            "applicants": [{"organisation_id": a.organisation_id, "quote_fen": a.quote_fen} for a in ordered],
            **tail,
            "result": _result(outcome),
        }
    return {
        "algorithm_version": ALGORITHM_V2,
        **common,
        "long_list_max": long_list_max,
        "short_list_size": short_list_size,
        "scores_on": scores_on,
        "applicants": [
            {"organisation_id": a.organisation_id, "credit_score": a.credit_score} for a in ordered
        ],
        **tail,
        "result": _result_v2(outcome, choice),
    }


def _result_v2(outcome: Outcome, choice: dict[str, Any] | None) -> dict[str, Any]:
    state = "failed" if outcome.reason else "selected" if choice is not None else "shortlisted"
    return {
        "seed": outcome.seed.hex(),
        "outcome": state,
        "reason": outcome.reason,
        "long_list": [{"organisation_id": i, "credit_score": c} for i, c in outcome.long_list],
        "ranking": list(outcome.ranking),
        "short_list": list(outcome.short_list),
        "choice": choice,
        "winner": choice["organisation_id"] if choice is not None else None,
    }


def with_choice(record: dict[str, Any], choice: dict[str, Any] | None) -> dict[str, Any]:
    """A credit shortlist's record with the owner's choice set (None: the record as the short list was drawn,
    whose SHA-256 the `marketplace.selection.shortlisted` entry logs)."""
    result = {
        **record["result"],
        "choice": choice,
        "winner": choice["organisation_id"] if choice is not None else None,
    }
    if result["outcome"] != "failed":
        result["outcome"] = "selected" if choice is not None else "shortlisted"
    return {**record, "result": result}


def applicants_sha256(applicants: list[dict[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of a credit record's `applicants` (ids and frozen scores, sorted by id):
    logged when sign-up closes, so that no score can be changed once the seed is known."""
    canonical = json.dumps(applicants, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
            "method": {"enum": list(DRAWN_METHODS)},  # etender-selection-1 stays as it shipped
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


_SCORED = _object({"organisation_id": _ID, "credit_score": {"type": "integer", "minimum": 0, "maximum": 100}})

RECORD_SCHEMA_V2: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_object(
        {
            "algorithm_version": {"const": ALGORITHM_V2},
            "purchase": RECORD_SCHEMA["properties"]["purchase"],
            "method": {"const": CREDIT},
            "state_funds": {"type": "boolean"},
            "request_id": {"type": "string", "minLength": 1},
            "long_list_max": {"type": "integer", "minimum": 2},
            "short_list_size": {"type": "integer", "minimum": 1},
            "scores_on": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "applicants": {"type": "array", "items": _SCORED},
            "pool_root": _HEX32,
            "server_seed": {**_HEX, "minLength": 32},
            "commitment": _HEX32,
            "contributions": RECORD_SCHEMA["properties"]["contributions"],
            "result": _object(
                {
                    "seed": _HEX32,
                    "outcome": {"enum": ["shortlisted", "selected", "failed"]},
                    "reason": {"enum": ["", TOO_FEW_APPLICANTS]},
                    "long_list": {"type": "array", "items": _SCORED},
                    "ranking": {"type": "array", "items": _ID},
                    "short_list": {"type": "array", "items": _ID},
                    "choice": {
                        "anyOf": [
                            {"type": "null"},
                            _object(
                                {
                                    "organisation_id": _ID,
                                    "party": {"type": "string", "minLength": 1},
                                    "chosen_at": {"type": "string", "minLength": 1},
                                }
                            ),
                        ]
                    },
                    "winner": {"type": ["integer", "null"]},
                }
            ),
        }
    ),
}
RECORD_SCHEMAS = {ALGORITHM_VERSION: RECORD_SCHEMA, ALGORITHM_V2: RECORD_SCHEMA_V2}


@functools.cache
def _validator(version: str = ALGORITHM_VERSION) -> Any:
    import jsonschema  # only the verifier needs it

    return jsonschema.Draft202012Validator(RECORD_SCHEMAS[version])


def schema_problems(record: Any) -> list[str]:
    """Where `record` departs from the schema of its algorithm_version (RECORD_SCHEMA for
    etender-selection-1 and anything unknown, RECORD_SCHEMA_V2 for etender-selection-2), each problem naming
    its field."""
    out = []
    version = record.get("algorithm_version") if isinstance(record, dict) else None
    for error in _validator(ALGORITHM_V2 if version == ALGORITHM_V2 else ALGORITHM_VERSION).iter_errors(
        record
    ):
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
    if record["algorithm_version"] == ALGORITHM_V2:
        return out + _verify_credit(record, server_seed, pairs)
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


def _verify_credit(record: dict[str, Any], server_seed: bytes, pairs: list[tuple[str, bytes]]) -> list[str]:
    """The credit shortlist re-run: seed, lists and reason from the record's frozen scores; then the owner's
    choice, which is not drawn, checked to be on the short list and to be the winner."""
    out: list[str] = []
    applicants = [
        Applicant(a["organisation_id"], credit_score=a["credit_score"]) for a in record["applicants"]
    ]
    outcome = select(
        CREDIT,
        record["state_funds"],
        applicants,
        server_seed,
        record["request_id"],
        pairs,
        long_list_max=record["long_list_max"],
        short_list_size=record["short_list_size"],
    )
    result = record["result"]
    choice = result["choice"]
    again = _result_v2(outcome, choice)
    for key in ("seed", "reason", "long_list", "ranking", "short_list", "outcome", "winner"):
        if result[key] != again[key]:
            out.append(f"{key} differs: the record says {result[key]!r}, the re-run gives {again[key]!r}")
    if choice is not None:
        if outcome.reason:
            out.append("choice: the selection failed, yet the record names a choice")
        elif choice["organisation_id"] not in outcome.short_list:
            out.append(f"choice: organisation {choice['organisation_id']} is not on the short list")
    return out


# ---------------------------------------------------------------- against the audit log

TAG_COMMITTED = "marketplace.selection.committed"
TAG_CONTRIBUTION_COMMITTED = "marketplace.selection.contribution.committed"
TAG_CONTRIBUTION_REVEALED = "marketplace.selection.contribution.revealed"
TAGS_DONE = ("marketplace.selection.completed", "marketplace.selection.failed")
TAG_SHORTLISTED = "marketplace.selection.shortlisted"  # credit: the short list drawn, the choice awaited


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
    if record["algorithm_version"] == ALGORITHM_V2:
        expected |= {
            "long_list_max": record["long_list_max"],
            "short_list_size": record["short_list_size"],
            "scores_on": record["scores_on"],
            "applicants_sha256": applicants_sha256(record["applicants"]),
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
    if record["algorithm_version"] == ALGORITHM_V2 and record["result"]["outcome"] != "failed":
        drawn = next(((i, d) for i, t, d in entries if t == TAG_SHORTLISTED), None)
        if drawn is None:
            out.append("the audit log holds no drawing of this short list")
        elif drawn[1].get("draw_sha256") != record_sha256(with_choice(record, None)):
            out.append(f"the short list is not the one logged (draw_sha256 of the entry {drawn[0]})")
        if record["result"]["outcome"] == "shortlisted":
            return out  # the owner has not chosen yet: no completion to compare
    done = next(((i, d) for i, t, d in entries if t in TAGS_DONE), None)
    if done is None:
        return [*out, "the audit log holds no completion of this selection"]
    if done[1].get("server_seed") != record["server_seed"]:
        out.append(f"server_seed differs from the audit log's completion entry {done[0]}")
    if done[1].get("record_sha256") != record_sha256(record):
        out.append(f"the record is not the one logged (record_sha256 of the completion entry {done[0]})")
    return out
