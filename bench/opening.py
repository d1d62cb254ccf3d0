"""Opening throughput (issue 3): --bids sealed bids of --size MiB each (default 200 x 20 MiB, 2-of-3 holders,
64 KiB chunks), stored in the local blob store, opened by the real path, on SQLite and on PostgreSQL.

Measured, per backend, in the same run:
- the opening: tender.tasks.decrypt_bid over every bid (claim in one transaction; stream the stored file
  through SHA-256 against its receipt and through sealing.open_bid, which decrypts every chunk, checks the
  content list and hashes every file; nothing decrypted is stored (decryption.read_file decrypts a file on
  demand later); the outcome recorded and audited in a second transaction; the record published after the
  last), run in-process on --threads threads (default: the settings' task_threads, 2), the way the web process
  runs tasks without a broker;
- the baseline: the same stored files read from the blob store and decrypted with raw AES-256-GCM in the same
  chunk size, plus SHA-256 of the same bytes, on the same number of threads.
Both in MB/s of sealed bytes (1 MB = 10^6 bytes), and their ratio (aim >= 0.5). The two alternate over
--rounds batches of the bids, so that other work on the machine weighs on both alike. Both sides use the same
threads: AESGCM.decrypt holds the GIL (cryptography 50; SHA-256 and file I/O release it), which limits both
alike. Also printed: the time per bid of the task's three steps (claim and finish_bid are the database's
part).

    .venv/bin/python bench/opening.py [--bids 200] [--size 20] [--threads 2] [--backends sqlite,postgresql]
                                      [--rounds 10]

PostgreSQL is ETENDER_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a scratch database
is created and dropped. The sealed bids are made once and shared by both backends (sealing is not measured).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from accounts.models import Organisation, User, actor_for  # noqa: E402
from cli.database import upgrade_database  # noqa: E402
from core import clock, credit_code  # noqa: E402
from core import tasks as core_tasks  # noqa: E402
from core.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from core.settings import Settings  # noqa: E402
from storage.local import LocalBlobStore  # noqa: E402
from tender import deadlines, keyholders, sealing  # noqa: E402
from tender.bids.submission import header_of  # noqa: E402
from tender.models import Bid, BidStatus, Lot, OpenedBid, Tender  # noqa: E402
from tender.opening import base as opening_base  # noqa: E402
from tender.opening import decryption  # noqa: E402
from tender.opening import parts as opening_parts  # noqa: E402
from tender.opening.decryption import decrypt_bid  # noqa: E402

PG_ADMIN_URL = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHUNK = sealing.DEFAULT_CHUNK_SIZE


def world(session, data_dir: Path) -> tuple[Tender, dict[int, object], list[User], list[Organisation]]:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    orgs = {
        k: Organisation(credit_code=credit_code.generate(rng), name=f"{k} org", kind=k)
        for k in ("agency", "purchaser", "supervisor", "trading_centre")
    }
    session.add_all(orgs.values())
    session.flush()
    people = [
        User(
            username=f"{k}-{uuid.uuid4().hex[:6]}",
            full_name=f"{k} holder",
            organisation_id=orgs[o].id,
            roles=[k],
            password_hash="x",
        )
        for k, o in (("agency", "agency"), ("monitor", "supervisor"), ("centre", "trading_centre"))
    ]
    session.add_all(people)
    session.flush()
    now = clock.now()
    t = Tender(
        reference=f"BENCH-{uuid.uuid4().hex[:8]}",
        title="Opening bench",
        purchaser_id=orgs["purchaser"].id,
        agency_id=orgs["agency"].id,
        created_by=people[0].id,
        category="goods",
        status="published",
        bid_deadline=now + timedelta(days=1),
        key_holder_ids=[p.id for p in people],
        key_threshold=2,
        opening_policy="quorum",
        published_at=now,
    )
    session.add(t)
    session.flush()
    session.add(Lot(tender_id=t.id, number=1, name="Lot 1", estimated_price=10**9, price_ceiling=10**9))
    session.flush()
    session.refresh(t)
    keys = keyholders.generate_keys_for(session, t)
    keyholders.publish_bundle(session, actor_for(people[0]), t)
    return t, keys, people, list(orgs.values())


class Timings:
    """Wall time spent in some functions of a module, summed over every thread (the task's three steps)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.longest: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def wrapping(self, module: object, *names: str):  # type: ignore[no-untyped-def]
        real = {n: getattr(module, n) for n in names}

        def timed(n: str):  # type: ignore[no-untyped-def]
            def call(*a, **k):  # type: ignore[no-untyped-def]
                start = time.perf_counter()
                try:
                    return real[n](*a, **k)
                finally:
                    took = time.perf_counter() - start
                    with self._lock:
                        self.spent[n] = self.spent.get(n, 0.0) + took
                        self.longest[n] = max(self.longest.get(n, 0.0), took)

            return call

        for n in names:
            setattr(module, n, timed(n))
        try:
            yield
        finally:
            for n, f in real.items():
                setattr(module, n, f)

    def report(self, count: int) -> str:
        return ", ".join(
            f"{n} {t / count * 1000:.1f} ms (longest {self.longest[n] * 1000:.0f})"
            for n, t in self.spent.items()
        )


def run_backend(name: str, url: str, data_dir: Path, args: argparse.Namespace, content: bytes) -> None:
    upgrade_database(url)
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        blob_dir=data_dir / "blobs",
        secret_key="bench",
        scheduler_interval=0,
        demo=False,
        task_threads=args.threads,
    )
    core_tasks.configure(settings)
    blobs = LocalBlobStore(settings.blob_dir)
    factory = make_sessionmaker(make_engine(url))
    total = 0
    print(f"[{name}] sealing {args.bids} bids of {args.size} MiB ...", flush=True)
    with transaction(factory) as s:
        tender, keys, people, _ = world(s, data_dir)
        bundle = keyholders.bundle_of(s, tender.id)
        assert bundle is not None
        lot_id = bundle.lot_ids[0]
        rng = random.Random(3)
        for i in range(args.bids):
            org = Organisation(credit_code=credit_code.generate(rng), name=f"Bidder {i}", kind="bidder")
            s.add(org)
            s.flush()
            body = i.to_bytes(8, "big") + content  # a distinct file per bid
            files = [
                sealing.BidFile(
                    "technical", "technical.bin", "application/octet-stream", len(body), io.BytesIO(body)
                )
            ]
            tmp = data_dir / "sealing.tmp"
            with open(tmp, "wb") as out:
                header = sealing.seal(
                    bundle,
                    lot_id,
                    files,
                    {"total_price_fen": 100_000 + i, "duration_days": 30, "quality_commitment": "ok"},
                    out,
                )
            with open(tmp, "rb") as f:
                info = blobs.put(iter(lambda f=f: f.read(1 << 20), b""))
            total += info.size
            s.add(
                Bid(
                    tender_id=tender.id,
                    lot_id=lot_id,
                    organisation_id=org.id,
                    user_id=people[0].id,
                    status=BidStatus.submitted,
                    blob_key=info.key,
                    size=info.size,
                    declared_size=info.size,
                    sealed_bid_id=header.bid_id,
                    submitted_at=clock.now(),
                )
            )
        tender.bid_deadline = clock.now() - timedelta(seconds=1)
    with transaction(factory) as s:
        deadlines.close_due_tenders(s)
    # two holders submit their parts of every bid (not timed); decryption is then run below, not by enqueue
    with transaction(factory) as s:
        t = s.get(Tender, tender.id)
        people = [s.get(User, p.id) for p in people]
        stored = s.scalars(select(Bid).where(Bid.tender_id == tender.id)).all()
        for person in people[:2]:
            docs = []
            for bid in stored:
                header = header_of(blobs, bid)
                docs.append(
                    {
                        "format": "etender-key-parts",
                        "tender_id": t.id,
                        "bid": bid.id,
                        "bid_id": header.bid_id,
                        "parts": [p.to_json() for p in sealing.unwrap_parts(header, keys[person.id])],
                    }
                )  # type: ignore[arg-type]
            opening_parts.submit_parts(s, actor_for(person), blobs, t.id, docs)
        s.info.pop("etender.tasks.pending", None)  # the bench runs the tasks itself, timed
        ids = list(s.scalars(select(OpenedBid.id).order_by(OpenedBid.id)))
        plain_keys = {}  # blob key -> (header, data key), for the baseline only
        for bid in stored:
            header = header_of(blobs, bid)
            parts = [p for person in people[:2] for p in sealing.unwrap_parts(header, keys[person.id])]  # type: ignore[arg-type]
            plain_keys[bid.blob_key] = (header, sealing.combine(header, parts))
    mb = total / 1e6

    # ---- the baseline: raw AES-256-GCM of the same stored bytes, chunk by chunk with their real keys and
    # nonces, plus SHA-256
    def raw(blob_key: str) -> None:
        header, data_key = plain_keys[blob_key]
        aead, aad = AESGCM(data_key), header.preamble_hash
        total_chunks = sealing.chunk_count(header.plaintext_size, header.chunk_size)
        digest = hashlib.sha256()
        with open(blobs._path(blob_key), "rb") as f:
            preamble = f.read(len(header.preamble))
            digest.update(preamble)
            for i in range(total_chunks):
                block = f.read(header.chunk_size + sealing.TAG_SIZE)
                digest.update(block)
                aead.decrypt(sealing.chunk_nonce(header.nonce_prefix, i, i == total_chunks - 1), block, aad)
        assert digest.hexdigest() == blob_key

    cpu = {"opening": 0.0, "baseline": 0.0}  # this process's CPU seconds (user + system) in each side

    def cpu_now() -> float:
        t = os.times()
        return t.user + t.system

    def baseline(keys: list[str]) -> float:
        start, c = time.perf_counter(), cpu_now()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(raw, keys))
        cpu["baseline"] += cpu_now() - c
        return time.perf_counter() - start

    # ---- the opening path against the baseline, in --rounds rounds of the bids, alternating which goes
    # first: other work on the machine comes and goes, and both sides see the same share of it. The sealed
    # files were uploaded long before the opening: flushed to disk first.
    blob_of = {}
    with transaction(factory) as s:
        for ob in s.scalars(select(OpenedBid).where(OpenedBid.id.in_(ids))):
            blob_of[ob.id] = s.get(Bid, ob.bid_id).blob_key  # type: ignore[union-attr]
    os.sync()
    timings = Timings()
    opening_s = base_s = 0.0
    results: list[str] = []
    rounds = max(1, min(args.rounds, len(ids)))
    for r in range(rounds):
        batch = ids[r * len(ids) // rounds : (r + 1) * len(ids) // rounds]
        if r % 2:
            base_s += baseline([blob_of[i] for i in batch])
        start, c = time.perf_counter(), cpu_now()
        with (
            timings.wrapping(decryption, "claim", "decrypt", "finish_bid"),
            ThreadPoolExecutor(args.threads) as pool,
        ):
            results += pool.map(decrypt_bid, batch)
        opening_s += time.perf_counter() - start
        cpu["opening"] += cpu_now() - c
        if not r % 2:
            base_s += baseline([blob_of[i] for i in batch])
    assert results.count("opened") == len(ids), results
    with transaction(factory) as s:
        op = opening_base.opening_of(s, tender.id)
        assert op is not None and op.status == "done" and op.record_sha256

    ours, base = mb / opening_s, mb / base_s
    print(
        f"[{name}] {len(ids)} bids, {mb:,.0f} MB sealed, both sides on the same {args.threads} threads "
        f"(AESGCM.decrypt holds the GIL, SHA-256 releases it; {os.cpu_count()} CPUs)"
    )
    print(
        f"[{name}]   opening (decrypt_bid: hash check, decrypt, content check, outcome recorded): "
        f"{opening_s:7.2f} s  {ours:8.1f} MB/s"
    )
    print(
        f"[{name}]   baseline (read + AES-256-GCM per {CHUNK // 1024} KiB chunk + "
        f"SHA-256):                      {base_s:7.2f} s  {base:8.1f} MB/s  (in {rounds} rounds, alternating "
        "with the opening's)"
    )
    print(f"[{name}]   ratio {ours / base:.2f} (aim >= 0.5)")
    print(
        f"[{name}]   CPU time of this process: opening {cpu['opening']:.2f} s, baseline "
        f"{cpu['baseline']:.2f} s (ratio {cpu['baseline'] / max(cpu['opening'], 1e-9):.2f}; the share of the "
        f"machine each side got: {cpu['opening'] / opening_s:.0%} and {cpu['baseline'] / base_s:.0%} of one "
        "CPU; PostgreSQL's own work is not counted)"
    )
    print(f"[{name}]   per bid, summed over threads: {timings.report(len(ids))}", flush=True)
    core_tasks.configure(replace(settings))  # drain the pool


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bids", type=int, default=200)
    parser.add_argument("--size", type=float, default=20.0, help="MiB of content per bid")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="opening and baseline alternate over this many batches of the bids",
    )
    args = parser.parse_args()
    content = random.Random(5).randbytes(int(args.size * 1024 * 1024))
    for name in args.backends.split(","):
        data_dir = Path(tempfile.mkdtemp(prefix=f"etender-bench-opening-{name}-"))
        try:
            if name == "sqlite":
                run_backend(name, f"sqlite:///{data_dir / 'bench.db'}", data_dir, args, content)
                continue
            dbname = f"etender_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(
                PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                isolation_level="AUTOCOMMIT",
            )
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{dbname}"'))
            try:
                base, _, _ = PG_ADMIN_URL.rpartition("/")
                run_backend(name, f"{base}/{dbname}", data_dir, args, content)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
                admin.dispose()
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
