"""The OCDS API (web/opendata/api.py): release packages that validate against the 1.1.5 package schema with
etender's extensions, a cursor that stays stable while releases arrive, record packages compiled by ocdsmerge,
the extensions themselves, and the OpenAPI document."""

from __future__ import annotations

import json
from datetime import timedelta

import ocdsmerge

from core import clock
from opendata import releases, schema
from tests.factories.ocds import procedure
from tests.factories.tenders import publish_new


def _follow(client, url: str) -> tuple[list[dict], str]:  # type: ignore[no-untyped-def]
    """Every release from `url` on, following links.next until an empty page; and the last link."""
    found = []
    while True:
        r = client.get(url.removeprefix("http://127.0.0.1:8000"))
        assert r.status_code == 200, r.text
        package = r.json()
        if not package["releases"]:
            return found, url
        assert schema.package_errors(package) == []
        found += package["releases"]
        assert package["links"]["next"] != url
        url = package["links"]["next"]


def test_the_feed_pages_are_valid_packages_and_stable_while_releases_arrive(
    client, db, make, blobs, settings
):
    w = procedure(db, make, blobs)
    releases.sync(db, settings)
    db.commit()
    first = client.get("/api/v1/ocds/releases?limit=3").json()
    assert first["version"] == "1.1" and first["publisher"]["name"] == "etender"
    assert len(first["extensions"]) == 3
    assert schema.package_errors(first) == []
    assert [r["tag"] for r in first["releases"]] == [["tender"], ["tenderAmendment"], ["tenderUpdate"]]
    # new releases arrive: a tender published now, then synced
    clock.shift(timedelta(hours=1))
    publish_new(w, blobs)
    releases.sync(db, settings)
    db.commit()
    again = client.get("/api/v1/ocds/releases?limit=3").json()
    assert again["releases"] == first["releases"] and again["links"] == first["links"]
    rest, last = _follow(client, first["links"]["next"])
    everything = first["releases"] + rest
    ids = [r["id"] for r in everything]
    assert len(ids) == len(set(ids)) == releases.count(db)
    assert everything[-1]["tag"] == ["tender"] and everything[-1]["ocid"] != w.tender.id  # the newest last
    # the end of the feed: an empty page whose link gives what comes later
    end = client.get(last.removeprefix("http://127.0.0.1:8000")).json()
    assert end["releases"] == [] and end["links"]["next"] == last


def test_a_bad_cursor_is_refused_with_its_code(client):
    r = client.get("/api/v1/ocds/releases?cursor=not-a-cursor")
    assert r.status_code == 400
    assert r.json()["error"]["problems"][0]["code"] == "ocds_bad_cursor"
    assert client.get("/api/v1/ocds/releases?limit=0").status_code == 400
    huge = releases.encode_cursor(10**30)  # a forged cursor past any database integer
    assert (
        client.get(f"/api/v1/ocds/releases?cursor={huge}").json()["error"]["problems"][0]["code"]
        == "ocds_bad_cursor"
    )


def test_the_record_package_has_every_release_and_ocdsmerges_compiled_release(
    client, db, make, blobs, settings
):
    w = procedure(db, make, blobs)
    releases.sync(db, settings)
    db.commit()
    ocid = releases.ocid_for(settings, w.tender.id)
    r = client.get(f"/api/v1/ocds/records/{ocid}")
    assert r.status_code == 200
    package = r.json()
    rec = package["records"][0]
    assert rec["ocid"] == ocid and len(rec["releases"]) == 7
    for release in [*rec["releases"], rec["compiledRelease"]]:
        assert schema.release_errors(release) == [], release["id"]
    assert rec["compiledRelease"] == json.loads(
        releases.encode(
            ocdsmerge.Merger(schema=schema.release_schema()).create_compiled_release(rec["releases"])
        )
    )
    assert rec["compiledRelease"]["contracts"][0]["value"] == {"amount": 980000, "currency": "CNY"}
    missing = client.get("/api/v1/ocds/records/ocds-213czf-999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["problems"][0]["code"] == "ocds_record_not_found"


def test_the_extensions_are_served_as_shipped(client):
    for name in schema.EXTENSIONS:
        assert client.get(f"/api/v1/ocds/extensions/{name}/extension.json").json() == schema.extension(name)
        assert client.get(
            f"/api/v1/ocds/extensions/{name}/release-schema.json"
        ).json() == schema.extension_patch(name)
    assert client.get("/api/v1/ocds/extensions/etender_audit/other.json").status_code == 404


def test_the_openapi_document_describes_the_ocds_routes(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert {"/api/v1/ocds/releases", "/api/v1/ocds/records/{ocid}"} <= set(paths)
    assert "cursor" in {p["name"] for p in paths["/api/v1/ocds/releases"]["get"]["parameters"]}
