"""Rows of the authorisation matrix for the intermediary marketplace's routes (issue 15,
web/marketplace/pages.py), and the world they need.

tests/web/matrix.py adds ROWS to the matrix and calls extend_world(env, session, w) while building its world:
the shipped catalogue, one intermediary whose application waits for review, and one open purchase of a
project owner (neither account is one of the matrix's roles: every logged-in matrix role is refused the
intermediary's and the owner's own pages; the centre's administrator reviews and may open the owner's
page)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from accounts.models import User, actor_for
from core import clock
from marketplace import entries, purchases, rules
from tests.factories.accounts import Maker
from tests.factories.marketplace import QUOTE_PUBLIC, entry_input
from tests.web.matrix_support import E, Row, logged_in, only, public

P = {"purchase_id": "mp_purchase"}
EN = {"entry_id": "mp_entry"}
NONE = only("forbidden")  # every logged-in matrix role refused; anonymous sent to log in

ROWS: list[Any] = [
    # the public directory, purchases and selection results
    Row("GET", "/marketplace", public()),
    Row("GET", "/marketplace/purchases", public()),
    Row("GET", "/marketplace/purchases/{purchase_id:int}", public(), params=P),
    # no selection has run yet: no record, for anyone
    Row("GET", "/api/v1/marketplace/purchases/{purchase_id:int}/selection", E("notfound"), params=P),
    # after the selection (none has run here): the contract's parties, the owner, the raters; all refused
    Row(
        "POST",
        "/marketplace/purchases/{purchase_id:int}/contract",
        NONE,
        params=P,
        form={"number": "1"},
        files={"file": ("合同.pdf", b"%PDF-1.7 probe", "application/pdf")},
    ),
    Row(
        "POST",
        "/marketplace/purchases/{purchase_id:int}/result",
        NONE,
        params=P,
        files={"file": ("成果.pdf", b"%PDF-1.7 probe", "application/pdf")},
    ),
    # a purchase's file: its sides', the monitors' and the administrators'; nobody learns that an id exists
    Row(
        "GET",
        "/marketplace/documents/{document_id:int}",
        logged_in("notfound"),
        params={"document_id": "mp_none"},
    ),
    Row("POST", "/marketplace/purchases/{purchase_id:int}/contract/confirm", NONE, params=P),
    Row("POST", "/owner/purchases/{purchase_id:int}/acceptance", NONE, params=P, form={"result": "accepted"}),
    # monitors and administrators rate, once a service is accepted: this one is not
    Row(
        "POST",
        "/marketplace/purchases/{purchase_id:int}/rating",
        only("allowed", "monitor", "admin"),
        params=P,
        form={"quality": "5"},
    ),
    # the intermediary's own pages
    Row("GET", "/intermediary/entry", NONE),
    Row("POST", "/intermediary/entry/submit", NONE, form={"licence_number": ""}),
    Row("GET", "/intermediary/purchases", NONE),
    Row("POST", "/intermediary/purchases/{purchase_id:int}/sign-up", NONE, params=P, form={"quote": "1"}),
    # the project owner's pages (the centre may open a purchase and close a sign-up its owner leaves open)
    Row("GET", "/owner/purchases", NONE),
    Row("POST", "/owner/purchases/new", NONE, form={"project": ""}),
    Row("GET", "/owner/purchases/{purchase_id:int}", only("ok", "admin"), params=P),
    Row("POST", "/owner/purchases/{purchase_id:int}/close", only("allowed", "admin"), params=P),
    # only the owner contributes its own random number, never the centre
    Row("POST", "/owner/purchases/{purchase_id:int}/commit", NONE, params=P, form={"commitment": "00"}),
    Row("POST", "/owner/purchases/{purchase_id:int}/reveal", NONE, params=P, form={"value": "00"}),
    # only the owner holds the purchase key that opens the sealed quotes, never the centre
    Row("POST", "/owner/purchases/{purchase_id:int}/release", NONE, params=P, form={"key_file": "{}"}),
    # only the owner chooses from a credit short list, never the centre
    Row("POST", "/owner/purchases/{purchase_id:int}/choose", NONE, params=P, form={"organisation_id": "1"}),
    # the centre reviews entries and edits the catalogue
    Row("GET", "/admin/marketplace/entries", only("ok", "admin")),
    Row("GET", "/admin/marketplace/entries/{entry_id:int}", only("ok", "admin"), params=EN),
    Row("POST", "/admin/marketplace/entries/{entry_id:int}/approve", only("allowed", "admin"), params=EN),
    Row(
        "POST",
        "/admin/marketplace/entries/{entry_id:int}/return",
        only("allowed", "admin"),
        params=EN,
        form={"reasons": ""},
    ),
    Row("GET", "/admin/marketplace/catalogue", only("ok", "admin")),
    Row("POST", "/admin/marketplace/catalogue/save", only("allowed", "admin"), form={"code": ""}),
    # credit (issue 15, web/marketplace/credit_pages.py): every intermediary's credit inputs and the lists
    # are public; the intermediary's own page and requests are its own; the centre's desk is the centre's
    Row(
        "GET", "/marketplace/intermediaries/{org_id:int}/credit", public(), params={"org_id": "mp_signer_org"}
    ),
    Row("GET", "/marketplace/lists", public()),
    Row("GET", "/intermediary/credit", NONE),
    Row("POST", "/intermediary/ratings/{rating_id:int}/appeal", NONE, params={"rating_id": "mp_none"}),
    Row("POST", "/intermediary/exits/{exit_id:int}/appeal", NONE, params={"exit_id": "mp_none"}),
    Row("POST", "/intermediary/entry/complaint", NONE, form={"text": "x"}),
    # the supervising authority complains about a service (none selected here: refused with its reason)
    Row(
        "POST",
        "/marketplace/purchases/{purchase_id:int}/complaints",
        only("allowed", "monitor"),
        params=P,
        form={"kind": "quality", "text": "x"},
    ),
    Row("GET", "/admin/marketplace/credit", only("ok", "admin")),
    Row("POST", "/admin/marketplace/sanctions", only("allowed", "admin"), form={"org": ""}),
    Row("POST", "/admin/marketplace/listings", only("allowed", "admin"), form={"org": ""}),
    Row("POST", "/admin/marketplace/findings", only("allowed", "admin"), form={"org": ""}),
    Row(
        "POST",
        "/admin/marketplace/listings/{listing_id:int}/lift",
        only("notfound", "admin"),
        params={"listing_id": "mp_none"},
        form={"note": "x"},
    ),
    Row(
        "POST",
        "/admin/marketplace/complaints/{complaint_id:int}/decide",
        only("notfound", "admin"),
        params={"complaint_id": "mp_none"},
        form={"note": "x", "verdict": "verified"},
    ),
    Row(
        "POST",
        "/admin/marketplace/appeals/{appeal_id:int}/review",
        only("notfound", "admin"),
        params={"appeal_id": "mp_none"},
        form={"note": "x"},
    ),
    Row(
        "POST",
        "/admin/marketplace/exits/{exit_id:int}/decide",
        only("notfound", "admin"),
        params={"exit_id": "mp_none"},
        form={"note": "x", "granted": "1"},
    ),
]


def extend_world(env: Any, session: Any, w: SimpleNamespace) -> None:
    """Add the marketplace's intermediary and purchase (the caller commits)."""
    make = Maker(session)
    make.n = 900  # credit codes apart from the matrix's own organisations
    entries.load_catalogue(session)
    firm = make.org("intermediary", "Matrix Testing Ltd")
    firm_actor = actor_for(make.user(firm, "intermediary", username=f"mp-firm-{w.title[-10:]}"))
    w.mp_entry = entries.submit_entry(session, firm_actor, entry_input()).id
    # an approved intermediary, which the adversary suite signs up with a quote (tests/web/test_adversary.py)
    admin = actor_for(session.get(User, w.users["admin"][0]))
    signer_org = make.org("intermediary", "Matrix Survey Ltd")
    signer = make.user(signer_org, "intermediary", username=f"mp-signer-{w.title[-10:]}")
    entries.approve_entry(session, admin, entries.submit_entry(session, actor_for(signer), entry_input()).id)
    w.mp_signer = signer.id
    w.mp_signer_org = signer_org.id
    w.mp_none = 999_999  # no such rating, exit, list entry, complaint or appeal
    owner_org = make.org("purchaser", "Matrix Water Bureau")
    owner = actor_for(make.user(owner_org, "project_owner", username=f"mp-owner-{w.title[-10:]}"))
    now = clock.now()
    data = rules.PurchaseInput(
        service_code="testing",
        project="Matrix water testing",
        ceiling_fen=1_000_000,
        requirements="",
        state_funds=True,
        method="lowest",
        signup_deadline=now + timedelta(days=5),
        selection_at=now + timedelta(days=6),
        quote_key=QUOTE_PUBLIC,
    )
    w.mp_purchase = purchases.post(session, owner, data).id
