"""The deployed shape rehearsed (issue 17, docs/deploy.md): PostgreSQL, moto's S3 server, Redis, two web
processes, a beat worker and a plain worker, each its own process (tests/factories/deployment.py). A burst of
sealed bids goes to both web processes while one of them is killed; the deadline passes and the beat worker
closes bidding; two key holders give their parts and a worker is killed mid-decryption. Then: every receipt
has its stored bid and blob, no bid is stored without a receipt, nothing came in after the deadline, every
bid is opened exactly once, the record is published, and every receipt and checkpoint verifies under the one
key the platform publishes."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text, update

from audit.log import AuditEntry
from audit.remote import http_fetch, server_keys
from cli.database import upgrade_database
from core import clock, tasks
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from storage.s3 import S3BlobStore
from tender.models import Bid, OpenedBid, Opening, Tender
from tender.opening import parts as opening_parts
from tender.receipts import verify_receipt
from tests.conftest import PG_ADMIN_URL, _pg_url, _sa
from tests.factories.accounts import TEST_PASSWORD, Maker, cast
from tests.factories.bids import ensure_registered, header_doc_parts, sealed_bid
from tests.factories.deployment import ETENDER, Bidder, deployed, shape_env
from tests.factories.storage import s3_client
from tests.factories.tenders import publish_new
from tests.support import missing_service

BIDS = 24  # uploads in the burst, spread over three companies (later ones replace earlier ones)
REDIS_DB = 7  # sessions here, the broker in the next one


@pytest.fixture
def pg_database() -> Iterator[str]:
    name = f"etender_rehearsal_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_sa(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001
        admin.dispose()
        missing_service(f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({type(e).__name__})")
    try:
        url = _pg_url(name)
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _redis_up() -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", 6379)) == 0


def test_the_deployed_shape_keeps_every_promise(tmp_path: Path, pg_database: str, s3_endpoint: str):
    if not _redis_up():
        missing_service("Redis is not running on 127.0.0.1:6379")
    import redis

    for n in (REDIS_DB, REDIS_DB + 1):  # nothing left from an earlier run
        redis.Redis.from_url(f"redis://127.0.0.1:6379/{n}").flushdb()
    env = shape_env(tmp_path, pg_database, s3_endpoint, REDIS_DB)
    store = S3BlobStore(s3_client(s3_endpoint), env["S3_BUCKET"])
    engine = make_engine(pg_database)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        w = cast(s, Maker(s))
        tender = publish_new(w, store)
        lot_id = tender.lots[0].id
        tender_id = tender.id
        companies = [w.bidder, w.other_bidder, w.third_bidder]
        for actor in companies:
            ensure_registered(s, actor, tender_id, lot_id)
        users = [w.bidder_user.username, w.other_bidder_user.username, w.third_bidder_user.username]
        holder_keys = w.holder_keys
        holders = [(w.agency, w.agency_user.id), (w.monitor, w.monitor_user.id)]
        sealed = [sealed_bid(s, tender_id, lot_id, content=b"%PDF bid " + bytes([i])) for i in range(BIDS)]
    # the web processes' tasks go to the broker; this process sends the key holders' tasks there too
    settings = Settings(
        data_dir=tmp_path / "test",
        database_url=pg_database,
        blob_dir=tmp_path / "test" / "blobs",
        broker_url=env["CELERY_BROKER_URL"],
    )
    tasks.configure(settings)
    try:
        with deployed(tmp_path, env) as shape:
            # the deadline a few seconds after the burst (set straight in the database: the rules' 20 days
            # are not what is rehearsed)
            deadline = clock.now() + timedelta(seconds=20)
            with transaction(factory) as s:
                s.execute(update(Tender).where(Tender.id == tender_id).values(bid_deadline=deadline))
            browsers = [Bidder(shape.web["web1"], u, TEST_PASSWORD) for u in users]
            receipts: list[dict] = []
            killed = {"at": None}

            def send(i: int) -> dict:
                if i == BIDS // 2 and killed["at"] is None:
                    killed["at"] = i
                    shape.kill("web1")  # mid-burst: its requests in flight fail, the balancer retries
                for attempt in range(5):
                    base = shape.web.get("web1" if i % 2 else "web2") or shape.web["web2"]
                    try:
                        return browsers[i % 3].submit(base, tender_id, lot_id, sealed[i])
                    except httpx.TransportError:
                        time.sleep(0.2 * (attempt + 1))
                raise AssertionError(f"bid {i} never got a receipt")

            with ThreadPoolExecutor(4) as pool:
                receipts = list(pool.map(send, range(BIDS)))
            assert killed["at"] is not None and "web1" not in shape.web

            # bidding closes by the beat worker's schedule, not by anything this test does
            op = _wait(lambda: _opening(factory, tender_id), timeout=deadline_wait(deadline))
            for actor, uid in holders:
                with transaction(factory) as s:
                    counted = list(s.scalars(select(Bid).join(OpenedBid, OpenedBid.bid_id == Bid.id)))
                    docs = header_doc_parts(s, store, s.get(Tender, tender_id), holder_keys[uid], counted)
                    opening_parts.submit_parts(s, actor, store, tender_id, {"bids": docs})
            time.sleep(0.3)
            shape.kill("worker")  # mid-decryption: the beat worker is left, and the sweep
            started = time.monotonic()
            done = _wait(lambda: _done(factory, op), timeout=120)
            assert done, shape.log("beat")[-3000:]
            taken_up = time.monotonic() - started

            with factory() as s:
                bids = list(s.scalars(select(Bid).where(Bid.tender_id == tender_id)))
                by_id = {b.id: b for b in bids}
                for r in receipts:  # every receipt has its stored bid and blob
                    bid = by_id[r["bid"]]
                    assert bid.status in ("submitted", "replaced") and bid.blob_key == r["receipt"]["sha256"]
                    assert store.exists(bid.blob_key)
                stored = [b for b in bids if b.status in ("submitted", "replaced")]
                assert all(b.receipt_signature for b in stored)  # no bid stored without its receipt
                assert {b.id for b in stored} >= {r["bid"] for r in receipts}
                counted = [b for b in bids if b.status == "submitted"]
                assert len(counted) == 3  # one per company: the newest of each
                opened = list(s.scalars(select(OpenedBid).where(OpenedBid.opening_id == op)))
                assert sorted(o.bid_id for o in opened) == sorted(b.id for b in counted)
                assert {o.status for o in opened} == {"opened"}
                decrypted = s.scalar(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(AuditEntry.tag == "tender.opening.bid.decrypted")
                )
                assert decrypted == len(opened)  # each opened exactly once
                opening = s.get(Opening, op)
                assert opening is not None and opening.status == "done" and opening.record_sha256

            keys = server_keys(http_fetch(shape.web["web2"]))  # the one key the platform publishes
            for r in receipts:
                verify_receipt(r, keys)
            verified = subprocess.run(
                [ETENDER, "audit", "verify", "--url", shape.web["web2"]],
                capture_output=True,
                text=True,
                check=False,
                env=env,
                timeout=120,
            )
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert taken_up < 60, taken_up
            print(  # the figures, for a reader of `pytest -s` (bench/deployed.py measures them properly)
                f"rehearsal: {len(receipts)} receipts, web1 killed at upload {killed['at']}, "
                f"{len(opened)} bids opened {taken_up:.1f} s after a worker was killed mid-decryption"
            )
    finally:
        tasks.configure(replace(settings, broker_url=""))
        engine.dispose()


def deadline_wait(deadline) -> float:  # type: ignore[no-untyped-def]
    return max(0.0, (deadline - clock.now()).total_seconds()) + 30


def _opening(factory, tender_id: int) -> int | None:  # type: ignore[no-untyped-def]
    with factory() as s:
        return s.scalar(select(Opening.id).where(Opening.tender_id == tender_id))


def _done(factory, opening_id: int) -> bool:  # type: ignore[no-untyped-def]
    with factory() as s:
        return s.scalar(select(Opening.status).where(Opening.id == opening_id)) == "done"


def _wait(check, timeout: float):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError("timed out waiting")
