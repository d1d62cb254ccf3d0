"""Background tasks of the tender package (core/tasks.py explains the contract: ids in, own unit of work,
safe to run twice)."""

from __future__ import annotations

from core import tasks
from core.tasks import app, unit_of_work
from storage import open_store
from tender.opening import ceremony as opening

SWEEP_EVERY_SECONDS = 30.0


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


@app.task(name="tender.sweep_openings")
def sweep_openings() -> dict[str, int]:
    """Crash resume and the E31 decryption window (opening.sweep); harmless on several processes at once."""
    with unit_of_work() as session:
        return opening.sweep(session)


# on the `etender worker --beat` in deployment, on a timer thread in each web process by default
tasks.every(SWEEP_EVERY_SECONDS, sweep_openings)
