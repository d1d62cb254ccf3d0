"""The opening page once its record is published: the page shows the printed record's SHA-256, so it needs the
PDF. Before issue 16 the PDF was rebuilt on every view; now each version of the record is rendered once and
kept (tender/opening/record.py, PDF_CACHE_SIZE).

Loads the demo county into a fresh SQLite data directory, finds a tender whose opening record is published,
and times GET /tenders/{id}/opening through the app in this process (Litestar's test client): "rebuilt" clears
the PDF cache before every request (the old behaviour), "kept" does not. GET /healthz in the same run is the
baseline; the ratio says what the page costs against it.

    .venv/bin/python bench/opening_page.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(client, url: str, n: int, before=None) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        if before is not None:
            before()
        t0 = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="etender-bench-opening-"))
    os.environ.update(
        ETENDER_DATA=str(data), ETENDER_SCHEDULER_INTERVAL="0", ETENDER_PUBLIC_CACHE_SECONDS="0"
    )
    from litestar.testing import TestClient
    from sqlalchemy import select

    from cli.database import upgrade_database
    from cli.main import _load_demo
    from core.db import make_engine, make_sessionmaker
    from core.settings import load_settings
    from tender.models import Opening
    from tender.opening import record
    from tender.opening.base import is_published
    from web.app import create_app

    settings = load_settings()
    upgrade_database(settings.database_url)
    _load_demo(settings)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        tender_id = next(op.tender_id for op in session.scalars(select(Opening)) if is_published(op))
    engine.dispose()
    url = f"/tenders/{tender_id}/opening"
    with TestClient(create_app(settings)) as client:
        timed(client, url, 5)  # warm: templates compiled, first PDF rendered
        timed(client, "/healthz", 5)
        base = timed(client, "/healthz", args.requests)
        rebuilt = timed(client, url, max(20, args.requests // 10), before=record._pdf_cache.clear)
        kept = timed(client, url, args.requests)
    print(f"opening page of tender {tender_id} with its record published; {args.requests} requests")
    for name, values in (
        ("baseline /healthz", base),
        ("rebuilt every view", rebuilt),
        ("rendered once, kept", kept),
    ):
        print(
            f"{name:22s} p50 {statistics.median(values):7.1f} ms  p99 {percentile(values, 99):7.1f} ms  "
            f"(p99 {percentile(values, 99) / percentile(base, 99):5.1f}x baseline)"
        )


if __name__ == "__main__":
    main()
