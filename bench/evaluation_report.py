"""The evaluation report's PDF for a large evaluation (issue 13, step 7): 300 bids, 9 members each scoring
40 factors per bid (9 x 300 x 40 = 108,000 scores in the members' sheets), the document built synthetically in
the shape evaluation.report.content writes, its PDF made by evaluation.report.pdf.

The baseline, measured in the same run on the same document, is building its canonical JSON and SHA-256 (the
signed bytes: rules.canonical), so the figure is a ratio as well as seconds. The aim is the PDF under 5 s.

    .venv/bin/python bench/evaluation_report.py [--bids 300] [--members 9] [--factors 40] [--repeat 3]
        [--out report.pdf]

It prints the best of --repeat runs in wall-clock seconds and in this process's CPU seconds; the aim is judged
on CPU time, which a shared machine's other work does not inflate (the wall figure is printed beside it).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.report import rules  # noqa: E402
from evaluation.report.pdf import report_pdf  # noqa: E402


def document(bids: int, members: int, factors: int, seed: int = 7) -> dict[str, Any]:
    rnd = random.Random(seed)
    ids = list(range(1001, 1001 + bids))
    seats = list(range(1, members + 1))
    valid, rejected = ids[: bids - bids // 20], ids[bids - bids // 20 :]
    totals = {b: round(rnd.uniform(60, 95), 2) for b in valid}
    order = sorted(valid, key=lambda b: -totals[b])
    factor_names = [f"技术因素{i + 1}" for i in range(factors)]
    return {
        "format": rules.DOCUMENT_FORMAT,
        "version": rules.VERSION,
        "generated_at": "2026-12-04T10:00:00Z",
        "tender": {
            "id": 1,
            "reference": "ZB-2026-BENCH",
            "title": "某县综合管廊建设工程施工",
            "category": "works",
            "method": "comprehensive",
            "criteria": {"factors": [{"name": n, "points": 1.5} for n in factor_names], "price_points": 40},
            "lots": [
                {
                    "number": 1,
                    "name": "一标段",
                    "estimated_price_fen": 10**10,
                    "price_ceiling_fen": 11 * 10**9,
                }
            ],
        },
        "committee": {
            "session": 1,
            "room": "评标室一",
            "starts_at": "2026-12-04T01:00:00Z",
            "ends_at": "2026-12-04T09:00:00Z",
            "chair_seat": 1,
            "members": [
                {
                    "seat": s,
                    "position": s,
                    "name": f"专家{s:02d}",
                    "specialty": "A01",
                    "chair": s == 1,
                    "checked_in_at": "2026-12-04T00:50:00Z",
                    "declaration_sha256": "ab" * 32,
                }
                for s in seats
            ],
            "left": [],
        },
        "bidders": [
            {
                "opened_bid": b,
                "bid": b + 5000,
                "bidder": f"投标单位{b}有限公司",
                "lot": 1,
                "outcome": "opened",
            }
            for b in ids
        ],
        "opening": None,
        "clarifications": {"tender": [], "review": []},
        "steps": {},
        "review": {
            "valid": valid,
            "rejected": [{"bid": b, "criteria": ["投标保证金未提交"], "dissent": []} for b in rejected],
            "dissent": [],
            "clarifications": [],
        },
        "scoring": {"sheets": members, "checks": []},
        "ranking": {
            "method": "comprehensive",
            "ranking": [
                {
                    "rank": i + 1,
                    "bid": b,
                    "total": totals[b],
                    "price_fen": 10**10 - b,
                    "evaluated_price_fen": 10**10 - b,
                    "tie_break": None,
                }
                for i, b in enumerate(order)
            ],
            "candidates": order[:3],
            "failed": None,
            "tie": None,
        },
        "candidates": order[:3],
        "failed": None,
        "dissents": [],
        "sections": {
            "scoring": {
                "factors": factor_names,
                "sheets": [
                    {
                        "seat": s,
                        "rows": [
                            {"bid": b, "scores": [round(rnd.uniform(0, 1.5), 1) for _ in range(factors)]}
                            for b in valid
                        ],
                    }
                    for s in seats
                ],
                "summary": [{"bid": b, "total": totals[b]} for b in order],
            }
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bids", type=int, default=300)
    parser.add_argument("--members", type=int, default=9)
    parser.add_argument("--factors", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    doc = document(args.bids, args.members, args.factors)
    signatures = [
        {
            "seat": m["seat"],
            "kind": "signed",
            "signed_at": "2026-12-04T10:30:00Z",
            "dissent": "",
            "public_key": "cd" * 32,
        }
        for m in doc["committee"]["members"]
    ]
    at = datetime(2026, 12, 4, 10, tzinfo=UTC)
    report_pdf(doc, "0" * 64, signatures[:1], at)  # warm: the font loaded and fpdf imported once
    best: dict[str, tuple[float, float]] = {}
    pdf = b""
    for _ in range(args.repeat):
        # best of --repeat, wall clock and this process's CPU time (the machine is shared: CPU time is the
        # steadier figure)
        w0, c0 = time.perf_counter(), time.process_time()
        sha = rules.report_sha256(doc)
        w1, c1 = time.perf_counter(), time.process_time()
        made = report_pdf(doc, sha, signatures, at)
        w2, c2 = time.perf_counter(), time.process_time()
        if made is None:
            sys.exit("the Noto CJK font is not installed (apt-get install fonts-noto-cjk): no PDF")
        if pdf and made != pdf:
            sys.exit("the PDF is not deterministic: two runs gave different bytes")
        pdf = made
        for key, wall, cpu in (("baseline", w1 - w0, c1 - c0), ("pdf", w2 - w1, c2 - c1)):
            old = best.get(key, (float("inf"), float("inf")))
            best[key] = (min(old[0], wall), min(old[1], cpu))
    scores = args.members * len(doc["review"]["valid"]) * args.factors
    (bw, bc), (pw, pc) = best["baseline"], best["pdf"]
    print(
        f"report PDF: {args.bids} bids, {args.members} members x {args.factors} factors ({scores:,} scores), "
        f"{len(pdf):,} bytes, deterministic over {args.repeat} runs; best wall {pw:.2f} s (CPU {pc:.2f} s); "
        f"baseline canonical JSON + SHA-256 of the same document ({len(rules.canonical(doc)):,} bytes): "
        f"wall {bw * 1000:.1f} ms (CPU {bc * 1000:.1f} ms); ratio {pc / bc:.0f}x (CPU); "
        f"aim under 5 s (CPU): {'met' if pc < 5 else 'NOT met'}"
    )
    if args.out:
        args.out.write_bytes(pdf)


if __name__ == "__main__":
    main()
