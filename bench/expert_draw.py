"""Benchmark of the committee draw (issue 5): a pool of 100,000 experts in 50 specialties with 1,000
exclusions.

Measures, in memory (no database), the work the draw service does after loading the pool:
  draw    scope (experts holding a quota's specialty or a child of it), avoidance, pool root, seed, ranking,
          members and substitutes: a committee of 9 with 3 substitutes;
  verify  evaluation.draw.verify on the published record (JSON-decoded, as a verifier would read it).
Two scopes: a typical request (quotas on 3 of the 50 specialties) and the worst case (one quota on a parent
specialty that covers all 50, so every one of the 100,000 experts is ranked).
Baseline: sorting 100,000 precomputed 32-byte hashes, the floor of any hash-ranking draw; every time is also
printed as a multiple of it, measured in the same run, so that runs on machines of different speed compare.
"of which draw()" is the draw proper (pool root, seed, ranking, the walk), without the scope and avoidance.

    .venv/bin/python bench/expert_draw.py [--runs 5] [--cpu]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.committee import avoidance  # noqa: E402
from evaluation.committee import draw as pure  # noqa: E402

POOL = 100_000
SPECIALTIES = [f"G{n:02d}" for n in range(1, 51)]  # children of the parent "G"
EXCLUSIONS = 1_000
DAY = date(2026, 6, 15)
CLOCK = time.perf_counter  # --cpu: time.process_time, this process's CPU time (a shared, loaded machine)


def build_pool(rng: random.Random):  # type: ignore[no-untyped-def]
    experts = []
    for expert_id in range(1, POOL + 1):
        held = (rng.choice(SPECIALTIES),) if rng.random() < 0.7 else tuple(rng.sample(SPECIALTIES, 2))
        experts.append((expert_id, held))
    by_specialty: dict[str, list[int]] = {}
    for expert_id, held in experts:
        for code in held:
            by_specialty.setdefault(code, []).append(expert_id)
    bidders = frozenset(f"91BIDDER{n:010d}" for n in range(5))
    facts: dict[int, avoidance.ExpertFacts] = {}
    kinds = ["employment", "interest", "unavailable", "status", "penalty"]
    for i, expert_id in enumerate(rng.sample(range(1, POOL + 1), EXCLUSIONS)):
        kind = kinds[i % len(kinds)]
        code = sorted(bidders)[i % len(bidders)]
        facts[expert_id] = {
            "employment": avoidance.ExpertFacts(
                expert_id, employments=(avoidance.Period(code, date(2015, 1, 1), date(2024, 1, 1)),)
            ),
            "interest": avoidance.ExpertFacts(expert_id, interests=(avoidance.Period(code),)),
            "unavailable": avoidance.ExpertFacts(expert_id, unavailable=((DAY, DAY),)),
            "status": avoidance.ExpertFacts(expert_id, status="suspended"),
            "penalty": avoidance.ExpertFacts(expert_id, ever_penalised=True),
        }[kind]
    tender = avoidance.TenderFacts(
        evaluation_date=DAY, bidder_codes=bidders, purchaser_code="91PURCHASER", agency_code="91AGENCY"
    )
    return (by_specialty, dict(experts)), facts, tender


def run_draw(experts, facts, tender, quotas: list[tuple[str, int]]) -> tuple[dict, float, float]:  # type: ignore[no-untyped-def]
    by_specialty, held_by = experts
    started = CLOCK()
    wanted = {code for code, _ in quotas}
    parent = "G" in wanted
    # the service selects the scope through the index on (specialty_code, expert_id); so does this
    scope = sorted({e for code in (SPECIALTIES if parent else wanted) for e in by_specialty.get(code, ())})
    candidates, excluded = [], []
    for expert_id in scope:
        served = ({"G"} if parent else set()) | (
            wanted & set(held_by[expert_id])
        )  # a parent quota is served by its children
        found = avoidance.exclusions(facts.get(expert_id) or avoidance.ExpertFacts(expert_id), tender)
        if found:
            excluded.extend(found)
        else:
            candidates.append(pure.Candidate(expert_id, tuple(sorted(served))))
    request = pure.DrawRequest("T-2026-0001/draw-bench", 9, [pure.Quota(c, n) for c, n in quotas], 3)
    seed = os.urandom(32)
    # etender-draw-2: the agency's and the monitors' numbers, as their browsers would reveal them
    values = {"agency:91AGENCY": os.urandom(32), "monitor:91SUPERVISOR": os.urandom(32)}
    contributions = [pure.Contribution(party, value) for party, value in values.items()]
    drawing = CLOCK()
    result = pure.draw(request, candidates, seed, None, contributions=contributions)
    ended = CLOCK()
    logged = [
        {
            "party": party,
            "commitment": pure.sha256(value).hex(),
            "value": value.hex(),
            "committed_audit_index": 1 + i,
            "revealed_audit_index": 3 + i,
        }
        for i, (party, value) in enumerate(values.items())
    ]
    record = pure.to_record(request, candidates, seed, None, result, excluded, logged)
    return record, ended - started, ended - drawing


def timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        gc.collect()
        started = CLOCK()
        fn()
        times.append(CLOCK() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time with this process's CPU time instead of the wall clock: on a machine shared with other "
        "work the wall clock also counts the time spent waiting for a core",
    )
    args = parser.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    rng = random.Random(20261125)
    experts, facts, tender = build_pool(rng)

    hashes = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(POOL)]
    baseline = timed(lambda: sorted(hashes), args.runs)
    print(
        f"pool: {POOL:,} experts in {len(SPECIALTIES)} specialties, {EXCLUSIONS:,} with an avoidance reason; "
        f"median of {args.runs} runs, {'CPU time' if args.cpu else 'wall clock'}"
    )
    print(f"baseline: sorting {POOL:,} precomputed SHA-256 hashes: {baseline * 1000:.1f} ms")
    scenarios = {
        "typical (quotas on 3 specialties)": [("G01", 4), ("G02", 3), ("G03", 2)],
        "worst case (one quota on the parent of all 50)": [("G", 9)],
    }
    for label, quotas in scenarios.items():
        totals, cores = [], []
        for _ in range(args.runs):
            # each run starts from a collected heap, and keeps no earlier run's record (a 5 MB tree of
            # 100,000 dicts): otherwise the cyclic GC's full passes over those records are what gets timed
            record = {}
            gc.collect()
            record, total, core = run_draw(experts, facts, tender, quotas)
            totals.append(total)
            cores.append(core)
        record = json.loads(json.dumps(record))
        draw_time = statistics.median(totals)
        core_time = statistics.median(cores)
        problems: list[str] = []
        verify_time = timed(
            lambda problems=problems, record=record: problems.extend(pure.verify(record)), args.runs
        )
        assert not problems, problems
        print(
            f"{label}: {len(record['candidates']):,} ranked, {len(record['exclusions'])} exclusions in "
            f"scope, record {len(json.dumps(record)) / 1024:.0f} KiB"
        )
        print(
            f"  draw 9 + 3 substitutes: {draw_time * 1000:7.1f} ms  ({draw_time / baseline:.1f}x the "
            "baseline)"
        )
        print(
            f"    of which draw():      {core_time * 1000:7.1f} ms  ({core_time / baseline:.1f}x the "
            "baseline; pool root, seed, ranking, members: the rest is scope and avoidance)"
        )
        print(
            f"  verify the record:      {verify_time * 1000:7.1f} ms  ({verify_time / baseline:.1f}x the "
            "baseline)"
        )


if __name__ == "__main__":
    main()
