"""A part number beyond the size the bidder announced is refused over HTTP, and the upload still completes."""

from dataclasses import replace

from litestar.testing import TestClient

from tests.factories.bids import ensure_registered, sealed_bid
from tests.factories.tenders import published_tender
from tests.web.support import login
from web.app import create_app


def test_an_impossible_part_number_is_refused_and_the_upload_completes_with_its_parts(db, make, settings):
    from storage import open_store

    settings = replace(settings, upload_part_bytes=64 * 1024)
    w = published_tender(db, make, open_store(settings))
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    db.commit()
    tender_id, lot_id, bidder = w.tender.id, w.lot1.id, w.bidder_user.username
    data = sealed_bid(db, tender_id, lot_id, b"q" * 150_000)
    db.rollback()
    with TestClient(app=create_app(settings)) as client:
        h = {"x-csrftoken": login(client, bidder)}
        started = client.post(
            f"/api/v1/tenders/{tender_id}/bids", json={"lot_id": lot_id, "size": len(data)}, headers=h
        ).json()
        bid, part = started["bid"], started["part_size"]
        pieces = [data[i : i + part] for i in range(0, len(data), part)]
        count = len(pieces)
        for number in (count + 1, 10_000):
            r = client.post(f"/api/v1/bids/{bid}/parts/{number}", content=b"", headers=h)
            assert r.status_code == 422, r.text
            error = r.json()["error"]
            assert error["code"] == "part_beyond_size" and error["problems"][0]["field"] == "part"
            assert f"没有第 {number} 块" in error["message"] and f"1 至 {count}" in error["message"]
        assert (
            client.post(f"/api/v1/bids/{bid}/parts/0", content=b"", headers=h).json()["error"]["code"]
            == "part_number_invalid"
        )
        assert client.get(f"/api/v1/bids/{bid}/parts").json()["parts"] == []
        for n, piece in enumerate(pieces, start=1):
            assert client.post(f"/api/v1/bids/{bid}/parts/{n}", content=piece, headers=h).status_code == 201
        r = client.post(f"/api/v1/bids/{bid}/complete", headers=h)
        assert r.status_code == 200, r.text
