"""Rows of the authorisation matrix for the committee's scoring and ranking (issue 13,
web/evaluation/scoring.py), on the room's tender of tests/web/matrix_room.py: its session open, the matrix
expert the one member checked in (no chair, the review not closed). The member reaches every scoring route
(refused for what the step's state is: 409/422); nobody else reaches any, and no route shows a score to anyone
but the member themself (the independence of G87 art. 62: tests/web/evaluation/test_scoring.py and
tests/evaluation/scoring). The progress (members finished n/m) is for everyone once the tender is being
evaluated."""

from __future__ import annotations

from typing import Any

from tests.web.matrix_support import E, Row, only

ROOM = "room_tender"
S = "/expert/tenders/{tender_id:int}/room/scoring"
API = "/api/v1/expert/tenders/{tender_id:int}/scoring/sheet"
PROGRESS = "/api/v1/notices/{tender_id:int}/evaluation/scoring"
NONE = only("forbidden")  # every logged-in role refused; anonymous sent to log in
MEMBER = only("allowed", "expert")

ROWS: list[Any] = [
    Row("GET", S, only("ok", "expert"), target=ROOM),
    Row("GET", S, NONE),
    Row("POST", f"{S}/sheet", MEMBER, target=ROOM, form={"score-1-0": "5"}),
    Row("POST", f"{S}/sheet", NONE, form={"score-1-0": "5"}),
    Row("POST", f"{S}/submit", MEMBER, target=ROOM, form={"confirm": "1"}),
    Row("POST", f"{S}/submit", NONE, form={"confirm": "1"}),
    Row("POST", f"{S}/flags/confirm", MEMBER, target=ROOM, form={"bid": "1", "factor": "0", "reason": "x"}),
    Row("POST", f"{S}/flags/correct", MEMBER, target=ROOM, form={"bid": "1", "factor": "0", "value": "1"}),
    Row("POST", f"{S}/prices", MEMBER, target=ROOM, form={"bid": "1", "kind": "correction", "amount": ""}),
    Row("POST", f"{S}/close", MEMBER, target=ROOM),
    Row("POST", f"{S}/close", NONE),
    Row(
        "POST",
        "/expert/tenders/{tender_id:int}/room/ranking/close",
        MEMBER,
        target=ROOM,
        form={"candidates": "0"},
    ),
    # the member's own sheet, and the autosave
    Row("GET", API, only("ok", "expert"), target=ROOM),
    Row("GET", API, NONE),
    Row("POST", API, MEMBER, target=ROOM, json={"entries": []}),
    Row("POST", API, NONE, json={"entries": []}),
    # progress: counts, never names or scores
    Row("GET", PROGRESS, E("ok"), target=ROOM),
    Row("GET", PROGRESS, E("forbidden")),
]
