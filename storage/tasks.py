"""Background tasks of the blob store."""

from __future__ import annotations

from datetime import timedelta

from core import tasks
from core.tasks import app
from storage import open_store

SWEEP_EVERY_SECONDS = 3600.0


@app.task(name="storage.sweep_uploads")
def sweep_uploads(max_age_seconds: int | None = None) -> int:
    """Remove staged uploads abandoned for longer than the expiry (ETENDER_UPLOAD_EXPIRY_SECONDS). Safe to run
    twice or on several workers at once: removing what is already gone is not an error."""
    settings = tasks.settings()
    max_age = timedelta(
        seconds=settings.upload_expiry_seconds if max_age_seconds is None else max_age_seconds
    )
    return open_store(settings).sweep_uploads(max_age)


# hourly: on the `etender worker --beat` with a broker, else on the in-process scheduler (core.tasks)
tasks.every(SWEEP_EVERY_SECONDS, sweep_uploads)
