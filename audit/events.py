"""The audit vocabulary: every tag an entry can carry, registered by the feature that records it.

Each feature declares its tags as a StrEnum in its own `events` module and registers it here with
`@register`; record() refuses a tag no feature registered (an entry's tag is part of the public log, so a typo
must not reach it). A tag's value is fixed once entries carry it: verifiers and the monitors' filters read it
(docs/audit-log.md). Values are unique across features; registering one twice is a programming error."""

from __future__ import annotations

import enum
from typing import TypeVar

V = TypeVar("V", bound=type[enum.StrEnum])

_REGISTERED: dict[str, enum.StrEnum] = {}


def register(vocabulary: V) -> V:
    """Add a feature's tags to the vocabulary (a class decorator)."""
    for tag in vocabulary:
        known = _REGISTERED.get(tag.value)
        if known is not None and known is not tag:
            raise ValueError(
                f"audit tag {tag.value!r} is registered twice ({type(known).__name__}, {vocabulary.__name__})"
            )
        _REGISTERED[tag.value] = tag
    return vocabulary


def registered_tag(value: str) -> enum.StrEnum:
    """The registered tag with this value; ValueError for any other."""
    try:
        return _REGISTERED[str(value)]
    except KeyError:
        raise ValueError(f"{value!r} is not a registered audit tag") from None


def registered() -> list[str]:
    """Every registered tag's value, sorted. Complete once the features that record are imported (the web
    app and the CLI import them all; supervision imports the vocabularies it watches)."""
    return sorted(_REGISTERED)


@register
class AuditTag(enum.StrEnum):
    # the audit log itself
    audit_details_disclosed = "audit.details.disclosed"
    audit_entries_released = "audit.entries.released"
    audit_key_rotated = "audit.key.rotated"


@register
class RequestTag(enum.StrEnum):
    # Refused attempts the web layer records for every route (audit.refusals, web/app.py): a write refused
    # with an error its service did not record itself (not allowed, not found, another organisation's
    # object, not valid), and a form or API call whose CSRF check failed. Withheld as Fact.refusals: never
    # public (they name the person, the object and the address); monitors and administrators read them.
    request_refused = "request.refused"
    request_csrf_refused = "request.csrf.refused"
    # a request answered 503 because a service it needed did not answer (the blob store): nobody was refused,
    # but a bidder may have been kept from bidding, which the monitors must be able to show (issue 17)
    request_unavailable = "request.unavailable"
