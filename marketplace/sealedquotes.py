"""Sealed quotes (rules.md §5.3: "quotes are sealed with the tender's sealed-bid format and opened at the
selection time, so nobody reads a quote early"; docs/marketplace.md "Sealed quotes").

The choice, and why: a purchase has no key holders of its own, and the tenders' key holders are named per
tender. So the owner makes **one X25519 key pair for the purchase on its own side** (the browser's key-file
maker, or `etender keys new`, the key holders' passphrase-protected key file) and registers only the public
key when posting. Each quote is a sealed-bid file (docs/sealed-bid-format.md, version 1) sealed to a 1-of-1
bundle of that key, the purchase's id standing for both the tender and the lot, its price form's
`total_price_fen` the quote. The platform stores only the sealed file and serves it to nobody (the owner
included) before the selection. At or after the announced selection time the owner releases the private key;
the platform checks that it is the registered key's, opens every quote, and publishes the key with the record,
so that anyone can re-open the sealed files (whose hashes were in the sign-up confirmations) and compare.

So before the selection time: the operator, holding the database and the sealed files, lacks the key; the
owner, holding the key, never receives the sealed files; no role's page or API shows a quote (the disclosure
policy, Fact.bids). Only the owner and the operator together could read early; that is stated in the
documents, as the tenders' k-of-n holders together with the operator could.

Pure functions and the two services; services never commit."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.errors import N_, Conflict, ValidationFailed
from core.identity import Actor
from marketplace.events import MarketplaceTag
from marketplace.models import Purchase, SignUp
from tender import sealing
from tender.rules import OpeningPolicy

QUALITY_NOTE = "按采购公告要求提供服务"  # the format's required commitment; a quote's is the purchase's terms
# the quote's container: the format's price form, the quote its total price, no files
QUOTE_PROBLEMS = {
    "quote_unreadable": N_("The sealed quote could not be opened."),
    "quote_above_ceiling": N_("The quote is above the purchase's ceiling."),
}


def check_public_key(text: str) -> str:
    """The base64url X25519 public key as registered, or ValidationFailed at the field `quote_key`."""
    text = text.strip()
    try:
        sealing.check_public_key(sealing.unb64u(text))
    except (ValueError, TypeError, sealing.SealedBidInvalid):
        raise ValidationFailed.one(
            "quote_key_invalid",
            N_("Paste the public key of the key file you made for this purchase (43 characters)."),
            "quote_key",
        ) from None
    return text


def bundle_for(purchase: Purchase) -> sealing.KeyBundle:
    """The 1-of-1 bundle a quote is sealed to: the owner's purchase key, the purchase as tender and lot."""
    raw = sealing.unb64u(purchase.quote_key)
    holder = sealing.Holder(0, sealing.key_id(raw), raw, "owner")
    return sealing.KeyBundle(
        purchase.id, (purchase.id,), 1, OpeningPolicy.quorum, (holder,), purchase.reference
    )


def bundle_document(purchase: Purchase) -> dict[str, Any]:
    return {"bundle": bundle_for(purchase).to_json(), "ceiling_fen": purchase.ceiling_fen}


def price_form(quote_fen: int) -> dict[str, Any]:
    return {"total_price_fen": quote_fen, "duration_days": 1, "quality_commitment": QUALITY_NOTE}


def seal_quote(purchase: Purchase, quote_fen: int) -> bytes:
    """A sealed quote for `purchase` (what `etender marketplace seal-quote`, the tests and the sign-up form's
    fallback make)."""
    out = io.BytesIO()
    sealing.seal(bundle_for(purchase), purchase.id, [], price_form(quote_fen), out)
    return out.getvalue()


def check_sealed(purchase: Purchase, data: bytes) -> str:
    """The keyless structural check (E26's) of a sealed quote for this purchase; its SHA-256."""
    sealing.inspect(io.BytesIO(data), bundle_for(purchase), purchase.id, len(data))
    return hashlib.sha256(data).hexdigest()


