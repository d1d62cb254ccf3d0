"""The trading centre's records for the workbench tests (issue 16): an intake of the cast's project and the
centre's settings of rooms."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from types import SimpleNamespace

from core import clock
from tender.centre import intake

OPENING_ROOMS = ("Opening room 1", "Opening room 2", "Opening room 3")


def intake_input(w: SimpleNamespace, **changes) -> intake.IntakeInput:  # type: ignore[no-untyped-def]
    """The cast's project (cast(): purchaser_org, agency_org), registered at the centre."""
    now = clock.now()
    data = intake.IntakeInput(
        reference="JY-2026-0001",
        title="Furniture for the county school",
        purchaser_id=w.purchaser_org.id,
        agency_id=w.agency_org.id,
        category="goods",
        funding="fiscal",
        planned_publication=now + timedelta(days=2),
        planned_opening=now + timedelta(days=30),
        remarks="Budget approved.",
    )
    return dataclasses.replace(data, **changes)
