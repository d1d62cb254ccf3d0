"""The audit log's figures on SQLite and on PostgreSQL, each database built from the migrations.

For each backend it prints:
- appends/s through audit.record(), one entry per transaction (commit each), in batches (one commit per
  --batch entries) and from --threads concurrent writers each committing one entry per transaction (the load
  of many requests), and the baseline in the same run: a plain INSERT of the same entry row (same columns and
  values, no head lock, no tree) into a copy of the table, run the same three ways; the ratio says what the
  head lock and the stored tree cost. The head lock is held from a transaction's first record() to its commit,
  so concurrent writers queue on it through each commit (a plain INSERT gains from the database's group
  commit);
- proof latency at --entries entries (default 1,000,000): inclusion and consistency proofs answered from the
  stored subtree hashes (audit.tree), median and 99th percentile over --proofs random queries;
- full verification speed (audit.verify.verify_log, as `etender audit verify` runs it: entry bytes, columns
  and details against what was hashed, the whole tree rebuilt, every stored node, the signed checkpoints and
  their consistency), entries/s, with its CPU seconds (this process and the worker processes it forks for a
  large log; the database server's are not counted) and the load average, since on a shared machine the wall
  clock says more about the other processes than about the verifier; the exact pass alone (what verify_log
  falls back to, to name the first bad entry, when the fast pass sees anything differ), entries/s; and the
  tree recomputation alone (entry bytes to root, compared with the latest checkpoint), entries/s.

With --only verify the log is bulk-built (after one append) and verify_log timed twice: in one process, as
a log under audit.verify.PARALLEL_MIN_ENTRIES is checked, and with the worker processes.

The million entries are bulk-built straight into the tables (entries, nodes, head; one signed checkpoint per
100,000 entries) with executemany in batches of 10,000: the same rows record() writes (canonical entry bytes,
canonical details text, leaf and interior nodes from audit.tree.extend), without one transaction per entry.

    .venv/bin/python bench/audit_log.py [--entries 1000000] [--backends sqlite,postgresql] [--only verify]

PostgreSQL is ETENDER_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a scratch database
is created and dropped. Aims (issue 4): >= 3,000 appends/s, proofs < 2 ms at a million entries, verification
>= 200,000 entries/s.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Column, MetaData, Table, create_engine, insert, text  # noqa: E402

from audit import checkpoints, record, tree  # noqa: E402
from audit import verify as verify_module  # noqa: E402
from audit.log import INSERT_ENTRY, AuditEntry, AuditHead, canonical, format_time  # noqa: E402
from audit.merkle import leaf_hash  # noqa: E402
from audit.verify import _verify, verify_log  # noqa: E402
from cli.database import upgrade_database  # noqa: E402
from core import clock  # noqa: E402
from core.db import make_engine, make_sessionmaker  # noqa: E402
from core.identity import Actor  # noqa: E402
from core.signing import signing_key, verifier_keys  # noqa: E402
from tender.events import TenderTag  # noqa: E402

PG_ADMIN_URL = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ORIGIN = "bench.etender/audit"
ALICE = Actor(user_id=7, username="alice", role="agency", organisation_id=3, ip="198.51.100.7")


def _sa(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def plain_table() -> Table:
    """A copy of audit_entries without the log around it: the baseline's plain INSERT target."""
    md = MetaData()
    return Table(
        "bench_plain_entries",
        md,
        *[Column(c.name, c.type, primary_key=c.primary_key) for c in AuditEntry.__table__.columns],
    )


def entry_row(index: int, subject: str, i: int) -> dict[str, object]:
    now = clock.now()
    details = {"title": f"T{i}", "n": i}
    doc = {
        "index": index,
        "tag": "tender.updated",
        "time": format_time(now),
        "actor": "alice",
        "actor_id": 7,
        "role": "agency",
        "organisation": 3,
        "ip": "198.51.100.7",
        "subject": subject,
        "details_digest": hashlib.sha256(canonical(details)).hexdigest(),
    }
    return {
        "index": index,
        "time": now,
        "tag": "tender.updated",
        "actor_user_id": 7,
        "actor": "alice",
        "role": "agency",
        "organisation_id": 3,
        "ip": "198.51.100.7",
        "subject": subject,
        "details": details,
        "details_digest": doc["details_digest"],
        "entry_bytes": canonical(doc),
    }


