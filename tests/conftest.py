"""Shared fixtures. Integration tests run on SQLite and on PostgreSQL, each database built from the
Alembic migrations and created afresh for the run; every test starts from empty tables."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from cli.database import upgrade_database
from core import clock
from core.db import make_engine, make_sessionmaker
from core.settings import Settings
from storage.local import LocalBlobStore
from tests.factories.accounts import Maker
from tests.factories.experts import draw_world
from tests.factories.storage import PART_LIMIT, s3_client
from tests.support import missing_service, truncate

PG_ADMIN_URL = os.environ.get("ETENDER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


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
        missing_service(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({type(e).__name__}); set ETENDER_TEST_PG_URL"
        )
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


@pytest.fixture
def db(factory, engine) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A session on a database with empty tables; the test commits (or not) as a request would."""
    truncate(engine)
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


@pytest.fixture
def make(db: Session) -> Maker:
    return Maker(db)


# ---------------------------------------------------------------- S3 (tests/storage and tests/tender/bids)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback, once per process; yields host:port."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        missing_service(f"moto[server] is not installed ({e}); pip install -r requirements.lock")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint: str):  # type: ignore[no-untyped-def]
    """The S3 blob store on a fresh bucket, with the contract tests' small parts."""
    from storage.s3 import S3BlobStore

    return S3BlobStore(s3_client(s3_endpoint), f"test-{uuid.uuid4().hex[:12]}", part_limit=PART_LIMIT)


# ---------------------------------------------------------------- worlds shared across directories


@pytest.fixture
def w(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    """The draw's world (tests/factories/experts.py draw_world): the committee draw's tests and its pages'."""
    return draw_world(db, make, blobs, tmp_path)


@pytest.fixture(scope="module")
def env(database_url, engine, factory, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The authorisation matrix's app, client and world (tests/web/matrix.py), once per module: the matrix's
    cells and the no-early-opening walk over every GET route (tests/tender/test_no_early_opening.py)."""
    from tests.web.matrix import Env  # the app and Litestar's client: only for the modules that ask

    data = tmp_path_factory.mktemp("matrix")
    settings = Settings(
        data_dir=data,
        database_url=database_url,
        blob_dir=data / "blobs",
        secret_key="matrix-" + uuid.uuid4().hex,
        scheduler_interval=0,
        demo=False,
    )
    e = Env(settings, engine, factory)
    with e.client:
        e.client.get("/login")
        e.csrf = e.client.cookies.get("etender_csrf") or ""
        assert e.csrf, "the app set no CSRF cookie"
        yield e
