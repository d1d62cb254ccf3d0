"""The HTTP load the benchmarks put on `etender serve` over loopback: `serving` starts the server on a
database, `load` holds `connections` keep-alive connections on one URL for `seconds` and returns requests per
second, p50 and p99 in milliseconds and the error count (wrk when installed, else processes of threads, each
thread with its own connection: the load generator shares the machine's cores with the server, as a
benchmark's baseline on the same server does)."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, timeout: float = 90) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:  # noqa: S310 - loopback only
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


def _client(port: int, path: str, until: float, out: list[float], errors: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Language": "zh", "Connection": "keep-alive"}
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            if r.status >= 400:
                errors.append(r.status)
        except (OSError, http.client.HTTPException):
            errors.append(0)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        out.append(time.perf_counter() - t0)
    conn.close()


def _process(
    port: int, path: str, threads: int, start: float, seconds: float, q: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    lat: list[float] = []
    errors: list[int] = []
    while time.time() < start:
        time.sleep(0.001)
    until = time.perf_counter() + seconds
    ts = [threading.Thread(target=_client, args=(port, path, until, lat, errors)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put((lat, len(errors)))


def load(port: int, path: str, seconds: float, connections: int) -> dict[str, float]:
    if shutil.which("wrk"):
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "--latency",
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        unit = {"us": 1e-3, "ms": 1.0, "s": 1000.0}

        def ms(v: str) -> float:
            m = re.match(r"([\d.]+)(us|ms|s)", v)
            assert m
            return float(m.group(1)) * unit[m.group(2)]

        errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50": ms(re.search(r"\s50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
            "p99": ms(re.search(r"\s99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
            "errors": int(errs.group(1)) if errs else 0,
        }
    procs_n = min(4, connections)
    per = [connections // procs_n + (1 if i < connections % procs_n else 0) for i in range(procs_n)]
    q: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    start = time.time() + 0.5
    procs = [multiprocessing.Process(target=_process, args=(port, path, k, start, seconds, q)) for k in per]
    for p in procs:
        p.start()
    lat: list[float] = []
    errors = 0
    for _ in procs:
        part, e = q.get()
        lat += part
        errors += e
    for p in procs:
        p.join()
    lat.sort()
    return {
        "rps": len(lat) / seconds,
        "p50": lat[len(lat) // 2] * 1000 if lat else 0.0,
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0,
        "errors": errors,
    }


@contextmanager
def serving(url: str, data: Path, workers: int, **env_extra: str) -> Iterator[tuple[str, int]]:
    """`etender serve` on `url`: no demo, no public micro-cache, no scheduler; yields (base, port)."""
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        ETENDER_DATA=str(data),
        PORT=str(port),
        ETENDER_DEMO="false",
        ETENDER_PUBLIC_CACHE_SECONDS="0",
        ETENDER_SCHEDULER_INTERVAL="0",
        **env_extra,
    )
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/etender"), "serve", "--workers", str(workers), "--no-demo"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        yield base, port
    finally:
        server.terminate()
        server.wait(10)


def line(label: str, r: dict[str, float]) -> str:
    return (
        f"[http] {label:26s} {r['rps']:8.1f} req/s   p50 {r['p50']:7.2f} ms   "
        f"p99 {r['p99']:7.2f} ms   errors {r['errors']}"
    )
