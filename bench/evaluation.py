"""Benchmark of the evaluation (issue 13).

Part "compute" (the default): 300 bids × 9 members × 40 factors, random but seeded, in memory (no database):
the price scores (the low-price base and the average benchmark, after the arithmetic corrections, with the
abnormally low price flag), the summary, the four checks before signing and the ranking (with its tie seed
and the lottery of any tie): the work the platform does between the last sheet's submission and the report.
One sheet's digest (computed at each submission, over 300 × 40 scores) is timed apart.
Baseline, measured in the same run: a naive pass that merely reads every score of every sheet and adds them up
as floats (the floor of anything that looks at every score); every time is also printed as a multiple of it,
so that runs on machines of different speed compare. Median of --runs runs.

    .venv/bin/python bench/evaluation.py [--part compute] [--runs 7] [--cpu] [--save FIGURES.json]

Other parts (the report PDF for 300 bids, nine members saving sheets through the HTTP app) are added as
further functions part_<name>(args) -> Result (the printed lines and the figures, in ms) registered in PARTS;
`world()` builds the inputs they share. --save merges each part's figures into a JSON file, by part.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.scoring import formulas as F  # noqa: E402
from tender.notices import Factor  # noqa: E402

BIDS, MEMBERS, FACTORS = 300, 9, 40
PRICE_POINTS = 30
AIM_MS = 200
CLOCK = time.perf_counter  # --cpu: time.process_time, this process's CPU time (a shared, loaded machine)


def world(seed: int = 13, decimal_scores: bool = False) -> dict[str, Any]:
    """The inputs: 40 factors (a quarter objective) worth 70 points with price's 30, 300 valid bids with
    prices, 9 members' complete sheets (scores with up to 2 decimals, as the entry form stores them), a few
    corrections, each member's stated totals. decimal_scores: the scores as Decimals (as a Numeric column
    reads them) rather than floats (as JSON reads them)."""
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
    if decimal_scores:
        sheets = {
            m: {b: {f: Decimal(repr(v)) for f, v in row.items()} for b, row in sheet.items()}  # type: ignore[misc]
            for m, sheet in sheets.items()
        }
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
    """Read every score once and add them up (as they are: floats or Decimals)."""
    total: Any = 0
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


@dataclass
class Result:
    lines: list[str]
    figures: dict[str, float]  # name -> value (times in ms, ratios as multiples of the part's baseline)


def part_compute(args: argparse.Namespace) -> Result:
    lines: list[str] = []
    figures: dict[str, float] = {"aim_ms": AIM_MS}
    clock = "CPU" if args.cpu else "wall"
    scores = BIDS * MEMBERS * FACTORS
    lines.append(
        f"compute: {BIDS} bids × {MEMBERS} members × {FACTORS} factors = {scores:,} scores, "
        f"median of {args.runs} runs ({clock} time)"
    )
    for kind, decimal_scores in (("float", False), ("decimal", True)):
        w = world(decimal_scores=decimal_scores)
        base_s, _ = timed(lambda w=w: baseline(w), args.runs)  # type: ignore[misc]
        # a sheet's digest is computed once, at its submission, and logged; the tie seed reads the logged
        # digests
        digest_s, _ = timed(lambda w=w: F.sheet_digest(w["sheets"]["member-1"]), args.runs)  # type: ignore[misc]
        w["digests"] = [(m, F.sheet_digest(sheet)) for m, sheet in w["sheets"].items()]
        total_s, r = timed(lambda w=w: compute(w), args.runs)  # type: ignore[misc]
        kinds: dict[str, int] = {}
        for flag in r["flags"]:
            kinds[flag.kind] = kinds.get(flag.kind, 0) + 1
        decided: dict[str, int] = {}
        for x in r["ranking"]:
            decided[x.decided_by] = decided.get(x.decided_by, 0) + 1
        ms = total_s * 1000
        figures |= {
            f"{kind}_baseline_ms": round(base_s * 1000, 3),
            f"{kind}_compute_ms": round(ms, 3),
            f"{kind}_compute_ratio": round(total_s / base_s, 2),
            f"{kind}_digest_ms": round(digest_s * 1000, 3),
        }
        lines += [
            f"  scores as {kind}s:",
            f"    baseline (read and add every score):           {base_s * 1000:8.2f} ms",
            f"    price scores, summary, four checks, ranking:   {ms:8.2f} ms = "
            f"{total_s / base_s:6.1f} × baseline  (aim < {AIM_MS} ms: {'met' if ms < AIM_MS else 'NOT met'})",
            f"    one sheet's digest (at its submission):        {digest_s * 1000:8.2f} ms = "
            f"{digest_s / base_s:6.1f} × baseline",
            f"    flags: {dict(sorted(kinds.items()))}; abnormally low prices: {len(r['low'])}; "
            f"ranking decided by: {dict(sorted(decided.items()))}",
        ]
    return Result(lines, figures)


PARTS: dict[str, Callable[[argparse.Namespace], Result]] = {"compute": part_compute}


def save(path: Path, part: str, figures: dict[str, float], clock: str) -> None:
    """Merge one part's figures into the JSON file at `path` ({part: {figure: value, "clock": ...}})."""
    saved = json.loads(path.read_text("utf-8")) if path.exists() else {}
    saved[part] = {**figures, "clock": clock}
    path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--part", choices=sorted(PARTS), default="compute")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cpu", action="store_true", help="time this process's CPU time, not wall time")
    parser.add_argument("--save", type=Path, help="merge the figures into this JSON file")
    args = parser.parse_args(argv)
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    result = PARTS[args.part](args)
    print("\n".join(result.lines))
    if args.save:
        save(args.save, args.part, result.figures, "cpu" if args.cpu else "wall")
        print(f"figures saved to {args.save}")


if __name__ == "__main__":
    main()
