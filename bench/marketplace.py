"""The intermediary marketplace's figures (issue 15), each with a baseline measured in the same run:

1. the public directory (/marketplace, and a filtered deep page) with 10,000 intermediaries and 200,000
   ratings, through `etender serve` on loopback without the public micro-cache, 32 keep-alive connections
   (wrk when installed, else the load generator below: processes of threads, each with its own connection);
   baseline /healthz on the same server. Aim: at least 400 req/s and p99 under 100 ms;
2. recomputing every intermediary's stars and credit from the 200,000 ratings (marketplace.directory.
   recompute_all: read every rating, appeal, complaint, sanction and list entry, rebuild the offers and the
   standings); baseline: reading the 200,000 rating rows alone. Aim: under 2 s;
3. a selection among 1,000 applicants (optimal price) with its record and its verification
   (marketplace.selection.select, to_record, schema_problems, verify); baseline: the record's canonical
   SHA-256 alone. Aim: under 100 ms.

    .venv/bin/python bench/marketplace.py [--intermediaries 10000] [--ratings 200000] [--seconds 15]
                                          [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from accounts.models import Organisation, User  # noqa: E402
from cli.database import upgrade_database  # noqa: E402
from core import clock, credit_code  # noqa: E402
from core.db import make_engine  # noqa: E402
from marketplace import directory, entries, selection  # noqa: E402
from marketplace.models import Entry, Purchase, Rating  # noqa: E402

sys.path.append(str(ROOT / "bench"))  # last: this file's name must not shadow the marketplace package
import httpload  # noqa: E402

REGIONS = ["城关镇", "开发区", "东乡", "西乡", "南湖镇", "北山乡"]
KINDS = ("owner", "authority", "centre")


def seed(url: str, n_firms: int, n_ratings: int) -> None:
    engine = make_engine(url)
    rng = random.Random(15)
    now = clock.now()
    far = (date.today() + timedelta(days=800)).isoformat()
    with Session(engine) as s:
        entries.load_catalogue(s)
        s.commit()
    org = {"legal_representative": "", "contact_phone": "", "address": "", "active": True, "created_at": now}
    with engine.begin() as c:
        owner = c.execute(
            insert(Organisation).returning(Organisation.id),
            [
                {
                    **org,
                    "credit_code": credit_code.generate(rng),
                    "name": "县水利局",
                    "kind": "purchaser",
                    "region": "",
                }
            ],
        ).scalar_one()
        user = c.execute(
            insert(User).returning(User.id),
            [
                {
                    "username": "bench-owner",
                    "full_name": "bench",
                    "email": "",
                    "phone": "",
                    "password_hash": "x",
                    "organisation_id": owner,
                    "roles": ["project_owner"],
                    "active": True,
                    "locale": "zh",
                    "created_at": now,
                }
            ],
        ).scalar_one()
        firms = list(
            c.execute(
                insert(Organisation).returning(Organisation.id),
                [
                    {
                        **org,
                        "credit_code": credit_code.generate(rng),
                        "name": f"中介机构{i:05d}有限公司",
                        "kind": "intermediary",
                        "region": rng.choice(REGIONS),
                    }
                    for i in range(n_firms)
                ],
            ).scalars()
        )
        quals = [
            {"name": "检验检测机构资质认定（CMA）", "grade": "甲级", "expires_on": far},
            {"name": "工程勘察资质", "grade": "乙级", "expires_on": far},
            {"name": "工程造价咨询企业资质", "grade": "甲级", "expires_on": far},
        ]
        c.execute(
            insert(Entry),
            [
                {
                    "organisation_id": f,
                    "status": "approved",
                    "services": rng.sample(["testing", "survey", "cost_consulting", "consulting"], 2),
                    "licence_number": "91130200MA0ABCDE1X",
                    "independent_legal_person": True,
                    "no_violation_3y": True,
                    "internal_rules": True,
                    "credit_report": "信用中国",
                    "commitment_signed_by": "张三",
                    "qualifications": quals,
                    "staff": [{"name": "李四", "certificate": "注册检测师", "number": "1"}],
                    "submitted_at": now,
                    "submitted_by": user,
                    "submissions": 1,
                    "decided_at": now,
                    "return_reasons": "",
                }
                for f in firms
            ],
        )
        n_purchases = n_ratings // 2
        chosen = [rng.choice(firms) for _ in range(n_purchases)]
        pids = list(
            c.execute(
                insert(Purchase).returning(Purchase.id),
                [
                    {
                        "reference": f"ZJ-BENCH-{i:06d}",
                        "owner_org_id": owner,
                        "created_by": user,
                        "service_code": "testing",
                        "project": "检测服务",
                        "ceiling_fen": 1_000_000,
                        "requirements": "",
                        "state_funds": True,
                        "method": "random",
                        "signup_deadline": now,
                        "selection_at": now,
                        "status": "selected",
                        "chosen_org_id": chosen[i],
                        "created_at": now,
                        "contract_number": "",
                        "acceptance": "accepted",
                        "acceptance_note": "",
                        "accepted_at": now,
                        "quote_key": "",
                        "quote_key_released": "",
                    }
                    for i in range(n_purchases)
                ],
            ).scalars()
        )
        rows = []
        for pid, firm in zip(pids, chosen, strict=True):
            for kind in rng.sample(KINDS, 2):
                base = rng.choice([2, 3, 4, 4, 5, 5])
                scores = {k: max(1, min(5, base + rng.choice([-1, 0, 0, 1]))) for k in selection_indicators()}
                rows.append(
                    {
                        "purchase_id": pid,
                        "intermediary_org_id": firm,
                        "rater_kind": kind,
                        "rated_by": user,
                        "scores": scores,
                        "comment": "",
                        "rated_at": now,
                    }
                )
        for i in range(0, len(rows), 20_000):
            c.execute(insert(Rating), rows[i : i + 20_000])
    with Session(engine) as s:
        directory.recompute_all(s, entries.requirements(s))
        s.commit()
    engine.dispose()


def selection_indicators() -> list[str]:
    from marketplace import ratings

    return list(ratings.INDICATORS)


# ---------------------------------------------------------------- HTTP load


def measure_http(url: str, data: Path, args: argparse.Namespace) -> None:
    with httpload.serving(url, data, args.workers) as (base, port):
        paths = (
            ("baseline /healthz", "/healthz"),
            ("directory /marketplace", "/marketplace"),
            ("filtered, page 37", "/marketplace?service=testing&region=%E5%BC%80%E5%8F%91%E5%8C%BA&page=37"),
        )
        for _, path in paths:
            urllib.request.urlopen(base + path).read()  # noqa: S310 - warm up
        found = {}
        for label, path in paths:
            found[label] = r = httpload.load(port, path, args.seconds, args.connections)
            print(httpload.line(label, r))
        base_rps = found["baseline /healthz"]["rps"]
        for label, _ in paths[1:]:
            r = found[label]
            verdict = "meets" if r["rps"] >= 400 and r["p99"] < 100 else "MISSES"
            print(
                f"[http] {label}: {r['rps'] / base_rps:.2f} x baseline; "
                f"aim >= 400 req/s, p99 < 100 ms: {verdict}"
            )


# ---------------------------------------------------------------- recomputation and selection


def measure_recompute(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as s:
        t0 = time.perf_counter()
        n = len(
            list(
                s.execute(
                    select(Rating.intermediary_org_id, Rating.purchase_id, Rating.rater_kind, Rating.scores)
                )
            )
        )
        base = time.perf_counter() - t0
        t0 = time.perf_counter()
        firms = directory.recompute_all(s, entries.requirements(s))
        took = time.perf_counter() - t0
        s.rollback()
    engine.dispose()
    print(f"[recompute] baseline: read {n} rating rows            {base * 1000:8.1f} ms")
    verdict = "meets" if took < 2 else "MISSES"
    print(
        f"[recompute] stars and credit of {firms} intermediaries, offers too {took * 1000:8.1f} ms "
        f"({took / base:.1f} x baseline); aim < 2 s: {verdict}"
    )


def measure_selection(n: int = 1000, rounds: int = 20) -> None:
    rng = random.Random(7)
    applicants = [selection.Applicant(10_000 + i, rng.randint(800_000, 1_000_000)) for i in range(n)]
    server_seed, value = rng.randbytes(32), rng.randbytes(32)
    contributions = [("owner:91130200MA0000001X", value)]
    times, base = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        outcome = selection.select(
            selection.OPTIMAL, True, applicants, server_seed, "ZJ-BENCH/selection", contributions
        )
        doc = selection.to_record(
            purchase={"id": 1, "reference": "ZJ-BENCH"},
            method=selection.OPTIMAL,
            state_funds=True,
            request_id="ZJ-BENCH/selection",
            applicants=applicants,
            server_seed=server_seed,
            contributions=contributions,
            outcome=outcome,
        )
        assert selection.schema_problems(doc) == [] and selection.verify(doc) == []
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        selection.record_sha256(doc)
        base.append(time.perf_counter() - t0)
    times.sort()
    base.sort()
    med, b = times[len(times) // 2], base[len(base) // 2]
    verdict = "meets" if times[-1] < 0.1 else "MISSES"
    print(f"[selection] baseline: the record's SHA-256          {b * 1000:8.2f} ms (median)")
    print(
        f"[selection] {n} applicants: select + record + verify {med * 1000:8.2f} ms median, "
        f"{times[-1] * 1000:.2f} ms worst of {rounds} ({med / b:.0f} x baseline); aim < 100 ms: {verdict}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--intermediaries", type=int, default=10_000)
    ap.add_argument("--ratings", type=int, default=200_000)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()
    print(
        f"machine: {os.cpu_count()} cores; {args.intermediaries} intermediaries, {args.ratings} ratings; "
        f"{args.connections} connections, {args.seconds:.0f} s per URL, {args.workers} web processes, "
        f"load by {'wrk' if shutil.which('wrk') else 'the Python load generator'}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-marketplace-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    try:
        upgrade_database(url)
        t0 = time.time()
        seed(url, args.intermediaries, args.ratings)
        print(f"seeded in {time.time() - t0:.1f} s (SQLite)")
        measure_selection()
        measure_recompute(url)
        if not args.skip_http:
            measure_http(url, tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
