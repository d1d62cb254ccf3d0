"""Background tasks of the audit log (core/tasks.py explains the contract)."""

from __future__ import annotations

from audit import checkpoints, refusals
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


FOLD_SWEEP_SECONDS = 60.0  # a folded run of refusals is summed up within a minute of its window's end


@app.task(name="audit.fold_refusals")
def fold_refusals() -> int:
    """Record the count of every folded run of refusals whose window has ended (audit.refusals); returns how
    many summary entries it recorded. Safe to run twice: a closed fold is gone, the fold rows are locked."""
    with unit_of_work() as session:
        return refusals.sweep(session)


tasks.every(FOLD_SWEEP_SECONDS, fold_refusals)
