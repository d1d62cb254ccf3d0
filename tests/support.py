"""What the test suite's fixtures and its command-line and browser tests share that is not a builder: the app
served on loopback, the rule for a missing service, emptying the tables, and settings with a change."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import text

from core.db import Base
from core.settings import Settings

IN_CI = os.environ.get("CI", "").lower() == "true"


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app on a free loopback port in a thread, for browser and command-line tests; yields its base
    URL."""
    import uvicorn

    from web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # proxy_headers off, as `etender serve` runs it: the app alone reads X-Forwarded-For (web.deps.client_ip)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the app did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def missing_service(reason: str) -> None:
    """On a laptop a missing service skips its tests with the reason; under CI it fails them."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def truncate(engine) -> None:  # type: ignore[no-untyped-def]
    """Empty every table (the `db` fixture does it before each test, the matrix before it builds its
    world)."""
    from tests.factories.retention import deletes_allowed

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn, deletes_allowed(conn):  # the retention triggers keep tenders and the log
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


def settings_with(settings: Settings, **changes) -> Settings:  # type: ignore[no-untyped-def]
    return replace(settings, **changes)
