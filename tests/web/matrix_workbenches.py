"""Rows of the authorisation matrix for the workbenches (issue 16, web/supervision/workbenches.py): the
purchaser's page for purchasers; the centre's pages and forms for its staff and administrators (witnessing:
its staff only); the agency's link from its draft to the intake for the tender's agency (a draft stays
invisible to everyone else, as on the agency's own pages)."""

from __future__ import annotations

from typing import Any

from tests.web.matrix_support import E, Row, only

TID = "{tender_id:int}"


def own_draft(cls: str) -> dict[str, str]:
    return E("notfound", anonymous="login", agencyA=cls, purchaser="forbidden", admin="forbidden")


ROWS: list[Any] = [
    Row("GET", "/purchaser", only("ok", "purchaser")),
    Row("GET", "/centre", only("ok", "centre", "admin")),
    Row("POST", "/centre/intakes", only("allowed", "centre", "admin"), form={"reference": ""}),
    Row("GET", "/centre/calendar", only("ok", "centre", "admin")),
    Row("POST", "/centre/calendar/openings", only("allowed", "centre", "admin"), form={"tender_id": ""}),
    # witnessing is the staff's own act (who witnessed is a person on duty, not an administrator)
    Row(
        "POST",
        f"/centre/tenders/{TID}/witness",
        only("allowed", "centre"),
        form={"kind": "opening", "witnessed_at": "2026-01-01T10:00"},
    ),
    Row("GET", f"/agency/tenders/{TID}/intake", only("ok", "agencyA")),
    Row("GET", f"/agency/tenders/{TID}/intake", own_draft("ok"), target="draft"),
    Row("POST", f"/agency/tenders/{TID}/intake/link", only("allowed", "agencyA"), form={"intake_id": ""}),
    Row(
        "POST",
        f"/agency/tenders/{TID}/intake/link",
        own_draft("allowed"),
        target="draft",
        form={"intake_id": ""},
    ),
]
ROWS += [
    # the agency books its tender's opening room (tender.centre.rooms); the centre books from its calendar
    Row("GET", f"/agency/tenders/{TID}/opening-room", only("ok", "agencyA")),
    Row("GET", f"/agency/tenders/{TID}/opening-room", own_draft("ok"), target="draft"),
    Row("POST", f"/agency/tenders/{TID}/opening-room/book", only("allowed", "agencyA"), form={"room": ""}),
    Row(
        "POST",
        f"/agency/tenders/{TID}/opening-room/book",
        own_draft("allowed"),
        target="draft",
        form={"room": ""},
    ),
]
