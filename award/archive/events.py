"""The audit tags of the procedure archive (audit.events explains the vocabulary; bundle.TAG_CREATED repeats
the value as text for the offline verifier)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class ArchiveTag(enum.StrEnum):
    # a procedure file (招投标档案) was built and handed out: its details carry the SHA-256 of the bundle's
    # manifest, so the manifest (and through it every file) is covered by the log (docs/archive.md)
    archive_created = "award.archive.created"
