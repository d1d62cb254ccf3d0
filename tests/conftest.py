"""Shared fixtures. Integration tests run on SQLite and on PostgreSQL, each database built from the
Alembic migrations and created afresh for the run; every test starts from empty tables."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import Organisation, User, actor_for
from accounts.passwords import hash_password
from cli.main import upgrade_database
from core import clock, credit_code
from core.db import Base, make_engine, make_sessionmaker
from core.identity import Actor
from core.settings import Settings
from storage.local import LocalBlobStore


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app on a free loopback port in a thread, for browser and command-line tests; yields its base URL."""
    import uvicorn

    from web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
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

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]
TEST_PASSWORD = "correct horse battery"


def missing_service(reason: str) -> None:
    """On a laptop a missing service skips its tests with the reason; under CI it fails them."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def _sa(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        upgrade_database(url)
        yield url
        return
    name = f"etender_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_sa(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001
        admin.dispose()
        missing_service(f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({type(e).__name__}); set ETENDER_TEST_PG_URL")
    url = _pg_url(name)
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str):  # type: ignore[no-untyped-def]
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def factory(engine) -> sessionmaker[Session]:  # type: ignore[no-untyped-def]
    return make_sessionmaker(engine)


def _truncate(engine) -> None:  # type: ignore[no-untyped-def]
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture
def db(factory, engine) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A session on a database with empty tables; the test commits (or not) as a request would."""
    _truncate(engine)
    session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    return Settings(
        data_dir=data,
        database_url=database_url,
        blob_dir=data / "blobs",
        secret_key="test-secret-" + uuid.uuid4().hex,
        scheduler_interval=0,
        demo=False,
    )


class Maker:
    """Quick organisations and users for tests (committed, as an administrator would have made them)."""

    def __init__(self, session: Session):
        self.session = session
        self.n = 0

    def org(self, kind: str, name: str | None = None) -> Organisation:
        import random

        self.n += 1
        org = Organisation(credit_code=credit_code.generate(random.Random(self.n * 7919 + hash(kind) % 1000)), name=name or f"{kind} {self.n}", kind=kind)
        self.session.add(org)
        self.session.flush()
        return org

    def user(self, org: Organisation | None, *roles: str, username: str | None = None) -> User:
        self.n += 1
        user = User(
            username=username or f"{roles[0] if roles else 'user'}{self.n}",
            full_name=f"Test {self.n}",
            organisation_id=org.id if org else None,
            roles=list(roles),
            password_hash=hash_password(TEST_PASSWORD),
        )
        self.session.add(user)
        self.session.flush()
        self.session.refresh(user)
        return user

    def actor(self, user: User, ip: str = "198.51.100.7") -> Actor:
        return actor_for(user, ip)


@pytest.fixture
def make(db: Session) -> Maker:
    return Maker(db)


def settings_with(settings: Settings, **changes) -> Settings:  # type: ignore[no-untyped-def]
    return replace(settings, **changes)
