"""The authorisation matrix (tests/web/test_authorization_matrix.py) and what it is made of: its rows (with
those of tests/web/matrix_bids.py and matrix_opening.py), the app's endpoints, how one cell is requested and
its outcome classed, and the world the cells run in (Env, build_world). Also read by
tests/tender/test_no_early_opening.py, which walks every GET route of the matrix as every role.

The `env` fixture (tests/conftest.py) is an Env: the app, its client and the world, once per module."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace
from typing import Any

from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import select

from accounts.models import Organisation, User, actor_for
from core.settings import Settings
from evaluation.pool.models import Expert
from tender import drafting, keyholders, objections, questions
from tender.models import Tender
from tests.factories.accounts import Maker, user
from tests.factories.tenders import PDF, tender_input
from tests.support import truncate
from tests.web import (
    matrix_archive,
    matrix_award,
    matrix_bids,
    matrix_marketplace,
    matrix_ocds,
    matrix_opening,
    matrix_publicity,
    matrix_report,
    matrix_review,
    matrix_room,
    matrix_scoring,
    matrix_workbenches,
)
from tests.web.matrix_support import ROLES, E, Row, logged_in, only, public
from web.app import create_app
from web.deps import SESSION_ROLE, SESSION_USER
from web.security import CSRF_SEED, issue_csrf_token

__all__ = [
    "MATRIX",
    "ROLES",
    "SESSION_ROLE",
    "SESSION_USER",
    "Env",
    "Row",
    "app_endpoints",
    "build_world",
    "classify",
    "concrete_path",
    "matches",
    "request_cell",
]

SKIPPED_PREFIXES = ("/static", "/schema")  # static files and the OpenAPI documents: public by construction
CSRF_TEXT = "The form expired or was sent from another site"


# ---------------------------------------------------------------- the matrix


def sees_draft(cls: str) -> dict[str, str]:
    """A draft of agency A: its agency, its purchaser and the administrators see it; to all others it does not
    exist."""
    return E("notfound", agencyA=cls, purchaser=cls, admin=cls)


def own_published(cls: str) -> dict[str, str]:
    """Agency A's workspace on its published tender: everyone else logged in is forbidden."""
    return only(cls, "agencyA")


def own_draft(cls: str) -> dict[str, str]:
    """Agency A's workspace on its draft: those who may see the draft are forbidden, to the others it does not
    exist."""
    return E("notfound", anonymous="login", agencyA=cls, purchaser="forbidden", admin="forbidden")


