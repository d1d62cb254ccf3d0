"""The opening ceremony over HTTP (web/opening.py): the page, the live snapshot stream, headers and parts as
JSON and as an uploaded parts file, the early refusal kept in the audit log, the record as JSON and PDF."""

from __future__ import annotations

import json
from types import SimpleNamespace

from click.testing import CliRunner
from sqlalchemy import func, select

from audit.log import AuditEntry
from cli.main import main
from core import tasks
from tender import keyfiles
from tender.models import OpeningObjection
from tender.opening import base as opening_base
from tests.factories.accounts import cast
from tests.factories.bids import header_doc_parts, opening_world
from tests.web.support import login, zh


def _world(db, make, client, stage: str) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    w = cast(db, make)
    blobs = client.app.state.blobs
    made = opening_world(
        db,
        blobs,
        w,
        stage=stage,
        title=f"Opening {stage}",
        holders=w.holders,
        agency_uid=w.agency_user.id,
        purchaser_org=w.purchaser_org,
        bidders=[
            (w.bidder_org, w.bidder_user),
            (w.other_bidder_org, w.other_bidder_user),
            (w.third_bidder_org, w.third_bidder_user),
        ],
    )
    db.commit()
    w.tender, w.keys, w.bids, w.blobs = made.tender, made.keys, made.bids, blobs
    return w


def _post_json(client, path: str, body, token: str):  # type: ignore[no-untyped-def]
    return client.post(
        path, content=json.dumps(body), headers={"content-type": "application/json", "x-csrftoken": token}
    )


def test_before_the_deadline_the_opening_refuses_and_the_attempt_stays_in_the_log(db, make, client):
    w = _world(db, make, client, "early")
    token = login(client, w.agency_user.username)
    page = client.get(f"/tenders/{w.tender.id}/opening")
    assert (
        page.status_code == 200
        and zh(
            "The opening starts by itself at the bid deadline. Nothing about the bids is shown before then."
        )
        in page.text
    )
    assert "Bidder One" not in page.text
    r = client.get(f"/tenders/{w.tender.id}/opening/headers")
    assert r.status_code == 403 and r.json()["error"]["code"] == "opening_not_yet"
    r = _post_json(client, f"/tenders/{w.tender.id}/opening/parts", {"bids": []}, token)
    assert r.status_code == 403
    db.expire_all()
    refused = db.scalars(select(AuditEntry).where(AuditEntry.tag == "access.refused")).all()
    assert [e.details["window"] for e in refused] == ["opening_time", "opening_time"]
    assert client.get(f"/tenders/{w.tender.id}/opening/record.json").status_code == 404


