"""Background tasks: Celery workers in deployment, a thread pool in this process by default.

With CELERY_BROKER_URL set (Redis or RabbitMQ) a task goes to the broker and a worker (`etender worker`) runs
it. Without it the task runs here on a small pool of background threads, so a long task never holds up the
request that asked for it.

A task is sent only AFTER the transaction that asked for it commits (Warehouse's pattern): `enqueue(session,
task, ids...)` records it on the session; the session's after_commit hook sends it; a rollback forgets it. So
a worker never looks for a row that is not committed yet, and a failed request starts nothing.

Writing a task: define it in the feature package's `tasks.py` with `@app.task(name="package.what")`. It takes
ids (never objects), opens its own unit of work with `with unit_of_work() as session:`, and must be safe to
run twice: workers acknowledge a task only after it finished (acks_late), so a worker that dies midway means
the task runs again elsewhere; in-process mode has no retry, so anything that must happen is also picked up
by a sweep.

Periodic work: each package's `tasks.py` declares its periodic tasks with `every(seconds, task)`. TASK_MODULES
is the one list of those modules, and schedule() the one list of periodic tasks made from it: the in-process
scheduler (start_periodic: no broker and ETENDER_SCHEDULER_INTERVAL > 0) and Celery beat (`etender worker
--beat`, run_worker) both run exactly that list, each task at its own period. A process with a broker never
schedules anything itself, so no periodic task runs on two schedulers.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
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

# The feature packages' task modules, named (not imported: core is below them). The one list: the worker
# includes them, and the periodic tasks they declare are what the in-process scheduler and beat run.
TASK_MODULES = [
    "storage.tasks",
    "audit.tasks",
    "tender.tasks",
    "evaluation.committee.tasks",
    "evaluation.report.tasks",
    "opendata.tasks",
    "marketplace.tasks",
]
DEADLINE_SECONDS = 5.0  # the deadline tasks' period where ETENDER_SCHEDULER_INTERVAL is 0 (the beat worker)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,  # a task interrupted by a dying worker is delivered again: tasks are idempotent
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # long tasks (decrypting a 2 GiB bid) should not queue behind each other
    task_ignore_result=True,  # tasks write their outcome to the database; nothing waits on a result
    broker_connection_retry_on_startup=True,
    # a broker that is down costs a request at most about two seconds: the task is sent after the commit, so
    # the change stands and the sweep that backs every task sends it again (issue 17)
    broker_connection_timeout=1.0,
    task_publish_retry_policy={
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.4,
    },
    timezone="UTC",
)

_PENDING = "etender.tasks.pending"
_lock = threading.Lock()
_settings: Settings | None = None
_factory: sessionmaker[Session] | None = None
_executor: ThreadPoolExecutor | None = None
_running: set[Future[Any]] = set()
Period = float | Callable[[Settings], float]  # seconds, or seconds under the process's settings
_periodic: list[tuple[Period, Task]] = []


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


def broker_status(timeout: float = 1.0) -> str:
    """For /healthz: "embedded" without a broker (tasks run in this process), "ok" when the broker takes a
    connection within `timeout` seconds; raises the connection's error otherwise. A fresh connection each
    time, so a broker that died since the last check is seen at once."""
    url = settings().broker_url
    if not url:
        return "embedded"
    with app.connection_for_write(url, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    return "ok"


def queue_depth(timeout: float = 1.0) -> int | None:
    """Tasks waiting in the broker's default queue (None without a broker): a queue that only grows means
    too few workers, or none. Redis and RabbitMQ both answer kombu's passive declare with the count."""
    url = settings().broker_url
    if not url:
        return None
    with app.connection_for_write(url, connect_timeout=timeout) as conn:
        try:
            declared = conn.default_channel.queue_declare(queue=app.conf.task_default_queue, passive=True)
        except conn.channel_errors:  # the queue does not exist yet: nothing was ever sent
            return 0
    return int(declared.message_count)


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
            _executor = ThreadPoolExecutor(
                max_workers=settings().task_threads, thread_name_prefix="etender-task"
            )
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


