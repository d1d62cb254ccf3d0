"""Database engine, sessions and the declarative base. The same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.errors import is_kept

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # A writing unit of work starts with BEGIN IMMEDIATE so that concurrent writers queue on the busy
        # timeout instead of failing when a read lock is upgraded; read-only units (read_only_sessionmaker)
        # use a deferred BEGIN and never block writers.
        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            read_only = conn.get_execution_options().get("etender_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # a server that does not answer (a dropped route, not a refused connection) costs a request 3 s, not the
    # operating system's minutes: the person gets the 503 that says to try again (web.app, issue 17)
    connect_args = {"connect_timeout": 3, **kwargs.pop("connect_args", {})}
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args, **kwargs
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def read_only_sessionmaker(engine: Engine, *, per_statement: bool = False) -> sessionmaker[Session]:
    """For units of work that only read (public pages): on SQLite they never take the write lock.
    per_statement (the web's short reads): on PostgreSQL each statement runs on its own (autocommit), sparing
    the BEGIN and ROLLBACK round trips; at READ COMMITTED, the isolation every unit of work here runs at, each
    statement sees its own snapshot either way. Not for a reader that needs one snapshot or a server-side
    cursor (the audit verifier)."""
    options: dict[str, Any] = {"etender_read_only": True}
    if per_statement and engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(bind=engine.execution_options(**options), expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success and on a kept refusal (core.errors.DomainError.kept: its record
    stays, and the refusal is raised on), roll back on any other error. Services inside never commit."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException as e:
        if is_kept(e):
            session.commit()
        else:
            session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def savepoint(session: Session) -> Iterator[Session]:
    """A savepoint inside the caller's unit of work, for a caller that answers a refusal itself instead of
    raising it (a form shown again with its problems, and the request's transaction then commits): released on
    success and on a kept refusal (its record joins the transaction), rolled back on any other error, which is
    raised on either way."""
    nested = session.begin_nested()
    try:
        yield session
    except BaseException as e:
        if is_kept(e):
            nested.commit()
        else:
            nested.rollback()
        raise
    nested.commit()
