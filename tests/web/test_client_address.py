"""The client's address (E49): X-Forwarded-For believed only from configured proxies, read from the right."""

from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from core.settings import _networks
from storage import open_store
from tender.models import Download
from tests.factories.tenders import published_tender
from tests.support import serving
from web.deps import forwarded_client

PROXIES = ("10.0.0.0/24", "127.0.0.1/32")


def test_without_trusted_proxies_the_header_is_ignored():
    assert forwarded_client("127.0.0.1", ["6.6.6.6"], ()) == "127.0.0.1"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client():
    assert forwarded_client("203.0.113.5", ["6.6.6.6"], PROXIES) == "203.0.113.5"


def test_the_right_most_untrusted_address_is_the_client():
    # the client wrote "6.6.6.6"; the balancer appended the address it saw, and nginx on loopback its own
    assert forwarded_client("127.0.0.1", ["6.6.6.6, 198.51.100.7, 10.0.0.3"], PROXIES) == "198.51.100.7"
    assert (
        forwarded_client("127.0.0.1", ["6.6.6.6", "198.51.100.7"], PROXIES) == "198.51.100.7"
    )  # two headers


def test_junk_ends_the_walk_at_the_last_trusted_hop():
    assert forwarded_client("10.0.0.2", ["not-an-address"], PROXIES) == "10.0.0.2"
    assert forwarded_client("10.0.0.2", ["198.51.100.7, <script>, 10.0.0.3"], PROXIES) == "10.0.0.3"
    assert forwarded_client("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_ipv6_proxies_and_clients():
    assert forwarded_client("::1", ["2001:db8::7"], ("::1/128",)) == "2001:db8::7"


def test_the_setting_is_a_list_of_networks_checked_at_start():
    assert _networks("10.0.0.0/24, 127.0.0.1 ::1") == ("10.0.0.0/24", "127.0.0.1/32", "::1/128")
    assert _networks("") == ()
    with pytest.raises(ValueError):
        _networks("10.0.0.0/33")


@pytest.mark.parametrize("trusted, expected", [((), "127.0.0.1"), (("127.0.0.1/32",), "198.51.100.7")])
def test_a_real_download_records_the_address_the_trusted_proxy_saw(settings, db, make, trusted, expected):
    w = published_tender(db, make, open_store(settings))
    db.commit()
    with serving(replace(settings, trusted_proxies=trusted)) as url:
        r = httpx.get(f"{url}/documents/{w.doc.id}", headers={"x-forwarded-for": "6.6.6.6, 198.51.100.7"})
    assert r.status_code == 200
    db.expire_all()
    assert [d.ip for d in db.scalars(select(Download).where(Download.document_id == w.doc.id))] == [expected]
