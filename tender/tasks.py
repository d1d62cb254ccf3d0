"""Background tasks of the tender package (core/tasks.py explains the contract: ids in, own unit of work,
safe to run twice), and its periodic tasks: closing bidding at the deadline, starting the openings and the
opening sweep, every deadline_period (ETENDER_SCHEDULER_INTERVAL seconds)."""

from __future__ import annotations

from core import tasks
from core.tasks import app, unit_of_work
from storage import open_store
from tender import services
from tender.opening import ceremony as opening


@app.task(name="tender.decrypt_bid")
def decrypt_bid(opened_bid_id: int) -> str:
    """Decrypt one bid of an opening. Three steps: claim it (pending -> decrypting, committed), decrypt and store its
    files outside any transaction, record the outcome if the claim is still ours. A second delivery finds the bid
    claimed or done and returns; a task that dies midway leaves a claim that opening.sweep gives back."""
    with unit_of_work() as session:
        job = opening.claim(session, opened_bid_id)
    if job is None:
        return "skipped"
    outcome = opening.decrypt(open_store(tasks.settings()), job)
    with unit_of_work() as session:
        recorded = opening.finish_bid(session, job, outcome)
    return outcome.status if recorded else "superseded"


@app.task(name="tender.close_bidding")
def close_bidding() -> list[int]:
    """L34: bidding closes at the deadline by itself; then the openings start, in a transaction of their own
    so that a failing opening never holds bidding open. Safe to run twice: a closed tender is not due."""
    with unit_of_work() as session:
        closed = services.close_due_tenders(session, start_openings=False)
    if closed:
        start_openings()
    return closed


@app.task(name="tender.start_openings")
def start_openings() -> list[int]:
    """Start the opening (or fail the tender, R44) of every tender whose bidding closed without one: right
    after close_bidding, and periodically for a crash between the two. Safe to run twice: one opening each."""
    with unit_of_work() as session:
        return services.start_due_openings(session)


@app.task(name="tender.sweep_openings")
def sweep_openings() -> dict[str, int]:
    """Crash resume and the E31 decryption window (opening.sweep); harmless on several processes at once."""
    with unit_of_work() as session:
        return opening.sweep(session)


tasks.every(tasks.deadline_period, close_bidding)
tasks.every(tasks.deadline_period, start_openings)
tasks.every(tasks.deadline_period, sweep_openings)
