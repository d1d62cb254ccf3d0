"""Sealed-bid intake figures (issue 3) on SQLite and on PostgreSQL, through the real app over loopback HTTP.

For each backend: the app is started as `etender serve` in a subprocess on a free loopback port, with a tender
of --lots lots seeded through the services (demo-like: an agency, a purchaser, three key holders with keys,
--clients bidder companies each registered for every lot, one login each). Then:

(a) a deadline burst: --bids sealed bids of --bid-kib KiB from --clients concurrent clients (threads, each
    with its own HTTP session, logged in), run twice: each bid in one request (POST
    .../lots/{lot}/bids/sealed, the path the browser takes for a file of at most one part), then each bid as
    the resumable upload of a large bid, 3 requests (begin -> one part -> complete). Each burst bids on its
    own lots, so no bid replaces another. Prints bids/s, p50/p99 latency per bid, and checks every receipt:
    its signature, and that its sha256/size match a stored, submitted Bid row and a blob in the store. Then,
    as the baseline of the same run, the same logged-in clients on a trivial JSON endpoint (req/s).
    --also-clients N adds a one-request burst from N clients (at most N x --lots bids), to tell the server's
    cost per bid from the cost of the concurrency on a loaded machine.
(b) one --big-mib MiB (default 1 GiB) sealed bid uploaded in parts of the server's part size (8 MiB): MB/s,
    and the server process's peak RSS growth (/proc/<pid>/status VmHWM after minus before the upload).
    Baselines in the same run: the same parts POSTed over loopback HTTP to a trivial sink server (reads and
    discards), and the same bytes written to disk (one fdatasync per part, as the store does).

    .venv/bin/python bench/bid_intake.py [--backends sqlite,postgresql] [--bids 2000] [--clients 64]
                                         [--big-mib 1024] [--also-clients 16] [--bursts whole,parts]
                                         [--workers N] [--client lean|httpx]

The web processes are as many as docs/deploy.md advises (one more than the cores). The one-request burst and
the baseline use a lean client by default (asyncio streams, one thread; --client httpx: httpx, a thread per
client): the clients share the machine with the server, and httpx's CPU per request is as large as the
server's.

Aims: >= 500 bids/s, p99 < 500 ms, none lost; >= 200 MB/s and < 100 MB memory growth for the large bid.
PostgreSQL is ETENDER_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a scratch database
is created and dropped. Only loopback addresses are used; every loop is bounded."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import httpx  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from accounts.models import Organisation, User, actor_for  # noqa: E402
from accounts.passwords import hash_password  # noqa: E402
from cli.database import upgrade_database  # noqa: E402
from core import clock, credit_code  # noqa: E402
from core.db import make_engine, make_sessionmaker  # noqa: E402
from core.signing import verifier_keys  # noqa: E402
from storage.local import LocalBlobStore  # noqa: E402
from tender import (  # noqa: E402
    drafting,  # noqa: E402
    keyholders,
    participation,
    receipts,
    sealing,
)
from tender.models import Bid, BidStatus  # noqa: E402

PG_ADMIN_URL = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench password 2026"
ORIGIN = "bench.etender/audit"
CRITERIA = {
    "qualification": ["Business licence"],
    "price": {"points": 40},
    "factors": [
        {"name": "Technical proposal", "points": 40, "kind": "subjective"},
        {"name": "Service", "points": 20, "kind": "objective"},
    ],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- seeding through the services


def seed(url: str, data: Path, clients: int, lots: int) -> dict[str, Any]:
    factory = make_sessionmaker(make_engine(url))
    blobs = LocalBlobStore(data / "blobs")
    pw = hash_password(PASSWORD)
    with factory() as s:

        def org(kind: str, name: str, n: int) -> Organisation:
            import random

            o = Organisation(
                credit_code=credit_code.generate(random.Random(n * 7919 + 17)), name=name, kind=kind
            )
            s.add(o)
            s.flush()
            return o

        def user(o: Organisation | None, role: str, name: str) -> User:
            u = User(
                username=name,
                full_name=name,
                organisation_id=o.id if o else None,
                roles=[role],
                password_hash=pw,
            )
            s.add(u)
            s.flush()
            return u

        agency_org, purchaser_org = org("agency", "Bench Agency", 1), org("purchaser", "Bench Purchaser", 2)
        supervisor_org, centre_org = (
            org("supervisor", "Bench Supervisor", 3),
            org("trading_centre", "Bench Centre", 4),
        )
        agency = user(agency_org, "agency", "bench-agency")
        holders = [
            agency,
            user(supervisor_org, "monitor", "bench-monitor"),
            user(centre_org, "centre", "bench-centre"),
        ]
        now = clock.now()
        data_in = drafting.TenderInput(
            title="Bench: school furniture",
            purchaser_id=purchaser_org.id,
            category="goods",
            evaluation_method="comprehensive",
            lots=[
                drafting.LotInput(f"Lot {i + 1}", 1_000_000_00, 1_050_000_00, 20_000_00) for i in range(lots)
            ],
            description="Bench tender",
            government_procurement=False,
            region="Bench",
            criteria=dict(CRITERIA),
            doc_issue_start=now,
            doc_issue_end=now + timedelta(days=10),
            bid_deadline=now + timedelta(days=25),
            opening_place="Room 1",
            key_holder_ids=[u.id for u in holders],
            key_threshold=2,
            contact_name="Ms Li",
            contact_phone="1",
        )
        a = actor_for(agency, "127.0.0.1")
        tender = drafting.create_tender(s, a, data_in)
        drafting.add_document(
            s,
            a,
            blobs,
            tender.id,
            drafting.FileInput("documents.pdf", [b"%PDF-1.7 bench" + b"x" * 200]),
            max_bytes=1 << 20,
        )
        keyholders.generate_keys_for(s, tender)
        drafting.publish(s, a, tender.id)
        s.flush()
        s.refresh(tender)
        lot_ids = [lot.id for lot in tender.lots]
        bidders = []
        for i in range(clients + 1):  # the last one uploads the large bid
            o = org("bidder", f"Bench Bidder {i:03d} Ltd", 100 + i)
            u = user(o, "bidder", f"bench-bidder-{i:03d}")
            ba = actor_for(u, "127.0.0.1")
            for lot_id in lot_ids:
                participation.register(s, ba, tender.id, lot_id, "Contact", "1")
            bidders.append(u.username)
        s.commit()
        bundle = keyholders.bundle_of(s, tender.id)
        assert bundle is not None
        return {"tender": tender.id, "lots": lot_ids, "bidders": bidders, "bundle": bundle}


def sealed(bundle: sealing.KeyBundle, lot_id: int, size: int) -> bytes:
    out = io.BytesIO()
    content = os.urandom(size)
    sealing.seal(
        bundle,
        lot_id,
        [sealing.BidFile("technical", "t.pdf", "application/pdf", len(content), io.BytesIO(content))],
        {"total_price_fen": 1_000_00, "duration_days": 30, "quality_commitment": "ok"},
        out,
    )
    return out.getvalue()


# ---------------------------------------------------------------- the server


class Server:
    def __init__(self, url: str, data: Path, workers: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            DATABASE_URL=url,
            ETENDER_DATA=str(data),
            PORT=str(self.port),
            ETENDER_DEMO="false",
            ETENDER_SCHEDULER_INTERVAL="0",
            ETENDER_ORIGIN=ORIGIN,
            ETENDER_BLOB_DIR=str(data / "blobs"),
        )
        self.proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/etender"),
                "serve",
                "--host",
                "127.0.0.1",
                "--workers",
                str(workers),
                "--no-demo",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        end = time.time() + 90
        while time.time() < end:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:  # noqa: S310 - loopback only
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            "the server did not start: " + (self.proc.stderr.read().decode() if self.proc.stderr else "")
        )

    def pids(self) -> list[int]:
        """The processes that answer requests: uvicorn's workers (children) or the single process itself."""
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            children = []
        return [int(c) for c in children] or [self.proc.pid]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes so far (/proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def login(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=120)
    c.get("/login")
    token = c.cookies.get("etender_csrf")
    r = c.post("/login", data={"username": username, "password": PASSWORD, "_csrf_token": token})
    if r.status_code not in (200, 303) or "etender_session" not in c.cookies:
        raise RuntimeError(f"login of {username} failed: HTTP {r.status_code}")
    c.headers["x-csrftoken"] = c.cookies.get("etender_csrf") or ""
    return c


def submit_whole(c: httpx.Client, tender: int, lot: int, data: bytes) -> dict[str, Any]:
    """A small sealed bid in one request (the browser's path for a file of at most one part)."""
    r = c.post(
        f"/api/v1/tenders/{tender}/lots/{lot}/bids/sealed",
        content=data,
        headers={"content-type": "application/octet-stream"},
    )
    if r.status_code != 201:
        raise RuntimeError(f"one-request submission: HTTP {r.status_code} {r.text[:300]}")
    return dict(r.json())


def submit(
    c: httpx.Client,
    tender: int,
    lot: int,
    data: bytes,
    part_size: int | None = None,
    source: Path | None = None,
) -> dict[str, Any]:
    r = c.post(
        f"/api/v1/tenders/{tender}/bids",
        json={"lot_id": lot, "size": len(data) if source is None else source.stat().st_size},
    )
    r.raise_for_status()
    started = r.json()
    bid, part = started["bid"], part_size or started["part_size"]
    if source is None:
        for n, start in enumerate(range(0, len(data), part), start=1):
            c.post(f"/api/v1/bids/{bid}/parts/{n}", content=data[start : start + part]).raise_for_status()
    else:
        with open(source, "rb") as f:
            n = 0
            while chunk := f.read(part):
                n += 1
                c.post(f"/api/v1/bids/{bid}/parts/{n}", content=chunk).raise_for_status()
    r = c.post(f"/api/v1/bids/{bid}/complete")
    if r.status_code != 200:
        raise RuntimeError(f"complete of bid {bid}: HTTP {r.status_code} {r.text[:300]}")
    return dict(r.json())


# ---------------------------------------------------------------- a lean load generator


class Lean:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, one connection per simulated bidder, all in
    one thread. httpx in 64 threads costs this 2-core machine about 1 ms of CPU per request, as much as the
    server's trivial request, and that CPU is taken from the server being measured; this costs a fraction of
    it. It sends what the browser's upload script sends: the logged-in client's cookies and CSRF header, the
    sealed file as the raw body. A response must carry a content-length (Litestar's JSON answers do)."""

    def __init__(self, port: int, client: httpx.Client):
        self.port = port
        cookies = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
        self.head = (
            f"host: 127.0.0.1:{port}\r\ncookie: {cookies}\r\nx-csrftoken: "
            f"{client.headers.get('x-csrftoken', '')}\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = "application/octet-stream"
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        extra = f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n" if method == "POST" else ""
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"{method} {path}: HTTP {status} without a content-length")
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def lean_run(port: int, clients: list[httpx.Client], work: Any) -> None:
    """work(lean_client, index) -> coroutine, for each client, all at once in one event loop."""

    async def main() -> None:
        leans = [Lean(port, c) for c in clients]
        try:
            await asyncio.gather(*(work(lean, i) for i, lean in enumerate(leans)))
        finally:
            for lean in leans:
                lean.close()

    asyncio.run(main())


# ---------------------------------------------------------------- (a) the deadline burst


def burst(
    server: Server,
    url: str,
    data: Path,
    seeded: dict[str, Any],
    args: argparse.Namespace,
    name: str,
    *,
    mode: str,
    n_clients: int,
    n_bids: int,
    lots: list[int],
    clients: list[httpx.Client],
) -> dict[str, Any]:
    """One burst: n_bids bids from the first n_clients clients, each on its own lots (no bid replaces
    another). mode "whole": one request per bid; "parts": begin -> one part -> complete."""
    clients = clients[:n_clients]
    jobs: list[list[tuple[int, bytes]]] = [[] for _ in clients]
    for i in range(n_bids):
        c = i % len(clients)
        jobs[c].append((lots[(i // len(clients)) % len(lots)], b""))
    t0 = time.perf_counter()
    for c, job in enumerate(jobs):
        jobs[c] = [(lot, sealed(seeded["bundle"], lot, args.bid_kib * 1024 - 2000)) for lot, _ in job]
    seal_s = time.perf_counter() - t0
    size = len(jobs[0][0][1])
    requests = 1 if mode == "whole" else 3
    label = f"{name}, {'1 request' if mode == 'whole' else '3 requests'} per bid, {len(clients)} clients" + (
        f" ({args.client})" if mode == "whole" else ""
    )
    print(
        f"[{label}] burst: {n_bids} sealed bids of {size:,} bytes ({len(lots)} lots) sealed in {seal_s:.1f}s"
    )
    latencies: list[float] = []
    docs: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()

    lean = mode == "whole" and args.client == "lean"

    async def run_lean(client: Lean, c: int) -> None:
        for lot, blob in jobs[c]:
            start = time.perf_counter()
            try:
                status, answer = await client.request(
                    "POST", f"/api/v1/tenders/{seeded['tender']}/lots/{lot}/bids/sealed", blob
                )
                if status != 201:
                    raise RuntimeError(f"one-request submission: HTTP {status} {answer[:300]!r}")
                doc = json.loads(answer)
            except Exception as e:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(e).__name__}: {e}"[:200])
                client.close()
                continue
            latencies.append(time.perf_counter() - start)
            docs.append(doc)

    def run(c: int) -> None:
        for lot, blob in jobs[c]:
            start = time.perf_counter()
            try:
                if mode == "whole":
                    doc = submit_whole(clients[c], seeded["tender"], lot, blob)
                else:
                    doc = submit(clients[c], seeded["tender"], lot, blob)
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - start)
                docs.append(doc)

    # Sealing takes seconds: a client's keep-alive connection idle for longer than the server's keep-alive
    # timeout (uvicorn: 5 s) is closed by the server, and the burst's first POST on it fails with a connection
    # reset (the request never reaches the app). Use every connection once just before the burst, as a
    # browser's page would.
    for c in clients:
        c.get("/healthz")
    load_before = os.getloadavg()[0]
    pids = server.pids()
    cpu_before, own_before = cpu_seconds(pids), time.process_time()
    barrier_start = time.perf_counter()
    if lean:
        lean_run(server.port, clients, run_lean)
    else:
        with ThreadPoolExecutor(len(clients)) as pool:
            list(pool.map(run, range(len(clients))))
    elapsed = time.perf_counter() - barrier_start
    server_cpu, client_cpu = cpu_seconds(pids) - cpu_before, time.process_time() - own_before
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000 if lat else 0.0
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
    rate = len(docs) / elapsed
    print(
        f"[{label}] burst: {len(docs)} bids in {elapsed:.2f}s = {rate:.1f} bids/s ({rate * requests:.0f} "
        f"req/s); per bid p50 {p50:.1f} ms, p99 {p99:.1f} ms; {len(errors)} "
        f"errors{(': ' + errors[0]) if errors else ''}; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    print(
        f"[{label}] burst: CPU per bid: server {server_cpu / max(1, len(docs)) * 1000:.1f} ms (its "
        f"{len(pids)} processes), the clients (this process) {client_cpu / max(1, len(docs)) * 1000:.1f} ms; "
        f"{os.cpu_count()} cores"
    )
    # every receipt: signed by the platform, and matching a stored, counted Bid row and a blob
    keys = verifier_keys(data, ORIGIN)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    blobs = LocalBlobStore(data / "blobs")
    bad = 0
    with factory() as s:
        rows = {
            b.id: b
            for b in s.scalars(select(Bid).where(Bid.tender_id == seeded["tender"], Bid.lot_id.in_(lots)))
        }
    engine.dispose()
    for doc in docs:
        body = receipts.verify_receipt(doc, keys)
        row = rows.get(body["bid"])
        if (
            row is None
            or row.status != BidStatus.submitted
            or row.blob_key != body["sha256"]
            or row.size != body["size"]
            or not blobs.exists(body["sha256"])
        ):
            bad += 1
    submitted = sum(1 for r in rows.values() if r.status == BidStatus.submitted)
    lost = n_bids - len(docs)
    print(
        f"[{label}] burst: receipts checked {len(docs)}: {len(docs) - bad} match a submitted Bid row and a "
        f"stored blob, {bad} do not; {submitted} submitted Bid rows on these lots; {lost} bids lost or "
        "refused"
    )
    verdict = "meets" if rate >= 500 and p99 < 500 and lost == 0 and bad == 0 else "MISSES"
    print(f"[{label}] burst: aim >= 500 bids/s, p99 < 500 ms, none lost: {verdict}")
    return {"label": label, "rate": rate, "requests": requests}


def trivial_baseline(
    server: Server, clients: list[httpx.Client], per_client: int, *, lean: bool
) -> tuple[float, float, float]:
    """The same logged-in clients on a trivial JSON endpoint: req/s, and the server's and the clients' CPU per
    request."""
    count = [0]
    lock = threading.Lock()

    def trivial(c: int) -> None:
        for _ in range(per_client):
            clients[c].get("/api/v1/audit/key").raise_for_status()
            with lock:
                count[0] += 1

    async def trivial_lean(client: Lean, c: int) -> None:
        for _ in range(per_client):
            status, _answer = await client.request("GET", "/api/v1/audit/key")
            if status != 200:
                raise RuntimeError(f"GET /api/v1/audit/key: HTTP {status}")
            count[0] += 1

    pids = server.pids()
    cpu_before, own_before = cpu_seconds(pids), time.process_time()
    t0 = time.perf_counter()
    if lean:
        lean_run(server.port, clients, trivial_lean)
    else:
        with ThreadPoolExecutor(len(clients)) as pool:
            list(pool.map(trivial, range(len(clients))))
    n = max(1, count[0])
    return (
        count[0] / (time.perf_counter() - t0),
        (cpu_seconds(pids) - cpu_before) / n,
        (time.process_time() - own_before) / n,
    )


def bursts(
    server: Server, url: str, data: Path, seeded: dict[str, Any], args: argparse.Namespace, name: str
) -> None:
    clients = [login(server.base, u) for u in seeded["bidders"][: max(args.clients, args.also_clients)]]
    per = args.lots
    slices = [seeded["lots"][i * per : (i + 1) * per] for i in range(len(seeded["lots"]) // per)]
    results = []
    modes = [m for m in args.bursts.split(",") if m]
    for k, mode in enumerate(modes):
        results.append(
            burst(
                server,
                url,
                data,
                seeded,
                args,
                name,
                mode=mode,
                n_clients=args.clients,
                n_bids=args.bids,
                lots=slices[k],
                clients=clients,
            )
        )
    if args.also_clients:
        n = min(args.bids, args.also_clients * per)
        results.append(
            burst(
                server,
                url,
                data,
                seeded,
                args,
                name,
                mode="whole",
                n_clients=args.also_clients,
                n_bids=n,
                lots=slices[len(modes)],
                clients=clients,
            )
        )
    load_before = os.getloadavg()[0]
    rps, server_cpu, client_cpu = trivial_baseline(
        server, clients[: args.clients], max(1, 3 * args.bids // args.clients), lean=args.client == "lean"
    )
    print(
        f"[{name}] baseline: the same {args.clients} logged-in clients ({args.client}) on a trivial JSON "
        f"endpoint (GET /api/v1/audit/key): {rps:.0f} req/s; CPU per request: server {server_cpu * 1000:.1f} "
        f"ms, clients {client_cpu * 1000:.1f} ms (load average {load_before:.1f} before)"
    )
    for r in results:
        ceiling = rps / r["requests"]
        print(
            f"[{name}] baseline: {r['label']}: at most {ceiling:.0f} bids/s at the trivial request rate; the "
            f"burst reached {r['rate'] / ceiling:.2f} of that"
        )
    for client in clients:
        client.close()


# ---------------------------------------------------------------- (b) one large bid


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - the http.server interface
        left = int(self.headers.get("content-length", "0"))
        while left > 0:
            got = self.rfile.read(min(left, 1 << 20))
            if not got:
                break
            left -= len(got)
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def baseline_http(source: Path, part: int) -> float:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{server.server_address[1]}", timeout=120) as c,
            open(source, "rb") as f,
        ):
            t0 = time.perf_counter()
            n = 0
            while chunk := f.read(part):
                n += 1
                c.post(f"/sink/{n}", content=chunk).raise_for_status()
            return source.stat().st_size / (time.perf_counter() - t0) / 1e6
    finally:
        server.shutdown()


def baseline_disk(source: Path, target: Path, part: int) -> float:
    t0 = time.perf_counter()
    with open(source, "rb") as f, open(target, "wb") as out:
        while chunk := f.read(part):
            out.write(chunk)
            out.flush()
            os.fdatasync(out.fileno())
    rate = source.stat().st_size / (time.perf_counter() - t0) / 1e6
    target.unlink()
    return rate


def big_bid(server: Server, data: Path, seeded: dict[str, Any], args: argparse.Namespace, name: str) -> None:
    source = data / "big.sealed"
    t0 = time.perf_counter()
    content_size = (
        args.big_mib * 1024 * 1024 - 64 * 1024
    )  # the sealed file comes out just under --big-mib MiB

    class Random:  # the plaintext streamed into seal(), never held whole
        def __init__(self, n: int):
            self.left = n
            self.block = os.urandom(1 << 20)

        def read(self, size: int = -1) -> bytes:
            size = self.left if size < 0 else min(size, self.left)
            self.left -= size
            return (self.block * (size // len(self.block) + 1))[:size]

    with open(source, "wb") as out:
        sealing.seal(
            seeded["bundle"],
            seeded["lots"][0],
            [
                sealing.BidFile(
                    "technical", "big.bin", "application/octet-stream", content_size, Random(content_size)
                )
            ],
            {"total_price_fen": 1, "duration_days": 1, "quality_commitment": "ok"},
            out,
        )  # type: ignore[arg-type]
    size = source.stat().st_size
    digest = hashlib.sha256()
    with open(source, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    print(f"[{name}] large bid: sealed {size / 1e6:,.0f} MB in {time.perf_counter() - t0:.1f}s")
    c = login(server.base, seeded["bidders"][-1])
    part = 8 * 1024 * 1024
    c.get("/api/v1/audit/key")  # warm up
    pids = server.pids()
    for (
        pid
    ) in pids:  # reset the peak (VmHWM) to the current RSS, so that the burst's peak does not hide this one
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = {pid: status_kib(pid, "VmRSS") for pid in pids}
    sampled = dict(before)
    done = threading.Event()

    def sample() -> None:  # VmRSS every 20 ms as well, where clear_refs is not allowed
        while not done.wait(0.02):
            for pid in pids:
                sampled[pid] = max(sampled[pid], status_kib(pid, "VmRSS"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    doc = submit(c, seeded["tender"], seeded["lots"][0], b"", part_size=part, source=source)
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = {pid: max(status_kib(pid, "VmHWM"), sampled[pid]) for pid in pids}
    c.close()
    growth = max(after[p] - before[p] for p in pids) / 1024
    body = doc["receipt"]
    ok = body["sha256"] == digest.hexdigest() and body["size"] == size
    rate = size / elapsed / 1e6
    print(
        f"[{name}] large bid: {size / 1e6:,.0f} MB in {part >> 20} MiB parts in {elapsed:.2f}s = {rate:.0f} "
        "MB/s (begin, parts and complete with SHA-256 and the E26 check); receipt "
        f"{'matches' if ok else 'DOES NOT MATCH'} the file"
    )
    print(
        f"[{name}] large bid: server peak RSS growth {growth:.1f} MB (peak RSS during the upload - RSS "
        f"before it, worst of {len(pids)} process(es); RSS before {max(before.values()) / 1024:.0f} MB)"
    )
    http = baseline_http(source, part)
    disk = baseline_disk(source, data / "disk-baseline.bin", part)
    print(
        f"[{name}] large bid: baselines: loopback HTTP POST of the same parts to a trivial sink {http:.0f} "
        f"MB/s (upload = {rate / http:.2f} x); writing the same bytes to disk with fdatasync per part "
        f"{disk:.0f} MB/s (upload = {rate / disk:.2f} x)"
    )
    verdict = "meets" if rate >= 200 and growth < 100 and ok else "MISSES"
    print(f"[{name}] large bid: aim >= 200 MB/s and < 100 MB growth: {verdict}")
    source.unlink()


# ---------------------------------------------------------------- main


def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix=f"bench-bids-{name}-"))
    try:
        upgrade_database(url)
        t0 = time.time()
        n_slices = len([m for m in args.bursts.split(",") if m]) + (1 if args.also_clients else 0)
        seeded = seed(url, data, max(args.clients, args.also_clients), args.lots * max(1, n_slices))
        print(
            f"[{name}] seeded a tender with {len(seeded['lots'])} lots and {len(seeded['bidders'])} "
            f"registered bidder companies in {time.time() - t0:.1f}s"
        )
        server = Server(url, data, args.workers)
        try:
            if args.bids:
                bursts(server, url, data, seeded, args, name)
            if args.big_mib:
                big_bid(server, data, seeded, args, name)
        finally:
            server.stop()
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--bids", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--lots", type=int, default=32)
    parser.add_argument("--bid-kib", type=int, default=16)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument(
        "--workers",
        type=int,
        default=(os.cpu_count() or 1) + 1,
        help="web processes: as docs/deploy.md advises, one more than the cores",
    )
    parser.add_argument(
        "--client",
        choices=["lean", "httpx"],
        default="lean",
        help=(
            "the one-request burst's and the baseline's clients: asyncio streams in one thread (lean), or "
            "httpx in a thread each"
        ),
    )
    parser.add_argument(
        "--bursts",
        default="whole,parts",
        help="whole (1 request per bid) and/or parts (begin, part, complete)",
    )
    parser.add_argument(
        "--also-clients", type=int, default=0, help="a further one-request burst from this many clients"
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.workers} web processes; clients in this process")
    if "sqlite" in args.backends:
        tmp = Path(tempfile.mkdtemp(prefix="bench-bids-db-"))
        try:
            run_backend("sqlite", f"sqlite:///{tmp / 'bench.db'}", args)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if "postgresql" in args.backends:
        db_name = f"etender_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(
            PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        try:
            run_backend("postgresql", PG_ADMIN_URL.rpartition("/")[0] + "/" + db_name, args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
