"""The audit log. Callers use record() with a tag their feature registered (audit.events), disclose() when
the rules allow, refused() for a refused attempt (folded: audit.refusals), audit.queries to read it and
sign_checkpoint() to sign it. What stands behind it, an RFC 9162 Merkle tree with signed checkpoints
(docs/audit-log.md), is private to this package: no other package imports audit.log, audit.tree or
audit.checkpoints (an import-linter contract). audit.feed, audit.refusals,
audit.verify, audit.remote and audit.merkle are public."""

from audit.checkpoints import STALE_AFTER as CHECKPOINT_STALE_AFTER
from audit.checkpoints import SignedCheckpoint, sign_checkpoint
from audit.events import register, registered
from audit.log import disclose, disclose_where, record, release_where
from audit.refusals import refused

__all__ = [
    "CHECKPOINT_STALE_AFTER",
    "SignedCheckpoint",
    "disclose",
    "disclose_where",
    "record",
    "register",
    "refused",
    "registered",
    "release_where",
    "sign_checkpoint",
]
