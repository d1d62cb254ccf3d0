"""Key holders of a tender and its signed key bundle.

A person named as a key holder creates a key pair on their own side (browser or `etender keys new`) and
registers only the public key, while the tender is a draft. Publication needs every named holder's key
(drafting.publish calls require_complete_keys and publish_bundle); the bundle (holders' public keys, k,
policy, tender and lot ids) is fixed at publication, in canonical JSON, and signed with the platform's
Ed25519 key under a domain-separation prefix so that a bundle signature can never be mistaken for a
checkpoint or receipt signature."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounts.models import User
from audit import record
from core import clock
from core.db import Base
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import SYSTEM, Actor
from core.signing import SigningKey, VerifierKey
from tender import access
from tender.events import TenderTag
from tender.lifecycle import Status
from tender.models import Tender
from tender.sealing import (
    Holder,
    KeyBundle,
    b64u,
    canonical_json,
    check_public_key,
    key_id,
    public_bytes,
    unb64u,
)

BUNDLE_SIGNATURE_PREFIX = b"etender key bundle v1\n"


class HolderKey(Base):
    """A key holder's registered X25519 public key for one tender."""

    __tablename__ = "tender_holder_keys"
    __table_args__ = (UniqueConstraint("tender_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    public_key: Mapped[str] = mapped_column(String(64))  # base64url, unpadded
    registered_at: Mapped[datetime] = mapped_column(default=clock.now)


class PublishedBundle(Base):
    """The key bundle fixed at publication: the canonical bytes, their hash, and the platform signature."""

    __tablename__ = "tender_key_bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), unique=True)
    body: Mapped[str] = mapped_column(Text)  # canonical JSON
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(
        String(128), default=""
    )  # base64 Ed25519, empty until first signed
    signer: Mapped[str] = mapped_column(String(300), default="")  # the C2SP verifier key that signed it
    published_at: Mapped[datetime] = mapped_column(default=clock.now)


# ---------------------------------------------------------------- signing


def sign_bundle(signer: SigningKey, body: bytes) -> bytes:
    return signer.sign(BUNDLE_SIGNATURE_PREFIX + body)


def verify_bundle_document(doc: dict[str, Any], verifier: VerifierKey) -> KeyBundle:
    """A signed bundle document as served by the platform, checked against the platform's verifier key."""
    body = canonical_json(doc["bundle"])
    if not verifier.verify(base64.b64decode(doc.get("signature", "")), BUNDLE_SIGNATURE_PREFIX + body):
        raise ValueError("the key bundle's signature does not verify with this platform key")
    return KeyBundle.from_json(doc["bundle"])


# ---------------------------------------------------------------- holders


def is_holder(actor: Actor, tender: Tender) -> bool:
    return actor.user_id is not None and actor.user_id in (tender.key_holder_ids or [])


@dataclass
class HolderView:
    tender: Tender
    key: HolderKey | None

    @property
    def can_register(self) -> bool:
        return self.tender.status == Status.draft


def my_tenders(session: Session, actor: Actor) -> list[HolderView]:
    """The tenders the actor is named a key holder of, with the key registered so far."""
    access.require_login(actor)
    candidates = session.scalars(
        select(Tender).where(Tender.status != Status.cancelled).order_by(Tender.id.desc())
    ).all()
    mine = [t for t in candidates if is_holder(actor, t)]
    keys = {
        k.tender_id: k for k in session.scalars(select(HolderKey).where(HolderKey.user_id == actor.user_id))
    }
    return [HolderView(t, keys.get(t.id)) for t in mine]


def holder_tender(session: Session, actor: Actor, tender_id: int) -> HolderView:
    access.require_login(actor)
    tender = session.get(Tender, tender_id)
    if tender is None or not is_holder(actor, tender):
        raise NotFound.one("tender_not_found", N_("No such tender."))
    key = session.scalar(
        select(HolderKey).where(HolderKey.tender_id == tender.id, HolderKey.user_id == actor.user_id)
    )
    return HolderView(tender, key)


def register_key(session: Session, actor: Actor, tender_id: int, public_key: str) -> HolderKey:
    """Register (or, while the tender is a draft, replace) the actor's public key for a tender it holds a key
    of."""
    access.require_login(actor)
    tender = session.scalars(select(Tender).where(Tender.id == tender_id).with_for_update()).one_or_none()
    if tender is None:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    if not is_holder(actor, tender):
        if tender.status == Status.draft and not access.can_see_draft(actor, tender):
            raise NotFound.one(
                "tender_not_found", N_("No such tender.")
            )  # a draft's existence is not revealed
        raise Forbidden.one("not_key_holder", N_("You are not named as a key holder of this tender."))
    if tender.status != Status.draft:
        raise Conflict.one(
            "keys_locked",
            N_("The tender is published: its key holders' keys are fixed and can no longer be changed."),
        )
    try:
        raw = unb64u(public_key.strip())
        check_public_key(raw)
    except (ValueError, TypeError) as e:
        raise ValidationFailed.one(
            "public_key_invalid",
            N_(
                "This is not a valid public key: create a key pair on this page or with `etender keys "
                "new` and register its public key."
            ),
            "public_key",
        ) from e
    assert actor.user_id is not None
    key = session.scalar(
        select(HolderKey).where(HolderKey.tender_id == tender.id, HolderKey.user_id == actor.user_id)
    )
    replaced = key.key_id if key else None
    if key is None:
        key = HolderKey(tender_id=tender.id, user_id=actor.user_id)
        session.add(key)
    key.key_id, key.public_key, key.registered_at = key_id(raw), b64u(raw), clock.now()
    session.flush()
    record(
        session,
        TenderTag.key_registered,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"key_id": key.key_id, "replaced": replaced},
        withhold=Fact.draft,
    )  # only while a draft: released at publication
    return key


def holder_keys(session: Session, tender: Tender) -> dict[int, HolderKey]:
    return {k.user_id: k for k in session.scalars(select(HolderKey).where(HolderKey.tender_id == tender.id))}


def missing_holders(session: Session, tender: Tender) -> list[User]:
    """Named holders who have not registered a key yet, in the tender's order."""
    keys = holder_keys(session, tender)
    ids = [uid for uid in dict.fromkeys(tender.key_holder_ids or []) if uid not in keys]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [users[uid] for uid in ids if uid in users]


def key_problems(session: Session, tender: Tender) -> list[Problem]:
    missing = missing_holders(session, tender)
    if not missing:
        return []
    return [
        Problem(
            "key_holders_without_keys",
            N_(
                "These key holders have not registered their public key yet: %(names)s. Each of them "
                "registers it on the key holder page before the tender can be published."
            ),
            "key_holder_ids",
            {"names": "、".join(u.full_name for u in missing)},
        )
    ]


def require_complete_keys(session: Session, tender: Tender) -> None:
    problems = key_problems(session, tender)
    if problems:
        raise ValidationFailed(problems)


def build_bundle(session: Session, tender: Tender) -> KeyBundle:
    keys = holder_keys(session, tender)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(keys))))} if keys else {}
    holders = []
    for i, uid in enumerate(dict.fromkeys(tender.key_holder_ids or [])):
        k = keys[uid]
        holders.append(
            Holder(i, k.key_id, unb64u(k.public_key), users[uid].full_name if uid in users else "")
        )
    return KeyBundle(
        tender.id,
        tuple(lot.id for lot in tender.lots),
        tender.key_threshold,
        tender.opening_policy,
        tuple(holders),
        tender.reference,
    )


