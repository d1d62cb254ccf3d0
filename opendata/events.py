"""The audit tags of the open data (audit.events explains the vocabulary)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class OpendataTag(enum.StrEnum):
    # a sync stored new OCDS releases: their count and the feed positions (seq) they took
    releases_published = "opendata.releases.published"
