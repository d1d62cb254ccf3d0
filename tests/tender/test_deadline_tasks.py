"""The deadline in deployment: with ETENDER_SCHEDULER_INTERVAL=0 and a broker the web process schedules
nothing, and a real `etender worker --beat` on Redis closes bidding at the deadline and starts the opening."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock, tasks
from core.settings import load_settings
from core.signing import signing_key
from storage import open_store
from tender.lifecycle import Status
from tender.models import Opening, OpeningStatus, Tender
from tests.factories.bids import submit_bid
from tests.factories.tenders import published_tender
from tests.support import missing_service

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"
QUEUE = f"etender-test-deadline-{uuid.uuid4().hex[:8]}"  # other runs share the broker: this run's own queue
LEAD = 3.0  # seconds from committing the deadline to the deadline
# `etender worker --beat` itself, on this run's queue (the only thing the command line cannot set)
WORKER = (
    "import sys; from core import tasks; tasks.app.conf.task_default_queue = sys.argv[1]; "
    "from cli.main import main; main(['worker', '--beat', '--concurrency', '1'])"
)


def _redis_or_skip() -> None:
    from kombu import Connection

    try:
        with Connection(REDIS_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as e:  # noqa: BLE001
        missing_service(f"no broker at {REDIS_URL} ({type(e).__name__}: {e})")


def _wait_for(what: str, ready, timeout: float, log: Path) -> None:  # type: ignore[no-untyped-def]
    until = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > until:
            pytest.fail(f"{what} within {timeout:.0f}s; the worker's log:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)


def _succeeded(log: Path, task: str) -> bool:
    return re.search(rf"Task {re.escape(task)}\[[^\]]+\] succeeded", log.read_text()) is not None


def test_a_beat_worker_closes_bidding_and_starts_the_opening_at_the_deadline(db, make, settings, monkeypatch):
    from litestar.testing import TestClient

    from web.app import create_app

    _redis_or_skip()
    env = {
        "ETENDER_DATA": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "ETENDER_BLOB_DIR": str(settings.blob_dir),
        "CELERY_BROKER_URL": REDIS_URL,
        "ETENDER_SCHEDULER_INTERVAL": "0",
        "ETENDER_DEMO": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    deployed = load_settings()  # the settings the web process and the worker both read
    assert deployed.scheduler_interval == 0 and deployed.broker_url == REDIS_URL
    blobs = open_store(deployed)
    w = published_tender(db, make, blobs)
    signer = signing_key(deployed.data_dir, deployed.origin)
    for bidder in (w.bidder, w.other_bidder, w.third_bidder):  # three sealed bids: the opening starts (R44)
        submit_bid(db, bidder, blobs, w.tender, w.lot1, signer)
    db.commit()
    tender_id = w.tender.id

    log = settings.data_dir / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, QUEUE],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with TestClient(app=create_app(deployed)) as client:
            assert client.get("/healthz").json()["status"] == "ok"
            # the web process runs no scheduler of its own: the worker with --beat is the only one
            assert not [t.name for t in threading.enumerate() if t.name.startswith("etender-periodic")]
            _wait_for(
                "the worker and its beat did not start",
                lambda: " ready." in (text := log.read_text()) and "beat: Starting" in text,
                90,
                log,
            )

            deadline = clock.now() + timedelta(seconds=LEAD)
            w.tender.bid_deadline = deadline
            db.commit()

            def status() -> str:
                try:
                    return db.scalar(select(Tender.status).where(Tender.id == tender_id)) or ""
                finally:
                    db.rollback()  # no transaction open between looks: on SQLite it would hold the writers

            while clock.now() < deadline - timedelta(seconds=0.3):
                assert status() == Status.published, "bidding closed before the deadline"
                time.sleep(0.2)
            # the worker's beat sends tender.close_bidding every DEADLINE_SECONDS; allow for a loaded machine
            _wait_for(
                "bidding did not close and the opening did not start",
                lambda: status() == Status.opening,
                LEAD + 2 * tasks.DEADLINE_SECONDS + 20,
                log,
            )

        closed = db.scalars(
            select(AuditEntry).where(
                AuditEntry.subject == f"tender:{tender_id}", AuditEntry.tag == "tender.bidding.closed"
            )
        ).one()
        assert clock.as_utc(closed.time) >= deadline
        opening = db.scalars(select(Opening).where(Opening.tender_id == tender_id)).one()
        assert opening.status == OpeningStatus.awaiting_parts and opening.bids_count == 3
        assert clock.as_utc(opening.opens_at) == deadline  # L34: the opening is at the deadline
        assert db.scalars(
            select(AuditEntry.tag).where(
                AuditEntry.subject == f"tender:{tender_id}", AuditEntry.tag == "tender.opening.started"
            )
        ).all()
        db.rollback()
        # the list runs on the worker, the draw tasks with the channel composed by `etender worker`
        for name in (
            "tender.close_bidding",
            "tender.start_openings",
            "evaluation.sweep_confirmations",
            "audit.sign_checkpoint",
        ):
            _wait_for(f"{name} did not run", partial(_succeeded, log, name), 2 * tasks.DEADLINE_SECONDS, log)
        assert "raised unexpected" not in log.read_text(), log.read_text()[-4000:]
    finally:
        worker.terminate()  # a warm shutdown: the worker stops its pool and its beat
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)  # the worker and the processes it started, nothing else
            worker.wait(10)
        tasks.configure(replace(deployed, broker_url=""))


def test_the_embedded_scheduler_runs_the_same_tasks_in_the_web_process(db, make, blobs, settings):
    from litestar.testing import TestClient

    from web.app import create_app

    embedded = replace(settings, scheduler_interval=0.5)  # no broker: the in-process scheduler
    w = published_tender(db, make, blobs)
    signer = signing_key(embedded.data_dir, embedded.origin)
    for bidder in (w.bidder, w.other_bidder, w.third_bidder):
        submit_bid(db, bidder, blobs, w.tender, w.lot1, signer)
    deadline = clock.now() + timedelta(seconds=1)
    w.tender.bid_deadline = deadline
    db.commit()
    tender_id = w.tender.id

    def status() -> str:
        try:
            return db.scalar(select(Tender.status).where(Tender.id == tender_id)) or ""
        finally:
            db.rollback()

    try:
        with TestClient(app=create_app(embedded)):
            running = {t.name for t in threading.enumerate() if t.name.startswith("etender-periodic:")}
            assert running == {f"etender-periodic:{name}" for name in tasks.beat_schedule(embedded)}
            until = time.monotonic() + 20
            while status() != Status.opening and time.monotonic() < until:
                time.sleep(0.1)
    finally:
        tasks.configure(replace(embedded, broker_url=""))
    assert status() == Status.opening
    opening = db.scalars(select(Opening).where(Opening.tender_id == tender_id)).one()
    assert clock.as_utc(opening.opens_at) == deadline
    db.rollback()
