"""Rows of the authorisation matrix for the award's routes (issue 14, web/award/decision.py), on the matrix's
published tender (no publicity, no award yet): the award page for the tender's agency, purchaser, monitors and
administrators; its forms for the purchaser (confirming, ending, failing the award) and for the agency (the
contract with the purchaser, the securities, re-tendering), each refused by the service as what it carried
(no publicity, no award, not failed) for those who may act, forbidden to the others; the notices, the result
and the contract, which do not exist or are not public before the result is final."""

from __future__ import annotations

from typing import Any

from tests.web.matrix_support import E, Row, only

A = "/award/tenders/{tender_id:int}"
PARTIES = E("forbidden", anonymous="login", agencyA="ok", purchaser="ok", monitor="ok", admin="ok")
PDF = {"file": ("contract.pdf", b"%PDF-1.7 contract", "application/pdf")}
# a security id: none exists on the published tender (the agency's refusal is "not found"); any int does
SEC = {"security_id": "published_doc"}
AGENCY_404 = E("forbidden", anonymous="login", agencyA="notfound")

ROWS: list[Any] = [
    Row("GET", A, PARTIES),
    Row("GET", A, E("notfound", agencyA="ok", purchaser="ok", admin="ok"), target="draft"),
    Row("POST", f"{A}/confirm", only("allowed", "purchaser"), form={"rank": "1"}),
    Row("POST", f"{A}/decline", only("allowed", "purchaser"), form={"ground": "declined", "note": "x"}),
    Row("POST", f"{A}/impossible", only("allowed", "purchaser"), form={"note": "x"}),
    Row("POST", f"{A}/contract", only("allowed", "agencyA", "purchaser"), files=PDF),
    Row("POST", f"{A}/contract/record", only("allowed", "agencyA", "purchaser"), form={}),
    Row(
        "POST", f"{A}/securities/{{security_id:int}}/refund", AGENCY_404, form={"reference": "x"}, params=SEC
    ),
    Row(
        "POST",
        f"{A}/securities/{{security_id:int}}/forfeit",
        AGENCY_404,
        form={"ground": "revoked_bid", "note": "x"},
        params=SEC,
    ),
    Row("POST", f"{A}/retender", only("allowed", "agencyA"), form={"reason": "too_few_bids"}),
    # the notices: none exists (a document id stands in for a notice id)
    Row(
        "GET",
        "/award/notices/{notice_id:int}/notice.pdf",
        E("notfound"),
        params={"notice_id": "published_doc"},
    ),
    Row("GET", "/api/v1/award/notices/{number:str}", E("notfound"), params={"number": "lang"}),
    # the bidder's own notice: the result is not final
    Row("GET", "/bidder/tenders/{tender_id:int}/award-notice", only("forbidden")),
    # the public result and contract: not before the award
    Row("GET", "/tenders/{tender_id:int}/result", E("forbidden")),
    Row("GET", "/tenders/{tender_id:int}/contract", E("notfound")),
    Row("GET", "/tenders/{tender_id:int}/contract/file", E("notfound")),
]
