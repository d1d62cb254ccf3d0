"""The audit tags of the qualification and compliance review and its clarification requests (audit.events
explains the vocabulary; closing the review is the room's step entry, evaluation.room.steps)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class ReviewTag(enum.StrEnum):
    # R18-R20, R51: a member saves their verdicts on one bid (independent: the values are confidential)
    review_verdicts_saved = "evaluation.review.verdicts.saved"
    # R52; P21, O 13: the committee's written request, the bidder's written answer, the committee's assessment
    clarification_requested = "evaluation.review.clarification.requested"
    clarification_answered = "evaluation.review.clarification.answered"
    clarification_assessed = "evaluation.review.clarification.assessed"