TID = "{tender_id:int}"
PDF_FILE = {"document": ("matrix.pdf", PDF, "application/pdf")}
CLARIFICATION = {"title": "Amendment 1", "body": "Delivery moves to the east campus."}
MATRIX: list[Row] = [
    # ------------------------------------------------ the platform and the account
    Row("GET", "/healthz", public()),
    Row("GET", "/rules", public()),  # the legal rules that rule references link to (web/rule_pages.py)
    # the trading statistics: figures over published results only (supervision/statistics.py)
    Row("GET", "/statistics", public()),
    Row("GET", "/statistics.csv", public()),
    # the operator's metrics: only with the scrape token, which no role's session carries
    Row("GET", "/metrics", E("notfound")),
    Row("GET", "/login", public()),
    Row("POST", "/login", E("allowed"), form={"username": "nobody", "password": "wrong password"}),
    Row("POST", "/logout", public(), keeps_world=True),
    Row("GET", "/lang/{code:str}", public(), params={"code": "lang"}),
    # Switching to a role one does not hold (anonymous holds none) changes nothing and lands on the home page.
    Row("POST", "/role", public(), form={"role": "bidder"}, keeps_world=True),
    Row("GET", "/notifications", logged_in("ok")),
    Row("GET", "/account", logged_in("ok")),
    Row(
        "POST",
        "/account/password",
        logged_in("allowed"),
        form={"current": "not my password", "new": "a new long password"},
    ),
    # ---------------------------------------- the public site and the API (E20: no login to read or download)
    Row("GET", "/", public()),
    Row("GET", f"/tenders/{TID}", public()),
    Row("GET", f"/tenders/{TID}", sees_draft("ok"), target="draft"),
    Row("GET", f"/tenders/{TID}", public(), target="objected"),
    Row("GET", "/documents/{document_id:int}", public(), params={"document_id": "published_doc"}),
    Row(
        "GET",
        "/documents/{document_id:int}",
        sees_draft("ok"),
        target="draft",
        params={"document_id": "draft_doc"},
    ),
    Row("GET", "/api/v1/notices", public()),
    Row("GET", f"/api/v1/notices/{TID}", public()),
    Row("GET", f"/api/v1/notices/{TID}", sees_draft("ok"), target="draft"),
    # ------------------------------------------------ the agency portal
    Row("GET", "/agency", only("ok", "agencyA", "agencyB")),
    Row("GET", "/agency/tenders/new", only("ok", "agencyA", "agencyB")),
    Row("POST", "/agency/tenders/new", only("allowed", "agencyA", "agencyB"), form={"title": ""}),
    Row("GET", f"/agency/tenders/{TID}", own_published("ok")),
    Row("GET", f"/agency/tenders/{TID}", own_draft("ok"), target="draft"),
    Row("GET", f"/agency/tenders/{TID}/edit", own_draft("ok"), target="draft"),
    Row("GET", f"/agency/tenders/{TID}/edit", own_published("ok")),  # agency A: sent back to the workspace
    Row("POST", f"/agency/tenders/{TID}/edit", own_draft("allowed"), target="draft", form={"title": ""}),
    Row("POST", f"/agency/tenders/{TID}/edit", own_published("allowed"), form={"title": ""}),
    Row("POST", f"/agency/tenders/{TID}/documents", own_draft("allowed"), target="draft", files=PDF_FILE),
    Row("POST", f"/agency/tenders/{TID}/documents", own_published("allowed"), files=PDF_FILE),
    Row(
        "POST",
        f"/agency/tenders/{TID}/documents/{{document_id:int}}/delete",
        own_draft("allowed"),
        target="draft",
        params={"document_id": "draft_doc"},
        form={},
    ),
    Row(
        "POST",
        f"/agency/tenders/{TID}/documents/{{document_id:int}}/delete",
        own_published("allowed"),
        params={"document_id": "published_doc"},
        form={},
    ),
    Row("POST", f"/agency/tenders/{TID}/publish", own_draft("allowed"), target="draft", form={}),
    Row("POST", f"/agency/tenders/{TID}/publish", own_published("allowed"), form={}),
    Row(
        "POST",
        f"/agency/tenders/{TID}/clarifications",
        own_published("allowed"),
        files={},
        form=CLARIFICATION,
    ),
    Row(
        "POST",
        f"/agency/tenders/{TID}/clarifications",
        own_draft("allowed"),
        target="draft",
        files={},
        form=CLARIFICATION,
    ),
    Row(
        "POST",
        f"/agency/tenders/{TID}/questions/{{question_id:int}}/answer",
        own_published("allowed"),
        params={"question_id": "question"},
        form={"answer": "Yes, delivery and installation are included."},
    ),
    # R22: the purchaser or its agency answers an objection.
    Row(
        "POST",
        f"/agency/tenders/{TID}/objections/{{objection_id:int}}/answer",
        only("allowed", "agencyA", "purchaser"),
        target="objected",
        params={"objection_id": "objection"},
        form={"answer": "The specification is brand-neutral."},
    ),
    Row(
        "POST",
        f"/agency/tenders/{TID}/cancel",
        own_published("allowed"),
        form={"reason": "Budget withdrawn", "confirm": "1"},
    ),
    Row(
        "POST",
        f"/agency/tenders/{TID}/cancel",
        own_draft("allowed"),
        target="draft",
        form={"reason": "Budget withdrawn", "confirm": "1"},
    ),
    # ------------------------------------------------ the bidder portal
    Row("GET", "/bidder", only("ok", "bidder1", "bidder2")),
    Row("GET", f"/bidder/tenders/{TID}", only("ok", "bidder1", "bidder2")),
    Row("GET", f"/bidder/tenders/{TID}", only("notfound", "bidder1", "bidder2"), target="draft"),
    Row(
        "POST",
        f"/bidder/tenders/{TID}/register",
        only("allowed", "bidder1", "bidder2"),
        form={"lot_id": "lot", "contact_name": "Mr Wang"},
    ),
    Row(
        "POST",
        f"/bidder/tenders/{TID}/register",
        only("notfound", "bidder1", "bidder2"),
        target="draft",
        form={"lot_id": "draft_lot", "contact_name": "Mr Wang"},
    ),
    Row(
        "POST",
        f"/bidder/tenders/{TID}/questions",
        only("allowed", "bidder1", "bidder2"),
        form={"text": "May we offer an equivalent brand?"},
    ),
    Row(
        "POST",
        f"/bidder/tenders/{TID}/questions",
        only("notfound", "bidder1", "bidder2"),
        target="draft",
        form={"text": "Is this out yet?"},
    ),
    Row(
        "POST",
        f"/bidder/tenders/{TID}/objections",
        only("allowed", "bidder1", "bidder2"),
        form={"text": "Clause 3 names one brand."},
    ),
    Row(
        "POST",
        f"/bidder/tenders/{TID}/objections",
        only("notfound", "bidder1", "bidder2"),
        target="draft",
        form={"text": "Clause 3."},
    ),
    # ---------------------------------- supervision (E52); the audit trail is for monitors and administrators
    Row("GET", "/monitor", only("ok", "monitor")),
    Row("GET", f"/monitor/tenders/{TID}", only("ok", "monitor", "admin")),
    Row(
        "GET",
        f"/monitor/tenders/{TID}",
        E("notfound", agencyA="forbidden", purchaser="forbidden", admin="ok"),
        target="draft",
    ),
    Row(
        "POST",
        f"/monitor/tenders/{TID}/suspend",
        only("allowed", "monitor"),
        form={"reason": "Complaint under review"},
    ),
    Row(
        "POST",
        f"/monitor/tenders/{TID}/suspend",
        only("notfound", "monitor"),
        target="draft",
        form={"reason": "Complaint under review"},
    ),
    Row(
        "POST",
        f"/monitor/tenders/{TID}/resume",
        only("allowed", "monitor"),
        form={"reason": "Complaint settled"},
    ),
    Row(
        "POST",
        f"/monitor/tenders/{TID}/resume",
        only("notfound", "monitor"),
        target="draft",
        form={"reason": "Complaint settled"},
    ),
    # ------------------------------------------------ administration
    Row("GET", "/admin", only("ok", "admin")),
    Row("GET", "/admin/organisations", only("ok", "admin")),
    Row("GET", "/admin/organisations/new", only("ok", "admin")),
    Row("POST", "/admin/organisations/create", only("allowed", "admin"), form={"name": "", "kind": "bidder"}),
    Row(
        "GET", "/admin/organisations/{org_id:int}/edit", only("ok", "admin"), params={"org_id": "agency_org"}
    ),
    Row(
        "POST",
        "/admin/organisations/{org_id:int}",
        only("allowed", "admin"),
        params={"org_id": "agency_org"},
        form={"name": ""},
    ),
    Row("GET", "/admin/users", only("ok", "admin")),
    Row("GET", "/admin/users/new", only("ok", "admin")),
    Row("POST", "/admin/users/create", only("allowed", "admin"), form={"username": "", "roles": "bidder"}),
    Row("GET", "/admin/users/{user_id:int}/edit", only("ok", "admin"), params={"user_id": "bidder1"}),
    Row(
        "POST",
        "/admin/users/{user_id:int}",
        only("allowed", "admin"),
        params={"user_id": "bidder1"},
        form={"username": ""},
    ),
    # ------------------------------------------------ the committee draw (issue 5, web/draws.py)
    # The ids below (no_seat) name no draw and no seat (the room's tender has one: tests/web/matrix_room.py):
    # only the tender's agency reaches the request (refused for its incomplete form), an expert learns only
    # that the seat is not theirs, and the record of a draw that does not exist is not found by anyone.
    Row("GET", f"/agency/tenders/{TID}/draw", own_published("ok")),
    Row("GET", f"/agency/tenders/{TID}/draw", own_draft("ok"), target="draft"),
    Row(
        "POST", f"/agency/tenders/{TID}/draw/request", own_published("allowed"), form={"committee_size": "5"}
    ),
    Row(
        "POST",
        f"/agency/tenders/{TID}/draw/request",
        own_draft("allowed"),
        target="draft",
        form={"committee_size": "5"},
    ),
    # etender-draw-2: the parties' numbers and abandoning a draw; no draw exists, so no logged-in reader
    # learns more than that (strangers are asked to log in first)
    Row(
        "POST",
        f"/agency/tenders/{TID}/draw/{{draw_id:int}}/abandon",
        E("notfound", anonymous="login"),
        params={"draw_id": "lot"},
        form={"reason": "A number was lost"},
    ),
    Row(
        "GET",
        "/draws/{draw_id:int}/contributions",
        E("notfound", anonymous="login"),
        params={"draw_id": "lot"},
    ),
    Row(
        "POST",
        "/draws/{draw_id:int}/contributions/commit",
        E("notfound", anonymous="login"),
        params={"draw_id": "lot"},
        json={"commitment": "00" * 32},
    ),
    Row(
        "POST",
        "/draws/{draw_id:int}/contributions/reveal",
        E("notfound", anonymous="login"),
        params={"draw_id": "lot"},
        json={"value": "00" * 32},
    ),
    Row("GET", "/expert/draws", only("ok", "expert")),
    Row(
        "POST",
        "/expert/seats/{seat_id:int}/confirm",
        only("notfound", "expert"),
        params={"seat_id": "no_seat"},
    ),
    Row(
        "POST",
        "/expert/seats/{seat_id:int}/decline",
        only("notfound", "expert"),
        params={"seat_id": "no_seat"},
    ),
    Row(
        "POST",
        "/expert/seats/{seat_id:int}/conflict",
        only("notfound", "expert"),
        params={"seat_id": "no_seat"},
        form={"note": "A relative"},
    ),
    Row("GET", "/api/v1/draws/{draw_id:int}/record", E("notfound"), params={"draw_id": "no_seat"}),
    # ---------------------- the expert pool (issue 5, web/experts_admin.py, expert_portal.py, experts_api.py)
    # The pool is never public: administrators keep it; the expert reaches only their own profile.
    Row("GET", "/admin/experts", only("ok", "admin")),
    # Answers taken by phone: the drawn experts' names and numbers are the centre's alone (L37): its
    # administrators and, since issue 16, its staff (Fact.committee_contacts)
    Row("GET", "/admin/expert-calls", only("ok", "admin", "centre")),
    Row(
        "POST",
        "/admin/expert-calls/{seat_id:int}",
        only("notfound", "admin", "centre"),
        params={"seat_id": "no_seat"},
        form={"accepted": "yes", "called_at": "2026-01-01T10:00", "spoke_with": "本人", "note": "同意"},
    ),
    Row("GET", "/admin/experts/new", only("ok", "admin")),
    Row("POST", "/admin/experts/create", only("allowed", "admin"), form={"name": ""}),
    Row("GET", "/admin/experts/{expert_id:int}", only("ok", "admin"), params={"expert_id": "expert_record"}),
    Row(
        "GET",
        "/admin/experts/{expert_id:int}/edit",
        only("ok", "admin"),
        params={"expert_id": "expert_record"},
    ),
    Row(
        "POST",
        "/admin/experts/{expert_id:int}/save",
        only("allowed", "admin"),
        params={"expert_id": "expert_record"},
        form={"name": ""},
    ),
    Row(
        "POST",
        "/admin/experts/{expert_id:int}/status",
        only("allowed", "admin"),
        params={"expert_id": "expert_record"},
        form={"status": "penalised", "since": "", "reason": ""},
    ),
    Row(
        "POST",
        "/admin/experts/{expert_id:int}/employments",
        only("allowed", "admin"),
        params={"expert_id": "expert_record"},
        form={"org_code": ""},
    ),
    Row(
        "POST",
        "/admin/experts/{expert_id:int}/conflicts",
        only("allowed", "admin"),
        params={"expert_id": "expert_record"},
        form={"kind": "shareholding"},
    ),
    Row(
        "POST",
        "/admin/experts/{expert_id:int}/unavailable",
        only("allowed", "admin"),
        params={"expert_id": "expert_record"},
        form={"start": ""},
    ),
    Row("GET", "/admin/experts/import", only("ok", "admin")),
    Row("POST", "/admin/experts/import/upload", only("allowed", "admin"), files={}),
    Row("GET", "/admin/experts/import/template.csv", only("ok", "admin")),
    Row("GET", "/admin/experts/import/template.xlsx", only("ok", "admin")),
    Row("GET", "/expert/profile", only("ok", "expert")),
    Row(
        "POST",
        "/expert/profile/conflicts",
        only("allowed", "expert"),
        form={"kind": "shareholding", "org_code": ""},
    ),
    Row("POST", "/expert/profile/unavailable", only("allowed", "expert"), form={"start": ""}),
    Row("GET", "/api/v1/experts", only("ok", "admin")),
    Row("POST", "/api/v1/experts", only("allowed", "admin"), form={"name": ""}),
    Row("GET", "/api/v1/experts/{expert_id:int}", only("ok", "admin"), params={"expert_id": "expert_record"}),
    Row(
        "POST",
        "/api/v1/experts/{expert_id:int}/status",
        only("allowed", "admin"),
        params={"expert_id": "expert_record"},
        form={"status": ""},
    ),
    # ---------------------------------------------- the audit log (issue 4, web/audit_api.py, web/monitor.py)
    # The log's API is public and read-only (anyone may verify); the feed pages with their alerts are for
    # supervisors.
    Row("GET", "/api/v1/audit/checkpoint", public()),
    Row("GET", "/api/v1/audit/key", public()),
    Row("GET", "/api/v1/audit/checkpoints", public()),
    Row("GET", "/api/v1/audit/entries", public(), query={"start": "0", "end": "5"}),
    Row("GET", "/api/v1/audit/entries/{index:int}", public(), params={"index": "audit_entry"}),
    Row("GET", "/api/v1/audit/proof/inclusion", public(), query={"index": "0", "tree_size": "1"}),
    Row("GET", "/api/v1/audit/proof/consistency", public(), query={"first": "0", "second": "1"}),
    Row("GET", "/api/v1/audit/stream", public(), query={"max_idle": "0"}),
    Row("GET", "/monitor/audit", only("ok", "monitor", "admin")),
    Row(
        "GET",
        "/monitor/audit/entries/{index:int}",
        only("ok", "monitor", "admin"),
        params={"index": "audit_entry"},
    ),
    # issue 12: the public audit log for people, the same view as its API
    Row("GET", "/audit", public()),
    Row("GET", "/audit/entries/{index:int}", public(), params={"index": "audit_entry"}),
    # --------------------- issue 3: key holders, the key bundle, sealing (agencyA, monitor, centre hold keys)
    Row("GET", "/keys", logged_in("ok")),
    Row(
        "GET",
        f"/keys/tenders/{TID}",
        E("notfound", anonymous="login", agencyA="ok", monitor="ok", centre="ok"),
    ),
    Row(
        "GET",
        f"/keys/tenders/{TID}",
        E("notfound", anonymous="login", agencyA="ok", monitor="ok", centre="ok"),
        target="draft",
    ),
    Row(
        "POST",
        f"/keys/tenders/{TID}/register",
        E(
            "notfound",
            anonymous="login",
            agencyA="allowed",
            monitor="allowed",
            centre="allowed",
            purchaser="forbidden",
            admin="forbidden",
        ),
        target="draft",
        form={"public_key": "not-a-key"},
    ),
    Row(
        "POST",
        f"/keys/tenders/{TID}/register",
        E("forbidden", anonymous="login", agencyA="allowed", monitor="allowed", centre="allowed"),
        form={"public_key": "not-a-key"},
    ),
    Row("GET", f"/tenders/{TID}/key-bundle.json", public()),
    Row("GET", f"/tenders/{TID}/key-bundle.json", E("notfound"), target="draft"),
    Row("GET", f"/bidder/tenders/{TID}/seal", only("ok", "bidder1", "bidder2")),
    # issue 3: submission (tests/web/matrix_bids.py) and the opening (tests/web/matrix_opening.py)
    *matrix_bids.ROWS,
    *matrix_opening.ROWS,
    *matrix_room.ROWS,  # issue 13: the evaluation room (tests/web/matrix_room.py)
    *matrix_report.ROWS,  # issue 13: the evaluation report (tests/web/matrix_report.py)
    *matrix_scoring.ROWS,  # issue 13: scoring and ranking (tests/web/matrix_scoring.py)
    *matrix_marketplace.ROWS,  # issue 15: the intermediary marketplace (tests/web/matrix_marketplace.py)
    *matrix_review.ROWS,  # issue 13: the review and its clarification requests (tests/web/matrix_review.py)
    *matrix_archive.ROWS,  # issue 14: the procedure file (tests/web/matrix_archive.py)
    *matrix_publicity.ROWS,  # issue 14: publicity, objections on results, complaints (matrix_publicity.py)
    *matrix_workbenches.ROWS,  # issue 16: the purchaser's and the centre's workbenches
    *matrix_ocds.ROWS,  # issue 14: the OCDS open-data API (tests/web/matrix_ocds.py)
    *matrix_award.ROWS,  # issue 14: the award, notices, contract, securities (tests/web/matrix_award.py)
]


