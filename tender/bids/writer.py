"""The bid writers' turns and the group writer of the one-request route (web/tender/bids.py), framework-free.

A bid's writing unit of work waits for its turn among the bid writers (in this process, and on SQLite across
the web processes) and then runs in core.db.transaction; the one-request bids that queue meanwhile are
written together by a writer thread, a group per transaction (group commit), and each request awaits its own
answer on its event loop. `state` is the app's state: anything with `db` (a sessionmaker of writing units of
work) and `settings` (core.settings.Settings); the group writer is kept on it as `bid_writer`."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core.db import transaction
from core.errors import DomainError
from core.signing import SigningKey, signing_key
from tender.bids import submission as bids

T = TypeVar("T")

_signers: dict[tuple[str, str, str], SigningKey] = {}


def current_signer(settings: Any) -> SigningKey:
    """The platform's current signing key, read from disk once per key (a rotation names a new current
    key)."""
    current = settings.data_dir / "keys" / "signing" / "current"
    try:
        kid = current.read_text().strip()
    except OSError:
        kid = ""
    cache_key = (str(settings.data_dir), settings.origin, kid)
    if kid == "" or cache_key not in _signers:
        key = signing_key(settings.data_dir, settings.origin)
        if kid:
            _signers[cache_key] = key
        return key
    return _signers[cache_key]


# SQLite has one writer at a time, and a writer that finds the database locked sleeps in growing steps (up
# to 100 ms) before it tries again: under a burst, waiting writers sleep while others take the lock. The bid
# units of work therefore queue here first, in order: in this process on a lock, then across the web
# processes on an advisory file lock (flock) next to the data, whose waiter wakes as soon as it is released.
# Each takes the database lock only when the one before it has committed. On PostgreSQL the bid units of work
# of a process queue on the in-process lock only: each appends to the audit chain, whose head row lock
# serialises them anyway, and dozens of threads waiting on that row lock (each holding a connection and a
# transaction) cost more than waiting here. The group writer of the one-request route (below) takes the file
# lock on every backend, so that its group grows while it waits.
_WRITERS = threading.Lock()
_lock_files: dict[tuple[int, str], int] = {}  # per process: a forked child must open its own


@contextlib.contextmanager
def _sqlite_writer(settings: Any) -> Iterator[None]:
    with _WRITERS, _across_processes(settings):
        yield


@contextlib.contextmanager
def _across_processes(settings: Any, *, every_backend: bool = False) -> Iterator[None]:
    """The advisory file lock the web processes' bid writers queue on (taken under _WRITERS): on SQLite, or
    on every backend for the group writer."""
    if not (settings.is_sqlite or every_backend):
        yield
        return
    key = (os.getpid(), str(settings.data_dir / "bid-writers.lock"))
    fd = _lock_files.get(key)
    if fd is None:
        fd = _lock_files[key] = os.open(key[1], os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def in_writing_unit(state: Any, call: Callable[[Session], T]) -> T:
    """One writing unit of work outside the request's, in its turn among the bid writers: core.db.transaction
    (committed on success and on a kept refusal)."""
    turn = _sqlite_writer(state.settings) if state.settings.is_sqlite else _WRITERS
    with turn, transaction(state.db) as db:
        return call(db)


# Group commit (the one-request route): the prepared bids that queue in this process while one group is
# written are taken together by the app's writer thread (_GroupWriter) and decided by
# tender.bids.submission.submit_prepared in one transaction: one statement per kind of write for the whole
# group and one commit. Every bid is decided on its own (its checks, the deadline by the server clock when it
# is decided, its audit entries, its receipt's server_time); a refusal that must stay on record (late, not a
# sealed bid) is committed with the group. A request gets its receipt only once the group's commit succeeded.
GROUP_MAX = 64  # bids in one transaction at most: a group holds the database's write lock for its duration


async def submit(state: Any, item: bids.WholeBid) -> bids.Submitted:
    """Queue a prepared bid for the group writer and wait, on the running event loop and without holding a
    thread, for its answer: the accepted bid, or its refusal raised."""
    future: asyncio.Future[bids.Submitted] = asyncio.get_running_loop().create_future()
    _writer(state).submit(item, future)
    return await future


_Queued = tuple[bids.WholeBid, asyncio.Future[bids.Submitted]]  # a prepared bid and its request's answer


class _Pending:
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: bids.WholeBid):
        self.item = item
        self.done = False
        self.result: bids.Submitted | None = None
        self.error: BaseException | None = None


class _GroupWriter:
    """The thread of an app (in each web process) that writes the queued one-request bids, a group at a time:
    it takes the writers' lock, then every bid queued by then (at most GROUP_MAX), writes them (_write_group)
    and answers each request on its event loop. A request waits for its answer without holding a thread. The
    thread ends after IDLE seconds without bids and is started again by the next one."""

    IDLE = 5.0

    def __init__(self, state: Any):
        self.state = state
        self.queue: collections.deque[_Queued] = collections.deque()
        self._ready = threading.Condition()
        self._running = False

    def submit(self, item: bids.WholeBid, future: asyncio.Future[bids.Submitted]) -> None:
        with self._ready:
            self.queue.append((item, future))
            if self._running:
                self._ready.notify()
                return
            self._running = True
        threading.Thread(target=self._run, name="bid-group-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._ready:
                if not self.queue:
                    self._ready.wait(self.IDLE)
                    if not self.queue:
                        self._running = False
                        return
            taken: list[_Queued] = []
            group: list[_Pending] = []
            try:
                # The group is taken only once this writer's turn has come, in this process and on this
                # machine: every bid that arrived meanwhile joins it (on PostgreSQL too, where the writers of
                # all processes take turns on the audit log's head row anyway, each holding it until its
                # commit).
                with _WRITERS, _across_processes(self.state.settings, every_backend=True):
                    with self._ready:
                        taken = [self.queue.popleft() for _ in range(min(GROUP_MAX, len(self.queue)))]
                    group = [_Pending(item) for item, _ in taken]
                    _write_group(self.state, group)
            # the lock could not be taken, or interrupted: answered, never lost silently
            except BaseException as e:  # noqa: BLE001
                for pending in group:
                    if not pending.done:
                        pending.result, pending.error = None, e
            self._answer([(future, pending) for (_, future), pending in zip(taken, group, strict=True)])

    @staticmethod
    def _answer(answers: list[tuple[asyncio.Future[bids.Submitted], _Pending]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bids.Submitted], _Pending]]] = {}
        for future, pending in answers:
            by_loop.setdefault(future.get_loop(), []).append((future, pending))
        for loop, theirs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, theirs)


def _settle(answers: list[tuple[asyncio.Future[bids.Submitted], _Pending]]) -> None:
    for future, pending in answers:
        if future.done():  # the request was cancelled (its client went away): its bid stays written
            continue
        if pending.error is not None:
            future.set_exception(pending.error)
        else:
            future.set_result(pending.result)  # type: ignore[arg-type]


_writer_made = threading.Lock()


def _writer(state: Any) -> _GroupWriter:
    with _writer_made:
        writer = getattr(state, "bid_writer", None)
        if writer is None:
            writer = state.bid_writer = _GroupWriter(state)
    return writer  # type: ignore[no-any-return]


def _write_group(state: Any, group: list[_Pending]) -> None:
    """One transaction for the group. If it fails otherwise than by a refusal (a database error: on
    PostgreSQL, say, a deadlock with another process's writer), or its commit does, nothing of it was
    committed and each bid is written alone, in its own transaction: no bid is lost to its group, and nobody
    is told that an uncommitted bid was accepted."""
    signer = current_signer(state.settings)
    try:
        _decide(state, signer, group)
    except Exception:
        for item in group:
            try:
                _decide(state, signer, [item])
            except Exception as e:
                item.result, item.error = None, e
    except BaseException as e:  # interrupted: none of the group was committed; no request is told otherwise
        for item in group:
            item.result, item.error = None, e
        raise
    finally:
        for item in group:
            item.done = True


def _decide(state: Any, signer: SigningKey, group: list[_Pending]) -> None:
    # submit_prepared answers each bid's refusal instead of raising it: a recorded one commits with the group
    with transaction(state.db) as db:
        results = bids.submit_prepared(db, signer, [item.item for item in group])
    for item, result in zip(group, results, strict=True):
        item.result, item.error = (None, result) if isinstance(result, DomainError) else (result, None)