def publish_bundle(
    session: Session, actor: Actor, tender: Tender, signer: SigningKey | None = None
) -> PublishedBundle:
    """Fix the bundle at publication. Signed now when a signer is given, else on first fetch
    (signed_bundle)."""
    require_complete_keys(session, tender)
    session.flush()
    body = canonical_json(build_bundle(session, tender).to_json())
    published = PublishedBundle(
        tender_id=tender.id, body=body.decode(), sha256=hashlib.sha256(body).hexdigest()
    )
    if signer is not None:
        published.signature, published.signer = (
            base64.b64encode(sign_bundle(signer, body)).decode(),
            signer.verifier.encode(),
        )
    session.add(published)
    session.flush()
    record(
        session,
        TenderTag.key_bundle_published,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "sha256": published.sha256,
            "key_ids": [h["key_id"] for h in json.loads(body)["holders"]],
            "k": tender.key_threshold,
            "policy": tender.opening_policy,
        },
    )
    return published


def signed_bundle(session: Session, tender_id: int, signer: SigningKey) -> dict[str, Any]:
    """The published bundle document a bidder seals to: {"bundle", "sha256", "signature", "signer"}.
    Public."""
    tender = session.get(Tender, tender_id)
    published = session.scalar(select(PublishedBundle).where(PublishedBundle.tender_id == tender_id))
    if tender is None or tender.status == Status.draft or published is None:
        raise NotFound.one("bundle_not_found", N_("This tender has no published key bundle."))
    if not published.signature:
        published.signature = base64.b64encode(sign_bundle(signer, published.body.encode())).decode()
        published.signer = signer.verifier.encode()
        session.flush()
    return {
        "bundle": json.loads(published.body),
        "sha256": published.sha256,
        "signature": published.signature,
        "signer": published.signer,
    }


def bundle_of(session: Session, tender_id: int) -> KeyBundle | None:
    """The published bundle, for the upload check (inspect) and the opening."""
    published = session.scalar(select(PublishedBundle).where(PublishedBundle.tender_id == tender_id))
    return KeyBundle.from_json(json.loads(published.body)) if published else None


def generate_keys_for(
    session: Session, tender: Tender, reuse: dict[int, X25519PrivateKey] | None = None
) -> dict[int, X25519PrivateKey]:
    """Demo data and tests only: a fresh key pair for every named holder without one, registered directly
    (audited as the system). The private keys are returned to the caller and never stored here; with
    `reuse`, a holder's key from earlier calls is used again (the demo gives each holder one key file)."""
    keys = holder_keys(session, tender)
    out: dict[int, X25519PrivateKey] = {}
    for uid in dict.fromkeys(tender.key_holder_ids or []):
        if uid in keys:
            continue
        private = reuse[uid] if reuse is not None and uid in reuse else X25519PrivateKey.generate()
        if reuse is not None:
            reuse[uid] = private
        raw = public_bytes(private)
        session.add(HolderKey(tender_id=tender.id, user_id=uid, key_id=key_id(raw), public_key=b64u(raw)))
        record(
            session,
            TenderTag.key_registered,
            actor=SYSTEM,
            subject=f"tender:{tender.id}",
            details={"key_id": key_id(raw), "holder": uid, "generated_for": "demo"},
            withhold=Fact.draft if tender.status == Status.draft else None,
        )
        out[uid] = private
    session.flush()
    return out
