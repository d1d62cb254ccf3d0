"""The monitor's view: all procedures, one procedure's facts and audit trail, suspend and resume (E52)."""

import re
from datetime import timedelta

import pytest

from audit.queries import entries_for_subject
from core import clock
from storage import open_store
from tender import deadlines, drafting, keyholders, objections, participation, supervision
from tender.drafting import FileInput, LotInput, TenderInput
from tender.lifecycle import Status
from tender.models import Tender
from tests.web.support import login, zh
from web.rule_refs import translate_linked

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def published_tender(db, make, settings, *, days: int = 30):
    """A published tender (deadline `days` ahead) and its agency actor."""
    agency_org, purchaser = (
        make.org("agency", name="某某招标代理有限公司"),
        make.org("purchaser", name="某某县交通运输局"),
    )
    agency = make.actor(make.user(agency_org, "agency", username="agent"))
    centre = make.user(make.org("trading_centre", name="某某县公共资源交易中心"), "centre")
    now = clock.now()
    data = TenderInput(
        title="某某县农村公路养护工程",
        purchaser_id=purchaser.id,
        category="works",
        evaluation_method="lowest_price",
        criteria={"qualification": ["公路工程施工总承包三级及以上资质"]},
        lots=[
            LotInput(
                name="第一标段",
                estimated_price=500_000_000,
                price_ceiling=550_000_000,
                bid_security=5_000_000,
            )
        ],
        doc_issue_start=now,
        doc_issue_end=now + timedelta(days=10),
        bid_deadline=now + timedelta(days=days),
        key_holder_ids=[agency.user_id, centre.id],  # the custody rules: two organisations, k = 2
        key_threshold=2,
    )
    tender = drafting.create_tender(db, agency, data)
    drafting.add_document(
        db,
        agency,
        open_store(settings),
        tender.id,
        FileInput("招标文件.pdf", [PDF]),
        settings.max_document_bytes,
    )
    keyholders.generate_keys_for(db, tender)  # publication needs the holders' keys (issue 3)
    drafting.publish(db, agency, tender.id)
    db.commit()
    return tender, agency


@pytest.fixture
def people(make, db):
    monitor = make.user(make.org("supervisor", name="某某县发展和改革局"), "monitor", username="watcher")
    bidder = make.user(make.org("bidder", name="甲路桥有限公司"), "bidder", username="bidder_a")
    db.commit()
    return {"monitor": make.actor(monitor), "bidder": make.actor(bidder)}


def status_of(db, tender_id: int) -> Tender:
    db.expire_all()
    tender = db.get(Tender, tender_id)
    db.commit()  # on SQLite this session's transaction would hold the write lock the app needs
    return tender


