"""The server clock. Every deadline decision goes through now() (UTC); the interface shows China Standard
Time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def shift(delta: timedelta) -> None:
    """Move the clock (tests and demo only)."""
    global _offset
    _offset += delta


def freeze(at: datetime) -> None:
    """Stop the clock at `at` (tests only): deadline boundaries are then exact to the microsecond."""
    global _frozen
    _frozen = as_utc(at)


def reset() -> None:
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they are UTC by construction."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_cst(value: datetime) -> datetime:
    return as_utc(value).astimezone(CST)
