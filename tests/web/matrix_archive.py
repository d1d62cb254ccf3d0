"""Rows of the authorisation matrix for the procedure file (issue 14, web/award/archive.py), on the matrix's
published tender (not ended) and its draft: the page for everyone logged in (it says why there is nothing to
download yet, or to whom it is not given); the download refused to the tender's agency and purchaser, the
monitors and the administrators until the procedure has ended (409), forbidden to everyone else; a draft has
none. The ended tender's cells are tests/web/award/test_archive_pages.py."""

from __future__ import annotations

from typing import Any

from tests.web.matrix_support import E, Row, logged_in

P = "/tenders/{tender_id:int}/archive"

ROWS: list[Any] = [
    Row("GET", P, logged_in("ok")),
    Row("GET", P, E("notfound", anonymous="login"), target="draft"),
    Row(
        "GET",
        P + ".zip",
        E(
            "forbidden",
            anonymous="login",
            agencyA="allowed",
            purchaser="allowed",
            monitor="allowed",
            admin="allowed",
        ),
    ),
    Row("GET", P + ".zip", E("notfound", anonymous="login"), target="draft"),
]
