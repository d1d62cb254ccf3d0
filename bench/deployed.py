"""The deployed shape's figures (issue 17), against the embedded shape in the same run.

(a) A deadline burst of --bids small sealed bids from --clients bidder companies (threads, one logged-in HTTP
    session each, one request per bid): through the deployed shape (PostgreSQL, moto's S3 server, Redis
    sessions and broker, two `etender serve` processes taking alternate requests, a beat worker and a plain
    worker: tests/factories/deployment.py), and, as the baseline, through the embedded shape (one `etender
    serve`, SQLite, blobs on disk, tasks in-process). Prints bids/s and p50/p99 per bid for each, and the
    ratio.
(b) The deployed tender's deadline passes, two key holders give their parts, and the plain worker is killed
    0.3 s later, mid-decryption: prints the time from its death until every bid has its outcome (aim: under
    30 s; the claim heartbeat's timeout plus the sweep's period).
(c) The S3 service is stopped and a bidder sends a bid: prints how long the bidder waits for the 503 (aim:
    under 5 s).

    .venv/bin/python bench/deployed.py [--bids 300] [--clients 8]

Needs PostgreSQL (ETENDER_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres) and Redis on
127.0.0.1:6379 (databases 5 and 6, flushed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import httpx  # noqa: E402
import redis  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402
from sqlalchemy import create_engine, select, text, update  # noqa: E402

from cli.database import upgrade_database  # noqa: E402
from core import clock, tasks  # noqa: E402
from core.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from core.settings import Settings  # noqa: E402
from storage.local import LocalBlobStore  # noqa: E402
from storage.s3 import S3BlobStore  # noqa: E402
from tender.models import Bid, OpenedBid, Opening, Tender  # noqa: E402
from tender.opening import parts as opening_parts  # noqa: E402
from tests.factories.accounts import TEST_PASSWORD, Maker, cast, quick_user  # noqa: E402
from tests.factories.bids import ensure_registered, header_doc_parts, sealed_bid  # noqa: E402
from tests.factories.deployment import Bidder, Shape, deployed, free_port, shape_env  # noqa: E402
from tests.factories.storage import s3_client  # noqa: E402
from tests.factories.tenders import publish_new  # noqa: E402

PG_ADMIN = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def seed(factory: Any, store: Any, companies: int, bids: int) -> dict[str, Any]:
    with transaction(factory) as s:
        make = Maker(s)
        w = cast(s, make)
        tender = publish_new(w, store)
        lot_id = tender.lots[0].id
        users = []
        for i in range(companies):
            org = make.org("bidder", f"Bench bidder {i}")
            u = quick_user(s, org, "bidder")
            ensure_registered(s, make.actor(u), tender.id, lot_id)
            users.append(u.username)
        sealed = [
            sealed_bid(s, tender.id, lot_id, content=b"%PDF bench " + str(i).encode()) for i in range(bids)
        ]
        return {
            "tender": tender.id,
            "lot": lot_id,
            "users": users,
            "sealed": sealed,
            "holders": [
                (w.agency, w.holder_keys[w.agency_user.id]),
                (w.monitor, w.holder_keys[w.monitor_user.id]),
            ],
        }


def burst(bases: list[str], world: dict[str, Any], clients: int) -> tuple[float, list[float]]:
    browsers = [Bidder(bases[0], u, TEST_PASSWORD) for u in world["users"][:clients]]
    latencies: list[float] = []

    def send(i: int) -> None:
        started = time.perf_counter()
        browsers[i % clients].submit(bases[i % len(bases)], world["tender"], world["lot"], world["sealed"][i])
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, range(len(world["sealed"]))))
    return len(world["sealed"]) / (time.perf_counter() - started), sorted(latencies)


def p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def figures(rate: float, latencies: list[float]) -> str:
    return f"{rate:7.1f} bids/s  p50 {p(latencies, 0.5):6.0f} ms  p99 {p(latencies, 0.99):6.0f} ms"


def embedded(root: Path, bids: int, clients: int) -> tuple[float, list[float]]:
    url = f"sqlite:///{root / 'embedded.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    world = seed(make_sessionmaker(engine), LocalBlobStore(root / "embedded" / "blobs"), clients, bids)
    engine.dispose()
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    shape = Shape(env={**keep, "DATABASE_URL": url, "ETENDER_DEMO": "false"}, root=root)
    try:
        base = shape.serve("embedded")
        return burst([base], world, clients)
    finally:
        shape.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bids", type=int, default=300)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="etender-deployed-"))
    for n in (5, 6):
        redis.Redis.from_url(f"redis://127.0.0.1:6379/{n}").flushdb()
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    name = f"etender_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    pg = PG_ADMIN.rpartition("/")[0] + f"/{name}"
    try:
        upgrade_database(pg)
        env = shape_env(root, pg, f"127.0.0.1:{port}", 5)
        store = S3BlobStore(s3_client(f"127.0.0.1:{port}"), env["S3_BUCKET"])
        engine = make_engine(pg)
        factory = make_sessionmaker(engine)
        world = seed(factory, store, args.clients, args.bids)
        base_rate, base_lat = embedded(root, args.bids, args.clients)
        print(f"(a) burst of {args.bids} bids from {args.clients} clients, one request each")
        print(f"    embedded (1 web process, SQLite, disk):  {figures(base_rate, base_lat)}")
        settings = Settings(data_dir=root / "t", database_url=pg, blob_dir=root / "t")
        tasks.configure(replace(settings, broker_url=env["CELERY_BROKER_URL"]))
        with deployed(root / "shape", env) as shape:
            rate, lat = burst([shape.web["web1"], shape.web["web2"]], world, args.clients)
            print(f"    deployed (2 web, PostgreSQL, S3, Redis): {figures(rate, lat)}")
            ratio_p99 = p(lat, 0.99) / p(base_lat, 0.99)
            print(f"    ratio deployed / embedded: {rate / base_rate:.2f} (bids/s), {ratio_p99:.2f} (p99)")

            # (c) while the tender is still open: the S3 service goes away, a bidder sends a bid
            moto.stop()
            bidder = Bidder(shape.web["web2"], world["users"][0], TEST_PASSWORD)
            started = time.perf_counter()
            try:
                bidder.submit(shape.web["web2"], world["tender"], world["lot"], world["sealed"][0])
                status = 201
            except httpx.HTTPStatusError as e:
                status = e.response.status_code
            waited = time.perf_counter() - started
            moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            moto.start()  # back, with its objects (moto keeps them in this process)

            with transaction(factory) as s:
                s.execute(update(Tender).where(Tender.id == world["tender"]).values(bid_deadline=clock.now()))
            op = None
            while op is None:
                time.sleep(0.5)
                with factory() as s:
                    op = s.scalar(select(Opening.id).where(Opening.tender_id == world["tender"]))
            for actor, key in world["holders"]:
                with transaction(factory) as s:
                    counted = list(s.scalars(select(Bid).join(OpenedBid, OpenedBid.bid_id == Bid.id)))
                    docs = header_doc_parts(s, store, s.get(Tender, world["tender"]), key, counted)
                    opening_parts.submit_parts(s, actor, store, world["tender"], {"bids": docs})
            time.sleep(0.3)
            shape.kill("worker")
            killed = time.perf_counter()
            while True:
                with factory() as s:
                    if s.scalar(select(Opening.status).where(Opening.id == op)) == "done":
                        break
                time.sleep(0.2)
            after = time.perf_counter() - killed
            print(
                f"(b) a worker killed mid-decryption: all bids had outcomes {after:.1f} s later (aim < 30 s)"
            )
            print(f"(c) S3 stopped: the bidder got {status} after {waited:.2f} s (aim: 503 within 5 s)")
        engine.dispose()
    finally:
        tasks.configure(Settings(data_dir=root / "t", database_url=pg, blob_dir=root / "t"))
        moto.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
