"""Background tasks of the audit log (core/tasks.py explains the contract)."""

from __future__ import annotations

from audit import checkpoints
from core import tasks
from core.signing import signing_key
from core.tasks import app, unit_of_work

SIGN_EVERY_SECONDS = 2.0  # a signed checkpoint within seconds of the log growing (docs/audit-log.md)


@app.task(name="audit.sign_checkpoint")
def sign_checkpoint() -> int | None:
    """Sign a checkpoint of the log if it grew since the latest one; returns its size. Safe to run twice or on
    several processes at once: the signer holds the log's head lock, so no size is signed twice."""
    settings = tasks.settings()
    with unit_of_work() as session:
        cp = checkpoints.sign(session, signing_key(settings.data_dir, settings.origin), settings.origin)
        return None if cp is None else cp.size


tasks.every(SIGN_EVERY_SECONDS, sign_checkpoint)