def deadline_period(settings: Settings) -> float:
    """The period of the tasks that act at a deadline (closing bidding, starting openings, confirmations):
    ETENDER_SCHEDULER_INTERVAL seconds, or DEADLINE_SECONDS where it is 0 (there beat runs them)."""
    return settings.scheduler_interval if settings.scheduler_interval > 0 else DEADLINE_SECONDS


def every(seconds: Period, task: Task) -> None:
    """Declare `task()` periodic, every `seconds` (a number, or a function of the settings such as
    deadline_period), from its package's tasks.py. It only declares: schedule() lists it for whichever
    scheduler the process runs. Periodic tasks take no arguments and are safe to run twice."""
    _periodic.append((seconds, task))


def schedule(settings: Settings, modules: Sequence[str] = TASK_MODULES) -> list[tuple[float, Task]]:
    """The periodic tasks declared by `modules` (imported here), each with its period under `settings`: the
    one list that both the in-process scheduler and beat run."""
    for name in modules:
        importlib.import_module(name)
    return [
        (seconds(settings) if callable(seconds) else seconds, task)
        for seconds, task in _periodic
        if task.run.__module__ in modules
    ]


def beat_schedule(settings: Settings, modules: Sequence[str] = TASK_MODULES) -> dict[str, dict[str, Any]]:
    """schedule() in the form of Celery's beat_schedule setting. A run not started within its period expires:
    the next one does the same work, so busy workers do not find a pile of them."""
    jobs = schedule(settings, modules)
    return {
        task.name: {"task": task.name, "schedule": seconds, "options": {"expires": seconds}}
        for seconds, task in jobs
    }


def start_periodic(modules: Sequence[str] = TASK_MODULES) -> Callable[[], None]:
    """The in-process scheduler (no broker, ETENDER_SCHEDULER_INTERVAL > 0): run each task of schedule() at
    start and then every period, each on a thread of its own, so that a slow one (the upload sweep) never
    holds up another (closing bidding) and none overlaps itself. Returns the function that stops them. With a
    broker nothing starts here, `etender worker --beat` runs the same list; with ETENDER_SCHEDULER_INTERVAL=0
    and no broker nothing periodic runs at all (tests)."""
    jobs = schedule(settings(), modules)
    if not in_process() or settings().scheduler_interval <= 0 or not jobs:
        return lambda: None
    stop = threading.Event()

    def loop(seconds: float, task: Task) -> None:
        while not stop.is_set():
            try:
                task()
            except Exception:  # noqa: BLE001 - keep the schedule alive and say why it failed
                log.exception("periodic task %s failed", task.name)
            stop.wait(seconds)

    threads = [
        threading.Thread(target=loop, args=job, name=f"etender-periodic:{job[1].name}", daemon=True)
        for job in jobs
    ]
    for thread in threads:
        thread.start()

    def stop_periodic() -> None:
        stop.set()
        until = time.monotonic() + 5  # a task still running after that finishes on its daemon thread
        for thread in threads:
            thread.join(max(0.0, until - time.monotonic()))

    return stop_periodic


def run_worker(
    settings: Settings, include: Sequence[str] = TASK_MODULES, concurrency: int = 2, beat: bool = False
) -> None:
    """`etender worker`: a Celery worker for the task modules in `include`, and with beat their periodic tasks
    (schedule(), the list the in-process scheduler runs where there is no broker)."""
    if not settings.broker_url:
        raise RuntimeError("CELERY_BROKER_URL is not set: without a broker tasks run inside the web process")
    configure(settings)
    app.conf.include = list(include)
    app.conf.beat_schedule = beat_schedule(settings, include)
    argv = ["worker", f"--concurrency={concurrency}", "--loglevel=INFO"]
    beat_args = ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"] if beat else []
    app.worker_main(argv + beat_args)
