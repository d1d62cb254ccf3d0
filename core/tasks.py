"""Background tasks: Celery workers in deployment, a thread pool in this process by default.

With CELERY_BROKER_URL set (Redis or RabbitMQ) a task goes to the broker and a worker (`etender worker`) runs it.
Without it the task runs here on a small pool of background threads, so a long task never holds up the
request that asked for it.

A task is sent only AFTER the transaction that asked for it commits (Warehouse's pattern): `enqueue(session,
task, ids...)` records it on the session; the session's after_commit hook sends it; a rollback forgets it. So a
worker never looks for a row that is not committed yet, and a failed request starts nothing.

Writing a task: define it in the feature package's `tasks.py` with `@app.task(name="package.what")`. It takes
ids (never objects), opens its own unit of work with `with unit_of_work() as session:`, and must be safe to
run twice: workers acknowledge a task only after it finished (acks_late), so a worker that dies midway means
the task runs again elsewhere; in-process mode has no retry, so anything that must happen is also picked up
by a sweep.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from contextlib import contextmanager
from typing import Any

from celery import Celery, Task
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from core import db as dbmod
from core.settings import Settings

log = logging.getLogger(__name__)

app = Celery("etender", set_as_current=False)

# The feature packages' task modules, named (not imported: core is below them) for the worker and the scheduler.
TASK_MODULES = ["storage.tasks", "tender.tasks"]
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,  # a task interrupted by a dying worker is delivered again: tasks are idempotent
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # long tasks (decrypting a 2 GiB bid) should not queue behind each other
    task_ignore_result=True,  # tasks write their outcome to the database; nothing waits on a result
    broker_connection_retry_on_startup=True,
    timezone="UTC",
)

_PENDING = "etender.tasks.pending"
_lock = threading.Lock()
_settings: Settings | None = None
_factory: sessionmaker[Session] | None = None
_executor: ThreadPoolExecutor | None = None
_running: set[Future[Any]] = set()
_periodic: list[tuple[float, Task]] = []


def configure(settings: Settings) -> None:
    """Point the task runner at these settings (web processes, workers and tests call it at start)."""
    global _settings, _factory, _executor
    with _lock:
        drain_executor, _executor = _executor, None
        old_factory, _factory = _factory, None
        _settings = settings
        app.close()  # drop connections to a previous broker
        # Celery keeps its producer pool and queue routes on `app.amqp`, built once; a process configured
        # again (tests switch brokers) must rebuild them or it keeps sending to the first broker.
        app.__dict__.pop("amqp", None)
        app.conf.broker_url = settings.broker_url or "memory://"
    if drain_executor is not None:
        drain_executor.shutdown(wait=True)
    if old_factory is not None and old_factory.kw.get("bind") is not None:
        old_factory.kw["bind"].dispose()


def settings() -> Settings:
    if _settings is None:
        raise RuntimeError("core.tasks.configure(settings) was not called in this process")
    return _settings


def in_process() -> bool:
    return not settings().broker_url


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A task's own transaction (committed when the block ends, rolled back on error)."""
    global _factory
    with _lock:
        if _factory is None:
            _factory = dbmod.make_sessionmaker(dbmod.make_engine(settings().database_url))
        factory = _factory
    with dbmod.transaction(factory) as session:
        yield session


def enqueue(session: Session, task: Task, *args: Any, **kwargs: Any) -> None:
    """Send `task(*args, **kwargs)` once the session's transaction commits; forget it if it rolls back."""
    tx = session.get_nested_transaction() or session.get_transaction()
    if tx is None:
        tx = session.begin()
    session.info.setdefault(_PENDING, []).append((tx, task, args, kwargs))


def send(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send a task now, outside any transaction (commands, periodic triggers)."""
    if in_process():
        _submit(task, args, kwargs)
    else:
        task.apply_async(args=args, kwargs=kwargs)


def _submit(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=settings().task_threads, thread_name_prefix="etender-task")
        future = _executor.submit(task, *args, **kwargs)
        _running.add(future)
    future.add_done_callback(lambda f: _finished(task, f))


def _finished(task: Task, future: Future[Any]) -> None:
    with _lock:
        _running.discard(future)
    if (e := future.exception()) is not None:
        log.error("task %s failed", task.name, exc_info=e)


def drain(timeout: float | None = None) -> bool:
    """Wait until the in-process tasks sent so far have finished (tests, shutdown); False on timeout."""
    with _lock:
        running = list(_running)
    _, not_done = wait_futures(running, timeout=timeout)
    return not not_done


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy reports it as a commit too): wait for the real commit
    for _, task, args, kwargs in session.info.pop(_PENDING, []):
        try:
            send(task, *args, **kwargs)
        except Exception:  # noqa: BLE001 - the change is committed; a lost task is picked up by its sweep
            log.exception("could not send task %s after commit", task.name)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return

    def rolled_back(tx: SessionTransaction | None) -> bool:
        while tx is not None:
            if tx is previous_transaction:
                return True
            tx = tx.parent
        return False

    session.info[_PENDING] = [entry for entry in pending if not rolled_back(entry[0])]


@event.listens_for(Session, "after_transaction_end")
def _settle_ended_transaction(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if transaction.parent is None:
        # the outermost transaction ended without a commit (close() without commit): nothing is sent. Tasks of
        # a released savepoint stay; they leave with the outermost commit or go with an enclosing rollback.
        session.info[_PENDING] = [e for e in pending if _root(e[0]) is not transaction]


def _root(tx: SessionTransaction) -> SessionTransaction:
    while tx.parent is not None:
        tx = tx.parent
    return tx


def every(seconds: float, task: Task) -> None:
    """Run `task()` every `seconds`: on the worker started with --beat in deployment, on a timer thread in each
    web process otherwise (see start_periodic). Periodic tasks must tolerate running on several processes."""
    _periodic.append((seconds, task))
    app.add_periodic_task(seconds, task.s(), name=task.name)


def start_periodic(modules: list[str]) -> Callable[[], None]:
    """In-process mode: import the task modules (which register their periodic tasks) and send each periodic
    task at start and then every period from a timer thread. Returns the function that stops the thread. With a
    broker nothing starts here: `etender worker --beat` sends them."""
    for name in modules:
        importlib.import_module(name)
    if not in_process() or not _periodic:
        return lambda: None
    stop = threading.Event()

    def loop() -> None:
        due = {task.name: 0.0 for _, task in _periodic}
        while not stop.is_set():
            now = time.monotonic()
            for seconds, task in _periodic:
                if now >= due[task.name]:
                    due[task.name] = now + seconds
                    try:
                        send(task)
                    except Exception:  # noqa: BLE001 - keep the timer alive and say why it failed
                        log.exception("could not send periodic task %s", task.name)
            stop.wait(max(0.05, min(due.values()) - time.monotonic()))

    thread = threading.Thread(target=loop, name="etender-periodic", daemon=True)
    thread.start()

    def stop_periodic() -> None:
        stop.set()
        thread.join(5)

    return stop_periodic


def run_worker(settings: Settings, include: list[str], concurrency: int = 2, beat: bool = False) -> None:
    """`etender worker`: a Celery worker for the task modules in `include` (and the periodic tasks with beat)."""
    if not settings.broker_url:
        raise RuntimeError("CELERY_BROKER_URL is not set: without a broker tasks run inside the web process")
    configure(settings)
    app.conf.include = include
    for name in include:  # registers their periodic tasks for --beat
        importlib.import_module(name)
    argv = ["worker", f"--concurrency={concurrency}", "--loglevel=INFO"]
    beat_args = ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"] if beat else []
    app.worker_main(argv + beat_args)
