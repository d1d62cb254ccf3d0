"""The evaluation report's pages: the chair generates it, a member registers the key their browser made and
signs (a signature over another hash refused at the field, what was typed kept), with a dissent; the committee
sees who signed, the agency only "signed n/m"; the PDF and the bundle go to the committee and monitors only
before the result is final."""

from __future__ import annotations

import pytest

from evaluation.pool.models import Expert
from evaluation.report import rules, signing
from tests.factories.report import public_hex, report_world
from tests.factories.room import ROOMS, room_world
from tests.web.support import login, zh


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(settings, evaluation_rooms=ROOMS)


@pytest.fixture
def site(db, make, blobs, tmp_path, settings, client):  # type: ignore[no-untyped-def]
    from storage import open_store

    w = room_world(db, make, open_store(settings), tmp_path)
    report_world(w)
    w.names = {seat.id: db.get(Expert, seat.expert_id).name for seat, _ in w.members}
    w.usernames = {seat.id: actor.username for seat, actor in w.members}
    from evaluation.pool.models import Specialty

    specialty = db.get(Specialty, "A01")
    assert specialty is not None
    specialty.name_zh = "土建工程"  # the catalogue's name, shown instead of the code
    db.commit()
    w.client = client
    return w


def url(site) -> str:  # type: ignore[no-untyped-def]
    return f"/expert/tenders/{site.tender.id}/room/report"


def test_the_chair_generates_and_a_member_signs_with_a_dissent(site, db):
    chair_seat, _ = site.members[0]
    token = login(site.client, site.usernames[chair_seat.id])
    page = site.client.get(url(site)).text
    assert zh("Generate the report") in page
    r = site.client.post(url(site) + "/generate", data={"_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    # the fingerprint from the page (the test's own session stays out of the database while the app writes:
    # on SQLite its next query would take the write lock)
    page = site.client.get(url(site)).text
    sha = page.split('id="report-sha256">')[1].split("<")[0]
    assert len(sha) == 64
    assert sha in page and zh("Make my signing key") in page and site.names[chair_seat.id] in page
    assert "evaluation.report" not in page and "report_" not in page  # no tags or codes
    assert "营业执照已过期" in page and "应予通过" in page  # the rejection's reasons, the dissent
    assert "<td>土建工程</td>" in page and "<td>A01</td>" not in page  # specialties by name, not code
    key = site.private[chair_seat.id]
    r = site.client.post(
        url(site) + "/key", data={"public_key": "zz", "_csrf_token": token}, follow_redirects=False
    )
    assert (
        r.status_code == 422
        and zh("That is not an Ed25519 public key; make the key again on this page.") in r.text
    )
    r = site.client.post(
        url(site) + "/key", data={"public_key": public_hex(key), "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert zh("Sign the report") in site.client.get(url(site)).text
    other = key.sign(rules.signing_message("0" * 64)).hex()
    r = site.client.post(
        url(site) + "/sign",
        data={"report_sha256": sha, "signature": other, "dissent": "我有不同意见", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "我有不同意见" in r.text
    good = key.sign(rules.signing_message(sha)).hex()
    r = site.client.post(
        url(site) + "/sign",
        data={"report_sha256": sha, "signature": good, "dissent": "我有不同意见", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = site.client.get(url(site)).text
    assert (
        zh("Your signature is recorded.") in page
        and zh("Report signed %(n)s/%(m)s", n=1, m=len(site.members)) in page
    )
    pdf = site.client.get(f"/tenders/{site.tender.id}/evaluation/report.pdf")
    assert pdf.status_code in (200, 409)
    bundle = site.client.get(f"/api/v1/notices/{site.tender.id}/evaluation/report.json")
    assert bundle.status_code == 200 and bundle.json()["report_sha256"] == sha
    report = signing.report_of(db, signing.sessions.session_of(db, site.tender.id))
    assert report is not None and report.sha256 == sha
    assert signing.signatures_of(db, report)[0].dissent == "我有不同意见"


def test_the_agency_sees_counts_only(site, db):
    chair_seat, chair = site.members[0]
    signing.generate(db, chair, site.tender.id)
    signing.register_key(db, chair, site.tender.id, public_hex(site.private[chair_seat.id]))
    from tests.factories.report import sign_as

    sign_as(site, 0)
    db.commit()
    login(site.client, site.agency_user.username)
    page = site.client.get(f"/tenders/{site.tender.id}/evaluation/report").text
    assert zh("Report signed %(n)s/%(m)s", n=1, m=len(site.members)) in page
    assert all(name not in page for name in site.names.values())  # L37
    api = site.client.get(f"/api/v1/notices/{site.tender.id}/evaluation/report").json()
    assert (api["signed"], api["total"]) == (1, len(site.members))
    assert site.client.get(f"/tenders/{site.tender.id}/evaluation/report.pdf").status_code == 403
    assert site.client.get(f"/api/v1/notices/{site.tender.id}/evaluation/report.json").status_code == 403


def test_the_agency_and_the_member_find_the_report_from_the_room(site):
    seat, _ = site.members[0]
    login(site.client, site.agency_user.username)
    page = site.client.get(f"/agency/tenders/{site.tender.id}/room").text
    assert f'href="/tenders/{site.tender.id}/evaluation/report"' in page
    login(site.client, site.usernames[seat.id])
    page = site.client.get(f"/expert/tenders/{site.tender.id}/room").text
    assert f'href="/expert/tenders/{site.tender.id}/room/report"' in page
