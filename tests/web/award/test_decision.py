"""The award's pages as each role, in both languages: the purchaser confirms after a confirmation (no. 2 on a
state-funded project refused, the choice kept), the notices as signed PDFs and their statement for anyone once
the award is made, the bidder's own notice, the public result notice, the agency's contract (a bond over 10%
refused with the values and the stored file kept) and the public government-procurement contract, a refund."""

from __future__ import annotations

import re

import pytest

from award.decision import notice_format
from core.signing import signing_key
from tests.factories.award import award_world, past
from tests.web.support import login, zh


@pytest.fixture
def site(db, make, tmp_path, settings, client):  # type: ignore[no-untyped-def]
    from storage import open_store

    w = award_world(db, make, open_store(settings), tmp_path)
    past(w)
    db.commit()
    w.client = client
    w.settings = settings
    return w


def url(site) -> str:  # type: ignore[no-untyped-def]
    return f"/award/tenders/{site.tender.id}"


def post(site, path, data, token, **kw):  # type: ignore[no-untyped-def]
    return site.client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False, **kw)


def test_the_award_as_each_role_in_both_languages(site, db):
    c, t = site.client, site.tender
    assert c.get(f"/tenders/{t.id}/result").status_code == 403  # not public before the award
    login(c, site.bidder_user.username)
    assert c.get(url(site)).status_code == 403
    token = login(c, site.purchaser_user.username)
    page = c.get(url(site)).text
    assert (
        zh("Confirm the award") in page
        and "award_" not in page
        and "R55" not in page.replace("/rules#R55", "")
    )
    r = post(site, url(site) + "/confirm", {"rank": "2"}, token)
    assert r.status_code == 200 and zh("Award the tender to this candidate?") in r.text
    r = post(site, url(site) + "/confirm", {"rank": "2", "confirmed": "1"}, token)
    assert (
        r.status_code == 422
        and zh(
            "A state-funded project awards to the first candidate whose award has not ended on a recorded "
            "ground: candidate no. %(rank)s (R55).",
            rank=1,
        )
        in r.text
    )
    assert re.search(r'<option value="2"\s+selected', r.text)  # the choice kept
    r = post(site, url(site) + "/confirm", {"rank": "1", "confirmed": "1"}, token)
    assert r.status_code == 303, r.text
    page = c.get(url(site)).text
    assert (
        zh("Award notice") in page
        and zh("Notice of the result") in page
        and zh("The winner declined or cannot perform") in page
    )
    pdf_links = re.findall(r'href="(/award/notices/\d+/notice.pdf)"', page)
    assert len(pdf_links) == 3
    key = signing_key(site.settings.data_dir, site.settings.origin)
    c.cookies.clear()
    data = c.get(pdf_links[0]).content  # public once the award is made
    body = notice_format.verify(data, [key.verifier])
    assert body["kind"] == "award" and body["tender"]["reference"] == t.reference
    api = c.get(f"/api/v1/award/notices/{body['number']}").json()
    assert api["statement"] == body and notice_format.differences(body, api["statement"]) == []
    # the public result notice, in Chinese and in English
    page = c.get(f"/tenders/{t.id}/result").text
    assert zh("Result announcement") in page and site.bidder_org.name in page and zh("Savings (yuan)") in page
    c.cookies.set("lang", "en")
    page = c.get(f"/tenders/{t.id}/result").text
    assert "Result announcement" in page and "Savings (yuan)" in page
    c.cookies.clear()
    # the other bidder's own notice
    login(c, site.other_bidder_user.username)
    page = c.get(f"/bidder/tenders/{t.id}/award-notice").text
    assert zh("Notice of the result") in page and zh("Download the signed notice (PDF)") in page
    c.cookies.set("lang", "en")
    assert "Download the signed notice (PDF)" in c.get(f"/bidder/tenders/{t.id}/award-notice").text
    # the agency records the contract: a bond over 10% refused, the values and the stored file kept
    token = login(c, site.agency_user.username)
    award_amount = body["winner"]["amount_fen"]
    yuan = f"{award_amount / 100:.2f}"
    over = f"{award_amount / 1000 + 0.01:.2f}"
    form = {
        "amount": yuan,
        "performance_bond": over,
        "signed_on": body["issued_at_cst"][:10],
        "starts_on": "",
        "ends_on": "",
    }
    r = c.post(
        url(site) + "/contract",
        data={**form, "_csrf_token": token},
        files={"file": ("contract.pdf", b"%PDF-1.7 the signed contract", "application/pdf")},
        follow_redirects=False,
    )
    assert (
        r.status_code == 422
        and zh(
            "The performance bond may be at most 10%% of the contract amount, %(max)s yuan (R58).",
            max=f"{award_amount / 1000:,.2f}",
        )
        in r.text
    )
    assert f'value="{over}"' in r.text and 'name="blob_key"' in r.text
    blob_key = re.search(r'name="blob_key" value="([0-9a-f]{64})"', r.text).group(1)
    fixed = {
        **form,
        "performance_bond": f"{award_amount / 1000:.2f}",
        "blob_key": blob_key,
        "filename": "contract.pdf",
    }
    empty = {"file": ("", b"", "application/octet-stream")}  # a browser sends the empty file field
    r = c.post(
        url(site) + "/contract", data={**fixed, "_csrf_token": token}, files=empty, follow_redirects=False
    )
    assert r.status_code == 200 and zh("Record this contract?") in r.text, re.findall(
        r"<li>.*?</li>", r.text.split("errors")[1] if "errors" in r.text else ""
    )
    r = post(site, url(site) + "/contract/record", {**fixed, "confirmed": "1"}, token)
    assert r.status_code == 303, r.text
    page = c.get(url(site)).text
    assert zh("Bid securities") in page and zh("Record the refund") in page
    sid = re.search(r"/securities/(\d+)/refund", page).group(1)
    r = post(site, url(site) + f"/securities/{sid}/refund", {"reference": ""}, token)
    assert (
        r.status_code == 422
        and zh("Enter the bank transfer's reference, so that the bidder can trace it.") in r.text
    )
    assert (
        post(site, url(site) + f"/securities/{sid}/refund", {"reference": "BANK-42"}, token).status_code
        == 303
    )
    assert "BANK-42" in c.get(url(site)).text
    # the public government-procurement contract
    c.cookies.clear()
    page = c.get(f"/tenders/{t.id}/contract").text
    assert zh("Contract") in page and "contract.pdf" in page
    assert c.get(f"/tenders/{t.id}/contract/file").content == b"%PDF-1.7 the signed contract"
    assert site.tender.id and c.get(f"/tenders/{t.id}/result").status_code == 200
    # monitors see the page too, without the forms
    login(c, site.monitor_user.username)
    page = c.get(url(site)).text
    assert zh("Awards") in page and zh("Record the refund") not in page
