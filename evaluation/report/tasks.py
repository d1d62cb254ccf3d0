"""The evaluation report's periodic task (core/tasks.py explains the contract): R53's deemed agreements once a
report's signing deadline has passed, every deadline_period."""

from __future__ import annotations

from core import tasks
from core.tasks import app, unit_of_work
from evaluation.report import signing


@app.task(name="evaluation.sweep_report_deadlines")
def sweep_report_deadlines() -> list[int]:
    """Members silent past the deadline count as agreeing; the reports this completes. Safe to run twice: a
    deemed member has a signature row."""
    with unit_of_work() as session:
        return signing.sweep_deadlines(session)


tasks.every(tasks.deadline_period, sweep_report_deadlines)
