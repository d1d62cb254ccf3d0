"""The audit tags of a tender up to the end of its opening (audit.events explains the vocabulary)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class TenderTag(enum.StrEnum):
    # tenders up to the bid deadline
    tender_created = "tender.created"
    tender_updated = "tender.updated"
    tender_document_added = "tender.document.added"
    tender_document_removed = "tender.document.removed"
    tender_published = "tender.published"
    tender_publish_refused = "tender.publish.refused"
    tender_clarified = "tender.clarified"
    tender_deadline_extended = "tender.deadline.extended"
    tender_question_asked = "tender.question.asked"
    tender_question_answered = "tender.question.answered"
    tender_objection_raised = "tender.objection.raised"
    tender_objection_answered = "tender.objection.answered"
    tender_suspended = "tender.suspended"
    tender_resumed = "tender.resumed"
    tender_cancelled = "tender.cancelled"
    tender_bidding_closed = "tender.bidding.closed"
    tender_failed = "tender.failed"
    tender_document_downloaded = "tender.document.downloaded"
    tender_registered = "tender.registration.created"
    # key holders, sealed bids and the opening (E26-E32)
    key_registered = "tender.key.registered"
    key_bundle_published = "tender.key.bundle.published"
    bid_upload_started = "tender.bid.upload.started"
    bid_submitted = "tender.bid.submitted"
    bid_refused = "tender.bid.refused"
    bid_replaced = "tender.bid.replaced"
    bid_withdrawn = "tender.bid.withdrawn"
    opening_started = "tender.opening.started"
    opening_checked_in = "tender.opening.checked_in"
    key_part_submitted = "tender.opening.key_part.submitted"
    key_part_refused = "tender.opening.key_part.refused"
    bid_decrypted = "tender.opening.bid.decrypted"
    bid_decryption_failed = "tender.opening.bid.decryption_failed"
    opening_record_published = "tender.opening.record.published"
    opening_objection_recorded = "tender.opening.objection.recorded"
    opening_closed = "tender.opening.closed"  # the agency closed the ceremony: the tender moves to evaluation


# The entries that say who took part in a tender, or how many did (core.disclosure, Fact.participation):
# nobody but the party itself may count them before the deadline (E21, L22).
PARTICIPATION = frozenset(
    {
        TenderTag.tender_document_downloaded,
        TenderTag.tender_registered,
        TenderTag.bid_upload_started,
        TenderTag.bid_submitted,
        TenderTag.bid_refused,
        TenderTag.bid_replaced,
        TenderTag.bid_withdrawn,
    }
)
