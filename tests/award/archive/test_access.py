"""Who downloads the procedure file (core.disclosure.Fact.archive): the tender's agency and purchaser, the
monitors and the administrators once the procedure has ended; a bidder, another agency and the public never;
before the end nobody."""

from __future__ import annotations

import io

import pytest

from award.archive import services
from core.disclosure import Audience, Fact, Phase, may_see
from core.errors import Conflict, Forbidden, NotAuthenticated
from tests.factories.archive import build_bytes, failed_world, signed_world


@pytest.fixture
def failed(db, make, blobs, tmp_path):  # type: ignore[no-untyped-def]
    return failed_world(db, make, blobs, tmp_path)


def test_the_policy_gives_the_file_to_the_parties_and_supervisors_only_at_the_end():
    for audience in (Audience.agency, Audience.purchaser, Audience.monitor, Audience.admin):
        assert may_see(Fact.archive, {audience}, Phase.final)
        assert not may_see(Fact.archive, {audience}, Phase.publicity)
    for audience in (Audience.public, Audience.own_party, Audience.committee):
        assert all(not may_see(Fact.archive, {audience}, phase) for phase in Phase)


@pytest.mark.parametrize("who", ["agency", "purchaser", "monitor", "admin"])
def test_the_parties_and_supervisors_download_it_once_ended(failed, who):
    data = build_bytes(failed, getattr(failed, who))
    assert data.startswith(b"PK\x03\x04")


@pytest.mark.parametrize("who", ["bidder", "other_agency", "expert", "centre"])
def test_a_bidder_or_another_party_cannot(failed, who):
    with pytest.raises(Forbidden) as e:
        build_bytes(failed, getattr(failed, who))
    assert e.value.problems[0].code == "archive_not_allowed"


def test_the_public_cannot(failed):
    with pytest.raises(NotAuthenticated):
        build_bytes(failed, failed.anon)


def test_before_the_end_nobody_can(db, make, blobs, tmp_path):
    w = signed_world(db, make, blobs, tmp_path)  # evaluated: the report is signed, the result is not final
    for who in ("agency", "purchaser", "monitor", "admin"):
        with pytest.raises(Conflict) as e:
            build_bytes(w, getattr(w, who))
        assert e.value.problems[0].code == "archive_not_ended"
    with pytest.raises(Forbidden):
        build_bytes(w, w.bidder)
    assert not services.may_download(db, w.admin, w.tender)


def test_a_refusal_writes_nothing(failed):
    out = io.BytesIO()
    with pytest.raises(Forbidden):
        services.build(
            failed.db, failed.bidder, failed.tender.id, failed.blobs, failed.key, "etender.test", out
        )
    assert out.getvalue() == b""