def test_holders_open_over_http_and_the_record_is_public(db, make, client, settings, tmp_path):
    tasks.configure(settings)
    w = _world(db, make, client, "opening")
    # the agency's holder fetches the headers and sends its parts as JSON
    token = login(client, w.agency_user.username)
    doc = client.get(f"/tenders/{w.tender.id}/opening/headers").json()
    assert doc["format"] == "etender-opening-headers" and len(doc["bids"]) == 3
    assert all(set(b) == {"bid", "lot_id", "bid_id", "status", "header"} for b in doc["bids"])
    parts = header_doc_parts(db, w.blobs, w.tender, w.keys[w.agency_user.id], w.bids)
    r = _post_json(client, f"/tenders/{w.tender.id}/opening/parts", {"bids": parts}, token)
    assert r.status_code == 200 and r.json()["accepted"] == 6
    r = _post_json(
        client, f"/tenders/{w.tender.id}/opening/parts", parts[0], token
    )  # again: refused precisely, in Chinese
    assert (
        r.json()["accepted"] == 0
        and r.json()["refused"][0]["code"] == "part_duplicate"
        and "已经提交过" in r.json()["refused"][0]["message"]
    )
    # before the record: counts only, never who bid
    assert client.get(f"/tenders/{w.tender.id}/opening/record.json").status_code == 409
    page = client.get(f"/tenders/{w.tender.id}/opening")
    assert page.status_code == 200 and "Bidder One" not in page.text and 'id="key-panel"' in page.text
    snap = client.get(f"/tenders/{w.tender.id}/opening/stream", params={"max_idle": 0})
    assert snap.headers["content-type"].startswith("text/event-stream")
    data = json.loads(next(line[5:] for line in snap.text.splitlines() if line.startswith("data:")))
    assert data["progress"]["bids"] == 3 and data["published"] is False and "Bidder One" not in snap.text
    # the monitor's holder unwraps offline from the headers document with `etender keys unwrap --headers` and
    # uploads the file
    token = login(client, w.monitor_user.username)
    headers_file, key_file, parts_file = (
        tmp_path / "headers.json",
        tmp_path / "monitor.etkey.json",
        tmp_path / "parts.json",
    )
    headers_file.write_bytes(client.get(f"/tenders/{w.tender.id}/opening/headers").content)
    key_file.write_text(
        json.dumps(
            keyfiles.protect(w.keys[w.monitor_user.id], "monitor passphrase", iterations=keyfiles.ITERATIONS)
        )
    )
    run = CliRunner().invoke(
        main,
        [
            "keys",
            "unwrap",
            "--key",
            str(key_file),
            "--headers",
            str(headers_file),
            "--out",
            str(parts_file),
            "--passphrase-env",
            "MONITOR_PASS",
        ],
        env={"MONITOR_PASS": "monitor passphrase"},
    )
    assert run.exit_code == 0, run.output
    assert "6 parts of 3 bids" in run.output
    # each document names the platform's bid number from the headers document: that, not the header's bid_id,
    # is what the parts are credited to
    assert [d["bid"] for d in json.loads(parts_file.read_text())["bids"]] == [
        b["bid"] for b in json.loads(headers_file.read_text())["bids"]
    ]
    r = client.post(
        f"/tenders/{w.tender.id}/opening/parts",
        files={"file": ("parts.json", parts_file.read_bytes(), "application/json")},
        headers={"x-csrftoken": token},
    )
    assert r.status_code == 200 and r.json()["accepted"] == 6 and len(r.json()["queued"]) == 3
    assert tasks.drain(60)
    # published: public to everyone, as JSON, PDF and on the page
    client.cookies.clear()
    record = client.get(f"/tenders/{w.tender.id}/opening/record.json")
    assert (
        record.status_code == 200
        and record.json()["sha256"] == opening_base.opening_of(db, w.tender.id).record_sha256
    )
    names = {b["bidder"] for b in record.json()["record"]["lots"][0]["bids"]}
    assert names == {"Bidder One Ltd", "Bidder Two Ltd", "Bidder Three Ltd"}
    pdf = client.get(f"/tenders/{w.tender.id}/opening/record.pdf")
    assert (
        pdf.status_code == 200
        and pdf.headers["content-type"] == "application/pdf"
        and pdf.content.startswith(b"%PDF")
    )
    page = client.get(f"/tenders/{w.tender.id}/opening")
    assert (
        page.status_code == 200
        and "Bidder One Ltd" in page.text
        and pdf.headers["x-content-sha256"] in page.text
    )
    assert (
        client.get(f"/tenders/{w.tender.id}").text.count(f"/tenders/{w.tender.id}/opening") >= 1
    )  # linked from the notice


def test_bidders_check_in_object_and_the_agency_answers(db, make, client):
    w = _world(db, make, client, "opening")
    token = login(client, w.bidder_user.username)
    r = client.post(
        f"/tenders/{w.tender.id}/opening/check-in", data={"_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    r = client.post(
        f"/tenders/{w.tender.id}/opening/objections",
        data={"_csrf_token": token, "text": "开标晚了。"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with db.get_bind().connect() as conn:  # not the test's session: it would hold SQLite's write lock
        obj_id = conn.scalar(select(func.max(OpeningObjection.id)))
    page = client.get(f"/tenders/{w.tender.id}/opening")
    assert zh("Your company is checked in.") in page.text and "开标晚了。" in page.text
    # a non-participant company does not watch: it sees the opening's public state (issue 16), not its
    # progress nor the objections, and so does an anonymous visitor
    login(client, w.purchaser_user.username)
    public = client.get(f"/tenders/{w.tender.id}/opening")
    assert public.status_code == 200 and 'id="public-state"' in public.text
    assert "开标晚了。" not in public.text and 'id="bid-progress"' not in public.text
    client.cookies.clear()
    anonymous = client.get(f"/tenders/{w.tender.id}/opening", follow_redirects=False)
    assert anonymous.status_code == 200 and 'id="public-state"' in anonymous.text
    assert client.get(f"/tenders/{w.tender.id}/opening/stream", params={"max_idle": "0"}).status_code == 401
    token = login(client, w.agency_user.username)
    r = client.post(
        f"/tenders/{w.tender.id}/opening/objections/{obj_id}/answer",
        data={"_csrf_token": token, "answer": "按服务器时间准时开标。"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "按服务器时间准时开标。" in client.get(f"/tenders/{w.tender.id}/opening").text
