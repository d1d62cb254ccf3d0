"""The `etender` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

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

    from core.db import make_engine, make_sessionmaker
    from core.identity import Organisation

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return not session.scalar(select(func.count()).select_from(Organisation))
    finally:
        engine.dispose()


@click.group()
def main() -> None:
    """etender: e-tendering for public resource trading centres."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORT or 8000).")
@click.option("--workers", default=1, type=int, help="Web processes.")
@click.option("--no-demo", is_flag=True, help="Do not load the demo data into an empty database.")
def serve(host: str | None, port: int | None, workers: int, no_demo: bool) -> None:
    """Migrate the database, load the demo on first start, and serve the product."""
    import uvicorn

    from core.settings import load_settings

    settings = load_settings()
    upgrade_database(settings.database_url)
    if settings.demo and not no_demo and database_is_empty(settings.database_url):
        click.echo("First start: loading the demo data (accounts are listed in README.md) ...")
        _load_demo(settings)
    host = host or settings.host
    port = port or settings.port
    click.echo(f"etender serving on http://{host}:{port}  (data in {settings.data_dir})")
    uvicorn.run("web.asgi:app", host=host, port=port, workers=workers, log_level="warning", proxy_headers=False)


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    from core.settings import load_settings

    upgrade_database(load_settings().database_url)
    click.echo("database is at the newest revision")


def _load_demo(settings) -> None:  # type: ignore[no-untyped-def]
    from core.db import make_engine, make_sessionmaker, transaction
    from storage.blobs import open_store
    from web import demo

    engine = make_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            demo.load(session, open_store(settings))
    finally:
        engine.dispose()


@main.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
@click.option("--force", is_flag=True, help="Load even if the database already holds data.")
def demo_load(force: bool) -> None:
    """Load the demo organisations, accounts, experts and tenders."""
    from core.settings import load_settings

    settings = load_settings()
    upgrade_database(settings.database_url)
    if not force and not database_is_empty(settings.database_url):
        click.echo("the database already holds data; use --force to load the demo anyway", err=True)
        sys.exit(1)
    from core.errors import DomainError

    try:
        _load_demo(settings)
    except DomainError as e:
        # e.g. the demo organisations are already there: their credit codes are unique
        click.echo(f"the demo could not be loaded, nothing was changed: {e}", err=True)
        sys.exit(1)
    click.echo("demo data loaded")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the audit log and report the first entry that does not hold. Exit 0 ok, 1 altered, 2 could not check."""
    from audit.log import verify_chain
    from core.db import make_engine, make_sessionmaker
    from core.settings import load_settings

    try:
        engine = make_engine(load_settings().database_url)
        with make_sessionmaker(engine)() as session:
            result = verify_chain(session)
    except Exception as e:  # noqa: BLE001
        click.echo(f"could not check the log: {e}", err=True)
        sys.exit(2)
    if result.ok:
        click.echo(f"ok: {result.size} entries verified")
        return
    click.echo(f"ALTERED: entry {result.first_bad}: {result.reason}", err=True)
    sys.exit(1)