def test_suspend_with_reason_suspends_and_the_public_notice_says_so(client, db, make, settings, people):
    tender, _ = published_tender(db, make, settings)
    tid = tender.id
    token = login(client, "watcher")
    page = client.get(f"/monitor/tenders/{tid}")
    assert page.status_code == 200 and zh("Suspend the procedure") in page.text
    r = client.post(
        f"/monitor/tenders/{tid}/suspend",
        data={"_csrf_token": token, "reason": "接到投诉，需核查资格条件。"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    t = status_of(db, tid)
    assert t.status == Status.suspended and t.monitor_suspended
    client.cookies.clear()
    public = client.get(f"/tenders/{tid}")
    assert public.status_code == 200
    assert zh("status:suspended") in public.text


def test_suspend_without_reason_is_refused_with_a_field_error(client, db, make, settings, people):
    tender, _ = published_tender(db, make, settings)
    token = login(client, "watcher")
    r = client.post(f"/monitor/tenders/{tender.id}/suspend", data={"_csrf_token": token, "reason": "   "})
    assert r.status_code == 422
    assert zh("Give the reason for the suspension.") in r.text and 'class="field-error"' in r.text
    assert status_of(db, tender.id).status == Status.published


def test_resume_puts_the_tender_back_to_published(client, db, make, settings, people):
    tender, _ = published_tender(db, make, settings)
    tid = tender.id
    supervision.suspend(db, people["monitor"], tid, "核查投诉")
    db.commit()
    token = login(client, "watcher")
    assert zh("Resume the procedure") in client.get(f"/monitor/tenders/{tid}").text
    r = client.post(
        f"/monitor/tenders/{tid}/resume",
        data={"_csrf_token": token, "reason": "投诉不成立。", "new_deadline": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    t = status_of(db, tid)
    assert t.status == Status.published and not t.monitor_suspended


def test_resume_after_the_deadline_passed_requires_a_new_deadline(client, db, make, settings, people):
    tender, _ = published_tender(db, make, settings)
    tid = tender.id
    supervision.suspend(db, people["monitor"], tid, "核查投诉")
    db.commit()
    token = login(client, "watcher")
    clock.shift(timedelta(days=31))
    r = client.post(
        f"/monitor/tenders/{tid}/resume",
        data={"_csrf_token": token, "reason": "核查完毕。", "new_deadline": ""},
    )
    assert r.status_code == 422
    assert zh("The bid deadline passed during the suspension; set a new one.") in r.text
    assert "核查完毕。" in r.text and 'id="f-new_deadline"' in r.text
    assert status_of(db, tid).status == Status.suspended
    r = client.post(
        f"/monitor/tenders/{tid}/resume",
        data={"_csrf_token": token, "reason": "核查完毕。", "new_deadline": "not a date"},
    )
    assert r.status_code == 422
    assert zh("The new bid deadline is not a valid date and time, e.g. 2025-06-30 09:30.") in r.text
    new = clock.to_cst(clock.now() + timedelta(days=20)).replace(hour=9, minute=30, second=0, microsecond=0)
    r = client.post(
        f"/monitor/tenders/{tid}/resume",
        data={"_csrf_token": token, "reason": "核查完毕。", "new_deadline": new.strftime("%Y-%m-%dT%H:%M")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    t = status_of(db, tid)
    assert t.status == Status.published and clock.as_utc(t.bid_deadline) == clock.as_utc(new)


L24_TOO_SOON = (
    "At least 20 days must pass from the issue of tender documents to the bid deadline (L24); now there "
    "are %(days)s. Move the deadline to %(earliest)s or later."
)


def test_a_resume_with_too_early_a_deadline_is_refused_with_the_earliest_date(
    client, db, make, settings, people
):
    tender, _ = published_tender(db, make, settings)
    tid, deadline = tender.id, tender.bid_deadline
    published = deadline - timedelta(days=30)  # the factory's dates are counted from the moment it ran
    supervision.suspend(db, people["monitor"], tid, "核查投诉")
    db.commit()
    token = login(client, "watcher")
    clock.shift(timedelta(days=2))
    early = clock.to_cst(published + timedelta(days=8)).strftime(
        "%Y-%m-%dT%H:%M"
    )  # before the sale ends, day 10
    earliest = (clock.to_cst(published).date() + timedelta(days=20)).isoformat()
    r = client.post(
        f"/monitor/tenders/{tid}/resume",
        data={"_csrf_token": token, "reason": "核查完毕。", "new_deadline": early},
    )
    assert r.status_code == 422
    assert zh(L24_TOO_SOON, days=8, earliest=earliest) in r.text
    assert "核查完毕。" in r.text and f'value="{early}"' in r.text  # nothing typed is lost
    t = status_of(db, tid)
    assert t.status == Status.suspended and clock.as_utc(t.bid_deadline) == clock.as_utc(deadline)
    client.cookies.set("lang", "en")
    r = client.post(
        f"/monitor/tenders/{tid}/resume",
        data={"_csrf_token": token, "reason": "Checked.", "new_deadline": early},
    )
    assert r.status_code == 422
    assert str(translate_linked("en", L24_TOO_SOON, {"days": 8, "earliest": earliest})) in r.text
    assert '(<a class="rule" href="/rules#L24">Tendering Law, art. 24</a>); now there are 8.' in r.text


def test_a_valid_resume_moves_the_deadline_and_the_notice_names_the_resume(
    client, db, make, settings, people
):
    tender, _ = published_tender(db, make, settings)
    tid, deadline = tender.id, tender.bid_deadline
    published = deadline - timedelta(days=30)  # the factory's dates are counted from the moment it ran
    supervision.suspend(db, people["monitor"], tid, "核查投诉")
    db.commit()
    token = login(client, "watcher")
    clock.shift(timedelta(days=2))
    new = clock.to_cst(published + timedelta(days=22)).replace(second=0, microsecond=0)
    r = client.post(
        f"/monitor/tenders/{tid}/resume",
        data={"_csrf_token": token, "reason": "核查完毕。", "new_deadline": new.strftime("%Y-%m-%dT%H:%M")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    t = status_of(db, tid)
    assert t.status == Status.published and clock.as_utc(t.bid_deadline) == clock.as_utc(new)
    client.cookies.clear()
    public = client.get(f"/tenders/{tid}").text
    original = clock.to_cst(deadline).strftime("%Y-%m-%d %H:%M")
    assert (
        zh(
            "(set when the monitor resumed the procedure after a suspension; originally %(original)s)",
            original=original,
        )
        in public
    )
    assert zh("(extended from %(old)s by a clarification, R21)", old=original) not in public
    objections_until = (clock.to_cst(new).date() - timedelta(days=10)).isoformat() + " 23:59"
    assert objections_until in public  # the last moment for objections moved with the deadline (R22)


@pytest.mark.parametrize("username", ["bidder_a", "agent"])  # a bidder, and the tender's own agency
def test_other_roles_cannot_suspend_or_resume(client, db, make, settings, people, username):
    tender, _ = published_tender(db, make, settings)
    tid = tender.id
    token = login(client, username)
    assert client.get(f"/monitor/tenders/{tid}").status_code == 403
    assert client.get("/monitor").status_code == 403
    r = client.post(f"/monitor/tenders/{tid}/suspend", data={"_csrf_token": token, "reason": "试图暂停"})
    assert r.status_code == 403
    assert status_of(db, tid).status == Status.published
    supervision.suspend(db, people["monitor"], tid, "核查投诉")
    db.commit()
    r = client.post(f"/monitor/tenders/{tid}/resume", data={"_csrf_token": token, "reason": "试图恢复"})
    assert r.status_code == 403
    assert status_of(db, tid).monitor_suspended


def test_anonymous_visitors_are_sent_to_login(client, db, make, settings, people):
    tender, _ = published_tender(db, make, settings)
    r = client.get(f"/monitor/tenders/{tender.id}", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")


def test_the_suspension_is_in_the_audit_log_with_the_monitors_name_and_ip(client, db, make, settings, people):
    tender, _ = published_tender(db, make, settings)
    tid = tender.id
    token = login(client, "watcher")
    client.post(
        f"/monitor/tenders/{tid}/suspend",
        data={"_csrf_token": token, "reason": "接到投诉。"},
        follow_redirects=False,
    )
    entries = [
        e for e in entries_for_subject(db, people["monitor"], f"tender:{tid}") if e.tag == "tender.suspended"
    ]
    db.commit()
    assert len(entries) == 1
    assert (entries[0].actor, entries[0].role, entries[0].ip) == ("watcher", "monitor", "testclient")
    assert entries[0].details["reason"] == "接到投诉。" and entries[0].details["rule"] == "E52"
    page = client.get(f"/monitor/tenders/{tid}").text
    assert zh("Procedure suspended") in page and "testclient" in page and "接到投诉。" in page


def test_registrations_stay_out_of_the_monitors_view_until_the_deadline(client, db, make, settings, people):
    tender, _ = published_tender(db, make, settings)
    tid = tender.id
    participation.register(db, people["bidder"], tid, tender.lots[0].id, "张伟", "13800138000")
    db.commit()
    login(client, "watcher")
    page = client.get(f"/monitor/tenders/{tid}").text
    assert zh("A bidder registered for a lot") not in page
    assert zh("%(count)s registered", count=1) not in page
    assert (
        zh(
            "Confidential until the bid deadline (E21): nobody sees who "
            "registered or downloaded, or how many did."
        )
        in page
    )
    clock.shift(timedelta(days=31))
    deadlines.close_due_tenders(db)
    db.commit()
    page = client.get(f"/monitor/tenders/{tid}").text
    assert zh("A bidder registered for a lot") in page
    assert zh("%(count)s registered", count=1) in page


def test_overdue_objection_answers_are_highlighted_in_the_list(client, db, make, settings, people):
    tender, _ = published_tender(db, make, settings)
    tid = tender.id
    objections.raise_objection(db, people["bidder"], tid, "资格条件限制了潜在投标人。")
    db.commit()
    login(client, "watcher")
    page = client.get("/monitor").text
    assert tender.title in page and zh("%(n)s overdue", n=1) not in page
    clock.shift(timedelta(days=5))
    page = client.get("/monitor").text
    assert zh("%(n)s overdue", n=1) in page and 'class="overdue"' in page
    detail = client.get(f"/monitor/tenders/{tid}").text
    assert "资格条件限制了潜在投标人。" in detail and zh("overdue") in detail


# ----------------------------------------------------------- the audit feed, entry pages and alerts (issue 4)


def _entries(db, n: int, actor=None):  # type: ignore[no-untyped-def]
    from audit import record
    from core.identity import Actor
    from tender.events import TenderTag

    who = actor or Actor(
        user_id=None, username="agent", role="agency", organisation_id=None, ip="198.51.100.7"
    )
    out = [
        record(db, TenderTag.tender_updated, actor=who, subject=f"tender:{i % 2}", details={"title": f"T{i}"})
        for i in range(n)
    ]
    db.commit()
    return out


def test_audit_feed_is_for_monitors_and_admins(client, db, make, settings, people):
    _entries(db, 3)
    assert client.get("/monitor/audit", follow_redirects=False).status_code == 303
    login(client, "bidder_a")
    assert client.get("/monitor/audit").status_code == 403
    login(client, "watcher")
    page = client.get("/monitor/audit")
    assert page.status_code == 200 and zh("Audit log") in page.text and zh("Alerts") in page.text
    assert 'data-last="' in page.text and "/static/js/audit-feed.js" in page.text
    make.user(None, "admin", username="root_admin")
    db.commit()
    login(client, "root_admin")
    assert (
        client.get("/monitor/audit").status_code == 200
        and client.get("/monitor/audit/entries/0").status_code == 200
    )
    login(client, "bidder_a")
    assert client.get("/monitor/audit/entries/0").status_code == 403
    client.cookies.clear()
    assert client.get("/monitor/audit/entries/0", follow_redirects=False).status_code == 303


def test_audit_feed_filters_by_tender_tag_and_actor(client, db, make, settings, people):
    _entries(db, 4)
    from audit import record
    from tender.events import TenderTag

    record(
        db, TenderTag.tender_cancelled, actor=people["bidder"], subject="tender:7", details={"reason": "x"}
    )
    db.commit()
    login(client, "watcher")
    rows = lambda text: text.count('<tr data-index="')  # noqa: E731
    assert rows(client.get("/monitor/audit").text) >= 5
    assert rows(client.get("/monitor/audit", params={"tender": 1}).text) == 2
    assert rows(client.get("/monitor/audit", params={"tag": "tender.cancelled"}).text) == 1
    assert rows(client.get("/monitor/audit", params={"tag": "tender"}).text) >= 5
    assert rows(client.get("/monitor/audit", params={"who": "bidder_a"}).text) == 1
    org = people["bidder"].organisation_id
    assert rows(client.get("/monitor/audit", params={"organisation": org}).text) == 1
    bad = client.get("/monitor/audit", params={"tender": "abc"})
    assert bad.status_code == 422
    assert (
        zh(
            "No tender has the reference number %(reference)s; check it, or leave the field empty.",
            reference="abc",
        )
        in bad.text
    )
    bad = client.get("/monitor/audit", params={"organisation": "x"})
    assert bad.status_code == 422 and zh("The filter must be a whole number.") in bad.text


def test_the_feed_filters_by_reference_number_names_subjects_and_pages_back(
    client, db, make, settings, people, blobs
):
    from audit import record
    from tender.events import TenderTag
    from tests.factories.tenders import published_tender

    w = published_tender(db, make, blobs)
    for i in range(120):
        record(
            db,
            TenderTag.tender_cancelled,
            actor=people["bidder"],
            subject=f"tender:{w.tender.id}",
            details={"i": i},
        )
    db.commit()
    login(client, "watcher")
    rows = lambda text: text.count('<tr data-index="')  # noqa: E731
    first = client.get("/monitor/audit", params={"tender": w.tender.reference})
    assert first.status_code == 200 and rows(first.text) == 100
    assert (
        f"{w.tender.reference} {w.tender.title}" in first.text and f">tender:{w.tender.id}<" not in first.text
    )
    older = re.search(r'href="(\?[^"]*before=\d+[^"]*)"', first.text)
    assert older, "the first page links to older entries"
    second = client.get("/monitor/audit" + older.group(1).replace("&amp;", "&"))
    indexes = [int(x) for x in re.findall(r'<tr data-index="(\d+)"', second.text)]
    assert second.status_code == 200 and 20 <= len(indexes) < 100
    assert max(indexes) < min(int(x) for x in re.findall(r'<tr data-index="(\d+)"', first.text))
    assert zh("Newest entries") in second.text


def test_concealed_actors_never_show_in_the_feed_or_its_alerts(client, db, make, settings, people):
    from audit import record
    from core.identity import Actor
    from tender.events import TenderTag

    for org in (41, 42, 43):
        bidder = Actor(
            user_id=org,
            username=f"secret_bidder_{org}",
            role="bidder",
            organisation_id=org,
            ip="203.0.113.77",
        )
        record(
            db,
            TenderTag.bid_submitted,
            actor=bidder,
            subject="tender:5",
            details={"lot": 2},
            conceal_actor=True,
        )
    db.commit()
    login(client, "watcher")
    page = client.get("/monitor/audit").text
    assert "secret_bidder" not in page and "203.0.113.77" not in page
    assert (
        zh(
            "%(n)s bids of different bidders on lot %(lot)s of %(subject)s came from one network address.",
            n=3,
            lot=2,
            subject="tender:5",
        )
        in page
    )
    assert (
        client.get("/monitor/audit", params={"who": "secret_bidder_41"}).text.count('<tr data-index="') == 0
    )
    entry = client.get("/monitor/audit/entries/0").text
    assert (
        "secret_bidder" not in entry
        and "203.0.113.77" not in entry
        and zh("Not disclosed yet: only their salted digest is public.") in entry
    )


def test_a_reused_sealed_file_is_an_alert_naming_both_companies_to_monitors_only(
    client, db, make, settings, people
):
    """R40: the refusal submission records (tender/bids/submission.py) shows on the monitors' audit page as an
    alert naming both companies; the public entry names neither, and the bidders have no alerts page."""
    from audit import record
    from tender.events import TenderTag

    first = make.org("bidder", name="乙建设工程有限公司")
    for reason in ("sealed_file_reused", "sealed_bid_id_reused"):
        record(
            db,
            TenderTag.bid_refused,
            actor=people["bidder"],
            subject="tender:9",
            conceal_actor=True,
            confidential={
                "reason": reason,
                "rule": "R40",
                "bid": 12,
                "lot": 3,
                "same_as_bid": 11,
                "same_as_organisation": first.id,
            },
        )
    db.commit()
    login(client, "watcher")
    page = client.get("/monitor/audit").text
    names = {
        "subject": "tender:9",
        "lot": 3,
        "first": "乙建设工程有限公司",
        "second": "甲路桥有限公司",
        "rule": "R40",
    }
    assert (
        zh(
            "Identical sealed bid files from two companies on %(subject)s (lot %(lot)s): %(second)s sent "
            "the file %(first)s had submitted; it was refused (%(rule)s).",
            **names,
        )
        in page
    )
    assert (
        zh(
            "Two companies' sealed bids on %(subject)s (lot %(lot)s) carry the same bid id: %(second)s "
            "sent a file with the bid id of %(first)s's bid; it was refused (%(rule)s).",
            **names,
        )
        in page
    )
    client.cookies.clear()
    login(client, "bidder_a")
    assert client.get("/monitor/audit").status_code == 403
    public = client.get("/api/v1/audit/entries")
    assert public.status_code == 200 and "tender.bid.refused" in public.text
    assert "乙建设工程有限公司" not in public.text and "sealed_file_reused" not in public.text


def test_alerts_for_refused_access_time_windows_and_failed_logins(client, db, make, settings, people):
    from accounts.events import AccountTag
    from audit import record
    from core.identity import Actor
    from tender.events import TenderTag

    intruder = Actor(user_id=None, username="mallory", role=None, organisation_id=None, ip="192.0.2.66")
    record(db, AccountTag.access_refused, actor=intruder, subject="tender:3", details={"reason": "sealed"})
    record(
        db,
        TenderTag.bid_refused,
        actor=people["bidder"],
        subject="tender:3",
        details={"window": "bid_deadline", "lot": 1},
    )
    record(
        db,
        TenderTag.bid_refused,
        actor=people["bidder"],
        subject="tender:3",
        details={"reason": "file too large"},
    )
    for _ in range(3):
        record(db, AccountTag.auth_login_failed, actor=intruder, subject="login:admin", details={})
    db.commit()
    login(client, "watcher")
    page = client.get("/monitor/audit").text
    assert (
        zh(
            "Refused attempt to read sealed data on %(subject)s (by %(actor)s).",
            subject="tender:3",
            actor="mallory",
        )
        in page
    )
    assert (
        zh(
            "%(tag)s on %(subject)s: outside its time window (%(window)s).",
            tag=zh("Bid refused"),
            subject="tender:3",
            window=zh("the bid deadline"),
        )
        in page
    )
    assert page.count("outside_window") == 1  # the refusal for another reason is no time-window alert
    assert (
        zh(
            "%(n)s failed logins to the account %(who)s within %(minutes)s minutes.",
            n=3,
            who="admin",
            minutes=15,
        )
        in page
    )
    assert (
        zh(
            "%(n)s failed logins from the address %(who)s within %(minutes)s minutes.",
            n=3,
            who="192.0.2.66",
            minutes=15,
        )
        in page
    )


def test_failed_logins_spread_over_time_raise_no_alert(db, make, people):
    from datetime import timedelta as td

    from accounts.events import AccountTag
    from audit import record
    from core.identity import Actor
    from supervision import alerts

    someone = Actor(user_id=None, username="forgetful", role=None, organisation_id=None, ip="192.0.2.5")
    for _ in range(3):
        record(db, AccountTag.auth_login_failed, actor=someone, subject="login:forgetful", details={})
        db.commit()
        clock.shift(td(minutes=10))
    assert [a for a in alerts.alerts(db, people["monitor"]) if a.kind == "failed_logins"] == []


def test_audit_entry_page_carries_what_the_browser_needs_to_check_the_proof(
    client, db, make, settings, people
):
    entries = _entries(db, 3)
    login(client, "watcher")
    page = client.get(f"/monitor/audit/entries/{entries[1].index}")
    assert page.status_code == 200
    import base64

    assert f'data-entry="{base64.b64encode(entries[1].entry_bytes).decode()}"' in page.text
    assert entries[1].leaf_hash.hex() in page.text and "/static/js/audit-proof.js" in page.text
    assert client.get("/monitor/audit/entries/999").status_code == 404
    assert client.get("/static/js/audit-proof.js").status_code == 200
