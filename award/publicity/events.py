"""The audit tags of the results' publicity, objections on results and complaints (audit.events explains the
vocabulary)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class PublicityTag(enum.StrEnum):
    # R54: the candidates (or, G87-69, the result notice) published from the signed report
    publicity_published = "award.publicity.published"
    # R61: re-issued with the next candidates after an upheld complaint dropped one
    publicity_reissued = "award.publicity.reissued"
    # R54: an objection on the result during the publicity (its author concealed) and its answer
    objection_raised = "award.objection.raised"
    objection_answered = "award.objection.answered"
    # R60: a complaint to the supervisor (its author concealed), R61: its acceptance and its decision
    complaint_received = "award.complaint.received"
    complaint_accepted = "award.complaint.accepted"
    complaint_rejected = "award.complaint.rejected"
    complaint_decided = "award.complaint.decided"
