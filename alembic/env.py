"""Alembic environment: the URL comes from the config (tests, `etender db upgrade`) or DATABASE_URL."""

from __future__ import annotations

import accounts.models  # noqa: F401
import audit.checkpoints  # noqa: F401  (registers the models on Base.metadata)
import audit.log  # noqa: F401
import award.decision.models  # noqa: F401
import award.models  # noqa: F401
import award.publicity.models  # noqa: F401
import evaluation.committee.models  # noqa: F401
import evaluation.pool.models  # noqa: F401
import evaluation.report.models  # noqa: F401
import evaluation.review.models  # noqa: F401
import evaluation.room.models  # noqa: F401
import evaluation.scoring.models  # noqa: F401
import marketplace.models  # noqa: F401
import opendata.models  # noqa: F401
import tender.centre.models  # noqa: F401
import tender.keyholders  # noqa: F401
import tender.models  # noqa: F401
from alembic import context
from core.db import Base, make_engine
from core.settings import load_settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=target_metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
