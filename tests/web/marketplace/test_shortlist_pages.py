"""The credit shortlist's pages (信用择优, rules.md §5.3): the purchase form offers the method in Chinese and
English and posts it without a quote key; the owner's page shows the short list with each intermediary's name,
frozen credit score and stars, and a choose form with its confirmation; a choice off the short list or
unconfirmed is refused with a message in Chinese and in English; the choice publishes the result, whose record
verifies, while before it the public sees neither who applied nor the record."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from marketplace import aftercare, purchases
from marketplace import selection as sel
from marketplace.models import Purchase
from tests.factories.marketplace_credit import FIVE, served
from tests.factories.marketplace_shortlist import credit_firms, credit_purchase, shortlisted
from tests.web.support import login, zh

CREDIT_LABEL = "Credit shortlist (the owner chooses from a short list drawn by credit)"
OFF_LIST = "Choose one of the intermediaries on the short list."
UNCONFIRMED = "Confirm your choice: it cannot be changed afterwards."


@pytest.fixture
def site(db, make, client):  # type: ignore[no-untyped-def]
    w = credit_firms(db, make)
    db.commit()
    w.client = client
    return w


def test_the_purchase_form_offers_the_method_in_both_languages_and_posts_it(site, db):
    c = site.client
    token = login(c, site.owner.username)
    page = c.get("/owner/purchases").text
    assert f'<option value="credit" >{zh(CREDIT_LABEL)}</option>' in page
    c.cookies.set("lang", "en")
    assert f'<option value="credit" >{CREDIT_LABEL}</option>' in c.get("/owner/purchases").text
    form = {
        "service_code": "testing",
        "project": "河道水质检测",
        "ceiling": "500000",
        "funding": "state",
        "method": "credit",
        "signup_deadline": clock.to_cst(clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "selection_at": clock.to_cst(clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "_csrf_token": token,
    }
    r = c.post("/owner/purchases/new", data=form, follow_redirects=False)
    assert r.status_code == 303  # no key for sealed quotes: the credit shortlist asks no quote
    p = db.scalars(select(Purchase)).one()
    assert p.method == sel.CREDIT and p.quote_key == ""
    db.rollback()


def test_the_owner_chooses_from_the_short_list_and_the_result_is_published(site, db):
    # one intermediary rated 5 stars before, so that the short list shows stars beside the scores
    rated = served(site, db, site.firms[:3])
    aftercare.rate(db, site.owner, rated.id, FIVE, "")
    p = shortlisted(site, db, firms=3)  # 3 applicants: all on the short list
    frozen = purchases.selection_of(db, p).credit_frozen["scores"]
    pid, stranger = p.id, site.firms[3][0].id
    names = {o.id: o.name for o, _ in site.firms[:3]}
    db.commit()
    c = site.client
    # before the choice: the public sees no name and no record
    c.cookies.clear()
    public = c.get(f"/marketplace/purchases/{pid}").text
    assert not any(name in public for name in names.values())
    assert c.get(f"/api/v1/marketplace/purchases/{pid}/selection").status_code == 404
    token = login(c, site.owner.username)
    page = c.get(f"/owner/purchases/{pid}").text
    assert zh("Choose the intermediary from the short list") in page
    for oid, name in names.items():
        assert name in page and f'<td class="num">{frozen[str(oid)]["credit"]}</td>' in page
    assert "★★★★★" in page and zh("%(n)s ratings", n=1) in page and zh("not rated yet") in page
    assert zh("I confirm this choice; it cannot be changed afterwards.") in page
    # off the short list: refused in Chinese, then in English, nothing chosen
    url = f"/owner/purchases/{pid}/choose"
    r = c.post(url, data={"organisation_id": str(stranger), "confirm": "1", "_csrf_token": token})
    assert r.status_code == 422 and zh(OFF_LIST) in r.text
    c.cookies.set("lang", "en")
    r = c.post(url, data={"organisation_id": str(stranger), "confirm": "1", "_csrf_token": token})
    assert r.status_code == 422 and OFF_LIST in r.text
    chosen = next(iter(names))
    r = c.post(url, data={"organisation_id": str(chosen), "_csrf_token": token})
    assert r.status_code == 422 and UNCONFIRMED in r.text
    assert f'value="{chosen}" id="f-choice-{chosen}" checked' in r.text  # the choice kept on the form
    c.cookies.set("lang", "zh")
    r = c.post(url, data={"organisation_id": str(chosen), "_csrf_token": token})
    assert r.status_code == 422 and zh(UNCONFIRMED) in r.text
    r = c.post(
        url,
        data={"organisation_id": str(chosen), "confirm": "1", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    c.cookies.clear()
    public = c.get(f"/marketplace/purchases/{pid}").text
    assert zh("Selected intermediary: %(name)s", name=names[chosen]) in public
    assert (
        zh(
            "Chosen by the project owner from a short list of %(short)s drawn at random from the long list "
            "of the %(long)s applicants with the best credit scores.",
            short=3,
            long=3,
        )
        in public
    )
    doc = c.get(f"/api/v1/marketplace/purchases/{pid}/selection").json()
    assert sel.schema_problems(doc) == [] and sel.verify(doc) == []
    assert doc["result"]["choice"]["organisation_id"] == chosen == doc["result"]["winner"]


def test_the_owners_number_draws_the_short_list_and_the_page_says_so(site, db):
    p = credit_purchase(site, db, firms=2)
    pid = p.id
    db.commit()
    c = site.client
    token = login(c, site.owner.username)
    assert c.post(f"/owner/purchases/{pid}/close", data={"_csrf_token": token}).status_code == 200
    value = bytes(range(9, 41))
    c.post(
        f"/owner/purchases/{pid}/commit",
        data={"commitment": hashlib.sha256(value).hexdigest(), "_csrf_token": token},
    )
    r = c.post(f"/owner/purchases/{pid}/reveal", data={"value": value.hex(), "_csrf_token": token})
    assert r.status_code == 200
    assert (
        zh("Your number is shown and the short list is drawn; now choose the intermediary from it.") in r.text
    )
    assert zh("Choose the intermediary from the short list") in r.text
    assert all(o.name in r.text for o, _ in site.firms[:2])
