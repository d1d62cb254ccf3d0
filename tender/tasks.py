"""Background tasks of the tender package (core/tasks.py explains the contract: ids in, own unit of work,
safe to run twice), and its periodic tasks: closing bidding at the deadline, starting the openings and the
opening sweep, every deadline_period (ETENDER_SCHEDULER_INTERVAL seconds).

tender.decrypt_bid is defined beside its three steps in tender/opening/decryption.py, since what sends it (the
key parts and the sweep) must import it; importing that module here registers it wherever this module is
loaded (the worker, the in-process scheduler)."""

from __future__ import annotations

from core import tasks
from core.tasks import app, unit_of_work
from tender import deadlines
from tender.opening import decryption


@app.task(name="tender.close_bidding")
def close_bidding() -> list[int]:
    """L34: bidding closes at the deadline by itself; then the openings start, in a transaction of their own
    so that a failing opening never holds bidding open. Safe to run twice: a closed tender is not due."""
    with unit_of_work() as session:
        closed = deadlines.close_due_tenders(session, start_openings=False)
    if closed:
        start_openings()
    return closed


@app.task(name="tender.start_openings")
def start_openings() -> list[int]:
    """Start the opening (or fail the tender, R44) of every tender whose bidding closed without one: right
    after close_bidding, and periodically for a crash between the two. Safe to run twice: one opening each."""
    with unit_of_work() as session:
        return deadlines.start_due_openings(session)


@app.task(name="tender.sweep_openings")
def sweep_openings() -> dict[str, int]:
    """Crash resume and the E31 decryption window (decryption.sweep); harmless on several processes at
    once."""
    with unit_of_work() as session:
        return decryption.sweep(session)


tasks.every(tasks.deadline_period, close_bidding)
tasks.every(tasks.deadline_period, start_openings)
tasks.every(tasks.deadline_period, sweep_openings)
