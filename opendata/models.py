"""The OCDS releases the platform has published (docs/opendata.md). A release is stored once, when the change
it reflects has become public, and never changed: the feed, the records and the export read these rows.

`seq` is the feed's order and its cursor: it only grows, and the sync that writes releases holds the audit
log's head lock (it records its own entry first) from its first insert to its commit, so releases commit in
`seq` order and a reader paging by `seq` never skips one that commits later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base


class OcdsRelease(Base):
    __tablename__ = "ocds_releases"
    # a record's releases in feed order, and the export's walk over processes: (ocid, seq) in one index
    __table_args__ = (Index("ix_ocds_releases_ocid_seq", "ocid", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    release_id: Mapped[str] = mapped_column(String(200), unique=True)  # the release's `id`
    ocid: Mapped[str] = mapped_column(String(120))
    tender_id: Mapped[int] = mapped_column(Integer, index=True)
    tag: Mapped[str] = mapped_column(String(60))  # the release's tags, comma-separated
    date: Mapped[datetime] = mapped_column()  # the release's `date`: when the change became public
    audit_index: Mapped[int | None] = mapped_column(BigInteger, default=None)  # the change's audit entry
    document: Mapped[str] = mapped_column(Text)  # the release's JSON, as published (UTF-8 text)
    published_at: Mapped[datetime] = mapped_column(default=clock.now)  # when this platform stored it


class OcdsSyncState(Base):
    """What the sync last saw of a tender: a digest of every fact its releases are built from (its status,
    deadline passed or not, how many clarifications, the opening's status, the publicity, the awards and
    contracts with their times, the report's completion). A tender whose digest is unchanged has no new
    release, so the sync skips it without building anything. Counts are part of it: a row committed after a
    sync read, whatever its timestamp, changes the digest."""

    __tablename__ = "ocds_sync_state"

    tender_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(default=clock.now)
