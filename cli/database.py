"""The database as the command sees it: Alembic's configuration for this checkout, the upgrade every command
runs first, and whether the demo may be loaded. Apart from cli.main so that the command groups can use it
without importing the command that imports them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_database(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


def database_is_empty(url: str) -> bool:
    from sqlalchemy import func, select

    from accounts.models import Organisation
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return not session.scalar(select(func.count()).select_from(Organisation))
    finally:
        engine.dispose()


def identity_problem(settings) -> str | None:  # type: ignore[no-untyped-def]
    """Why this process must not start (it holds none of the keys that signed the log), or None: checked by
    `etender serve` and `etender worker` before anything could make a key of its own."""
    from sqlalchemy import inspect

    from audit.queries import latest_checkpoint
    from core.db import make_engine, make_sessionmaker
    from core.signing import held_keys, key_directory
    from core.signing import identity_problem as problem

    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("audit_checkpoints"):
            return None  # a worker started before the first migration: nothing signed yet
        with make_sessionmaker(engine)() as session:
            checkpoint = latest_checkpoint(session)
            signed_by = checkpoint.key_id if checkpoint is not None else None
    finally:
        engine.dispose()
    return problem(held_keys(settings.data_dir, settings.origin), signed_by, key_directory(settings.data_dir))
