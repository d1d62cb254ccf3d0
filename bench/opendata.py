"""The OCDS export (`etender ocds export`, opendata/export.py) over many stored releases, on SQLite built from
the migrations, against a baseline in the same run.

It stores `--tenders` processes of 7 releases each (tender, amendment, bids, publicity, award, evaluation,
contract: the shapes opendata.mapping builds, with three bids and two committee members), then prints:
- export: the whole export.export() call, i.e. every release written as release packages (releases.jsonl)
  and every process compiled with ocdsmerge (compiled-releases.jsonl), in releases per second, with the two
  phases apart, and the peak memory growth (maximum resident set size) while it ran;
- baseline: the same rows read in the same keyset batches and each serialised with json.dumps (its columns,
  the document as a string) into a JSON Lines file: what writing these rows costs without OCDS packaging or
  compiling;
- feed page, service: `--clients` threads (default 32) each reading pages of 100 releases at random cursors
  through the feed's service (opendata.releases.page and the package around it, as the handler does; no
  HTTP), with the 50th and 99th percentile latency (one Python process: the threads share one interpreter
  lock, and the engine's pool holds 15 connections, so a thread without one waits untimed for a finished
  client's);
- feed page, HTTP: `etender serve` on the same database (`--workers` processes), `--clients` keep-alive
  connections for `--seconds` each on GET /api/v1/ocds/releases (the first page of 100) and on a page deep
  in the feed (its cursor), against GET /healthz on the same server as the baseline (bench/httpload.py).

    .venv/bin/python bench/opendata.py [--tenders 100000] [--seconds 15] [--workers 2]

Aim (issue 14): at least 2,000 releases/s and under 200 MB peak memory growth for 100,000 tenders; a page of
the release feed p99 under 100 ms with 32 clients.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from cli.database import upgrade_database  # noqa: E402
from core.db import make_engine, make_sessionmaker  # noqa: E402
from core.settings import Settings  # noqa: E402
from opendata import export, mapping, releases  # noqa: E402
from opendata.models import OcdsRelease  # noqa: E402

sys.path.append(str(ROOT / "bench"))  # last: bench/marketplace.py must not shadow the package
import httpload  # noqa: E402

SCHEME = "CN-SAIC"
OCID = "ocds-213czf-OCID"


def _org(i: int, name: str) -> mapping.Org:
    return mapping.Org(i, name, f"91330100MA2{i:07d}X", "城关镇", "人民路 1 号", "0571-00000000")


def templates(start: datetime) -> list[tuple[str, dict[str, Any]]]:
    """One process's seven releases, with OCID where the ocid goes."""
    buyer, agency = _org(1, "县教育局"), _org(2, "某某招标代理有限公司")
    bidders = [_org(10 + i, f"投标人{i}有限公司") for i in range(3)]
    base = {"buyer": mapping.org_ref(SCHEME, buyer)}
    parties = [mapping.party(SCHEME, buyer, ["buyer"]), mapping.party(SCHEME, agency, ["procuringEntity"])]
    lots = [mapping.LotFacts(1, "课桌椅", "新校区课桌椅", 100_000_000, 105_000_000, 2_000_000)]
    docs = [mapping.DocFacts(7, "招标文件.pdf", "application/pdf", start)]
    t = lambda days: start + timedelta(days=days)  # noqa: E731
    tender = mapping.tender_section(
        reference="ZB-OCID",
        title="县第一中学课桌椅采购",
        description="新校区教学楼课桌椅",
        category="goods",
        method="comprehensive",
        procuring_entity=mapping.org_ref(SCHEME, agency),
        published_at=start,
        bid_deadline=t(25),
        question_deadline=t(15),
        lots=lots,
        docs=mapping.documents("http://127.0.0.1:8000", docs, "tenderNotice", start),
    )
    bids = [
        mapping.BidFacts(100 + i, 1, b, "opened", t(20), 98_000_000 + i * 1_000_005, 60, "ab" * 32)
        for i, b in enumerate(bidders)
    ]
    ranking = {
        "method": "comprehensive",
        "ranking": [
            {"rank": i + 1, "bid": 200 + i, "total": f"{90.5 - i:.2f}", "evaluated_price_fen": 98_000_000 + i}
            for i in range(3)
        ],
        "candidates": [200, 201, 202],
    }
    report = {
        "bidders": [{"opened_bid": 200 + i, "bid": 100 + i, "lot": 1} for i in range(3)],
        "ranking": ranking,
        "committee": {"members": [{"seat": 1, "name": "张三", "chair": True}, {"seat": 2, "name": "李四"}]},
        "sections": {
            "scoring": {
                "summary": {str(200 + i): {"member_sums": {"1": "90.00", "2": "91.00"}} for i in range(3)}
            }
        },
    }
    award = {
        "id": "bid-100",
        "status": "active",
        "date": mapping.iso(t(40)),
        "value": mapping.money(98_000_000),
        "suppliers": [mapping.org_ref(SCHEME, bidders[0])],
        "relatedLots": ["1"],
    }
    audit = mapping.audit_ref("http://127.0.0.1:8000", 12345, "tender.published", start)
    sections: list[tuple[str, list[str], datetime, dict[str, Any]]] = [
        ("tender", ["tender"], start, {"parties": parties, "tender": tender, "auditEntry": audit}),
        (
            "amendment-1",
            ["tenderAmendment"],
            t(5),
            {
                "tender": {
                    "id": "ZB-OCID",
                    "amendments": [{"id": "1", "date": mapping.iso(t(5)), "rationale": "澄清"}],
                }
            },
        ),
        (
            "bids",
            ["tenderUpdate"],
            t(26),
            {
                "parties": parties + [mapping.party(SCHEME, b, ["tenderer"]) for b in bidders],
                "bids": mapping.bids_section(SCHEME, {1: 3}, bids, t(26)),
            },
        ),
        (
            "publicity",
            ["award"],
            t(30),
            {"awards": [{**award, "status": "pending"}], "tender": {"id": "ZB-OCID"}},
        ),
        ("award-1", ["award"], t(40), {"awards": [award], "tender": {"id": "ZB-OCID", "status": "complete"}}),
        (
            "evaluation",
            ["tenderUpdate"],
            t(40),
            {"tender": {"id": "ZB-OCID", "evaluation": mapping.report_evaluation(report, "cd" * 32, t(29))}},
        ),
        (
            "contract-1",
            ["contract"],
            t(50),
            {
                "contracts": [
                    {"id": "1", "awardID": "bid-100", "status": "active", "value": mapping.money(98_000_000)}
                ]
            },
        ),
    ]
    out = []
    for rid, tags, when, parts in sections:
        doc = mapping.release(OCID, f"{OCID}-{rid}", when, tags, **base, **parts)
        out.append((",".join(tags), doc))
    return out


