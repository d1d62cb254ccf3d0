"""The audit log. Callers use record() (and disclose() when the rules allow); what stands behind it, an RFC 9162
Merkle tree with signed checkpoints (docs/audit-log.md), is private to this package."""

from audit.events import EventTag
from audit.log import disclose, record

__all__ = ["EventTag", "disclose", "record"]