def store(signup: SignUp, purchase: Purchase, data: bytes) -> str:
    digest = check_sealed(purchase, data)
    signup.sealed_quote = base64.b64encode(data).decode()
    signup.sealed_quote_sha256 = digest
    signup.quote_fen = None  # never in clear before the opening
    signup.quote_problem = ""
    return digest


def open_quote(data: bytes, private_key: X25519PrivateKey) -> int:
    """The quote in a sealed file; DecryptionFailed/WrongKey/SealedBidInvalid when it cannot be read."""
    header = sealing.read_header(io.BytesIO(data))
    opened, _ = sealing.open_bytes(data, sealing.unwrap_parts(header, private_key))
    return int(opened.price_form["total_price_fen"])


def parse_private_key(text: str, purchase: Purchase) -> X25519PrivateKey:
    try:
        key = X25519PrivateKey.from_private_bytes(sealing.unb64u(text.strip()))
    except (ValueError, TypeError):
        key = None
    if key is None or sealing.b64u(sealing.public_bytes(key)) != purchase.quote_key:
        raise ValidationFailed.one(
            "quote_key_mismatch",
            N_("This is not the private key of the key registered for this purchase's quotes."),
            "private_key",
        )
    return key


def release_key(session: Session, actor: Actor, purchase: Purchase, private_key_text: str) -> dict[int, Any]:
    """The owner releases the purchase key at or after the selection time: every sealed quote is opened and
    checked against the ceiling; the key is published (Purchase.quote_key_released). Returns {organisation
    id: quote or problem code}. Refused before the selection time, whoever asks (an administrator too)."""
    now = clock.now()
    if now < purchase.selection_at:
        raise Conflict.one(
            "quotes_sealed_until_selection",
            N_("The quotes stay sealed until the selection time, %(time)s; release the key then."),
            time=clock.to_cst(purchase.selection_at).strftime("%Y-%m-%d %H:%M"),
        )
    if purchase.quotes_opened_at is not None:
        raise Conflict.one("quotes_opened_already", N_("The quotes of this purchase are already open."))
    key = parse_private_key(private_key_text, purchase)
    outcome: dict[int, Any] = {}
    for signup in purchase.signups:
        if not signup.sealed_quote:
            signup.quote_problem = "quote_unreadable"
            outcome[signup.organisation_id] = signup.quote_problem
            continue
        try:
            quote = open_quote(base64.b64decode(signup.sealed_quote), key)
        except (sealing.DecryptionFailed, sealing.WrongKey, sealing.SealedBidInvalid, ValueError, KeyError):
            signup.quote_problem = "quote_unreadable"
        else:
            # a quote above the ceiling is not admitted (the sealer warns; the opening decides, as R51 does)
            signup.quote_problem = "quote_above_ceiling" if quote > purchase.ceiling_fen or quote <= 0 else ""
            signup.quote_fen = quote if not signup.quote_problem else None
        outcome[signup.organisation_id] = (
            signup.quote_fen if not signup.quote_problem else signup.quote_problem
        )
    purchase.quote_key_released = sealing.b64u(key.private_bytes_raw())
    purchase.quotes_opened_at = now
    session.flush()
    subject = f"purchase:{purchase.id}"
    record(
        session,
        MarketplaceTag.quote_key_released,
        actor=actor,
        subject=subject,
        details={
            "key_id": sealing.key_id(sealing.unb64u(purchase.quote_key)),
            "private_key": purchase.quote_key_released,
        },
    )
    record(
        session,
        MarketplaceTag.quotes_opened,
        actor=actor,
        subject=subject,
        details={
            "quotes": [
                {
                    "organisation_id": s.organisation_id,
                    "sealed_sha256": s.sealed_quote_sha256,
                    "quote_fen": s.quote_fen,
                    "problem": s.quote_problem,
                }
                for s in sorted(purchase.signups, key=lambda s: s.organisation_id)
            ]
        },
    )
    return outcome


def sealed_files(purchase: Purchase) -> Mapping[int, str]:
    """The sealed quotes by organisation, base64 (public once the quotes are open, for re-opening)."""
    return {s.organisation_id: s.sealed_quote for s in purchase.signups if s.sealed_quote}
