"""The marketplace's pages: an intermediary applies (a refusal keeps what was typed) and the centre approves
it; the public directory lists it; an owner posts a purchase, three intermediaries quote, nobody sees who or
how many before the deadline (pages and API), the owner's number runs the optimal-price selection and the
public page shows the result with a record that verifies."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from marketplace import selection
from marketplace.models import Entry, Purchase
from tender import keyfiles
from tests.factories.marketplace import QUOTE_PRIVATE, QUOTE_PUBLIC, approved, intermediary, market_world
from tests.web.support import login, zh


@pytest.fixture
def site(db, make, client):  # type: ignore[no-untyped-def]
    w = market_world(db, make)
    w.firms = [approved(db, make, w.admin, f"检测公司{i}", region="路南区") for i in range(3)]
    w.newcomer_org, w.newcomer = intermediary(make, "新入驻检测公司", "路北区")
    db.commit()
    w.client = client
    return w


ENTRY = {
    "services": "testing",
    "licence_number": "91130200MA0ABCDE1X",
    "qualifications": "检验检测机构资质认定（CMA） | 甲级 | 2030-12-31",
    "staff": "李四 | 注册检测师 | JC-0001",
    "credit_report": "信用中国 2026-11",
    "independent_legal_person": "1",
    "no_violation_3y": "1",
    "internal_rules": "1",
}


def test_an_intermediary_applies_and_the_centre_approves(site, db):
    c = site.client
    token = login(c, site.newcomer.username)
    r = c.post("/intermediary/entry/submit", data={**ENTRY, "_csrf_token": token}, follow_redirects=False)
    # no commitment letter: refused, everything typed kept
    assert r.status_code == 422
    assert zh("Sign the commitment letter with the legal representative's name.") in r.text
    assert "JC-0001" in r.text and "信用中国 2026-11" in r.text
    r = c.post(
        "/intermediary/entry/submit",
        data={**ENTRY, "commitment_signed_by": "张三", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert zh("Under review") in c.get("/intermediary/entry").text
    entry_id = db.scalars(select(Entry.id).where(Entry.organisation_id == site.newcomer_org.id)).one()
    db.rollback()  # the test's own read must not hold SQLite's lock while the app writes
    assert "新入驻检测公司" not in c.get("/marketplace").text
    token = login(c, site.admin.username)
    assert "新入驻检测公司" in c.get("/admin/marketplace/entries").text
    r = c.post(f"/admin/marketplace/entries/{entry_id}/return", data={"reasons": "", "_csrf_token": token})
    assert r.status_code == 422
    r = c.post(
        f"/admin/marketplace/entries/{entry_id}/approve", data={"_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    c.cookies.clear()
    page = c.get("/marketplace", params={"service": "testing", "region": "路北区"}).text
    assert "新入驻检测公司" in page and "检测公司0" not in page


def _count_leaks(text: str) -> bool:
    return any(name in text for name in ("检测公司0", "检测公司1", "检测公司2"))


def test_post_quote_and_select_with_nothing_leaked_before_the_deadline(site, db):
    c = site.client
    token = login(c, site.owner.username)
    deadline = clock.to_cst(clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    sel_at = clock.to_cst(clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "service_code": "testing",
        "project": "河道水质检测",
        "ceiling": "abc",
        "funding": "state",
        "method": "optimal",
        "signup_deadline": deadline,
        "selection_at": sel_at,
        "_csrf_token": token,
    }
    r = c.post("/owner/purchases/new", data=form, follow_redirects=False)
    assert r.status_code == 422 and 'value="河道水质检测"' in r.text
    r = c.post("/owner/purchases/new", data={**form, "ceiling": "500000"}, follow_redirects=False)
    # a priced purchase needs the public key its quotes are sealed to (made in the owner's browser)
    assert r.status_code == 422 and 'value="河道水质检测"' in r.text
    assert zh("Paste the public key of the key file you made for this purchase (43 characters).") in r.text
    form["quote_key"] = QUOTE_PUBLIC
    r = c.post("/owner/purchases/new", data={**form, "ceiling": "500000"}, follow_redirects=False)
    assert r.status_code == 303
    pid = db.scalars(select(Purchase.id)).one()
    db.rollback()
    for i, (_, actor) in enumerate(site.firms):
        t = login(c, actor.username)
        assert "河道水质检测" in c.get("/intermediary/purchases").text
        r = c.post(
            f"/intermediary/purchases/{pid}/sign-up",
            data={"quote": "600000", "_csrf_token": t},
            follow_redirects=False,
        )
        assert r.status_code == 422 and zh("The quote is above the purchase's ceiling.") in r.text
        r = c.post(
            f"/intermediary/purchases/{pid}/sign-up",
            data={"quote": str(450000 + i * 10000), "_csrf_token": t},
            follow_redirects=False,
        )
        assert r.status_code == 303
    # before the deadline: the owner, the public and another intermediary see no names, no count, no quote
    for who in (site.owner.username, site.admin.username, None):
        if who:
            login(c, who)
        else:
            c.cookies.clear()
        # (the owner's page lists the public directory for a direct choice: names there are no leak)
        for url in (f"/marketplace/purchases/{pid}", "/marketplace/purchases", "/owner/purchases"):
            text = c.get(url).text
            assert "450,000" not in text and "460,000" not in text
            assert url == "/owner/purchases" or not _count_leaks(text)
        text = c.get(f"/marketplace/purchases/{pid}").text
        secret = (
            "Who signed up, and how many, stays confidential until the sign-up deadline; "
            "the quotes until the selection has run."
        )
        assert zh(secret) in text
    assert c.get(f"/api/v1/marketplace/purchases/{pid}/selection").status_code == 404
    clock.shift(timedelta(days=3, minutes=1))
    token = login(c, site.owner.username)
    page = c.get(f"/owner/purchases/{pid}").text
    assert _count_leaks(page) and "450,000" not in page  # names after the deadline, quotes sealed
    assert (
        c.post(
            f"/owner/purchases/{pid}/close", data={"_csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    value = bytes(range(7, 39))
    r = c.post(f"/owner/purchases/{pid}/reveal", data={"value": value.hex(), "_csrf_token": token})
    assert r.status_code == 409 and zh("Submit the fingerprint first; reveal the number after it.") in r.text
    c.post(
        f"/owner/purchases/{pid}/commit",
        data={"commitment": hashlib.sha256(value).hexdigest(), "_csrf_token": token},
    )
    r = c.post(
        f"/owner/purchases/{pid}/reveal",
        data={"value": value.hex(), "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    # the quotes are still sealed: the owner opens them with its key file and passphrase
    page = c.get(f"/owner/purchases/{pid}").text
    assert zh("Open the sealed quotes") in page and "450,000" not in page
    key_file = json.dumps(keyfiles.protect(QUOTE_PRIVATE, "correct horse"))
    r = c.post(
        f"/owner/purchases/{pid}/release",
        data={"key_file": key_file, "passphrase": "wrong horse", "_csrf_token": token},
    )
    assert r.status_code == 422 and zh("The passphrase does not open this key file.") in r.text
    assert "correct horse" not in r.text and key_file[:40].replace('"', "&#34;") in r.text  # the file kept
    r = c.post(
        f"/owner/purchases/{pid}/release",
        data={"key_file": key_file, "passphrase": "correct horse", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    c.cookies.clear()
    page = c.get(f"/marketplace/purchases/{pid}").text
    assert "450,000" in page and re.search(zh("Selected intermediary: %(name)s", name="检测公司"), page)
    doc = c.get(f"/api/v1/marketplace/purchases/{pid}/selection").json()
    assert selection.schema_problems(doc) == [] and selection.verify(doc) == []
    assert len(doc["applicants"]) == 3 and doc["method"] == "optimal"


def test_contract_acceptance_and_ratings_show_as_stars_in_the_directory(site, db, make):
    from marketplace import purchases
    from tests.factories.marketplace import purchase_input, select_now

    p = purchases.post(db, site.owner, purchase_input("random", ceiling_fen=1_000_000))
    for _, actor in site.firms:
        purchases.sign_up(db, actor, p.id, None)
    clock.shift(timedelta(days=3, seconds=1))
    select_now(db, site.owner, p.id)
    pid, chosen = p.id, p.chosen_org_id
    chosen_user = next(a for o, a in site.firms if o.id == chosen).username
    db.commit()
    c = site.client
    token = login(c, chosen_user)
    url = f"/marketplace/purchases/{pid}"
    signed = {"file": ("服务合同.pdf", b"%PDF-1.7 the signed contract", "application/pdf")}
    r = c.post(
        f"{url}/contract", data={"number": "HT-9", "amount": "2000000", "_csrf_token": token}, files=signed
    )
    assert r.status_code == 422 and 'value="HT-9"' in r.text
    assert zh("The contract's amount is above the purchase's ceiling.") in r.text
    # no file: refused with the other fields kept; a file of another type: refused by its name
    r = c.post(
        f"{url}/contract",
        data={"number": "HT-9", "amount": "9000", "_csrf_token": token},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert r.status_code == 422 and 'value="HT-9"' in r.text
    assert zh("Attach the signed contract (PDF, OFD, JPG or PNG).") in r.text
    r = c.post(
        f"{url}/contract",
        data={"number": "HT-9", "amount": "9000", "_csrf_token": token},
        files={"file": ("合同.exe", b"MZ", "application/octet-stream")},
    )
    assert (
        r.status_code == 422
        and zh("Attach a PDF, OFD, JPG or PNG file; %(name)s is not one of them.", name="合同.exe") in r.text
    )
    r = c.post(
        f"{url}/contract", data={"number": "HT-9", "amount": "9000", "_csrf_token": token}, files=signed
    )
    assert r.status_code == 200 and zh("waiting for the other side's confirmation") in r.text
    file_url = re.search(r'href="(/marketplace/documents/\d+)" id="contract-file"', r.text).group(1)  # type: ignore[union-attr]
    assert c.get(file_url).content == b"%PDF-1.7 the signed contract"
    token = login(c, site.owner.username)
    c.post(f"{url}/contract/confirm", data={"_csrf_token": token})
    r = c.post(
        f"/owner/purchases/{pid}/acceptance", data={"result": "accepted", "note": "", "_csrf_token": token}
    )
    assert r.status_code == 409 and zh("The intermediary has not uploaded the service result yet.") in r.text
    assert c.get(file_url).status_code == 200  # the owner reads the contract too
    token = login(c, chosen_user)
    r = c.post(
        f"{url}/result",
        data={"_csrf_token": token},
        files={"file": ("检测报告.pdf", b"%PDF-1.7 the test report", "application/pdf")},
    )
    assert r.status_code == 200 and "检测报告.pdf" in r.text
    token = login(c, site.owner.username)
    c.post(
        f"/owner/purchases/{pid}/acceptance", data={"result": "accepted", "note": "", "_csrf_token": token}
    )
    c.cookies.clear()
    assert c.get(file_url, follow_redirects=False).status_code in (302, 303, 401)  # not the public's
    token = login(c, site.owner.username)
    scores = dict.fromkeys(("quality", "timeliness", "attitude", "fees", "conduct"), "5")
    r = c.post(f"{url}/rating", data={**scores, "fees": "", "_csrf_token": token})
    assert r.status_code == 422 and zh("Give every indicator a score from 1 to 5.") in r.text
    r = c.post(
        f"{url}/rating", data={**scores, "comment": "很好", "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    c.cookies.clear()
    page = c.get("/marketplace").text
    assert "★★★★★" in page and zh("%(n)s ratings", n=1) in page
    # the 5-star intermediary is listed first
    first = page.index("★★★★★")
    assert all(page.index(o.name) > page.index("<tbody>") for o, _ in site.firms)
    chosen_name = next(o.name for o, _ in site.firms if o.id == chosen)
    assert page.index(chosen_name) < first and all(
        page.index(o.name) > first for o, _ in site.firms if o.id != chosen
    )


def test_an_owner_excludes_an_intermediary_with_its_reason_published(site, db):
    c = site.client
    token = login(c, site.owner.username)
    out = site.firms[0][0]
    code, name, username = out.credit_code, out.name, site.firms[0][1].username
    db.rollback()  # nothing of the test's session held open while the app writes
    form = {
        "service_code": "testing",
        "project": "河道水质复检",
        "ceiling": "50000",
        "funding": "state",
        "method": "random",
        "signup_deadline": clock.to_cst(clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "selection_at": clock.to_cst(clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "excluded": f"{code} 承担了首次检测",
        "_csrf_token": token,
    }
    r = c.post("/owner/purchases/new", data=form, follow_redirects=False)
    assert (
        r.status_code == 422 and zh("Write each exclusion as: unified social credit code | reason.") in r.text
    )
    assert f"{code} 承担了首次检测" in r.text  # what was typed is kept
    r = c.post("/owner/purchases/new", data={**form, "excluded": f"{code} | 承担了首次检测"})
    assert r.status_code == 200
    pid = db.scalars(select(Purchase.id).where(Purchase.project == "河道水质复检")).one()
    db.rollback()
    c.cookies.clear()
    public = c.get(f"/marketplace/purchases/{pid}").text
    assert name in public and "承担了首次检测" in public and zh("Excluded intermediaries") in public
    t = login(c, username)
    assert "河道水质复检" not in c.get("/intermediary/purchases").text
    r = c.post(f"/intermediary/purchases/{pid}/sign-up", data={"_csrf_token": t}, follow_redirects=False)
    assert r.status_code == 422
    assert (
        zh("The owner excluded your organisation from this purchase: %(reason)s", reason="承担了首次检测")
        in r.text
    )