def populate(url: str, tenders: int) -> None:
    engine = make_engine(url)
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    encoded = [(tag, releases.encode(doc).decode(), doc["id"], doc["date"]) for tag, doc in templates(start)]
    with engine.begin() as conn:
        rows = []
        for i in range(1, tenders + 1):
            ocid = f"ocds-213czf-{i}"
            for tag, text, rid, when in encoded:
                rows.append(
                    {
                        "release_id": rid.replace(OCID, ocid),
                        "ocid": ocid,
                        "tender_id": i,
                        "tag": tag,
                        "date": datetime.fromisoformat(when.replace("Z", "+00:00")),
                        "document": text.replace(OCID, ocid).replace("ZB-OCID", f"ZB-{i}"),
                        "published_at": start,
                    }
                )
            if len(rows) >= 10_000:
                conn.execute(insert(OcdsRelease), rows)
                rows.clear()
        if rows:
            conn.execute(insert(OcdsRelease), rows)
    engine.dispose()


def peak_mb() -> float:
    """This process's maximum resident set size so far (the store runs in a child: it is not counted)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenders", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--pages", type=int, default=20, help="pages each client reads")
    parser.add_argument("--seconds", type=float, default=15, help="seconds of HTTP load per URL")
    parser.add_argument("--workers", type=int, default=2, help="web processes for the HTTP feed")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--populate", default="", help=argparse.SUPPRESS)  # the child that stores the rows
    args = parser.parse_args()
    if args.populate:
        upgrade_database(args.populate)
        populate(args.populate, args.tenders)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--tenders", str(args.tenders), "--populate", url], check=True
        )
        print(
            f"stored {args.tenders * 7:,} releases of {args.tenders:,} processes "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        settings = Settings(data_dir=Path(tmp), database_url=url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)

        marks: dict[str, float] = {}
        before = peak_mb()
        with factory() as session:
            cpu0, t0 = time.process_time(), time.perf_counter()
            result = export.export(
                session,
                settings,
                Path(tmp) / "export",
                on_process=lambda n: marks.setdefault("compiled", time.perf_counter()),
            )
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        growth = peak_mb() - before
        packages_s = marks.get("compiled", t0 + wall) - t0
        print(
            f"export:   {result.releases:,} releases in {wall:.2f} s ({cpu:.2f} s CPU): "
            f"{result.releases / wall:,.0f} releases/s; packages {packages_s:.2f} s "
            f"({result.releases / max(packages_s, 1e-9):,.0f} releases/s), {result.compiled:,} compiled "
            f"releases {wall - packages_s:.2f} s; peak memory growth {growth:.0f} MB"
        )

        with factory() as session, (Path(tmp) / "baseline.jsonl").open("w", encoding="utf-8") as f:
            cpu0, t0 = time.process_time(), time.perf_counter()
            n = 0
            for row in releases.stream(session):
                f.write(
                    json.dumps(
                        {
                            "seq": row.seq,
                            "release_id": row.release_id,
                            "ocid": row.ocid,
                            "tag": row.tag,
                            "date": row.date.isoformat(),
                            "document": row.document,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                n += 1
            base_wall, base_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        print(
            f"baseline: {n:,} rows with json.dumps in {base_wall:.2f} s ({base_cpu:.2f} s CPU): "
            f"{n / base_wall:,.0f} rows/s; export / baseline = {wall / base_wall:.1f}x"
        )
        feed_pages(factory, settings, args.tenders * 7, args.clients, args.pages)
        engine.dispose()
        if not args.skip_http:
            feed_http(url, Path(tmp), args)


def feed_http(url: str, data: Path, args: argparse.Namespace) -> None:
    deep = releases.encode_cursor(args.tenders * 7 // 2)
    paths = (
        ("baseline /healthz", "/healthz"),
        ("feed, first page", "/api/v1/ocds/releases?limit=100"),
        ("feed, a middle page", f"/api/v1/ocds/releases?cursor={deep}&limit=100"),
    )
    with httpload.serving(url, data, args.workers) as (base, port):
        import urllib.request

        for _, path in paths:
            urllib.request.urlopen(base + path).read()  # noqa: S310 - loopback; warm up
        found = {}
        for label, path in paths:
            found[label] = r = httpload.load(port, path, args.seconds, args.clients)
            print(httpload.line(label, r))
        base_rps = found["baseline /healthz"]["rps"]
        for label, _ in paths[1:]:
            r = found[label]
            verdict = "meets" if r["p99"] < 100 and not r["errors"] else "MISSES"
            print(
                f"[http] {label}: {r['rps'] / base_rps:.2f} x baseline req/s; "
                f"aim p99 < 100 ms with {args.clients} clients: {verdict}"
            )


def feed_pages(factory: Any, settings: Settings, total: int, clients: int, pages: int) -> None:
    import random
    import threading

    times: list[float] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        with factory() as session:
            session.connection()  # the pool's wait is not the page's: a connection first, untimed
            for _ in range(pages):
                cursor = releases.encode_cursor(rng.randrange(0, max(1, total - 100)))
                t0 = time.perf_counter()
                found = releases.page(session, cursor, 100)
                releases.package_bytes(settings, "u", [r.document.encode() for r in found.releases])
                mine.append(time.perf_counter() - t0)
                session.expunge_all()
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    times.sort()
    p50, p99 = times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"feed page: {len(times):,} pages of 100 by {clients} clients in {wall:.2f} s: "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
