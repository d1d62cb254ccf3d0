"""`etender ocds ...`: the OCDS open data from the command line (docs/opendata.md)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("ocds")
def ocds() -> None:
    """OCDS 1.1.5 open data: the releases of every public change."""


@ocds.command("export")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write into.",
)
@click.option(
    "--package-size",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Releases per package line.",
)
@click.option(
    "--no-sync", is_flag=True, help="Export what is stored without first storing what has become public."
)
def export_command(out: Path, package_size: int, no_sync: bool) -> None:
    """Write every release as release packages (releases.jsonl, one package a line) and every process's
    compiled release (compiled-releases.jsonl, one a line), streamed, with a progress bar. An interrupted
    export resumes where it stopped when run again into the same directory."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from core.db import make_engine, make_sessionmaker, transaction
    from core.settings import load_settings
    from opendata import export, releases

    settings = load_settings()
    engine = make_engine(settings.database_url)
    console = Console(stderr=True)
    try:
        if not no_sync:
            with transaction(make_sessionmaker(engine)) as session:
                stored = releases.sync(session, settings)
            if stored:
                console.print(f"stored {stored} new releases")
        with (
            make_sessionmaker(engine)() as session,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
            ) as progress,
        ):
            tasks: dict[str, TaskID] = {}

            def start(totals: export.Totals) -> None:
                tasks["r"] = progress.add_task("releases", total=totals.releases)
                tasks["c"] = progress.add_task("compiled releases", total=totals.processes)

            result = export.export(
                session,
                settings,
                out,
                package_size=package_size,
                on_start=start,
                on_release=lambda n: progress.advance(tasks["r"], n),
                on_process=lambda n: progress.advance(tasks["c"], n),
            )
    finally:
        engine.dispose()
    click.echo(
        ("resumed: " if result.resumed else "")
        + f"{result.releases} releases in {result.packages} packages and "
        f"{result.compiled} compiled releases written to {out}"
    )
