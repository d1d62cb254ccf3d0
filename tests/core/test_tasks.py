"""The task runner: tasks leave only after commit, run in-process on background threads by default, and on
real Celery workers through Redis or RabbitMQ."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from core import tasks
from core.settings import Settings
from storage.base import UploadNotFound
from storage.local import LocalBlobStore
from storage.tasks import sweep_uploads
from tests.support import missing_service

REDIS_URL = "redis://127.0.0.1:6379/15"
RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672//"
QUEUE = f"etender-test-{uuid.uuid4().hex[:8]}"  # other test runs may share the brokers

seen: list[tuple[str, int]] = []
gate = threading.Event()


@tasks.app.task(name="tests.record")
def record(label: str, n: int) -> None:
    seen.append((label, n))


@tasks.app.task(name="tests.wait_for_gate")
def wait_for_gate(n: int) -> None:
    assert gate.wait(10), "gate never opened"
    seen.append(("gate", n))


@tasks.app.task(name="tests.fail")
def fail(n: int) -> None:
    raise RuntimeError(f"task {n} failed on purpose")


@pytest.fixture
def task_settings(tmp_path) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'tasks.db'}",
        blob_dir=tmp_path / "blobs",
        upload_expiry_seconds=0,
        task_threads=2,
    )
    tasks.configure(settings)
    seen.clear()
    gate.clear()
    yield settings
    gate.set()
    assert tasks.drain(10)
    tasks.configure(replace(settings, broker_url=""))


def abandoned_upload(settings: Settings) -> tuple[LocalBlobStore, str]:
    store = LocalBlobStore(settings.blob_dir)
    upload = store.begin_upload()
    store.write_part(upload, 1, [b"abandoned half of a bid"])
    return store, upload


def test_in_process_task_runs_only_after_commit(task_settings, factory):
    store, upload = abandoned_upload(task_settings)
    with factory() as session:
        tasks.enqueue(session, sweep_uploads)
        tasks.enqueue(session, record, "after commit", 1)
        session.flush()
        assert tasks.drain(5)
        assert seen == [] and store.parts(upload)  # nothing left before the commit
        session.commit()
    assert tasks.drain(10)
    assert seen == [("after commit", 1)]
    with pytest.raises(UploadNotFound):
        store.parts(upload)
    # the sweep is safe to run twice: the second run finds nothing to do
    assert sweep_uploads() == 0


def test_rolled_back_work_sends_nothing(task_settings, factory):
    with factory() as session:
        tasks.enqueue(session, record, "rolled back", 1)
        session.rollback()
        session.commit()  # a later commit on the same session does not resurrect it
    with factory() as session:
        tasks.enqueue(session, record, "closed without commit", 2)
    with factory() as session:
        session.commit()
    assert tasks.drain(5)
    assert seen == []


def test_savepoints(task_settings, factory):
    with factory() as session:
        tasks.enqueue(session, record, "outer", 1)
        with session.begin_nested():
            tasks.enqueue(session, record, "released savepoint", 2)
        nested = session.begin_nested()
        tasks.enqueue(session, record, "rolled back savepoint", 3)
        nested.rollback()
        assert tasks.drain(5) and seen == []
        session.commit()
    assert tasks.drain(10)
    assert sorted(seen) == [("outer", 1), ("released savepoint", 2)]


def test_a_long_task_does_not_hold_up_the_commit(task_settings, factory):
    with factory() as session:
        tasks.enqueue(session, wait_for_gate, 1)
        started = time.monotonic()
        session.commit()
        assert time.monotonic() - started < 2
    assert not tasks.drain(0.2)  # still running in the background
    assert seen == []
    gate.set()
    assert tasks.drain(10)
    assert seen == [("gate", 1)]


def test_a_failing_task_is_logged_and_the_commit_stands(task_settings, factory, caplog):
    with caplog.at_level(logging.ERROR, logger="core.tasks"), factory() as session:
        tasks.enqueue(session, fail, 7)
        tasks.enqueue(session, record, "next", 8)
        session.commit()
        assert tasks.drain(10)
    assert seen == [("next", 8)]
    assert "task tests.fail failed" in caplog.text and "task 7 failed on purpose" in caplog.text


def test_unconfigured_process_says_what_to_do():
    saved = tasks._settings
    tasks._settings = None
    try:
        with pytest.raises(RuntimeError, match="configure"):
            tasks.settings()
    finally:
        tasks._settings = saved


def _reachable(url: str) -> None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as e:  # noqa: BLE001
        missing_service(f"no broker at {url} ({type(e).__name__}: {e})")


@pytest.mark.parametrize("broker", [REDIS_URL, RABBIT_URL], ids=["redis", "rabbitmq"])
def test_real_worker_runs_tasks_sent_after_commit(task_settings, tmp_path, broker, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from core.db import make_engine, make_sessionmaker

    _reachable(broker)
    # this test is about the broker: one database backend is enough (the after-commit hook is tested above on
    # both)
    factory = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'broker.db'}"))
    settings = replace(task_settings, broker_url=broker)
    tasks.configure(settings)
    assert not tasks.in_process()
    store, upload = abandoned_upload(settings)
    # the router caches its queues once it has sent a task, so one queue name serves the whole run
    tasks.app.conf.task_default_queue = QUEUE
    # no AMQP heartbeats in the embedded test worker: with them its shutdown waits ten seconds for a beat
    monkeypatch.setitem(tasks.app.conf, "broker_heartbeat", 0)
    with start_worker(tasks.app, pool="solo", perform_ping_check=False, queues=[QUEUE], shutdown_timeout=30):
        with factory() as session:
            tasks.enqueue(session, record, "rolled back", 1)
            session.rollback()
            tasks.enqueue(session, sweep_uploads)
            tasks.enqueue(session, record, "worker", 2)
            time.sleep(0.5)
            assert seen == []  # not sent before the commit
            session.commit()
        deadline = time.monotonic() + 20
        while ("worker", 2) not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
    assert seen == [("worker", 2)]
    with pytest.raises(UploadNotFound):
        store.parts(upload)


def test_periodic_tasks_run_in_process_at_start_and_stop(task_settings):
    store, upload = abandoned_upload(task_settings)
    stop = tasks.start_periodic(["storage.tasks"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                store.parts(upload)
            except UploadNotFound:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the periodic sweep did not run at start")
    finally:
        stop()
    assert any(task.name == "storage.sweep_uploads" for _, task in tasks._periodic)
    beat = tasks.beat_schedule(task_settings, ["storage.tasks"])  # for `worker --beat`
    assert beat["storage.sweep_uploads"]["schedule"] == 3600.0


def test_periodic_tasks_are_left_to_beat_with_a_broker(task_settings):
    tasks.configure(replace(task_settings, broker_url=REDIS_URL))
    store, upload = abandoned_upload(task_settings)
    stop = tasks.start_periodic(["storage.tasks"])
    stop()
    assert store.parts(upload)  # nothing ran here


PERIODS = {  # the one list, with each task's period under ETENDER_SCHEDULER_INTERVAL=1
    "storage.sweep_uploads": 3600.0,
    "audit.sign_checkpoint": 2.0,
    "audit.fold_refusals": 60.0,
    "tender.close_bidding": 1.0,
    "tender.start_openings": 1.0,
    "tender.sweep_openings": 1.0,
    "evaluation.sweep_confirmations": 1.0,
    "evaluation.publish_draw_records": 1.0,
    "evaluation.sweep_report_deadlines": 1.0,
    "opendata.sync_releases": 30.0,  # issue 14: the OCDS releases of what has become public
    # issue 15: the marketplace's qualification reminders, exits and directory recomputation, hourly
    "marketplace.sweep_qualifications": 3600.0,
    "marketplace.sweep_exits": 3600.0,
    "marketplace.recompute_directory": 3600.0,
}


def test_the_in_process_scheduler_and_beat_run_the_same_list(db, settings):
    from accounts.notifications import LogChannel
    from evaluation.committee import tasks as committee_tasks

    embedded = replace(settings, scheduler_interval=1.0)
    beat = tasks.beat_schedule(embedded)
    assert {name: entry["schedule"] for name, entry in beat.items()} == PERIODS
    assert all(entry["task"] == name for name, entry in beat.items())
    assert {task.name: seconds for seconds, task in tasks.schedule(embedded)} == PERIODS
    # ETENDER_SCHEDULER_INTERVAL=0 on the beat worker: the deadline tasks every DEADLINE_SECONDS
    idle = tasks.beat_schedule(replace(settings, scheduler_interval=0))
    assert idle["tender.close_bidding"]["schedule"] == tasks.DEADLINE_SECONDS
    assert idle.keys() == beat.keys()

    tasks.configure(embedded)
    committee_tasks.use_channel(LogChannel())
    stop = tasks.start_periodic()
    try:
        running = {
            t.name.removeprefix("etender-periodic:")
            for t in threading.enumerate()
            if t.name.startswith("etender-periodic:")
        }
    finally:
        stop()
        tasks.configure(replace(embedded, broker_url=""))
    assert running == beat.keys()  # one thread per task of the same list
    assert not [t for t in threading.enumerate() if t.name.startswith("etender-periodic:")]


def test_no_scheduler_runs_in_process_with_the_interval_at_zero(task_settings):
    store, upload = abandoned_upload(task_settings)
    tasks.configure(replace(task_settings, scheduler_interval=0))
    stop = tasks.start_periodic(["storage.tasks"])
    stop()
    assert store.parts(upload)  # nothing ran here


def test_worker_command_needs_a_broker(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli.main import main

    monkeypatch.setenv("ETENDER_DATA", str(tmp_path))
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code != 0
    assert "CELERY_BROKER_URL is not set" in result.output
