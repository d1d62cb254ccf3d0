"""Sealed quotes (marketplace.sealedquotes): the owner registers only a public key; quotes are stored sealed
in the tenders' sealed-bid format; the owner's key opens them at or after the selection time, never before,
and is then published so that anyone can re-open them; a wrong key, a foreign sealed file, a quote above the
ceiling are each refused or not admitted with their reason."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from marketplace import purchases, sealedquotes
from tender import sealing
from tests.factories.marketplace import (
    QUOTE_PRIVATE_TEXT,
    approved,
    market_world,
    purchase_input,
)


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    w = market_world(db, make)
    w.firms = [approved(db, make, w.admin, f"检测公司{i}") for i in range(4)]
    return w


def codes(e):  # type: ignore[no-untyped-def]
    return [p.code for p in e.problems]


def test_a_priced_purchase_needs_a_valid_public_key(w, db):
    for bad in ("", "not a key", sealing.b64u(bytes(32))):  # the all-zero point is refused too
        with pytest.raises(ValidationFailed) as e:
            purchases.post(db, w.owner, purchase_input(quote_key=bad))
        assert codes(e.value) == ["quote_key_invalid"]
    assert purchases.post(db, w.owner, purchase_input("random")).quote_key == ""  # no quotes to seal


def test_quotes_open_at_the_selection_time_with_the_owner_key_only(w, db):
    p = purchases.post(
        db, w.owner, purchase_input(selection_at=clock.now() + timedelta(days=4), ceiling_fen=1_000_000)
    )
    quotes = [900_000, 950_000, 980_000]
    for (_, actor), q in zip(w.firms, quotes, strict=False):
        purchases.sign_up(db, actor, p.id, q)
    # sealed on the intermediary's own side, above the ceiling: the platform cannot see it, the opening can
    above = sealedquotes.seal_quote(p, 1_000_001)
    purchases.sign_up_sealed(db, w.firms[3][1], p.id, above)
    other = purchases.post(db, w.owner, purchase_input())
    with pytest.raises(ValidationFailed) as e:  # sealed for another purchase
        purchases.sign_up_sealed(db, w.firms[3][1], p.id, sealedquotes.seal_quote(other, 1000))
    assert codes(e.value) == ["sealed_quote_invalid"]
    assert all(s.quote_fen is None and s.sealed_quote for s in p.signups)
    clock.shift(timedelta(days=3, seconds=1))
    purchases.close_signup(db, w.owner, p.id)
    with pytest.raises(Conflict) as e:  # after the deadline, before the selection time
        purchases.release_quotes(db, w.owner, p.id, QUOTE_PRIVATE_TEXT)
    assert codes(e.value) == ["quotes_sealed_until_selection"]
    with pytest.raises(Forbidden):  # the centre holds no key and may not release one
        purchases.release_quotes(db, w.admin, p.id, QUOTE_PRIVATE_TEXT)
    clock.shift(timedelta(days=1))
    wrong = sealing.b64u(X25519PrivateKey.generate().private_bytes_raw())
    with pytest.raises(ValidationFailed) as e:
        purchases.release_quotes(db, w.owner, p.id, wrong)
    assert codes(e.value) == ["quote_key_mismatch"]
    purchases.release_quotes(db, w.owner, p.id, QUOTE_PRIVATE_TEXT)
    by_org = {s.organisation_id: s for s in p.signups}
    assert sorted(s.quote_fen for s in p.signups if s.quote_fen) == quotes
    assert by_org[w.firms[3][0].id].quote_problem == "quote_above_ceiling"
    assert p.quote_key_released == QUOTE_PRIVATE_TEXT
    with pytest.raises(Conflict):
        purchases.release_quotes(db, w.owner, p.id, QUOTE_PRIVATE_TEXT)
    # the published key re-opens every sealed quote: anyone can check the opened amounts
    logged = db.scalars(select(AuditEntry).where(AuditEntry.tag == "marketplace.quotes.opened")).one()
    key = X25519PrivateKey.from_private_bytes(sealing.unb64u(p.quote_key_released))
    for row in logged.details["quotes"]:
        sealed = base64.b64decode(by_org[row["organisation_id"]].sealed_quote)
        amount = sealedquotes.open_quote(sealed, key)
        assert row["quote_fen"] == (amount if amount <= p.ceiling_fen else None)
    # the selection waits for the owner's random number, then runs on the opened quotes
    assert p.status == "selecting"
    value = bytes(range(32))
    purchases.commit_contribution(db, w.owner, p.id, hashlib.sha256(value).hexdigest())
    purchases.reveal_contribution(db, w.owner, p.id, value.hex())
    doc = purchases.public_record(db, p.id)
    assert [a["quote_fen"] for a in doc["applicants"]].count(None) == 1  # the quote above the ceiling
    assert p.status == "selected"
