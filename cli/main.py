"""The `etender` command."""

from __future__ import annotations

import logging
import sys

import click

from cli.database import database_is_empty, identity_problem, upgrade_database


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
    if problem := identity_problem(settings):
        raise click.ClickException(problem)
    load_specialties(settings.database_url)
    load_marketplace_catalogue(settings.database_url)
    if settings.demo and not no_demo and database_is_empty(settings.database_url):
        click.echo("First start: loading the demo data (accounts are listed in README.md) ...")
        _load_demo(settings)
    host = host or settings.host
    port = port or settings.port
    click.echo(f"etender serving on http://{host}:{port}  (data in {settings.data_dir})")
    uvicorn.run(
        "web.asgi:app", host=host, port=port, workers=workers, log_level="warning", proxy_headers=False
    )


@main.command()
@click.option("--concurrency", default=2, type=int, help="Tasks run at once by this worker.")
@click.option(
    "--beat", is_flag=True, help="Also run the periodic tasks (exactly one worker of the deployment)."
)
def worker(concurrency: int, beat: bool) -> None:
    """Run a Celery worker for background tasks (deployment: CELERY_BROKER_URL set)."""
    from accounts.notifications import channel_for
    from core import tasks
    from core.settings import load_settings
    from evaluation.committee import tasks as committee_tasks

    settings = load_settings()
    if not settings.broker_url:
        raise click.ClickException(
            "CELERY_BROKER_URL is not set; without a broker, tasks run inside `etender serve`."
        )
    if problem := identity_problem(settings):
        raise click.ClickException(problem)
    from celery.signals import setup_logging

    from core import logs

    def configure_logging(**_: object) -> None:
        """Celery's hook: logging is ours (core.logs: text or JSON, the request id), not Celery's. The
        worker's own start, readiness and beat schedule stay visible whatever the level."""
        logs.configure(settings.log_format, settings.log_level)
        logging.getLogger("celery").setLevel(min(logging.INFO, logging.getLogger().level))

    setup_logging.connect(configure_logging, weak=False)
    # built once, for this worker's tasks
    committee_tasks.use_channel(channel_for(settings.messaging, settings))
    tasks.run_worker(settings, include=tasks.TASK_MODULES, concurrency=concurrency, beat=beat)


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    from core.settings import load_settings

    url = load_settings().database_url
    upgrade_database(url)
    load_specialties(url)
    load_marketplace_catalogue(url)
    click.echo("database is at the newest revision")


def _load_demo(settings) -> None:  # type: ignore[no-untyped-def]
    from core import tasks
    from core.db import make_engine, make_sessionmaker, transaction
    from core.signing import signing_key
    from demo import county as demo
    from storage import open_store

    tasks.configure(settings)  # the demo's openings send their tasks after commit, as the app would
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            demo.load(
                session,
                open_store(settings),
                settings.data_dir / "demo-keys",
                signing_key(settings.data_dir, settings.origin),
            )
        tasks.drain(60)
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


from cli.audit import audit as _audit_group  # noqa: E402 - the group lives in its own module

main.add_command(_audit_group)
from cli.receipts import receipt as _receipt_group  # noqa: E402 - `etender receipt verify`

main.add_command(_receipt_group)


from cli.experts import experts as _experts_group  # noqa: E402 - the group lives in its own module
from cli.experts import load_specialties  # noqa: E402

main.add_command(_experts_group)

from cli.evaluation import evaluation as _evaluation_group  # noqa: E402 - `etender evaluation verify-report`

main.add_command(_evaluation_group)


from cli.bids import bid as _bid_group  # noqa: E402 - the groups live in their own module
from cli.bids import keys as _keys_group  # noqa: E402

main.add_command(_keys_group)
main.add_command(_bid_group)


from cli.marketplace import load_catalogue as load_marketplace_catalogue  # noqa: E402
from cli.marketplace import marketplace as _marketplace_group  # noqa: E402 - the group lives in its own module

main.add_command(_marketplace_group)


from cli.ocds import ocds as _ocds_group  # noqa: E402 - issue 14: `etender ocds export`

main.add_command(_ocds_group)
from cli.award import award as _award_group  # noqa: E402 - `etender award verify-notice`

main.add_command(_award_group)
