"""The procedure file's page and download (web/award/archive.py) on an ended tender: the agency downloads a
ZIP that verifies offline with the platform's key, and the download is recorded; a bidder and the public do
not get it; the link shows on the agency's tender page and not to a bidder."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from award.archive import bundle
from award.archive.events import ArchiveTag
from core.signing import signing_key, verifier_keys
from storage.local import LocalBlobStore
from tests.factories.archive import failed_world
from tests.web.support import login


@pytest.fixture
def ended(db, make, settings, tmp_path):  # type: ignore[no-untyped-def]
    key = signing_key(settings.data_dir, settings.origin)
    w = failed_world(db, make, LocalBlobStore(settings.blob_dir), tmp_path, key=key)
    db.commit()
    return w


def test_the_agency_downloads_a_file_that_verifies(client, ended, db, settings, tmp_path):
    login(client, ended.agency_user.username)
    page = client.get(f"/tenders/{ended.tender.id}/archive")
    assert page.status_code == 200 and 'id="archive-download"' in page.text
    assert verifier_keys(settings.data_dir, settings.origin)[0].encode() in page.text
    r = client.get(f"/tenders/{ended.tender.id}/archive.zip", headers={"sec-fetch-site": "same-origin"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    path = tmp_path / "downloaded.zip"
    path.write_bytes(r.content)
    verdict = bundle.verify(str(path), verifier_keys(settings.data_dir, settings.origin))
    assert verdict.ok, verdict.problems
    with zipfile.ZipFile(path) as zf:
        seal = json.loads(zf.read("seal.json"))
    db.expire_all()
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == ArchiveTag.archive_created.value)).one()
    assert entry.actor == ended.agency_user.username and entry.index == seal["entry"]["index"]
    assert entry.details["manifest_sha256"] == r.headers["x-manifest-sha256"]
    assert f"/tenders/{ended.tender.id}/archive" in client.get(f"/agency/tenders/{ended.tender.id}").text


def test_a_bidder_and_the_public_do_not_get_it(client, ended, db):
    r = client.get(f"/tenders/{ended.tender.id}/archive.zip", follow_redirects=False)
    assert r.status_code in (302, 303, 401)
    login(client, ended.bidder_user.username)
    r = client.get(f"/tenders/{ended.tender.id}/archive.zip", headers={"sec-fetch-site": "same-origin"})
    assert r.status_code == 403
    page = client.get(f"/tenders/{ended.tender.id}/archive")
    assert (
        page.status_code == 200
        and 'id="archive-refusal"' in page.text
        and "archive-download" not in page.text
    )
    assert f"/tenders/{ended.tender.id}/archive" not in client.get(f"/tenders/{ended.tender.id}").text
    db.expire_all()
    assert (
        db.scalars(select(AuditEntry).where(AuditEntry.tag == ArchiveTag.archive_created.value)).first()
        is None
    )
