"""Rows of the authorisation matrix for issue 3's bids routes, and the world they need.

tests/web/matrix.py adds ROWS to the matrix and calls extend_world(env, session, w) while
building its world (before the commit), so rows may name attributes set here in `params` or `target`.

Bidder 1's company has a submitted bid (`bid`) and an upload in progress (`bid_uploading`) on the
published tender; to everyone else those bids do not exist (404, E21), and other roles are not bidders
(403)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.web.matrix_support import E, Row


def bidders(cls: str) -> dict[str, str]:
    """Both bidder companies reach the service; other roles are not bidders; anonymous logs in."""
    return E("forbidden", anonymous="login", bidder1=cls, bidder2=cls)


def own_bid(cls: str) -> dict[str, str]:
    """Bidder 1's own bid: bidder 2 learns nothing (not found), other roles are not bidders."""
    return E("forbidden", anonymous="login", bidder1=cls, bidder2="notfound")


TID = "{tender_id:int}"
BID = {"bid_id": "bid"}
UPLOADING = {"bid_id": "bid_uploading"}
# lot 0 names no lot: a bidder's request reaches the service and is refused for it (422)
BEGIN = {"lot_id": 0, "size": 100}

ROWS: list[Any] = [
    # one request for a small bid: bidder 1 (registered) sends bytes that are no sealed bid (422, recorded);
    # bidder 2 is not registered for the lot (409)
    Row(
        "POST",
        f"/api/v1/tenders/{TID}/lots/{{lot_id:int}}/bids/sealed",
        bidders("allowed"),
        params={"lot_id": "lot"},
        content=b"not a sealed bid",
        headers={"content-type": "application/octet-stream"},
    ),
    Row(
        "POST",
        f"/api/v1/tenders/{TID}/lots/{{lot_id:int}}/bids/sealed",
        bidders("notfound"),
        target="draft",
        params={"lot_id": "draft_lot"},
        content=b"not a sealed bid",
        headers={"content-type": "application/octet-stream"},
    ),
    Row("POST", f"/api/v1/tenders/{TID}/bids", bidders("allowed"), json=BEGIN),
    Row("POST", f"/api/v1/tenders/{TID}/bids", bidders("notfound"), target="draft", json=BEGIN),
    Row(
        "POST",
        "/api/v1/bids/{bid_id:int}/parts/{number:int}",
        own_bid("ok"),
        params={**UPLOADING, "number": "part_number"},
        content=b"sealed bytes",
        headers={"content-type": "application/octet-stream"},
    ),
    Row("GET", "/api/v1/bids/{bid_id:int}/parts", own_bid("ok"), params=UPLOADING),
    Row(
        "POST", "/api/v1/bids/{bid_id:int}/complete", own_bid("allowed"), params=UPLOADING, content=b""
    ),  # no parts yet: 409
    Row("POST", "/api/v1/bids/{bid_id:int}/withdraw", own_bid("ok"), params=BID, content=b""),
    Row("POST", "/api/v1/bids/{bid_id:int}/abort", own_bid("ok"), params=UPLOADING, content=b""),
    Row("GET", "/api/v1/bids/{bid_id:int}/receipt", own_bid("ok"), params=BID),
    Row("GET", f"/bidder/tenders/{TID}/bids", bidders("ok")),
    Row("GET", f"/bidder/tenders/{TID}/bids", bidders("notfound"), target="draft"),
    Row("POST", "/bidder/bids/{bid_id:int}/withdraw", own_bid("ok"), params=BID, form={"confirm": "1"}),
    Row("GET", "/bidder/bids/{bid_id:int}/receipt", own_bid("ok"), params=BID),
]


def extend_world(env: Any, session: Any, w: SimpleNamespace) -> None:
    """Add what these rows need to the world (session is open; the caller commits)."""
    from accounts.models import User, actor_for
    from core.signing import signing_key
    from tender.bids import submission as bids
    from tests.factories.bids import ensure_registered, sealed_bid, upload

    bidder = actor_for(session.get(User, w.bidder1), "198.51.100.8")
    blobs = env.app.state.blobs
    signer = signing_key(env.settings.data_dir, env.settings.origin)
    ensure_registered(session, bidder, w.published, w.lot)
    w.bid = upload(
        session, bidder, blobs, w.published, w.lot, sealed_bid(session, w.published, w.lot), signer
    ).id
    lot2 = [lot_id for lot_id in _lots(session, w.published) if lot_id != w.lot][0]
    ensure_registered(session, bidder, w.published, lot2)
    w.bid_uploading = bids.begin(session, bidder, blobs, w.published, lot2, 1000, max_bytes=1 << 20).id
    w.part_number = 1


def _lots(session: Any, tender_id: int) -> list[int]:
    from sqlalchemy import select

    from tender.models import Lot

    return list(session.scalars(select(Lot.id).where(Lot.tender_id == tender_id).order_by(Lot.number)))
