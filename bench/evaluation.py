"""Benchmark of the evaluation (issue 13).

Part "compute" (the default): 300 bids × 9 members × 40 factors, random but seeded, in memory (no database):
the price scores (the low-price base and the average benchmark, after the arithmetic corrections, with the
abnormally low price flag), the summary, the four checks before signing and the ranking (with its tie seed
and the lottery of any tie): the work the platform does between the last sheet's submission and the report.
One sheet's digest (computed at each submission, over 300 × 40 scores) is timed apart.
Baseline, measured in the same run: a naive pass that merely reads every score of every sheet and adds them up
as floats (the floor of anything that looks at every score); every time is also printed as a multiple of it,
so that runs on machines of different speed compare. Median of --runs runs.

    .venv/bin/python bench/evaluation.py [--part compute] [--runs 7] [--cpu]

Other parts (the report PDF for 300 bids, nine members saving sheets through the HTTP app) are to be added
as further functions named part_<name>, each taking the parsed arguments and returning its printed lines;
`world()` builds the inputs they share.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.scoring import formulas as F  # noqa: E402
from tender.notices import Factor  # noqa: E402

BIDS, MEMBERS, FACTORS = 300, 9, 40
PRICE_POINTS = 30
AIM_MS = 200
CLOCK = time.perf_counter  # --cpu: time.process_time, this process's CPU time (a shared, loaded machine)


def world(seed: int = 13) -> dict[str, Any]:
    """The inputs: 40 factors (a quarter objective) worth 70 points with price's 30, 300 valid bids with
    prices, 9 members' complete sheets (scores with up to 2 decimals, as the entry form stores them), a few
    corrections, each member's stated totals and the sheets' digests' inputs."""
    rng = random.Random(seed)
    points = [1.5 + (i % 4) * 0.25 for i in range(FACTORS)]  # 1.5, 1.75, 2, 2.25: 70 in all
    factors = [
        Factor(f"因素{i + 1:02d}", p, "objective" if i % 4 == 0 else "subjective")
        for i, p in enumerate(points)
    ]
    bid_ids = rng.sample(range(1, 10_000), BIDS)
    prices = {b: rng.randrange(8_000_000, 12_000_000) for b in bid_ids}
    prices[bid_ids[0]] = 5_000_000  # an abnormally low price
    prices[bid_ids[2]] = prices[bid_ids[1]]  # equal prices
    corrections = [F.Correction(b, prices[b] + 100, "words_over_figures") for b in bid_ids[10:15]]
    quality = {b: rng.random() for b in bid_ids}
    sheets: dict[str, dict[int, dict[str, float]]] = {}
    for m in range(MEMBERS):
        sheet: dict[int, dict[str, float]] = {}
        for b in bid_ids:
            row = {}
            for f in factors:
                if f.kind == "objective":
                    v = round(f.points * quality[b] * 4) / 4  # every member the same
                else:
                    v = min(f.points, max(0.0, round(f.points * (quality[b] + rng.gauss(0, 0.08)), 2)))
                row[f.name] = v
            sheet[b] = row
        sheets[f"member-{m + 1}"] = sheet
    # two bids with equal sheets: a tie on score (and on price: a lottery)
    for sheet in sheets.values():
        sheet[bid_ids[2]] = dict(sheet[bid_ids[1]])
    stated = {m: {b: round(sum(row.values()), 2) for b, row in sheet.items()} for m, sheet in sheets.items()}
    return {
        "factors": factors,
        "prices": prices,
        "corrections": corrections,
        "sheets": sheets,
        "stated": stated,
        "server_seed": hashlib.sha256(b"bench server seed").digest(),
    }


def compute(w: dict[str, Any]) -> dict[str, Any]:
    """Everything the platform computes once every sheet is in (the same calls the service makes)."""
    corrected = F.apply_corrections(w["prices"], w["corrections"])
    low = F.abnormally_low(corrected.prices)
    base = F.low_price_base(corrected.prices, PRICE_POINTS)
    bench = F.average_benchmark(corrected.prices, PRICE_POINTS, 1, 0.5)
    t = F.table(w["sheets"], w["factors"], corrected.prices)
    flags = F.checks(t, w["factors"], w["stated"])
    s = F.summary(t, w["factors"], base.scores)
    seed = F.tie_seed(w["server_seed"], 1, w["digests"], corrected.prices)
    ranking = F.rank_by_score(s.totals(), corrected.prices, seed)
    return {"low": low, "benchmark": bench, "flags": flags, "summary": s, "ranking": ranking}


def baseline(w: dict[str, Any]) -> float:
    """Read every score once and add them up as floats."""
    total = 0.0
    for sheet in w["sheets"].values():
        for row in sheet.values():
            for v in row.values():
                total += v
    return total


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        gc.collect()
        started = CLOCK()
        result = fn()
        times.append(CLOCK() - started)
    return statistics.median(times), result


def part_compute(args: argparse.Namespace) -> list[str]:
    w = world()
    base_s, _ = timed(lambda: baseline(w), args.runs)
    # a sheet's digest is computed once, at its submission, and logged; the tie seed reads the logged digests
    digest_s, _ = timed(lambda: F.sheet_digest(w["sheets"]["member-1"]), args.runs)
    w["digests"] = [(m, F.sheet_digest(sheet)) for m, sheet in w["sheets"].items()]
    total_s, r = timed(lambda: compute(w), args.runs)
    kinds: dict[str, int] = {}
    for flag in r["flags"]:
        kinds[flag.kind] = kinds.get(flag.kind, 0) + 1
    decided: dict[str, int] = {}
    for x in r["ranking"]:
        decided[x.decided_by] = decided.get(x.decided_by, 0) + 1
    ms = total_s * 1000
    scores = BIDS * MEMBERS * FACTORS
    clock = "CPU" if args.cpu else "wall"
    return [
        f"compute: {BIDS} bids × {MEMBERS} members × {FACTORS} factors = {scores:,} scores, "
        f"median of {args.runs} runs ({clock} time)",
        f"  baseline (read and add every score as floats): {base_s * 1000:8.2f} ms",
        f"  price scores, summary, four checks, ranking:   {ms:8.2f} ms = {total_s / base_s:6.1f} × baseline"
        f"  (aim < {AIM_MS} ms: {'met' if ms < AIM_MS else 'NOT met'})",
        f"  one sheet's digest (at its submission):        {digest_s * 1000:8.2f} ms = "
        f"{digest_s / base_s:6.1f} × baseline",
        f"  flags: {dict(sorted(kinds.items()))}; abnormally low prices: {len(r['low'])}; "
        f"ranking decided by: {dict(sorted(decided.items()))}",
    ]


PARTS = {"compute": part_compute}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--part", choices=sorted(PARTS), default="compute")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cpu", action="store_true", help="time this process's CPU time, not wall time")
    args = parser.parse_args(argv)
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    print("\n".join(PARTS[args.part](args)))


if __name__ == "__main__":
    main()
