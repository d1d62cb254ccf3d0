"""Background tasks of the tender package (core/tasks.py explains the contract: ids in, own unit of work,
safe to run twice).

tender.decrypt_bid is defined beside its three steps in tender/opening/decryption.py, since what sends it (the
key parts and the sweep) must import it; importing that module here registers it wherever this module is
loaded (the worker, the in-process scheduler)."""

from __future__ import annotations

from core import tasks
from core.tasks import app, unit_of_work
from tender.opening import decryption

SWEEP_EVERY_SECONDS = 30.0


@app.task(name="tender.sweep_openings")
def sweep_openings() -> dict[str, int]:
    """Crash resume and the E31 decryption window (decryption.sweep); harmless on several processes."""
    with unit_of_work() as session:
        return decryption.sweep(session)


# on the `etender worker --beat` in deployment, on a timer thread in each web process by default
tasks.every(SWEEP_EVERY_SECONDS, sweep_openings)
