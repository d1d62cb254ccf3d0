"""Background tasks of committee draws (core/tasks.py explains the contract), periodic every deadline_period:
seats whose confirmation timed out go to the next substitute, and the record of every draw whose tender became
final is published.

The messaging channel that tells a substitute is built once where the process is composed (web.app.create_app,
`etender worker`) and passed in with use_channel; without one these tasks fail rather than drop a message."""

from __future__ import annotations

from accounts.notifications import Channel
from core import tasks
from core.tasks import app, unit_of_work
from evaluation.committee import draws

_channel: Channel | None = None


def use_channel(channel: Channel) -> None:
    global _channel
    _channel = channel


def channel() -> Channel:
    if _channel is None:
        raise RuntimeError(
            "no messaging channel for the draw tasks: the process's composition "
            "(web.app.create_app, `etender worker`) passes one to "
            "evaluation.committee.tasks.use_channel"
        )
    return _channel


@app.task(name="evaluation.sweep_confirmations")
def sweep_confirmations() -> list[int]:
    """Seats not confirmed in time go to the next substitute, who is told. Safe to run twice: a swept seat is
    no longer awaiting an answer."""
    messaging = channel()
    with unit_of_work() as session:
        return draws.sweep_timeouts(session, messaging)


@app.task(name="evaluation.publish_draw_records")
def publish_draw_records() -> list[int]:
    """L37: the draw record (with the server seed) once the tender is final. Safe to run twice."""
    with unit_of_work() as session:
        return draws.publish_due_records(session)


tasks.every(tasks.deadline_period, sweep_confirmations)
tasks.every(tasks.deadline_period, publish_draw_records)
