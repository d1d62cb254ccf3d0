"""Bulk import of experts: a generated CSV of 100,000 experts (GBK, as Chinese Excel saves it) imported
through evaluation.importing on SQLite and on PostgreSQL, each database built from the migrations.

For each backend it prints:
- import: the whole import_experts() call (decode, parse, validate every row, write, audit), then the commit;
- re-import: the same file again (every row recognised by its identity number and left unchanged);
- baseline: a raw DBAPI executemany() of the same expert rows (already validated, no specialties, no history)
  into the same table, i.e. the floor any import of these rows has to pay; the ratio import / baseline says
  what validation, specialties, status history and the report cost on top.

    .venv/bin/python bench/expert_import.py [--rows 100000] [--backends sqlite,postgresql] [--xlsx]

Wall time is what a person waits; on a shared machine it also holds other processes' time, so this process's
CPU time is printed beside it (on SQLite it is nearly all the work; on PostgreSQL the server's part is not in
it).

PostgreSQL is ETENDER_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a scratch database
is created and dropped. Aim (issue 5): under 30 s for 100,000 experts.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from accounts.models import Organisation, User, actor_for  # noqa: E402
from accounts.passwords import hash_password  # noqa: E402
from cli.database import upgrade_database  # noqa: E402
from core import clock, credit_code  # noqa: E402
from core.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from evaluation.pool import catalogue, importing, rules  # noqa: E402
from evaluation.pool.models import Expert  # noqa: E402

PG_ADMIN_URL = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "建华志强海燕国平卫东丽萍晓明文军红梅建平永刚春燕德明玉兰立新秀英振华淑芬宏伟桂芳"
TITLES = [
    ("高级工程师", ""),
    ("正高级工程师", "正高级"),
    ("高级经济师", "副高级"),
    ("主任医师", ""),
    ("教授", "正高级"),
]


def generate(rows: int, seed: int = 5) -> bytes:
    rng = random.Random(seed)
    leaves = [e.code for e in catalogue.read_catalogue() if len(e.code) == 5]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([c.zh for c in importing.COLUMNS])
    for n in range(rows):
        # unique: a birth date per thousand rows, then a sequence number
        first17 = (
            f"{330100 + n // 10**6:06d}"
            + (date(1960, 1, 1) + timedelta(days=37 * (n // 1000))).strftime("%Y%m%d")
            + f"{n % 1000:03d}"
        )
        title, level = TITLES[n % len(TITLES)]
        codes = rng.sample(leaves, 1 + n % 3)
        name = rng.choice(SURNAMES) + GIVEN[2 * (n % 20) : 2 * (n % 20) + 2]
        employer = credit_code.generate(rng, division="330100")
        w.writerow(
            [
                name,
                first17 + rules.resident_id_check(first17),
                title,
                level,
                8 + n % 30,
                ";".join(codes),
                f"某某市第{n % 500}设计研究院",
                employer,
                rng.choice(["某某市", "某某县", "某某区"]),
                f"13{n % 10**9:09d}",
                "",
            ]
        )
    return out.getvalue().encode("gb18030")


def backend_url(name: str, scratch: Path) -> tuple[str, object]:
    if name == "sqlite":
        return f"sqlite:///{scratch / 'bench.db'}", None
    dbname = f"etender_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}", (admin, dbname)


def drop(handle: object) -> None:
    if handle is None:
        return
    admin, dbname = handle  # type: ignore[misc]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    admin.dispose()


def run(name: str, data: bytes, rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url, handle = backend_url(name, Path(tmp))
        try:
            upgrade_database(url)
            engine = make_engine(url)
            factory = make_sessionmaker(engine)
            with transaction(factory) as s:
                catalogue.load_catalogue(s)
                centre = Organisation(
                    credit_code=credit_code.generate(random.Random(1)), name="centre", kind="trading_centre"
                )
                s.add(centre)
                s.flush()
                user = User(
                    username="admin",
                    full_name="admin",
                    organisation_id=centre.id,
                    roles=["admin"],
                    password_hash=hash_password("x" * 12),
                )
                s.add(user)
                s.flush()
                user_id = user.id
            figures: dict[str, float] = {}
            for label in ("import", "re-import"):
                started, cpu = time.perf_counter(), time.process_time()
                with transaction(factory) as s:
                    actor = actor_for(s.get(User, user_id), "bench")
                    report = importing.import_experts(s, actor, "experts.csv", data)
                figures[label] = time.perf_counter() - started
                figures[label + " cpu"] = time.process_time() - cpu
                assert report.ok, report.problems[:3]
                assert (report.created if label == "import" else report.unchanged) == rows, report
            with factory() as s:
                assert s.scalar(select(func.count()).select_from(Expert)) == rows
            # baseline: the same expert rows, raw executemany into a fresh copy of the table
            parsed = list(csv.reader(io.StringIO(data.decode("gb18030"))))[1:]
            now = clock.now()
            values = [
                (
                    r[0],
                    "B" + r[1],
                    r[2],
                    "senior",
                    int(r[4]),
                    r[7],
                    r[6],
                    r[8],
                    r[9],
                    r[10],
                    "active",
                    now.date(),
                    "",
                    now,
                    now,
                )
                for r in parsed
            ]
            sql = (
                "INSERT INTO experts (name, id_number, title, title_level, years, employer_code, "
                "employer_name, region, phone, email, status, status_since, status_reason, created_at, "
                "updated_at) VALUES ({})"
            )
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                if name == "sqlite":
                    cur.execute(
                        "BEGIN"
                    )  # the engine runs the driver in autocommit mode; one transaction, as the import has
                marker = "?" if name == "sqlite" else "%s"
                started = time.perf_counter()
                cur.executemany(sql.format(", ".join([marker] * 15)), values)
                raw.commit()
                figures["baseline"] = time.perf_counter() - started
            finally:
                raw.close()
            engine.dispose()
            return figures
        finally:
            drop(handle)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--xlsx", action="store_true", help="also time reading the same rows from an .xlsx file"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    data = generate(args.rows)
    print(
        f"generated {args.rows:,} experts: {len(data) / 1e6:.1f} MB of GBK CSV in "
        f"{time.perf_counter() - started:.1f} s"
    )
    if args.xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        for row in csv.reader(io.StringIO(data.decode("gb18030"))):
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        started = time.perf_counter()
        n = sum(1 for _ in importing.read_rows("experts.xlsx", out.getvalue())[0])
        print(
            f"xlsx: {len(out.getvalue()) / 1e6:.1f} MB, {n - 1:,} rows read in "
            f"{time.perf_counter() - started:.2f} s (the import then goes as for CSV)"
        )
    for name in args.backends.split(","):
        f = run(name, data, args.rows)
        print(
            f"{name:10s} import {f['import']:6.2f} s ({args.rows / f['import']:,.0f} rows/s, this process's "
            f"CPU {f['import cpu']:.2f} s)   re-import {f['re-import']:6.2f} s   baseline executemany "
            f"{f['baseline']:5.2f} s   import/baseline {f['import'] / f['baseline']:.1f}x"
        )


if __name__ == "__main__":
    main()
