"""/healthz checks every service a web process depends on, each within about a second (issue 17: it said ok
without Redis while every login failed): the database, the blob store, the session store and the broker."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from core import tasks
from tests.support import missing_service
from web.app import create_app

REDIS_URL = "redis://127.0.0.1:6379/14"
RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _reachable(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again at once: nothing listens there


@pytest.fixture
def health(settings, db):  # type: ignore[no-untyped-def]
    """GET /healthz of an app made with these settings changed; the task runner is put back afterwards."""

    def get(**changes):  # type: ignore[no-untyped-def]
        with TestClient(app=create_app(replace(settings, **changes))) as c:
            started = time.monotonic()
            r = c.get("/healthz")
            return r, time.monotonic() - started

    yield get
    tasks.configure(settings)


def test_the_embedded_shape_reports_each_service(health):
    r, _ = health()
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok"
    assert body["session_store"] == {"status": "ok"}
    assert body["broker"] == {"status": "embedded"}


def test_a_redis_session_store_is_pinged(health):
    if not _reachable(6379):
        missing_service("Redis is not running on 127.0.0.1:6379")
    r, _ = health(session_store=REDIS_URL)
    assert r.status_code == 200 and r.json()["session_store"] == {"status": "ok"}
    r, took = health(session_store=f"redis://127.0.0.1:{_dead_port()}/0")
    assert r.status_code == 503, r.json()
    assert r.json()["status"] == "error" and r.json()["session_store"]["status"] == "error"
    assert took < 3


@pytest.mark.parametrize("broker,port", [(RABBIT_URL, 5672), ("redis://127.0.0.1:6379/13", 6379)])
def test_the_broker_is_checked(health, broker, port):
    if not _reachable(port):
        missing_service(f"no broker on 127.0.0.1:{port}")
    r, _ = health(broker_url=broker)
    assert r.status_code == 200 and r.json()["broker"] == {"status": "ok"}, r.json()
    dead = broker.replace(f":{port}", f":{_dead_port()}")
    r, took = health(broker_url=dead)
    assert r.status_code == 503 and r.json()["broker"]["status"] == "error", r.json()
    assert took < 4