def appends(factory, n: int, batch: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    done = 0
    while done < n:
        with factory() as session:
            for _ in range(min(batch, n - done)):
                record(
                    session,
                    TenderTag.tender_updated,
                    actor=ALICE,
                    subject=f"tender:{done % 50}",
                    details={"title": f"T{done}", "n": done},
                )
                done += 1
            session.commit()
    return n / (time.perf_counter() - start)


def plain_inserts(factory, table: Table, n: int, batch: int) -> float:  # type: ignore[no-untyped-def]
    """The same row, built the same way (canonical bytes and all), one INSERT statement each, as record() runs
    it."""
    stmt = insert(table)
    start = time.perf_counter()
    done = 0
    while done < n:
        with factory() as session:
            conn = session.connection()
            for _ in range(min(batch, n - done)):
                conn.execute(stmt, [entry_row(done, f"tender:{done % 50}", done)])
                done += 1
            session.commit()
    return n / (time.perf_counter() - start)


def concurrent_writers(factory, threads: int, per_thread: int, write) -> float:  # type: ignore[no-untyped-def]
    """`threads` writers at once, each committing `per_thread` transactions of one write(session): the load of
    many requests each recording one entry. Entries per second from the start to the last commit."""
    start = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            for _ in range(per_thread):
                with factory() as session:
                    write(session)
                    session.commit()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    assert not errors, errors[0]
    return threads * per_thread / elapsed


def concurrent_appends(factory, threads: int, per_thread: int) -> float:  # type: ignore[no-untyped-def]
    n = itertools.count()
    return concurrent_writers(
        factory,
        threads,
        per_thread,
        lambda session: record(
            session,
            TenderTag.tender_updated,
            actor=ALICE,
            subject=f"tender:{(i := next(n)) % 50}",
            details={"title": f"T{i}", "n": i},
        ),
    )


def concurrent_plain_inserts(factory, table: Table, threads: int, per_thread: int) -> float:  # type: ignore[no-untyped-def]
    stmt = insert(table)
    n = itertools.count()
    return concurrent_writers(
        factory,
        threads,
        per_thread,
        lambda session: session.connection().execute(stmt, [entry_row(i := next(n), f"tender:{i % 50}", i)]),
    )


def bulk_build(engine, data_dir: Path, target: int, start_size: int) -> None:  # type: ignore[no-untyped-def]
    """Extend the log to `target` entries directly in the tables (see the module's docstring)."""
    factory = make_sessionmaker(engine)
    key = signing_key(data_dir, ORIGIN)
    with factory() as session:
        head = session.get(AuditHead, 1)
        frontier = tree.split_frontier(head.frontier)
        size = head.size
        assert size == start_size
        nodes_t = tree.AuditNode.__table__
        chunk = 10_000
        while size < target:
            rows, nodes = [], []
            for index in range(size, min(target, size + chunk)):
                row = entry_row(index, f"tender:{index % 997}", index)
                rows.append(row)
                nodes.extend(
                    {"key": k, "hash": h}
                    for k, h in tree.extend(frontier, index, leaf_hash(row["entry_bytes"]))
                )  # type: ignore[arg-type]
            session.execute(INSERT_ENTRY, rows)  # details as record() writes them: the canonical text
            session.execute(insert(nodes_t), nodes)
            size += len(rows)
            head.size, head.frontier = size, b"".join(frontier)
            if (
                size // 100_000 != (size - len(rows)) // 100_000 or size == target
            ):  # one checkpoint per 100,000 entries
                session.flush()
                checkpoints.sign(session, key, ORIGIN)
            session.commit()
            head = session.get(AuditHead, 1)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def proofs(factory, size: int, count: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    rng = random.Random(4)
    inc, con = [], []
    with factory() as session:
        tree.inclusion_proof(session, 0, size)  # warm the connection
        for _ in range(count):
            i = rng.randrange(size)
            t0 = time.perf_counter()
            tree.inclusion_proof(session, i, size)
            inc.append((time.perf_counter() - t0) * 1000)
            m = rng.randrange(1, size)
            t0 = time.perf_counter()
            tree.consistency_proof(session, m, size)
            con.append((time.perf_counter() - t0) * 1000)
    return inc, con


def tree_only(engine) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    """The Merkle tree rebuilt from the entry bytes alone, read with a plain DBAPI cursor."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute('SELECT entry_bytes FROM audit_entries ORDER BY "index"')
        frontier: list[bytes] = []
        size = 0
        while rows := cur.fetchmany(10_000):
            for (entry_bytes,) in rows:
                tree.extend(frontier, size, leaf_hash(bytes(entry_bytes)))
                size += 1
        return size, tree.frontier_root(frontier)
    finally:
        raw.close()


def verification(engine, data_dir: Path, *, single_process: bool = False) -> None:  # type: ignore[no-untyped-def]
    """verify_log timed; single_process: without the worker processes (what a log under
    audit.verify.PARALLEL_MIN_ENTRIES entries gets)."""
    keys = verifier_keys(data_dir, ORIGIN)
    saved = verify_module.PARALLEL_MIN_ENTRIES
    if single_process:
        verify_module.PARALLEL_MIN_ENTRIES = sys.maxsize
    try:
        with make_sessionmaker(engine)() as session:
            cpu = _cpu()
            t0 = time.perf_counter()
            result = verify_log(session, keys, ORIGIN)
            elapsed = time.perf_counter() - t0
            here, workers = (b - a for a, b in zip(cpu, _cpu(), strict=True))
    finally:
        verify_module.PARALLEL_MIN_ENTRIES = saved
    assert result.ok, result.reason
    label = "full verification, one process    " if single_process else "full verification                  "
    print(
        f"{label}: {result.size / elapsed:9,.0f} entries/s   ({result.size:,} entries, {result.checkpoints} "
        f"checkpoints, {elapsed:.1f} s; CPU {here:.1f} s here + {workers:.1f} s in workers, "
        f"{result.size / (here + workers):,.0f} entries per CPU second, the database server's not counted; "
        f"load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def _cpu() -> tuple[float, float]:
    """CPU seconds (user and system) of this process and of its finished child processes."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def run_backend(name: str, url: str, data_dir: Path, args: argparse.Namespace) -> None:
    print(f"\n== {name} ==", flush=True)
    upgrade_database(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    table = plain_table()
    table.create(engine)
    try:
        if (
            args.only == "verify"
        ):  # the log is bulk-built (after one append); no append figures, proofs or exact pass
            appends(factory, 1, 1)
            bulk_build(engine, data_dir, args.entries, 1)
            verification(engine, data_dir, single_process=True)
            verification(engine, data_dir)
            return
        single = appends(factory, args.single, 1)
        batched = appends(factory, args.batched, args.batch)
        base_single = plain_inserts(factory, table, args.single, 1)
        with engine.begin() as conn:
            conn.execute(table.delete())
        base_batched = plain_inserts(factory, table, args.batched, args.batch)
        with engine.begin() as conn:
            conn.execute(table.delete())
        threads, per_thread = args.threads, args.per_thread
        parallel = concurrent_appends(factory, threads, per_thread)
        base_parallel = concurrent_plain_inserts(factory, table, threads, per_thread)
        print(
            f"appends, one entry per transaction : {single:9,.0f}/s   plain INSERT baseline "
            f"{base_single:9,.0f}/s   ratio {single / base_single:.2f}"
        )
        print(
            f"appends, {args.batch} per transaction      : {batched:9,.0f}/s   plain INSERT baseline "
            f"{base_batched:9,.0f}/s   ratio {batched / base_batched:.2f}"
        )
        print(
            f"appends, {threads} concurrent writers, one entry per transaction each: {parallel:9,.0f}/s   "
            f"plain INSERT baseline {base_parallel:9,.0f}/s   ratio {parallel / base_parallel:.2f}"
        )
        t0 = time.perf_counter()
        bulk_build(engine, data_dir, args.entries, args.single + args.batched + threads * per_thread)
        print(
            f"bulk-built the log to {args.entries:,} entries in {time.perf_counter() - t0:.0f} s", flush=True
        )
        if name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        inc, con = proofs(factory, args.entries, args.proofs)
        print(
            f"inclusion proof at {args.entries:,}  : median {statistics.median(inc):.3f} ms   p99 "
            f"{percentile(inc, 0.99):.3f} ms   ({args.proofs} random)"
        )
        print(
            f"consistency proof at {args.entries:,}: median {statistics.median(con):.3f} ms   p99 "
            f"{percentile(con, 0.99):.3f} ms"
        )
        keys = verifier_keys(data_dir, ORIGIN)
        verification(engine, data_dir)
        if not args.no_exact:
            with make_sessionmaker(engine)() as session:
                t0 = time.perf_counter()
                exact = _verify(session, keys, ORIGIN, True, fast=False)
                elapsed = time.perf_counter() - t0
            assert exact is not None and exact.ok, exact
            print(
                f"exact pass alone (on any mismatch) : {exact.size / elapsed:9,.0f} entries/s   (entry by "
                f"entry, node by node: what names the first bad entry, {elapsed:.1f} s)",
                flush=True,
            )
        t0 = time.perf_counter()
        size, root = tree_only(engine)
        elapsed = time.perf_counter() - t0
        with make_sessionmaker(engine)() as session:
            assert root == checkpoints.latest(session).root  # type: ignore[union-attr]
        print(
            f"tree recomputation alone           : {size / elapsed:9,.0f} entries/s   (entry bytes -> leaf "
            "hashes -> root, checked against the latest checkpoint; "
            "what an outside verifier must at least do)"
        )
    finally:
        table.drop(engine)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=3000, help="appends measured one per transaction")
    parser.add_argument("--batched", type=int, default=20000, help="appends measured in batches")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--threads", type=int, default=16, help="concurrent writers, one entry per transaction each"
    )
    parser.add_argument("--per-thread", type=int, default=200, help="transactions per concurrent writer")
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-exact", action="store_true", help="skip timing the exact pass alone")
    parser.add_argument(
        "--only",
        choices=["verify"],
        help="verify: build the log and time the full verification only, in one process and with the workers",
    )
    args = parser.parse_args()
    clock.shift(timedelta(0))
    for name in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            if name == "sqlite":
                run_backend(name, f"sqlite:///{data_dir / 'bench.db'}", data_dir, args)
                continue
            dbname = f"etender_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(_sa(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{dbname}"'))
            try:
                base, _, _ = PG_ADMIN_URL.rpartition("/")
                run_backend(name, f"{base}/{dbname}", data_dir, args)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
