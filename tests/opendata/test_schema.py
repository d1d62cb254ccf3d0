"""The local schemas (opendata.schema): the extensions patch the 1.1.5 release schema as JSON Merge Patches,
the validators catch a bad release, and neither the merger nor the validators fetch anything."""

from __future__ import annotations

import socket

import pytest

from opendata import schema


def test_merge_patch_follows_rfc_7386():
    # RFC 7386, section 3's example
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }
    assert schema.merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }


def test_the_extensions_add_their_fields_and_keep_the_core():
    s = schema.release_schema()
    assert "bids" in s["properties"] and "auditEntry" in s["properties"]
    tender = s["definitions"]["Tender"]["properties"]
    assert {"lots", "evaluation", "tenderPeriod", "procuringEntity"} <= set(tender)
    assert s["definitions"]["Award"]["properties"]["status"]["enum"][:2] == ["pending", "active"]
    assert schema.base_release_schema()["definitions"]["Tender"]["properties"].get("lots") is None
    for name in schema.EXTENSIONS:
        ext = schema.extension(name)
        assert ext["compatibility"] == ["1.1"] and ext["schemas"] == ["release-schema.json"]


def _release(**changes):  # type: ignore[no-untyped-def]
    doc = {
        "ocid": "ocds-213czf-1",
        "id": "ocds-213czf-1-tender",
        "date": "2026-12-01T00:00:00Z",
        "tag": ["tender"],
        "initiationType": "tender",
    }
    doc.update(changes)
    return doc


def test_the_validators_catch_what_the_schemas_refuse():
    assert schema.release_errors(_release()) == []
    assert schema.release_errors(_release(tag=["bid"]))  # not a release tag
    assert schema.release_errors(_release(awards=[{"id": "1", "status": "won"}]))  # closed codelist
    assert schema.release_errors(_release(bids={"details": [{"status": "valid"}]}))  # a bid needs its id
    assert schema.release_errors(_release(tender={"id": "T", "evaluation": {"committee": [{"name": "x"}]}}))
    package = {
        "uri": "http://example.com/p",
        "publishedDate": "2026-12-01T00:00:00Z",
        "version": "1.1",
        "publisher": {"name": "etender"},
        "releases": [_release()],
    }
    assert schema.package_errors(package) == []
    assert schema.package_errors({**package, "releases": [_release(tag="tender")]})  # through the registry


def test_nothing_is_fetched(monkeypatch):
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for cached in (schema.release_schema, schema.merger, schema.release_validator, schema.package_validator):
        cached.cache_clear()
    compiled = schema.compile_releases(
        [
            _release(),
            _release(
                id="ocds-213czf-1-b",
                date="2026-12-02T00:00:00Z",
                tag=["tenderUpdate"],
                tender={"id": "T", "status": "cancelled"},
            ),
        ]
    )
    assert compiled["tender"]["status"] == "cancelled" and compiled["tag"] == ["compiled"]
    assert (
        schema.package_errors(
            {
                "uri": "http://example.com/p",
                "publishedDate": "2026-12-01T00:00:00Z",
                "version": "1.1",
                "publisher": {"name": "e"},
                "releases": [compiled],
            }
        )
        == []
    )


@pytest.mark.parametrize(
    "fen,amount",
    [(0, "0"), (1, "0.01"), (102000005, "1020000.05"), (9_007_199_254_740_993, "90071992547409.93")],
)
def test_money_is_exact(fen, amount):
    from decimal import Decimal

    from opendata import mapping, releases

    value = mapping.money(fen)
    assert value == {"amount": Decimal(amount), "currency": "CNY"}
    assert (
        releases.encode(value) == f'{{"amount":{amount},"currency":"CNY"}}'.encode()
    )  # a JSON number, exact
    assert releases.decode(releases.encode(value))["amount"] == Decimal(amount)
