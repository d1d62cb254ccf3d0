"""Rows of the authorisation matrix for the results' routes (issue 14, web/award/publicity.py), on the
matrix's published tender (open for bids: nothing published, no objection on its result, no complaint): the
public page exists only once the candidates are published (before then the tender's parties and the
supervisors find it empty); the agency's and purchaser's page for them only, publishing for the agency only;
the bidder's forms for bidders only; complaint handling for monitors only (none received, so none found)."""

from __future__ import annotations

from typing import Any

from tests.web.matrix_support import E, Row, only

TID = "{tender_id:int}"
OID = "{objection_id:int}"
CID = "{complaint_id:int}"
PARTY = f"/agency/tenders/{TID}/publicity"
BIDDER = f"/bidder/tenders/{TID}/results"

ROWS: list[Any] = [
    Row(
        "GET",
        f"/tenders/{TID}/publicity",
        E("notfound", agencyA="ok", purchaser="ok", monitor="ok", admin="ok"),
    ),
    Row(
        "GET",
        f"/tenders/{TID}/publicity",
        E("notfound", agencyA="ok", purchaser="ok", admin="ok"),
        target="draft",
    ),
    Row("GET", PARTY, only("ok", "agencyA", "purchaser")),
    Row("POST", f"{PARTY}/publish", only("allowed", "agencyA"), form={}),
    # no objection on a result exists: not found for everyone logged in
    Row(
        "POST",
        f"{PARTY}/objections/{OID}/answer",
        E("notfound", anonymous="login"),
        form={"answer": "x"},
        params={"objection_id": "objection"},
    ),
    Row("GET", BIDDER, only("ok", "bidder1", "bidder2")),
    Row("POST", f"{BIDDER}/objections", only("allowed", "bidder1", "bidder2"), form={"text": ""}),
    Row("POST", f"{BIDDER}/complaints", only("allowed", "bidder1", "bidder2"), form={"matter": ""}),
    Row("GET", "/monitor/complaints", only("ok", "monitor")),
    Row(
        "GET", f"/monitor/complaints/{CID}", only("notfound", "monitor"), params={"complaint_id": "objection"}
    ),
    Row(
        "POST",
        f"/monitor/complaints/{CID}/acceptance",
        only("notfound", "monitor"),
        form={"accept": "yes"},
        params={"complaint_id": "objection"},
    ),
    Row(
        "POST",
        f"/monitor/complaints/{CID}/decision",
        only("notfound", "monitor"),
        form={"outcome": "dismissed", "reasons": "x"},
        params={"complaint_id": "objection"},
    ),
]
