"""The fixed vocabulary of audit event tags. record() refuses any other tag."""

from __future__ import annotations

import enum


class EventTag(enum.StrEnum):
    # accounts (E49: every operation with time, address and person)
    auth_login_succeeded = "auth.login.succeeded"
    auth_login_failed = "auth.login.failed"
    auth_login_throttled = "auth.login.throttled"
    auth_logout = "auth.logout"
    org_created = "org.created"
    org_updated = "org.updated"
    user_created = "user.created"
    user_updated = "user.updated"
    user_password_changed = "user.password.changed"
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
    access_refused = "access.refused"
    # expert pool
    expert_created = "evaluation.expert.created"
