"""The public log withholds (issue 12): through /api/v1/audit/entries and /stream an anonymous reader cannot
count a tender's registrations, downloads and bids before its opening record, nor see a draft's entries before
its publication, a login (or its address) ever, or the expert pool unless a monitor or administrator."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from accounts.models import User, actor_for
from core import clock, credit_code
from core.signing import signing_key
from evaluation.pool import catalogue, rules
from evaluation.pool import experts as pool
from evaluation.pool.experts import ExpertInput
from tender import deadlines, drafting, keyholders
from tender.models import OpenedBid
from tender.opening import base as opening_base
from tender.opening import decryption
from tender.opening import parts as opening_parts
from tests.factories.accounts import cast
from tests.factories.bids import header_doc_parts, price, submit_bid
from tests.factories.tenders import PDF, tender_input
from tests.web.support import login

PARTICIPATION = ("tender.registration.", "tender.document.downloaded", "tender.bid.")
PLACEHOLDER = {"index", "leaf_hash", "withheld"}


def public_log(client) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    out: list[dict[str, Any]] = []
    while True:
        body = client.get("/api/v1/audit/entries", params={"start": len(out), "end": len(out) + 1000}).json()
        out += body["entries"]
        if len(out) >= body["size"]:
            return out


def streamed(client, **filters) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    text = client.get("/api/v1/audit/stream", params={"max_idle": 0, **filters}).text
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def about(items: list[dict[str, Any]], tender_id: int) -> list[str]:
    """The tags of the entries the reader sees in full about this tender."""
    return [
        i["decoded"]["tag"]
        for i in items
        if "decoded" in i and i["decoded"]["subject"] == f"tender:{tender_id}"
    ]


def participation(tags: list[str]) -> list[str]:
    return [t for t in tags if t.startswith(PARTICIPATION)]


def tender_with_bids(db, w, blobs, title: str, n: int = 3):  # type: ignore[no-untyped-def]
    """A published tender with one bid of each bidder company on its first lot, through the services (each
    registers, uploads and submits: the participation entries)."""
    basis = SimpleNamespace(purchaser_org=w.purchaser_org, holders=w.holders)
    t = drafting.create_tender(db, w.agency, tender_input(basis, title=title))
    drafting.add_document(
        db, w.agency, blobs, t.id, drafting.FileInput("tender-documents.pdf", [PDF]), max_bytes=1 << 20
    )
    keys = keyholders.generate_keys_for(db, t)
    drafting.publish(db, w.agency, t.id)
    db.flush()
    db.refresh(t)
    signer = signing_key(w.data_dir, "etender.test")
    made = [
        submit_bid(db, b, blobs, t, t.lots[0], signer, price_form=price(900_000 + i))
        for i, b in enumerate((w.bidder, w.other_bidder, w.third_bidder)[:n])
    ]
    return t, keys, made


def publish_the_record(db, w, blobs, t, keys, made) -> None:  # type: ignore[no-untyped-def]
    """The deadline passes, the key holders submit their parts and every bid is decrypted: the opening record
    is published (as tests/factories/bids.py opening_world does for its bids)."""
    t.bid_deadline = clock.now() - timedelta(minutes=1)
    db.flush()
    deadlines.close_due_tenders(db)
    db.flush()
    for uid in w.holders[: t.key_threshold]:
        holder = actor_for(db.get(User, uid), "198.51.100.7")
        opening_parts.submit_parts(
            db, holder, blobs, t.id, {"bids": header_doc_parts(db, blobs, t, keys[uid], made)}
        )
    db.flush()
    for ob_id in db.scalars(select(OpenedBid.id).where(OpenedBid.bid_id.in_([b.id for b in made]))):
        job = decryption.claim(db, ob_id)
        assert job is not None
        decryption.finish_bid(db, job, decryption.decrypt(blobs, job))
    db.flush()
    assert opening_base.is_published(opening_base.opening_of(db, t.id))


def test_participation_cannot_be_counted_before_the_opening_record_and_shows_after(
    client, db, make, tmp_path
):
    w = cast(db, make)
    w.data_dir = tmp_path / "platform"
    blobs = client.app.state.blobs
    early, *_ = tender_with_bids(db, w, blobs, "Still open")
    opened, keys, made = tender_with_bids(db, w, blobs, "Opened")
    db.commit()
    client.cookies.clear()
    before = participation(about(public_log(client), opened.id))
    publish_the_record(db, w, blobs, opened, keys, made)
    db.commit()
    client.cookies.clear()
    log = public_log(client)
    assert any(set(i) == PLACEHOLDER for i in log)
    assert participation(about(log, early.id)) == []  # nothing to count
    assert "tender.published" in about(log, early.id)
    assert before == []  # the same before its record
    for filters in (
        {"tender": early.id},
        {"tag": "tender.bid"},
        {"tag": "tender.registration"},
        {"actor": "(confidential)"},
    ):
        got = streamed(client, **filters)
        assert all("withheld" not in i for i in got) and participation(about(got, early.id)) == [], filters
    # the opened tender: its record is published, and so are the entries that said who took part (concealed)
    shown = participation(about(log, opened.id))
    assert shown.count("tender.bid.submitted") == 3 and shown.count("tender.registration.created") == 3, shown
    assert participation(about(streamed(client, tender=opened.id), opened.id)) == shown
    released = [
        i
        for i in log
        if "decoded" in i
        and i["decoded"]["tag"] == "audit.entries.released"
        and i["decoded"]["subject"] == f"tender:{opened.id}"
        and i["details"]["fact"] == "participation"
    ]
    assert len(released) == 1
    for i in log:
        if "decoded" in i and i["decoded"]["tag"].startswith(PARTICIPATION):
            assert i["decoded"]["actor"] == "(confidential)" and "salt" in i["decoded"]


def test_a_tender_that_fails_at_its_deadline_releases_its_participation(client, db, make, tmp_path):
    w = cast(db, make)
    w.data_dir = tmp_path / "platform"
    t, _, _ = tender_with_bids(db, w, client.app.state.blobs, "Too few bids", n=2)
    db.commit()
    assert participation(about(public_log(client), t.id)) == []
    t.bid_deadline = clock.now() - timedelta(minutes=1)
    deadlines.close_due_tenders(db)  # R44: fewer than 3 bids, the tender fails and its entry gives the count
    db.commit()
    log = public_log(client)
    assert "tender.failed" in about(log, t.id)
    assert participation(about(log, t.id)).count("tender.bid.submitted") == 2


def test_a_drafts_entries_appear_at_its_publication(client, db, make, blobs):
    w = cast(db, make)
    draft = drafting.create_tender(db, w.agency, tender_input(w, title="机密草稿 secret draft"))
    db.commit()
    client.cookies.clear()
    text = client.get("/api/v1/audit/entries", params={"start": 0, "end": 1000}).text
    assert "secret draft" not in text and about(public_log(client), draft.id) == []
    assert streamed(client, tender=draft.id) == []
    login(client, w.monitor_user.username)  # a monitor does not read a draft through the log either
    assert about(public_log(client), draft.id) == []
    drafting.add_document(
        db,
        w.agency,
        blobs,
        draft.id,
        drafting.FileInput("tender-documents.pdf", [b"%PDF-1.4 doc"]),
        max_bytes=1 << 20,
    )
    keyholders.generate_keys_for(db, draft)
    drafting.publish(db, w.agency, draft.id)
    db.commit()
    client.cookies.clear()
    tags = about(public_log(client), draft.id)
    assert {
        "tender.created",
        "tender.document.added",
        "tender.key.registered",
        "audit.entries.released",
        "tender.published",
    } <= set(tags), tags
    assert "secret draft" in client.get("/api/v1/audit/entries", params={"start": 0, "end": 1000}).text


def _expert_input() -> ExpertInput:
    import random

    prefix = "33010619800101001"
    return ExpertInput(
        name="王建华",
        id_number=prefix + rules.resident_id_check(prefix),
        title="高级工程师",
        title_level="associate_senior",
        years=15,
        specialties=["A0101"],
        employer_code=credit_code.generate(random.Random(1)),
        employer_name="某某市建筑设计研究院有限公司",
        region="某某市",
        phone="13812345678",
        email="wang@example.com",
    )


def test_no_login_is_ever_public_and_the_pool_is_for_supervisors(client, db, make):
    w = cast(db, make)
    catalogue.load_catalogue(db)
    expert = pool.create_expert(db, w.admin, _expert_input())
    db.commit()
    login(client, w.bidder_user.username)
    client.cookies.clear()
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": w.bidder_user.username,
            "password": "wrong password",
            "_csrf_token": client.cookies.get("etender_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 422
    client.cookies.clear()
    log = public_log(client)
    tags = [i["decoded"]["tag"] for i in log if "decoded" in i]
    assert not [t for t in tags if t.startswith(("auth.", "evaluation.expert"))], tags
    assert streamed(client, tag="auth") == [] and streamed(client, tag="evaluation") == []
    assert w.bidder_user.username not in json.dumps(
        [i for i in log if "decoded" in i and i["decoded"]["subject"].startswith("login:")]
    )
    for who, sees in (
        (w.agency_user, False),
        (w.bidder_user, False),
        (w.monitor_user, True),
        (w.admin_user, True),
    ):
        login(client, who.username)
        mine = public_log(client)
        tags = [i["decoded"]["tag"] for i in mine if "decoded" in i]
        assert ("auth.login.succeeded" in tags) is sees and ("auth.login.failed" in tags) is sees, (
            who.username
        )
        assert any(i["decoded"]["subject"] == f"expert:{expert.id}" for i in mine if "decoded" in i) is sees
        assert bool(streamed(client, tag="evaluation.expert")) is sees


def test_the_monitors_entry_page_of_a_withheld_entry_checks_its_leaf_hash(client, db, make, tmp_path):
    w = cast(db, make)
    w.data_dir = tmp_path / "platform"
    t, _, _ = tender_with_bids(db, w, client.app.state.blobs, "Open", n=1)
    db.commit()
    index = next(i["index"] for i in public_log(client) if "withheld" in i)
    leaf = client.get(f"/api/v1/audit/entries/{index}").json()["leaf_hash"]
    login(client, w.monitor_user.username)
    page = client.get(f"/monitor/audit/entries/{index}")
    assert page.status_code == 200
    assert (
        'data-withheld="yes"' in page.text
        and f'data-leaf="{leaf}"' in page.text
        and 'data-entry=""' in page.text
    )
    assert "此条目暂不公开" in page.text and f"tender:{t.id}" not in page.text
    feed_page = client.get("/monitor/audit")  # the feed lists what the monitor may read: not this entry
    assert feed_page.status_code == 200 and f'data-index="{index}"' not in feed_page.text
