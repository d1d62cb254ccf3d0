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