# ---------------------------------------------------------------- the app's endpoints


def app_endpoints(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out: set[tuple[str, str]] = set()
    for route in app.routes:
        if route.path.startswith(SKIPPED_PREFIXES):
            continue
        if not isinstance(route, HTTPRoute):
            out.add(("?", route.path))
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method != "OPTIONS":  # Litestar answers OPTIONS itself on every path
                    out.add((method, route.path))
    return out


# ---------------------------------------------------------------- the app, the client and the world


class Env:
    """The app on the matrix's settings, its test client (sessions set directly) and the shared world."""

    def __init__(self, settings: Settings, engine, factory) -> None:  # type: ignore[no-untyped-def]
        self.settings, self.engine, self.factory = settings, engine, factory
        self.app = create_app(settings)
        self.client = TestClient(
            app=self.app,
            session_config=ServerSideSessionConfig(store="sessions", key="etender_session"),
            raise_server_exceptions=False,
        )
        self.world: SimpleNamespace | None = None
        self.csrf = ""

    def current_world(self) -> SimpleNamespace:
        """The shared world, built afresh when a cell changed it or another test emptied the tables."""
        if self.world is not None:
            with self.factory() as s:
                title = s.scalar(select(Tender.title).where(Tender.id == self.world.published))
                status = s.scalar(select(Tender.status).where(Tender.id == self.world.draft))
            if title != self.world.title or status != "draft":
                self.world = None
        if self.world is None:
            self.world = build_world(self)
        return self.world


def build_world(env: Env) -> SimpleNamespace:
    truncate(env.engine)
    token = uuid.uuid4().hex[:10]
    blobs = env.app.state.blobs
    w = SimpleNamespace(title=f"Matrix published {token}")
    with env.factory() as s:
        make = Maker(s)

        def person(org: Organisation | None, role: str) -> User:
            made = user(s, org, role, username=f"{role}-{token}-{make.n}", full_name=role)
            make.n += 1
            return made

        agency_org = make.org("agency", "Agency A")
        other_agency_org = make.org("agency", "Agency B")
        purchaser_org = make.org("purchaser", "County Education Bureau")
        supervisor_org = make.org("supervisor", "County Development and Reform Commission")
        centre_org = make.org("trading_centre", "County Public Resource Trading Centre")
        bidder_org = make.org("bidder", "Bidder One Ltd")
        other_bidder_org = make.org("bidder", "Bidder Two Ltd")
        users = {
            "agencyA": person(agency_org, "agency"),
            "agencyB": person(other_agency_org, "agency"),
            "purchaser": person(purchaser_org, "purchaser"),
            "bidder1": person(bidder_org, "bidder"),
            "bidder2": person(other_bidder_org, "bidder"),
            "monitor": person(supervisor_org, "monitor"),
            "admin": person(centre_org, "admin"),
            "centre": person(centre_org, "centre"),
            "expert": person(None, "expert"),
        }
        agency = actor_for(users["agencyA"], "198.51.100.7")
        bidder = actor_for(users["bidder1"], "198.51.100.8")
        basis = SimpleNamespace(
            purchaser_org=purchaser_org, holders=[users[r].id for r in ("agencyA", "monitor", "centre")]
        )

        def tender(title: str, publish: bool) -> Tender:
            t = drafting.create_tender(s, agency, tender_input(basis, title=title))
            drafting.add_document(
                s, agency, blobs, t.id, drafting.FileInput("tender-documents.pdf", [PDF]), max_bytes=1 << 20
            )
            if publish:
                keyholders.generate_keys_for(s, t)  # publication needs the holders' keys (issue 3)
                drafting.publish(s, agency, t.id)
            s.flush()
            s.refresh(t)
            return t

        draft = tender(f"Matrix draft {token}", publish=False)
        published = tender(w.title, publish=True)
        objected = tender(f"Matrix objected {token}", publish=True)
        question = questions.ask_question(s, bidder, published.id, "Is installation included?")
        objection = objections.raise_objection(s, bidder, objected.id, "The specification favours one brand.")
        w.users = {role: (u.id, u.roles[0]) for role, u in users.items()}
        w.draft, w.published, w.objected = draft.id, published.id, objected.id
        w.draft_doc, w.published_doc = draft.documents[0].id, published.documents[0].id
        w.lot, w.draft_lot = published.lots[0].id, draft.lots[0].id
        w.question, w.objection = question.id, objection.id
        w.agency_org = agency_org.id
        w.bidder1 = users["bidder1"].id
        # the expert pool: the expert account's own record (no specialties: the catalogue is not loaded here)
        expert_record = Expert(
            name="Matrix Expert",
            id_number=f"M-{token}",
            title="高级工程师",
            title_level="associate_senior",
            years=10,
            user_id=users["expert"].id,
        )
        s.add(expert_record)
        s.flush()
        w.expert_record = expert_record.id
        w.lang = "en"
        w.audit_entry = 0  # the first audit entry (the world's first change)
        matrix_bids.extend_world(env, s, w)
        matrix_opening.extend_world(env, s, w)
        matrix_room.extend_world(env, s, w)
        matrix_marketplace.extend_world(env, s, w)
        matrix_review.extend_world(env, s, w)
        matrix_ocds.extend_world(env, s, w)  # last: the open-data sync over the whole world
        s.commit()
    return w


# ---------------------------------------------------------------- one cell


_PLACEHOLDER = re.compile(r"\{(\w+)(?::\w+)?\}")


def concrete_path(row: Row, w: SimpleNamespace) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        attr = row.target if name == "tender_id" else row.params[name]
        return str(getattr(w, attr))

    return _PLACEHOLDER.sub(value, row.path)


def classify(status: int, location: str, body: str) -> str:
    if status == 401 or (300 <= status < 400 and location.startswith("/login")):
        return "login"
    if status == 403:
        return "csrf" if CSRF_TEXT in body else "forbidden"
    if status == 404:
        return "notfound"
    if status < 400:
        return "ok"
    if status >= 500:
        return "error"
    return "refused"


def matches(expected: str, actual: str) -> bool:
    if expected == "allowed":
        return actual in ("ok", "refused")
    return expected == actual


def request_cell(env: Env, row: Row, role: str) -> tuple[str, Any]:
    w = env.current_world()
    client = env.client
    client.cookies.clear()
    csrf = env.csrf
    client.cookies.set("lang", "en")
    if role != "anonymous":
        uid, acting = w.users[role]
        # CSRF tokens are bound to the session (web.security): the session set here carries a seed, and the
        # token is issued for it, as a page of that session would have been given
        client.set_session_data({SESSION_USER: uid, SESSION_ROLE: acting, CSRF_SEED: "matrix"})
        csrf = issue_csrf_token(env.settings.secret_key, "matrix")
    client.cookies.set("etender_csrf", csrf)
    path = concrete_path(row, w)
    if row.method == "GET":
        r = client.get(path, params=row.query, follow_redirects=False)
    else:
        form = {k: str(getattr(w, v)) if k == "lot_id" else v for k, v in (row.form or {}).items()}
        headers = {"x-csrftoken": csrf, **row.headers}
        if row.content is not None or row.json is not None:
            r = client.post(
                path,
                content=row.content,
                json=row.json,
                params=row.query,
                headers=headers,
                follow_redirects=False,
            )
        elif row.files is not None:
            r = client.post(
                path,
                data=form,
                files=row.files or {"none": ("", b"", "application/octet-stream")},
                headers=headers,
                follow_redirects=False,
            )
        else:
            r = client.post(path, data={**form, "_csrf_token": csrf}, headers=headers, follow_redirects=False)
    actual = classify(r.status_code, r.headers.get("location", ""), r.text)
    if row.method != "GET" and r.status_code < 400 and not row.keeps_world:
        env.world = None  # it may have changed the world: the next cell builds a new one
    return actual, r
