"""Rows of the authorisation matrix for the evaluation report's routes (issue 13, web/evaluation/report.py),
on the room's tender of tests/web/matrix_room.py (being evaluated, the matrix expert checked in, no step
closed and so no report yet): the member's page and forms for the checked-in member only; the signing progress
for everyone following the evaluation; the report itself (PDF, bundle) for the committee and the monitors, who
find none yet; nobody else before the result is final."""

from __future__ import annotations

from typing import Any

from tests.web.matrix_support import E, Row, only

ROOM = "room_tender"
T = "/expert/tenders/{tender_id:int}/room/report"
P = "/tenders/{tender_id:int}/evaluation/report"
API = "/api/v1/notices/{tender_id:int}/evaluation/report"
NONE = only("forbidden")
REPORT = E("forbidden", expert="notfound", monitor="notfound")  # Fact.evaluation_report; none generated yet

ROWS: list[Any] = [
    Row("GET", T, only("ok", "expert"), target=ROOM),
    Row("GET", T, NONE),
    Row("GET", T, E("notfound"), target="draft"),
    Row("POST", f"{T}/generate", only("allowed", "expert"), target=ROOM),
    Row("POST", f"{T}/key", only("allowed", "expert"), target=ROOM, form={"public_key": ""}),
    Row("POST", f"{T}/key", NONE, form={"public_key": ""}),
    Row("POST", f"{T}/sign", only("allowed", "expert"), target=ROOM, form={"signature": ""}),
    # the signing progress: counts for everyone once the tender is being evaluated (Fact.evaluation_progress)
    Row("GET", P, E("ok"), target=ROOM),
    Row("GET", P, E("forbidden")),
    Row("GET", P, E("notfound"), target="draft"),
    Row("GET", API, E("ok"), target=ROOM),
    Row("GET", API, E("forbidden")),
    # the report itself: the committee and the monitors (none generated yet), nobody else before it is final
    Row("GET", P + ".pdf", REPORT, target=ROOM),
    Row("GET", P + ".pdf", E("forbidden")),
    Row("GET", API + ".json", REPORT, target=ROOM),
    Row("GET", API + ".json", E("forbidden")),
]
