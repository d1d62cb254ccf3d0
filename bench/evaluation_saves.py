"""Nine members scoring at once (issue 13): every member's page autosaves every 2 s, through the HTTP app.

A committee of nine is drawn for a tender opened with three bids, checked in, the review closed; then the app
is served by uvicorn on loopback in this process (the world's test clock is this process's) and nine threads
of another process, one per member, each logged in with its own cookies, POST the autosave endpoint every
--interval seconds for --seconds (the cells "typed" since the last save: 3 of the 6, new values each time).
Right after each save the same thread GETs /healthz (one database query and one file write): the baseline,
measured under the same load in the same run. Printed: p50/p99 per save and per baseline request, their
ratio, and whether anything was lost: saves sent vs acknowledged, and every member's sheet read back through
the API against the last value each cell was sent.

    .venv/bin/python bench/evaluation_saves.py [--seconds 60] [--members 9] [--interval 2]
                                               [--backend postgresql|sqlite]

PostgreSQL is ETENDER_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a scratch database
is created and dropped. --backend sqlite uses a file database instead.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from cli.database import upgrade_database  # noqa: E402
from core import clock  # noqa: E402
from core import tasks as core_tasks  # noqa: E402
from core.db import make_engine, make_sessionmaker  # noqa: E402
from core.settings import Settings  # noqa: E402
from evaluation.committee import draws  # noqa: E402
from evaluation.committee.models import SeatStatus  # noqa: E402
from evaluation.room import sessions  # noqa: E402
from storage.local import LocalBlobStore  # noqa: E402
from tests.factories.accounts import TEST_PASSWORD, Maker  # noqa: E402
from tests.factories.deployment import free_port  # noqa: E402
from tests.factories.experts import draw_world, drawn  # noqa: E402
from tests.factories.room import ROOMS, check_in_all, elect_chair, member_actors, open_and_close  # noqa: E402
from tests.factories.scoring import close_review  # noqa: E402
from tests.factories.tenders import move_to  # noqa: E402
from web.app import create_app  # noqa: E402

PG_ADMIN = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def build(url: str, tmp: Path, members: int):  # type: ignore[no-untyped-def]
    """The world (tests/factories): a tender opened and being evaluated, `members` drawn and checked in, the
    chair elected, the review closed with the three bids valid. Returns (tender id, usernames, bids,
    factors)."""
    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    blobs = LocalBlobStore(tmp / "data" / "blobs")
    w = draw_world(db, Maker(db), blobs, tmp)
    open_and_close(w, blobs)
    civil = (members + 1) // 2
    w.draw = drawn(
        w,
        draws.DrawInput(
            committee_size=members,
            quotas=[("A01", civil), ("B01", members - civil)],
            evaluation_date=w.eval_day,
            substitutes=0,
        ),
    )
    db.refresh(w.draw)
    for seat in [s for s in w.draw.seats if s.status == SeatStatus.notified]:
        draws.respond(db, w.expert_actors[seat.expert_id].actor, seat.id, True, w.channel)
    w.members = member_actors(w)
    assert len(w.members) == members, f"{len(w.members)} members confirmed"
    w.starts_at = clock.now() + timedelta(hours=1)
    sessions.book(db, w.agency, w.tender.id, sessions.Booking(1, w.starts_at, 4), ROOMS)
    move_to(w.starts_at + timedelta(minutes=1))
    check_in_all(w)
    elect_chair(w, 0)
    bids = close_review(w)
    factors = [(i, f["points"]) for i, f in enumerate(w.tender.criteria["factors"])]
    usernames = [actor.username for _, actor in w.members]
    tender_id = w.tender.id
    db.commit()
    db.close()
    engine.dispose()
    return tender_id, usernames, bids, factors


@dataclass
class Member:
    username: str
    saves: list[float] = field(default_factory=list)  # seconds per acknowledged save
    baseline: list[float] = field(default_factory=list)
    sent: int = 0
    acknowledged: int = 0
    last: dict[str, str] = field(default_factory=dict)  # cell -> the last value sent
    errors: list[str] = field(default_factory=list)


def member_loop(
    base: str, m: Member, tender_id: int, cells: list[tuple[int, int, float]], seconds: float, interval: float
) -> None:
    rng = random.Random(m.username)
    with httpx.Client(base_url=base, timeout=30) as c:
        c.get("/login")
        r = c.post(
            "/login",
            data={
                "username": m.username,
                "password": TEST_PASSWORD,
                "_csrf_token": c.cookies["etender_csrf"],
            },
        )
        if r.status_code >= 400:
            m.errors.append(f"login {r.status_code}")
            return
        url = f"/api/v1/expert/tenders/{tender_id}/scoring/sheet"
        time.sleep(rng.random() * interval)  # the members did not start typing at the same instant
        end = time.monotonic() + seconds
        next_at = time.monotonic()
        while time.monotonic() < end:
            typed = rng.sample(cells, 3)
            entries = [
                {"bid": b, "factor": f, "value": f"{rng.randint(0, int(points * 100)) / 100:.2f}"}
                for b, f, points in typed
            ]
            t0 = time.perf_counter()
            r = c.post(url, json={"entries": entries}, headers={"x-csrftoken": c.cookies["etender_csrf"]})
            took = time.perf_counter() - t0
            m.sent += 1
            if r.status_code == 200:
                m.acknowledged += 1
                m.saves.append(took)
                for e in entries:
                    m.last[f"score-{e['bid']}-{e['factor']}"] = str(e["value"])
            else:
                m.errors.append(f"save {r.status_code}: {r.text[:200]}")
            t0 = time.perf_counter()
            h = c.get("/healthz")
            if h.status_code == 200:
                m.baseline.append(time.perf_counter() - t0)
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        got = c.get(url).json()["values"]
        lost = {k: v for k, v in m.last.items() if got.get(k) != v}
        if lost:
            m.errors.append(f"lost: {lost} (server has {got})")


def members(
    base: str,
    usernames: list[str],
    tender_id: int,
    cells: list[tuple[int, int, float]],
    seconds: float,
    interval: float,
) -> list[Member]:
    team = [Member(u) for u in usernames]
    threads = [
        threading.Thread(target=member_loop, args=(base, m, tender_id, cells, seconds, interval))
        for m in team
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return team


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(url: str, args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="etender-bench-saves-"))
    (tmp / "data").mkdir()
    upgrade_database(url)
    settings = Settings(
        data_dir=tmp / "data",
        database_url=url,
        blob_dir=tmp / "data" / "blobs",
        secret_key="bench-" + uuid.uuid4().hex,
        scheduler_interval=0,
        demo=False,
        evaluation_rooms=ROOMS,
    )
    core_tasks.configure(settings)  # the opening's tasks run in-process, as `make run` does
    tender_id, usernames, bids, factors = build(url, tmp, args.members)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    cells = [(b, i, points) for b in bids for i, points in factors]
    # the members' browsers run in a process of their own, so that their work does not weigh on the server's
    # (this process keeps the server: the world's test clock is this process's)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        team = pool.apply(members, (base, usernames, tender_id, cells, args.seconds, args.interval))
    server.should_exit = True
    thread.join(timeout=10)
    saves = [s for m in team for s in m.saves]
    baseline = [s for m in team for s in m.baseline]
    sent = sum(m.sent for m in team)
    acked = sum(m.acknowledged for m in team)
    errors = [f"{m.username}: {e}" for m in team for e in m.errors]
    print(
        f"{args.members} members, a save every {args.interval:g} s each for {args.seconds:g} s, "
        f"{len(cells)} cells per sheet, 3 typed per save"
    )
    print(f"  saves sent {sent}, acknowledged {acked}, lost cells: {sum('lost' in e for e in errors)}")
    if saves and baseline:
        print(
            f"  save:     p50 {statistics.median(saves) * 1000:6.1f} ms   p99 {p(saves, 0.99) * 1000:6.1f} ms"
        )
        print(
            f"  /healthz: p50 {statistics.median(baseline) * 1000:6.1f} ms   "
            f"p99 {p(baseline, 0.99) * 1000:6.1f} ms"
        )
        print(
            f"  ratio save / baseline: p50 {statistics.median(saves) / statistics.median(baseline):.1f}x   "
            f"p99 {p(saves, 0.99) / p(baseline, 0.99):.1f}x"
        )
    for e in errors[:10]:
        print("  ERROR", e)
    if errors or acked != sent:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--members", type=int, default=9)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    args = parser.parse_args()
    if args.backend == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="etender-bench-db-")) / "bench.db"
        print(f"backend: SQLite ({path})")
        run(f"sqlite:///{path}", args)
        return
    name = f"etender_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    print(f"backend: PostgreSQL (scratch database {name})")
    try:
        run(PG_ADMIN.rpartition("/")[0] + "/" + name, args)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
