"""The marketplace's periodic tasks (core/tasks.py explains the contract): the qualification reminders and
suspensions, and the exit rules' evaluation, each hourly. Both are safe to run twice (each notice and each
exit is recorded once, keyed by what caused it)."""

from __future__ import annotations

from core import tasks
from core.tasks import app, unit_of_work
from marketplace import directory, entries, exits, expiry

SWEEP_SECONDS = 3600.0


@app.task(name="marketplace.sweep_qualifications")
def sweep_qualifications() -> int:
    with unit_of_work() as session:
        return len(expiry.sweep(session))


@app.task(name="marketplace.sweep_exits")
def sweep_exits() -> int:
    with unit_of_work() as session:
        return len(exits.sweep(session))


@app.task(name="marketplace.recompute_directory")
def recompute_directory() -> int:
    """Every offer and standing from the rows: complaints, sanctions and list entries age out by the day."""
    with unit_of_work() as session:
        return directory.recompute_all(session, entries.requirements(session))


tasks.every(SWEEP_SECONDS, sweep_qualifications)
tasks.every(SWEEP_SECONDS, recompute_directory)
tasks.every(SWEEP_SECONDS, sweep_exits)
