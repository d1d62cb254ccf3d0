"""The audit log. Callers use record(); what stands behind it (a hash chain now, the Merkle log later) is private."""

from audit.events import EventTag
from audit.log import record

__all__ = ["EventTag", "record"]
