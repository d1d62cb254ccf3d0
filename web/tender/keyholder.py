"""Key holders' pages and the bidder's sealing page (issue 3).

A key holder sees the tenders it holds a key for, makes a key pair in the browser (the private key is
saved by the person as a passphrase-protected key file and never sent), loads the saved file back with its
passphrase so that the page can check it holds the private key (web/static/js/keyholder.js: the register
button stays disabled until then), and registers the public key.
The signed key bundle is public once the tender is published; the bidder's sealing page loads it and
seals files and a price form in the browser into a .sealed file. The crypto is
web/static/js/etender-crypto.js."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from sqlalchemy.orm import Session

from core.errors import N_
from core.identity import Actor, Role
from core.signing import signing_key
from tender import access, bidcontent, keyholders
from tender.lifecycle import Status
from web.deps import page, redirect
from web.forms import submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@get("/keys", sync_to_thread=True)
def my_keys(request: Request, db: Session, actor: Actor) -> Template:
    return page(request, "keys/index.html", views=keyholders.my_tenders(db, actor))


@get("/keys/tenders/{tender_id:int}", sync_to_thread=True)
def key_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    view = keyholders.holder_tender(db, actor, tender_id)
    return page(request, "keys/tender.html", view=view, errors=[])


@post("/keys/tenders/{tender_id:int}/register", sync_to_thread=True)
def register_key(
    request: Request, db: Session, actor: Actor, tender_id: int, data: Form
) -> Template | Redirect:
    value = data.get("public_key", "")
    value = value[-1] if isinstance(value, list) else str(value or "")
    # a refused key leaves nothing behind (the tender's row lock included): submit runs it in a savepoint
    return submit(
        db,
        lambda: keyholders.register_key(db, actor, tender_id, value),
        done=lambda _: redirect(
            f"/keys/tenders/{tender_id}",
            N_(
                "Your public key is registered. Keep your key file and passphrase "
                "safe: you need them at the opening."
            ),
            request,
        ),
        # the key typed or made stays in the field (its key file is saved: the page checked it before posting)
        refused=lambda e: page(
            request,
            "keys/tender.html",
            status_code=e.status,
            view=keyholders.holder_tender(db, actor, tender_id),
            errors=e.problems,
            public_key=value,
        ),
    )


@get(
    "/tenders/{tender_id:int}/key-bundle.json", sync_to_thread=True, opt={"writes": True}
)  # signs on first fetch
def key_bundle(request: Request, db: Session, tender_id: int) -> Response[dict[str, Any]]:
    settings = request.app.state.settings
    doc = keyholders.signed_bundle(db, tender_id, signing_key(settings.data_dir, settings.origin))
    return Response(doc, headers={"Content-Disposition": f'inline; filename="key-bundle-{tender_id}.json"'})


@get("/bidder/tenders/{tender_id:int}/seal", sync_to_thread=True)
def seal_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    access.require_role(actor, Role.bidder)
    tender = access.visible_tender(db, actor, tender_id)
    open_for_bids = tender.status == Status.published and keyholders.bundle_of(db, tender.id) is not None
    return page(
        request, "keys/seal.html", tender=tender, open_for_bids=open_for_bids, content=bidcontent.for_page()
    )


ROUTES = [my_keys, key_page, register_key, key_bundle, seal_page]
