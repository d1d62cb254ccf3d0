"""The deployed shape of docs/deploy.md on loopback, for the rehearsal (tests/deploy) and bench/deployed.py:
PostgreSQL, moto's S3 server, Redis for sessions and tasks, two `etender serve` processes, one `etender
worker --beat` and one plain worker, each a real process with its own data directory and the shared
signing-key directory. Built here and driven over HTTP, as a balancer and bidders would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ETENDER = str(Path(sys.executable).parent / "etender")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Shape:
    env: dict[str, str]
    root: Path
    web: dict[str, str] = field(default_factory=dict)  # name -> base URL
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> None:
        data = self.root / name
        data.mkdir(parents=True, exist_ok=True)
        env = {**self.env, "ETENDER_DATA": str(data)}
        log = (self.root / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [ETENDER, *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def serve(self, name: str) -> str:
        port = free_port()
        self.start(name, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-demo")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log(name)[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    self.web[name] = url
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer /healthz: {self.log(name)[-2000:]}")

    def kill(self, name: str) -> None:
        """SIGKILL, as a machine that dies: no shutdown, no acknowledgement."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        self.web.pop(name, None)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def shape_env(root: Path, database_url: str, s3_endpoint: str, redis_db: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {
        **keep,
        "DATABASE_URL": database_url,
        "ETENDER_SESSION_STORE": f"redis://127.0.0.1:6379/{redis_db}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db + 1}",
        "ETENDER_SECRET_KEY": uuid.uuid4().hex,
        "ETENDER_SIGNING_KEYS": str(root / "signing-keys"),
        "ETENDER_ORIGIN": "rehearsal.example/audit",
        "ETENDER_BLOB_STORE": "s3",
        "S3_ENDPOINT": s3_endpoint,
        "S3_ACCESS_KEY": "testing",
        "S3_SECRET_KEY": "testing",
        "S3_BUCKET": f"rehearsal-{uuid.uuid4().hex[:8]}",
        "ETENDER_SCHEDULER_INTERVAL": "1",
        "ETENDER_DEMO": "false",
    }


@contextmanager
def deployed(root: Path, env: dict[str, str]) -> Iterator[Shape]:
    """Two web processes, a beat worker and a plain worker on `env` (the database already migrated)."""
    shape = Shape(env=env, root=root)
    try:
        shape.serve("web1")
        shape.serve("web2")
        shape.start("beat", "worker", "--beat", "--concurrency", "2")
        shape.start("worker", "worker", "--concurrency", "2")
        yield shape
    finally:
        shape.stop()


class Bidder:
    """A bidder's browser: logged in once (the session lives in Redis, so either web process serves it)."""

    def __init__(self, base: str, username: str, password: str):
        self.client = httpx.Client(timeout=30)
        page = self.client.get(f"{base}/login").text
        token = _csrf(page)
        r = self.client.post(
            f"{base}/login", data={"username": username, "password": password, "_csrf_token": token}
        )
        assert r.status_code in (200, 303), r.text[:500]
        self.token = _csrf(self.client.get(f"{base}/account").text)

    def submit(self, base: str, tender_id: int, lot_id: int, sealed: bytes) -> dict[str, Any]:
        r = self.client.post(
            f"{base}/api/v1/tenders/{tender_id}/lots/{lot_id}/bids/sealed",
            content=sealed,
            headers={"x-csrftoken": self.token, "content-type": "application/octet-stream"},
        )
        r.raise_for_status()
        return dict(r.json())


def _csrf(page: str) -> str:
    import re

    found = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)
