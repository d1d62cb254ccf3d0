"""The audit tags of the committee's scoring and ranking (audit.events explains the vocabulary). No entry
carries a score: a submission carries its sheet's digest, so that no sheet changes silently (G87 art. 64)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class ScoringTag(enum.StrEnum):
    # etender-tie-1: the commitment to the lottery's server seed, before any sheet is submitted
    seed_committed = "evaluation.scoring.seed.committed"
    sheet_started = "evaluation.scoring.sheet.started"
    sheet_submitted = "evaluation.scoring.sheet.submitted"
    # P19, P30-33: the chair's price corrections and adjustments
    price_corrected = "evaluation.scoring.price.corrected"
    price_adjusted = "evaluation.scoring.price.adjusted"
    # G87 art. 64: after the summary, a flagged score confirmed with a reason or corrected
    flag_confirmed = "evaluation.scoring.flag.confirmed"
    score_corrected = "evaluation.scoring.score.corrected"
