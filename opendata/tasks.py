"""Background tasks of the open data (core/tasks.py explains the contract): the periodic sync that stores the
OCDS releases of every change that has become public (opendata.releases.sync: idempotent, safe to run twice
and on several processes at once)."""

from __future__ import annotations

from core import tasks
from core.tasks import app, unit_of_work
from opendata import releases

SYNC_SECONDS = 30.0  # a release appears at most this long after its change became public


@app.task(name="opendata.sync_releases")
def sync_releases() -> int:
    with unit_of_work() as session:
        return releases.sync(session, tasks.settings())


tasks.every(SYNC_SECONDS, sync_releases)
