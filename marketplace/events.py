"""The audit tags of the intermediary marketplace (audit.events explains the vocabulary)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class MarketplaceTag(enum.StrEnum):
    # the service catalogue (中介服务事项清单), edited by administrators
    service_saved = "marketplace.service.saved"
    # entry (Tangshan; rules.md §5.2)
    entry_submitted = "marketplace.entry.submitted"
    entry_approved = "marketplace.entry.approved"
    entry_returned = "marketplace.entry.returned"
    # purchases and sign-ups (rules.md §5.3); a sign-up is withheld as participation until the deadline
    purchase_posted = "marketplace.purchase.posted"
    purchase_signed_up = "marketplace.purchase.signed_up"
    purchase_chosen_directly = "marketplace.purchase.chosen_directly"
    # the verifiable selection (docs/marketplace-selection.md, etender-selection-1)
    selection_committed = "marketplace.selection.committed"
    selection_contribution_committed = "marketplace.selection.contribution.committed"
    selection_contribution_revealed = "marketplace.selection.contribution.revealed"
    selection_completed = "marketplace.selection.completed"
    selection_failed = "marketplace.selection.failed"
    # contract, service result and acceptance; ratings (rules.md §5.4)
    contract_entered = "marketplace.contract.entered"
    contract_confirmed = "marketplace.contract.confirmed"
    result_uploaded = "marketplace.service.result_uploaded"
    service_accepted = "marketplace.service.accepted"
    service_failed = "marketplace.service.failed"
    rating_recorded = "marketplace.rating.recorded"
    # sealed quotes (marketplace.sealedquotes): the owner's key released at the selection time, quotes opened
    quote_key_released = "marketplace.quotes.key_released"
    quotes_opened = "marketplace.quotes.opened"
    # rating appeals and their review (rules.md §5.4)
    rating_appealed = "marketplace.rating.appealed"
    rating_reviewed = "marketplace.rating.reviewed"
    # complaints: service quality, an entry decision, a selection (rules.md §5.2, §5.3)
    complaint_filed = "marketplace.complaint.filed"
    complaint_decided = "marketplace.complaint.decided"
    # credit: sanctions, red and black lists (rules.md §5.4)
    sanction_recorded = "marketplace.sanction.recorded"
    listing_added = "marketplace.listing.added"
    listing_lifted = "marketplace.listing.lifted"
    # qualification expiry: the reminder and the suspension (periodic task)
    qualification_reminded = "marketplace.qualification.reminded"
    qualification_suspended = "marketplace.qualification.suspended"
    # exits by the exit rules (marketplace/exit_rules.json), their appeals and credit repair
    finding_recorded = "marketplace.finding.recorded"
    exit_recorded = "marketplace.exit.recorded"
    exit_appealed = "marketplace.exit.appealed"
    exit_decided = "marketplace.exit.decided"
