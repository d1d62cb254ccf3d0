"""Public pages under load: the notice list page and its JSON twin, with 10,000 published tenders.

Starts `etender serve` on loopback against a fresh database (SQLite file, then PostgreSQL when reachable),
seeds the tenders, and drives it with wrk (Debian package `wrk`): 32 connections for 20 s per URL.
/healthz on the same server is the baseline measured in the same run (one database query and one file
write); the ratio says how much the page costs against it. Each backend is measured twice: without the
public micro-cache (every request queries and renders) and with the default 2-second micro-cache that
`make run` uses (web/cache.py).

    .venv/bin/python bench/public_pages.py [--tenders 10000] [--seconds 20] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from accounts.models import Organisation, User  # noqa: E402
from accounts.passwords import hash_password  # noqa: E402
from cli.database import upgrade_database  # noqa: E402
from core import clock, credit_code  # noqa: E402
from core.db import make_engine  # noqa: E402
from tender.models import Lot, Tender  # noqa: E402

sys.path.append(str(ROOT / "bench"))  # last: bench/ must not shadow the packages
from httpload import free_port, wait_ready  # noqa: E402

PG_ADMIN = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WORDS = [
    "县第一中学教学楼改扩建工程",
    "人民医院医疗设备采购",
    "城区道路绿化养护服务",
    "污水处理厂提标改造工程",
    "政务云服务采购",
    "农村饮水安全巩固提升工程",
    "中小学课桌椅采购",
    "智慧交通信号系统建设",
    "物业管理服务",
    "图书馆图书采购",
]


def seed(url: str, n: int) -> None:
    engine = make_engine(url)
    rng = random.Random(42)
    now = clock.now()
    with engine.begin() as conn:
        orgs = []
        for i, kind in enumerate(["agency", "purchaser", "purchaser", "purchaser"]):
            orgs.append(
                conn.execute(
                    insert(Organisation).returning(Organisation.id),
                    [
                        {
                            "credit_code": credit_code.generate(rng),
                            "name": f"{kind}{i}",
                            "kind": kind,
                            "region": "",
                            "legal_representative": "",
                            "contact_phone": "",
                            "address": "",
                            "active": True,
                            "created_at": now,
                        }
                    ],
                ).scalar_one()
            )
        user = conn.execute(
            insert(User).returning(User.id),
            [
                {
                    "username": "bench",
                    "full_name": "bench",
                    "email": "",
                    "phone": "",
                    "password_hash": hash_password("bench-password"),
                    "organisation_id": orgs[0],
                    "roles": ["agency"],
                    "active": True,
                    "locale": "zh",
                    "created_at": now,
                }
            ],
        ).scalar_one()
        rows = []
        for i in range(n):
            published = now - timedelta(days=rng.randint(0, 365), minutes=rng.randint(0, 1440))
            deadline = published + timedelta(days=rng.randint(20, 40))
            rows.append(
                {
                    "reference": f"ET-BENCH-{i:06d}",
                    "title": f"{rng.choice(['城东', '城西', '开发区', '某某镇'])}{rng.choice(WORDS)}（{i}）",
                    "description": "",
                    "purchaser_id": rng.choice(orgs[1:]),
                    "agency_id": orgs[0],
                    "created_by": user,
                    "category": rng.choice(["works", "goods", "services"]),
                    "government_procurement": False,
                    "state_funded": True,
                    "region": rng.choice(["城关镇", "开发区", "东乡", "西乡"]),
                    "status": "published" if deadline > now else "bidding_closed",
                    "resume_to": None,
                    "monitor_suspended": False,
                    "evaluation_method": "comprehensive",
                    "criteria": {},
                    "doc_issue_start": published,
                    "doc_issue_end": published + timedelta(days=7),
                    "question_deadline": deadline - timedelta(days=15),
                    "bid_deadline": deadline,
                    "original_bid_deadline": deadline,
                    "opening_place": "开标一室",
                    "key_holder_ids": [],
                    "key_threshold": 2,
                    "opening_policy": "quorum",
                    "contact_name": "",
                    "contact_phone": "",
                    "published_at": published,
                    "cancel_reason": "",
                    "created_at": published,
                    "updated_at": published,
                }
            )
        ids = [r for r in conn.execute(insert(Tender).returning(Tender.id), rows).scalars()]
        conn.execute(
            insert(Lot),
            [
                {
                    "tender_id": t,
                    "number": 1,
                    "name": "标段1",
                    "description": "",
                    "estimated_price": 100_000_00,
                    "price_ceiling": 110_000_00,
                    "bid_security": 2_000_00,
                }
                for t in ids
            ],
        )
    engine.dispose()


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    assert m, value
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", "Accept-Language: zh", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "non2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    upgrade_database(url)
    t0 = time.time()
    seed(url, args.tenders)
    print(f"[{name}] seeded {args.tenders} published tenders in {time.time() - t0:.1f}s")
    for cache_seconds in ("0", "2"):
        serve_and_measure(name, url, data, args, cache_seconds)
    shutil.rmtree(data, ignore_errors=True)


def serve_and_measure(name: str, url: str, data: Path, args: argparse.Namespace, cache_seconds: str) -> None:
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        ETENDER_DATA=str(data),
        PORT=str(port),
        ETENDER_DEMO="false",
        ETENDER_PUBLIC_CACHE_SECONDS=cache_seconds,
    )
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/etender"), "serve", "--workers", str(args.workers), "--no-demo"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    mode = "no cache" if cache_seconds == "0" else f"{cache_seconds}s micro-cache"
    try:
        wait_ready(base)
        for path in ("/", "/api/v1/notices", "/healthz"):  # warm up
            urllib.request.urlopen(base + path).read()  # noqa: S310
        results = {}
        for label, path in (
            ("baseline /healthz", "/healthz"),
            ("notice list page /", "/"),
            ("JSON twin /api/v1/notices", "/api/v1/notices"),
            ("page 37, filtered", "/?category=works&page=37"),
        ):
            results[label] = r = wrk(base + path, args.seconds, args.connections)
            print(
                f"[{name}, {mode}] {label:28s} {r['rps']:8.1f} req/s   p50 {r['p50']:7.2f} ms   "
                f"p99 {r['p99']:7.2f} ms   non-2xx {r['non2xx']}"
                f"{'   socket errors ' + r['socket_errors'] if r['socket_errors'] else ''}"
            )
        base_rps = results["baseline /healthz"]["rps"]
        for label in ("notice list page /", "JSON twin /api/v1/notices"):
            r = results[label]
            verdict = "meets" if r["rps"] >= 400 and r["p99"] < 100 else "MISSES"
            print(
                f"[{name}, {mode}] {label}: {r['rps'] / base_rps:.2f} x baseline; aim >= 400 req/s and p99 < "
                f"100 ms: {verdict}"
            )
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenders", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    print(
        f"machine: {os.cpu_count()} cores; {args.connections} connections, {args.seconds}s per URL, "
        f"{args.workers} web processes"
    )
    if "sqlite" in args.backends:
        tmp = Path(tempfile.mkdtemp(prefix="bench-db-"))
        run_backend("sqlite", f"sqlite:///{tmp / 'bench.db'}", args)
        shutil.rmtree(tmp, ignore_errors=True)
    if "postgresql" in args.backends:
        name = f"etender_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(
            PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run_backend("postgresql", PG_ADMIN.rpartition("/")[0] + "/" + name, args)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
