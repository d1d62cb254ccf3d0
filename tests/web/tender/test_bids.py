"""Sealed-bid submission over HTTP (web/bids.py): upload in parts, a dropped connection resumed from GET
parts, complete -> the signed receipt, the receipt page in Chinese and English, and problem JSON on errors."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from sqlalchemy import func, select

from audit.refusals import RefusalFold
from cli.receipts import receipt as receipt_group
from core import clock
from core.signing import verifier_keys
from tender import receipts
from tender.models import Bid
from tests.factories.bids import ensure_registered, sealed_bid
from tests.factories.tenders import published_tender
from tests.web.support import login, zh, zh_text
from web.app import create_app


def _world(db, make, settings):
    from storage import open_store

    w = published_tender(db, make, open_store(settings))
    ensure_registered(db, w.bidder, w.tender.id, w.lot1.id)
    db.commit()
    # read what the tests use now, then end the read transaction: SQLite would keep the app from writing
    w.tender_id, w.lot1_id, w.lot2_id = w.tender.id, w.lot1.id, w.lot2.id
    w.bidder_name, w.other_name, w.credit_code = (
        w.bidder_user.username,
        w.other_bidder_user.username,
        w.bidder_org.credit_code,
    )
    db.rollback()
    return w


def _client(settings):
    from litestar.testing import TestClient

    return TestClient(app=create_app(settings))


def test_upload_in_parts_drop_resume_complete_and_receipt(db, make, settings, tmp_path):
    from dataclasses import replace

    settings = replace(settings, upload_part_bytes=64 * 1024)
    w = _world(db, make, settings)
    data = sealed_bid(db, w.tender_id, w.lot1_id, b"z" * 300_000)
    db.rollback()  # SQLite: no open read transaction while the app writes
    with _client(settings) as client:
        csrf = login(client, w.bidder_name)
        h = {"x-csrftoken": csrf}
        r = client.post(
            f"/api/v1/tenders/{w.tender_id}/bids", json={"lot_id": w.lot1_id, "size": len(data)}, headers=h
        )
        assert r.status_code == 201, r.text
        started = r.json()
        bid, part = started["bid"], started["part_size"]
        assert part == 64 * 1024 and started["parts_url"] == f"/api/v1/bids/{bid}/parts"
        pieces = [data[i : i + part] for i in range(0, len(data), part)]
        for n in (1, 2):
            r = client.post(f"/api/v1/bids/{bid}/parts/{n}", content=pieces[n - 1], headers=h)
            assert r.status_code == 201 and r.json()["size"] == len(pieces[n - 1]), r.text
        # the connection drops: part 3 arrives cut short; the client reloads and asks what the server has
        client.post(f"/api/v1/bids/{bid}/parts/3", content=pieces[2][:1000], headers=h)
        have = client.get(f"/api/v1/bids/{bid}/parts").json()
        sizes = {p["number"]: p["size"] for p in have["parts"]}
        assert sizes[1] == sizes[2] == part
        for n in range(1, len(pieces) + 1):
            if sizes.get(n) != len(pieces[n - 1]):
                assert (
                    client.post(f"/api/v1/bids/{bid}/parts/{n}", content=pieces[n - 1], headers=h).status_code
                    == 201
                )
        r = client.post(f"/api/v1/bids/{bid}/complete", headers=h)
        assert r.status_code == 200, r.text
        doc = r.json()
        body = receipts.verify_receipt(doc, verifier_keys(settings.data_dir, settings.origin))
        assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size"] == len(data)
        assert client.get(f"/api/v1/bids/{bid}/receipt").json() == doc
        # the printable receipt page, in Chinese (the default) and English
        page = client.get(f"/bidder/bids/{bid}/receipt")
        assert (
            page.status_code == 200
            and body["sha256"] in page.text
            and zh("Bid receipt") in page.text
            and doc["signature"] in page.text
        )
        client.cookies.set("lang", "en")
        page = client.get(f"/bidder/bids/{bid}/receipt")
        assert (
            "Bid receipt" in page.text
            and "How to verify this receipt offline" in page.text
            and w.credit_code in page.text
        )
        listing = client.get(f"/bidder/tenders/{w.tender_id}/bids")
        assert (
            listing.status_code == 200
            and f"/bidder/bids/{bid}/receipt" in listing.text
            and "Submitted: this bid counts" in listing.text
        )
        assert f"/bidder/tenders/{w.tender_id}/bids" in client.get(f"/bidder/tenders/{w.tender_id}").text

        # another company learns nothing: not found, as for a bid that does not exist
        csrf2 = login(client, w.other_name)
        for path in (f"/api/v1/bids/{bid}/receipt", f"/api/v1/bids/{bid}/parts", "/api/v1/bids/999999/parts"):
            r = client.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "bid_not_found"
        r = client.post(f"/api/v1/bids/{bid}/withdraw", headers={"x-csrftoken": csrf2})
        assert r.status_code == 404
        assert client.get(f"/bidder/bids/{bid}/receipt").status_code == 404

        # withdraw through the page (with confirmation)
        csrf = login(client, w.bidder_name)
        r = client.post(f"/bidder/bids/{bid}/withdraw", data={"_csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        db.expire_all()
        assert db.get(Bid, bid).status == "submitted"  # not confirmed: nothing happened
        db.rollback()
        r = client.post(
            f"/bidder/bids/{bid}/withdraw", data={"_csrf_token": csrf, "confirm": "1"}, follow_redirects=False
        )
        assert r.status_code == 303
        db.expire_all()
        assert db.get(Bid, bid).status == "withdrawn"

    # the command line checks the receipt against the file and the local platform key
    from click.testing import CliRunner

    rfile, bfile = tmp_path / "receipt.json", tmp_path / "bid.sealed"
    rfile.write_text(json.dumps(doc, ensure_ascii=False))
    bfile.write_bytes(data)
    env = {"ETENDER_DATA": str(settings.data_dir)}
    runner = CliRunner()
    key = verifier_keys(settings.data_dir, settings.origin)[0].encode()
    result = runner.invoke(receipt_group, ["verify", str(rfile), "--bid", str(bfile), "--key", key], env=env)
    assert result.exit_code == 0, result.output
    bad = tmp_path / "other.sealed"
    bad.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    result = runner.invoke(receipt_group, ["verify", str(rfile), "--bid", str(bad), "--key", key], env=env)
    assert result.exit_code == 1 and "SHA-256" in result.output
    tampered = dict(doc, body=doc["body"].replace('"size":', '"size":1'))
    rfile.write_text(json.dumps(tampered))
    result = runner.invoke(receipt_group, ["verify", str(rfile), "--key", key], env=env)
    assert result.exit_code == 1
    rfile.write_text("not json")
    result = runner.invoke(receipt_group, ["verify", str(rfile), "--key", key], env=env)
    assert result.exit_code == 2


def test_problem_json_on_errors(db, make, settings):
    w = _world(db, make, settings)
    with _client(settings) as client:
        csrf = login(client, w.bidder_name)
        h = {"x-csrftoken": csrf}
        r = client.post(
            f"/api/v1/tenders/{w.tender_id}/bids", json={"lot_id": w.lot2_id, "size": 100}, headers=h
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_registered"
        assert r.json()["error"]["message"] == zh(
            "Your company is not registered for lot %(number)s. Register for the lot on the tender "
            "page first, then upload your bid.",
            number=2,
        )
        r = client.post(
            f"/api/v1/tenders/{w.tender_id}/bids",
            json={"lot_id": w.lot1_id, "size": settings.max_bid_bytes + 1},
            headers=h,
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "bid_too_large"
        r = client.post(f"/api/v1/tenders/{w.tender_id}/bids", json={"lot_id": w.lot1_id}, headers=h)
        assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "size"
        # not a sealed bid: refused with its reason, and the refusal stays on record
        junk = b"PK\x03\x04 a zip, not a sealed bid" * 10
        bid = client.post(
            f"/api/v1/tenders/{w.tender_id}/bids", json={"lot_id": w.lot1_id, "size": len(junk)}, headers=h
        ).json()["bid"]
        client.post(f"/api/v1/bids/{bid}/parts/1", content=junk, headers=h)
        r = client.post(f"/api/v1/bids/{bid}/complete", headers=h)
        assert r.status_code == 422 and r.json()["error"]["code"] == "sealed_not_sealed"
        from audit.log import AuditEntry

        db.expire_all()
        assert [
            d["reason"]
            for d in db.scalars(select(AuditEntry.details).where(AuditEntry.tag == "tender.bid.refused"))
        ] == ["sealed_not_sealed"]
        db.rollback()
        # no CSRF header: refused
        assert (
            client.post(
                f"/api/v1/tenders/{w.tender_id}/bids", json={"lot_id": w.lot1_id, "size": 10}
            ).status_code
            == 403
        )
        # after the deadline: refused, and audited with its window
        clock.shift(timedelta(days=30))
        r = client.post(
            f"/api/v1/tenders/{w.tender_id}/bids", json={"lot_id": w.lot1_id, "size": 100}, headers=h
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "bid_deadline_passed"
        db.expire_all()
        windows = db.scalars(select(AuditEntry.details).where(AuditEntry.tag == "tender.bid.refused")).all()
        assert any(d.get("window") == "bid_deadline" for d in windows)


def test_receipt_verify_against_a_running_platform(db, make, settings, tmp_path):
    from click.testing import CliRunner

    from audit import checkpoints, release_where
    from audit.log import AuditEntry
    from audit.remote import http_fetch
    from core.disclosure import Fact
    from core.identity import SYSTEM
    from core.signing import signing_key
    from storage import open_store
    from tender.bids import submission as bids
    from tests.factories.bids import upload
    from tests.support import serving

    w = _world(db, make, settings)
    blobs, signer = open_store(settings), signing_key(settings.data_dir, settings.origin)
    first = upload(
        db, w.bidder, blobs, w.tender_id, w.lot1_id, sealed_bid(db, w.tender_id, w.lot1_id), signer
    )
    first_doc = bids.receipt_document(db, w.bidder, first.id)
    checkpoints.sign(db, signer, settings.origin)
    second = upload(
        db, w.bidder, blobs, w.tender_id, w.lot1_id, sealed_bid(db, w.tender_id, w.lot1_id, b"newer"), signer
    )
    second_doc = bids.receipt_document(db, w.bidder, second.id)  # after the latest checkpoint
    db.commit()
    runner = CliRunner()
    with serving(settings) as url:
        path = tmp_path / "first.json"
        path.write_text(json.dumps(first_doc))
        # before the opening the entry is withheld: the receipt's signed leaf hash is what gets checked
        index = first_doc["receipt"]["audit_index"]
        assert json.loads(http_fetch(url)(f"/api/v1/audit/entries/{index}")).get("withheld") is True
        assert first_doc["receipt"]["audit_leaf_hash"] == db.get(AuditEntry, index).leaf_hash.hex()
        db.rollback()  # SQLite: the platform signs checkpoints, it needs the write lock
        result = runner.invoke(receipt_group, ["verify", str(path), "--url", url])
        assert result.exit_code == 0, result.output
        assert "included in the signed checkpoint" in result.output
        release_where(
            db, SYSTEM, subject=f"tender:{w.tender_id}", fact=Fact.participation
        )  # as the opening does
        db.commit()
        assert "entry" in json.loads(http_fetch(url)(f"/api/v1/audit/entries/{index}"))
        result = runner.invoke(receipt_group, ["verify", str(path), "--url", url])
        assert result.exit_code == 0 and "included in the signed checkpoint" in result.output, result.output
        path.write_text(json.dumps(second_doc))
        result = runner.invoke(receipt_group, ["verify", str(path), "--url", url])
        assert result.exit_code == 2 and "not in the latest signed checkpoint yet" in result.output
    result = runner.invoke(receipt_group, ["verify", str(path), "--url", url])  # the platform is gone
    assert result.exit_code == 2


def test_a_small_bid_in_one_request(db, make, settings):
    from dataclasses import replace

    from audit.log import AuditEntry

    settings = replace(settings, upload_part_bytes=64 * 1024)
    w = _world(db, make, settings)
    data = sealed_bid(db, w.tender_id, w.lot1_id, b"s" * 20_000)
    db.rollback()
    url = f"/api/v1/tenders/{w.tender_id}/lots/{w.lot1_id}/bids/sealed"
    with _client(settings) as client:
        csrf = login(client, w.bidder_name)
        h = {"x-csrftoken": csrf, "content-type": "application/octet-stream"}
        r = client.post(url, content=data, headers=h)
        assert r.status_code == 201, r.text
        doc = r.json()
        body = receipts.verify_receipt(doc, verifier_keys(settings.data_dir, settings.origin))
        assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size"] == len(data)
        bid = doc["bid"]
        assert body["bid"] == bid and doc["receipt_page"] == f"/bidder/bids/{bid}/receipt"
        got = client.get(f"/api/v1/bids/{bid}/receipt").json()
        assert {k: got[k] for k in ("body", "signature", "signer")} == {
            k: doc[k] for k in ("body", "signature", "signer")
        }
        assert client.get(f"/bidder/bids/{bid}/receipt").status_code == 200
        db.expire_all()
        row = db.get(Bid, bid)
        assert row.status == "submitted" and row.blob_key == body["sha256"]
        tags = db.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("tender.bid.%"))).all()
        assert tags == ["tender.bid.submitted"]
        db.rollback()
        # larger than one part: refused before the body is read whole, in Chinese, pointing to the resumable
        # upload
        r = client.post(url, content=b"x" * (64 * 1024 + 10), headers=h)
        assert r.status_code == 422 and r.json()["error"]["code"] == "bid_too_large_for_one_request"
        assert r.json()["error"]["message"] == zh(
            "A sealed bid sent in one request holds at most %(limit)s; this one is larger. Send it with "
            "the resumable upload in parts (the upload page does this by itself).",
            limit="65,536 bytes (0.1 MiB)",
        )
        r = client.post(url, content=b"", headers=h)
        assert r.status_code == 422 and r.json()["error"]["code"] == "bid_body_empty"
        r = client.post(
            f"/api/v1/tenders/{w.tender_id}/lots/{w.lot2_id}/bids/sealed", content=data, headers=h
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_registered"
        r = client.post(url, content=b"PK\x03\x04 a zip" * 50, headers=h)
        assert r.status_code == 422 and r.json()["error"]["code"] == "sealed_not_sealed"
        assert (
            client.post(url, content=data, headers={"content-type": "application/octet-stream"}).status_code
            == 403
        )  # no CSRF header
        # after the deadline: refused, and the refusal stays on record
        clock.shift(timedelta(days=30))
        r = client.post(url, content=data, headers=h)
        assert r.status_code == 409 and r.json()["error"]["code"] == "bid_deadline_passed"
        db.expire_all()
        refused = db.scalars(select(AuditEntry.details).where(AuditEntry.tag == "tender.bid.refused")).all()
        assert [d["reason"] for d in refused] == ["sealed_not_sealed", "bid_deadline_passed"]
        db.rollback()
        # anonymous: log in first
        client.cookies.clear()
        assert client.post(url, content=data).status_code in (401, 403)


def test_concurrent_one_request_bids_are_written_as_one_group(db, make, settings):
    """Group commit (web/bids.py): one-request bids that queue while the writers' lock is held are written in
    one transaction. A refusal (not a sealed bid: audited, in the group; not registered: not, before it
    queues) is its own bid's only; every other request gets its own valid receipt; every bid is on record,
    none lost."""
    import threading
    import time
    from dataclasses import replace

    from audit.log import AuditEntry
    from tender.bids import writer as web_bids

    settings = replace(settings, upload_part_bytes=64 * 1024)
    w = _world(db, make, settings)
    good = [sealed_bid(db, w.tender_id, w.lot1_id, b"g%d" % i * 1000) for i in range(4)]
    db.rollback()
    url = f"/api/v1/tenders/{w.tender_id}/lots/{w.lot1_id}/bids/sealed"
    bodies = [(url, data) for data in good] + [
        (url, b"PK\x03\x04 a zip" * 50),  # refused and audited
        (f"/api/v1/tenders/{w.tender_id}/lots/{w.lot2_id}/bids/sealed", good[0]),
    ]  # not registered
    answers: dict = {}
    with _client(settings) as client:
        csrf = login(client, w.bidder_name)
        h = {"x-csrftoken": csrf, "content-type": "application/octet-stream"}

        def send(i: int) -> None:
            answers[i] = client.post(bodies[i][0], content=bodies[i][1], headers=h)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
        with web_bids._WRITERS:  # the writer is busy: every request queues behind it
            for t in threads:
                t.start()
            end = time.monotonic() + 30
            queue = web_bids._writer(client.app.state).queue
            while (len(queue) < len(bodies) - 1 or 5 not in answers) and time.monotonic() < end:
                time.sleep(0.01)
            # the one not registered is refused before it queues (nothing to record); the others wait for the
            # writer
            assert len(queue) == len(bodies) - 1 and answers[5].status_code == 409
        for t in threads:
            t.join(30)
        assert not queue
    codes = [answers[i].status_code for i in range(len(bodies))]
    assert codes == [201] * 4 + [422, 409], [answers[i].text for i in range(len(bodies))]
    assert (
        answers[4].json()["error"]["code"] == "sealed_not_sealed"
        and answers[5].json()["error"]["code"] == "not_registered"
    )
    keys = verifier_keys(settings.data_dir, settings.origin)
    docs = [answers[i].json() for i in range(4)]
    signed = [receipts.verify_receipt(doc, keys) for doc in docs]
    assert sorted(s["sha256"] for s in signed) == sorted(hashlib.sha256(d).hexdigest() for d in good)
    db.expire_all()
    rows = {b.id: b for b in db.scalars(select(Bid).where(Bid.tender_id == w.tender_id))}
    # each receipt's bid is on record with its hash and its own audit entry; the newest is the company's bid
    # (E27)
    for doc, body in zip(docs, signed):
        row = rows[doc["bid"]]
        assert (
            row.blob_key == body["sha256"]
            and row.audit_index == body["audit_index"]
            and row.receipt == doc["body"]
        )
    assert len({body["audit_index"] for body in signed}) == 4
    assert sorted(r.status for r in rows.values()) == [
        "abandoned",
        "replaced",
        "replaced",
        "replaced",
        "submitted",
    ]
    assert max(doc["bid"] for doc in docs) == next(r.id for r in rows.values() if r.status == "submitted")
    tags = db.scalars(
        select(AuditEntry.tag).where(AuditEntry.tag.like("tender.bid.%")).order_by(AuditEntry.index)
    ).all()
    assert sorted(tags) == sorted(
        ["tender.bid.submitted"] * 4 + ["tender.bid.replaced"] * 3 + ["tender.bid.refused"]
    )
    indexes = db.scalars(select(AuditEntry.index).order_by(AuditEntry.index)).all()
    assert indexes == list(range(len(indexes)))  # no gap
    db.rollback()


def test_a_group_that_cannot_commit_writes_each_bid_alone(db, make, settings, monkeypatch):
    """Group commit's fallback (web/bids.py): a group whose decision fails otherwise than by a refusal (a
    database error, say a deadlock) or whose commit fails is written bid by bid, each in its own transaction.
    A refusal stays a refusal; nothing of the failed attempt stays on record; nobody is told that an
    uncommitted bid was accepted."""
    from types import SimpleNamespace

    from sqlalchemy.orm import Session, sessionmaker

    from audit.log import AuditEntry
    from storage import open_store
    from tender.bids import submission as bids
    from tender.bids import writer as web_bids
    from tender.models import BidStatus

    w = _world(db, make, settings)
    blobs = open_store(settings)
    datas = [sealed_bid(db, w.tender_id, w.lot1_id, b"g%d" % i * 500) for i in range(2)] + [
        b"PK\x03\x04 not a sealed bid" * 20
    ]
    prepared = [
        bids.prepare_whole(db, w.bidder, blobs, w.tender_id, w.lot1_id, d, max_bytes=1 << 20) for d in datas
    ]
    db.rollback()

    class CommitFailsOnce(Session):
        failed = False

        def commit(self) -> None:
            if not CommitFailsOnce.failed and self.info.get("bid_rows"):
                CommitFailsOnce.failed = True
                raise RuntimeError("the group's commit failed")
            super().commit()

    real = bids.submit_prepared
    calls: list[int] = []

    def deadlocks_once(session, signer, items):
        calls.append(len(items))
        if len(calls) == 1:
            real(session, signer, items)  # wrote its rows, then the database gave up: all rolled back
            raise RuntimeError("deadlock detected")
        return real(session, signer, items)

    def run(factory):
        group = [web_bids._Pending(p) for p in prepared]
        web_bids._write_group(SimpleNamespace(db=factory, settings=settings), group)
        assert all(item.done for item in group)
        good, again, wrong = group
        assert (
            isinstance(good.result, bids.Submitted)
            and isinstance(again.result, bids.Submitted)
            and good.error is None
            and again.error is None
        ), (good.error, again.error)
        assert (
            wrong.result is None
            and getattr(wrong.error, "code", None) == "sealed_not_sealed"
            and bids.is_recorded(wrong.error)
        )
        db.expire_all()
        rows = {b.id: b for b in db.scalars(select(Bid).where(Bid.tender_id == w.tender_id))}
        assert (
            rows[good.result.id].status == BidStatus.replaced
            and rows[again.result.id].status == BidStatus.submitted
        )
        tags = db.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("tender.bid.%"))).all()
        db.rollback()
        return tags

    # the decision fails: each bid is decided again alone, and only those decisions are on record
    monkeypatch.setattr(bids, "submit_prepared", deadlocks_once)
    tags = run(sessionmaker(bind=db.get_bind(), expire_on_commit=False))
    assert calls == [3, 1, 1, 1]
    assert sorted(tags) == sorted(
        ["tender.bid.submitted"] * 2 + ["tender.bid.replaced", "tender.bid.refused"]
    )
    # the group's commit fails: every bid is written alone
    monkeypatch.setattr(bids, "submit_prepared", real)
    tags = run(sessionmaker(bind=db.get_bind(), class_=CommitFailsOnce, expire_on_commit=False))
    assert CommitFailsOnce.failed
    # the same refusal of the same bidder again is folded into the first run's (audit.refusals)
    assert sorted(tags) == sorted(
        ["tender.bid.submitted"] * 4 + ["tender.bid.replaced"] * 3 + ["tender.bid.refused"]
    )


def test_late_withdrawals_and_a_late_part_are_refused_and_only_their_refusals_kept(db, make, settings):
    """A kept refusal (core.errors.DomainError.kept) through the request's unit of work (withdraw, API and
    page) and through the bid writers' own (a late part): each refusal is on record once, nothing else is
    changed."""
    from dataclasses import replace

    from audit.log import AuditEntry

    settings = replace(settings, upload_part_bytes=64 * 1024)
    w = _world(db, make, settings)
    data = sealed_bid(db, w.tender_id, w.lot1_id, b"w" * 1000)
    db.rollback()
    with _client(settings) as client:
        csrf = login(client, w.bidder_name)
        h = {"x-csrftoken": csrf}
        r = client.post(
            f"/api/v1/tenders/{w.tender_id}/lots/{w.lot1_id}/bids/sealed",
            content=data,
            headers={**h, "content-type": "application/octet-stream"},
        )
        assert r.status_code == 201, r.text
        submitted = r.json()["bid"]
        r = client.post(
            f"/api/v1/tenders/{w.tender_id}/bids", json={"lot_id": w.lot1_id, "size": 70_000}, headers=h
        )
        assert r.status_code == 201, r.text
        uploading = r.json()["bid"]
        clock.shift(timedelta(days=30))
        r = client.post(f"/api/v1/bids/{submitted}/withdraw", headers=h)
        assert r.status_code == 409 and r.json()["error"]["code"] == "bid_deadline_passed"
        r = client.post(
            f"/bidder/bids/{submitted}/withdraw",
            data={"_csrf_token": csrf, "confirm": "1"},
            follow_redirects=False,
        )
        assert r.status_code == 409 and "text/html" in r.headers["content-type"]
        r = client.post(f"/api/v1/bids/{uploading}/parts/1", content=b"x" * 1000, headers=h)
        assert r.status_code == 409 and r.json()["error"]["code"] == "bid_deadline_passed"
    db.expire_all()
    refused = db.scalars(select(AuditEntry.details).where(AuditEntry.tag == "tender.bid.refused")).all()
    # the second late withdrawal (the page's, after the API's) is folded into the first (audit.refusals)
    assert sorted(d["step"] for d in refused) == ["part", "withdraw"]
    assert db.scalar(select(func.sum(RefusalFold.count))) == 1
    assert db.get(Bid, submitted).status == "submitted" and db.get(Bid, uploading).status == "uploading"
    tags = db.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("tender.bid.%"))).all()
    assert "tender.bid.withdrawn" not in tags
    db.rollback()


def test_another_companys_sealed_file_is_refused_over_both_routes_in_chinese_and_stays_on_record(
    db, make, settings
):
    """R40 over HTTP: the second company's copy of the first's sealed file is refused (409) with what to do,
    in Chinese, on the one-request route (the group writer) and on the resumable upload; each refusal is
    committed."""
    from audit.log import AuditConfidential, AuditEntry

    w = _world(db, make, settings)
    ensure_registered(db, w.other_bidder, w.tender_id, w.lot1_id)
    data = sealed_bid(db, w.tender_id, w.lot1_id)
    db.commit()
    message = zh_text(
        "This sealed file was already submitted for this tender by another company. Identical "
        "bid files from different bidders are deemed collusion (R40): the attempt is recorded "
        "and the monitors are alerted. Seal your own bid afresh on the sealing page or with "
        "`etender bid seal`, and upload the new file."
    )
    with _client(settings) as client:
        h = {"x-csrftoken": login(client, w.bidder_name)}
        url = f"/api/v1/tenders/{w.tender_id}/lots/{w.lot1_id}/bids/sealed"
        assert client.post(url, content=data, headers=h).status_code == 201
        client.cookies.clear()
        h = {"x-csrftoken": login(client, w.other_name)}
        r = client.post(url, content=data, headers=h)
        assert r.status_code == 409 and r.json()["error"]["code"] == "sealed_file_reused", r.text
        assert r.json()["error"]["message"] == message
        bid = client.post(
            f"/api/v1/tenders/{w.tender_id}/bids", json={"lot_id": w.lot1_id, "size": len(data)}, headers=h
        ).json()["bid"]
        assert client.post(f"/api/v1/bids/{bid}/parts/1", content=data, headers=h).status_code == 201
        r = client.post(f"/api/v1/bids/{bid}/complete", headers=h)
        assert (
            r.status_code == 409
            and r.json()["error"]["code"] == "sealed_file_reused"
            and r.json()["error"]["message"] == message
        )
    db.expire_all()
    refused = db.scalars(select(AuditEntry.index).where(AuditEntry.tag == "tender.bid.refused")).all()
    assert [db.get(AuditConfidential, i).data["reason"] for i in refused] == ["sealed_file_reused"] * 2
    assert len(db.scalars(select(Bid).where(Bid.status == "submitted")).all()) == 1
    db.rollback()
