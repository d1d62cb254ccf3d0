"""The product against docs/evaluation-vectors.json, and etender-tie-1's bytes recomputed from
docs/evaluation.md §8 alone (hashlib, an RFC 9162 Merkle tree written out here), not through core.fairdraw."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path

import pytest

from evaluation.scoring import formulas as F
from tender.notices import Factor

VECTORS = json.loads(
    (Path(__file__).resolve().parents[3] / "docs" / "evaluation-vectors.json").read_text("utf-8")
)


def ints(d):  # type: ignore[no-untyped-def]
    return {int(k): v for k, v in d.items()}


def frac(text: str) -> Fraction:
    return Fraction(text)


def named(section: str):  # type: ignore[no-untyped-def]
    return pytest.mark.parametrize("v", VECTORS[section], ids=lambda v: v.get("name", str(v)))


def test_the_vectors_cover_the_boundaries_ties_and_a_lottery():
    names = {v["name"] for v in VECTORS["average_benchmark"]}
    assert {"boundary: three prices are not trimmed", "boundary: four prices are trimmed"} <= names
    decided = {r[-1] for v in VECTORS["summary_and_ranking"] for r in v["expected"]["ranking"]}
    assert {"score", "price", "lottery"} <= decided
    assert VECTORS["protocol"] == F.TIE_PROTOCOL == "etender-tie-1"


@pytest.mark.parametrize("v", VECTORS["round2"], ids=lambda v: v["exact"])
def test_round2(v):
    assert str(F.round2(frac(v["exact"]))) == v["shown"]


@named("low_price_base")
def test_low_price_base(v):
    r = F.low_price_base(ints(v["prices"]), v["price_points"])
    assert r.base_fen == v["expected"]["base_fen"]
    assert {b: str(s.score) for b, s in r.scores.items()} == ints(v["expected"]["scores"])
    assert {b: s.exact for b, s in r.scores.items()} == {
        b: frac(x) for b, x in ints(v["expected"]["exact"]).items()
    }


@named("average_benchmark")
def test_average_benchmark(v):
    r = F.average_benchmark(ints(v["prices"]), v["price_points"], v["e1"], v["e2"])
    e = v["expected"]
    assert r.benchmark_exact == frac(e["benchmark_exact"]) and str(r.benchmark_fen) == e["benchmark_fen"]
    assert list(r.counted_ids) == e["counted_ids"]
    assert (r.trimmed_low, r.trimmed_high) == (e["trimmed_low"], e["trimmed_high"])
    assert {b: str(d.percent) for b, d in r.deviations.items()} == ints(e["deviations_percent"])
    assert {b: d.exact for b, d in r.deviations.items()} == {
        b: frac(x) for b, x in ints(e["deviations_exact"]).items()
    }
    assert {b: str(s.score) for b, s in r.scores.items()} == ints(e["scores"])
    assert {b: s.exact for b, s in r.scores.items()} == {b: frac(x) for b, x in ints(e["exact"]).items()}


@named("evaluated_prices")
def test_evaluated_prices(v):
    rows = F.evaluated_prices(ints(v["prices"]), [tuple(a) for a in v["adjustments"]])
    assert [[r.bid_id, r.evaluated_fen] for r in rows] == v["expected"]


@pytest.mark.parametrize("v", VECTORS["corrections"])
def test_corrections(v):
    r = F.apply_corrections(ints(v["prices"]), [tuple(c) for c in v["corrections"]])
    assert r.prices == ints(v["expected"]["prices"])
    assert [[c.bid_id, c.old_fen, c.new_fen, c.reason] for c in r.changes] == v["expected"]["changes"]


@named("abnormally_low")
def test_abnormally_low(v):
    got = [
        {
            "bid_id": x.bid_id,
            "others_mean_fen": str(x.others_mean_fen),
            "threshold_fen": str(x.threshold_fen),
            "percent": str(x.percent),
        }
        for x in F.abnormally_low(ints(v["prices"]))
    ]
    assert got == v["expected"]


def sheets_of(v):  # type: ignore[no-untyped-def]
    return {m: ints(s) for m, s in v["sheets"].items()}


def factors_of(v):  # type: ignore[no-untyped-def]
    return [Factor(f["name"], f["points"], f["kind"]) for f in v["factors"]]


# ---------------------------------------------------------------- etender-tie-1 from the document alone


def p(x: bytes) -> bytes:
    return len(x).to_bytes(4, "big") + x


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, as written there (recursive split at the largest power of two below n)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def seed_by_hand(server: bytes, session_id: int, digests: dict[str, bytes], bid_ids: list[int]) -> bytes:
    root = mth([str(b).encode("ascii") for b in sorted(bid_ids)])
    parts = p(server) + p(b"") + p(root) + p(f"evaluation-{session_id}-tie".encode())
    for member in sorted(digests):
        parts += p(member.encode("utf-8")) + p(digests[member])
    return hashlib.sha256(parts).digest()


@named("summary_and_ranking")
def test_summary_and_ranking(v):
    e = v["expected"]
    sheets, factors, prices = sheets_of(v), factors_of(v), ints(v["prices"])
    server = hashlib.sha256(v["server_seed_utf8_sha256_of"].encode()).digest()
    assert server.hex() == e["server_seed"] and hashlib.sha256(server).hexdigest() == e["commitment"]
    assert mth([str(b).encode() for b in sorted(prices)]).hex() == e["pool_root"]
    # the digests: the canonical bytes, then SHA-256 of them
    for member, sheet in sheets.items():
        assert F.canonical_sheet(sheet).decode() == e["canonical_sheets"][member]
        assert F.sheet_digest(sheet).hex() == e["digests"][member]
        assert hashlib.sha256(e["canonical_sheets"][member].encode()).hexdigest() == e["digests"][member]
    digests = {m: bytes.fromhex(d) for m, d in e["digests"].items()}
    seed = F.tie_seed(server, v["session_id"], list(digests.items()), list(prices))
    assert seed.hex() == e["seed"] == seed_by_hand(server, v["session_id"], digests, list(prices)).hex()
    assert F.tie_record(server, v["session_id"], list(digests.items()), list(prices)) == e["tie_record"]
    assert F.verify_tie_record(e["tie_record"], hashlib.sha256(server).digest()) == []
    # the summary
    base = F.low_price_base(prices, v["price_points"])
    assert {b: str(s.score) for b, s in base.scores.items()} == ints(e["price_scores"])
    s = F.summary(sheets, factors, base.scores)
    for b, x in ints(e["bids"]).items():
        got = s.bids[b]
        assert {m: str(d) for m, d in got.member_sums.items()} == x["member_sums"]
        assert {f: str(d) for f, d in got.factor_means.items()} == x["factor_means"]
        assert str(got.price_score) == x["price_score"]
        assert got.total_exact == frac(x["total_exact"]) and str(got.total) == x["total"]
    # the ranking, and each lottery recomputed by hand: SHA-256(seed || id as 8 bytes) ascending
    ranking = F.rank_by_score(s.totals(), prices, seed)
    assert [[x.rank, x.bid_id, str(x.total), x.price_fen, x.decided_by] for x in ranking] == e["ranking"]
    drawn = [x.bid_id for x in ranking if x.decided_by == "lottery"]
    assert drawn == sorted(drawn, key=lambda b: hashlib.sha256(seed + b.to_bytes(8, "big")).digest())


@named("rank_by_price")
def test_rank_by_price(v):
    ranking = F.rank_by_price(ints(v["evaluated"]), bytes.fromhex(v["seed"]))
    assert [[x.rank, x.bid_id, x.price_fen, x.decided_by] for x in ranking] == v["expected"]


@named("checks")
def test_checks(v):
    stated = {m: ints(s) for m, s in v["stated"].items()}
    got = [
        {
            "kind": x.kind,
            "member": x.member,
            "bid_id": x.bid_id,
            "factor": x.factor,
            "figures": {k: str(f) for k, f in x.figures.items()},
        }
        for x in F.checks(sheets_of(v), factors_of(v), stated)
    ]
    assert got == v["expected"]


@pytest.mark.parametrize("v", VECTORS["sheet_digest"])
def test_sheet_digest(v):
    sheet = {int(b): row for b, row in v["sheet"].items()}
    assert F.canonical_sheet(sheet).decode() == v["canonical"]
    assert F.sheet_digest(sheet).hex() == v["sha256"] == hashlib.sha256(v["canonical"].encode()).hexdigest()


@pytest.mark.parametrize("v", VECTORS["majority"])
def test_majority(v):
    d = F.majority(v["votes"])
    e = v["expected"]
    assert (d.outcome, list(d.in_favour), list(d.against), list(d.dissenters)) == (
        e["outcome"],
        e["in_favour"],
        e["against"],
        e["dissenters"],
    )


@pytest.mark.parametrize("v", VECTORS["check_entry"])
def test_check_entry(v):
    assert F.check_entry(v["points"], v["value"]) == v["expected"]


@pytest.mark.parametrize("v", VECTORS["failed"])
def test_failed(v):
    assert F.failed(v["valid_count"], v["all_rejected"]) == v["expected"]
