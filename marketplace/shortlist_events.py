"""The credit shortlist's (信用择优, rules.md §5.3) audit tag and its messages to people (its own module
beside marketplace.events; audit.events explains the vocabulary). The owner's choice itself is logged as
`marketplace.selection.completed`, as every method's result is."""

from __future__ import annotations

import enum

from audit.events import register
from core.errors import N_


@register
class ShortlistTag(enum.StrEnum):
    # the short list drawn from the long list (its record's SHA-256, before the owner's choice)
    selection_shortlisted = "marketplace.selection.shortlisted"


NOTIFICATION_KIND = "marketplace.selection"

# notifications: message keys with their parameters (accounts.notifications)
SHORTLISTED = N_(
    "%(reference)s: your organisation is on the short list drawn by credit; the project owner now chooses."
)
CHOSEN = N_("%(reference)s: the project owner chose your organisation from the short list.")
NOT_CHOSEN = N_("%(reference)s: the project owner chose another intermediary from the short list.")
