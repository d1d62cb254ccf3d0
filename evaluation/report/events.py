"""The audit tags of the evaluation report (audit.events explains the vocabulary; rules.TAG_* repeat them as
text for the bundle's verifier)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class ReportTag(enum.StrEnum):
    # the report document frozen with its SHA-256 (R53: the report every member signs)
    report_generated = "evaluation.report.generated"
    # a member's Ed25519 public key, made in their own browser, registered for their seat in this session
    report_key_registered = "evaluation.report.key.registered"
    report_signed = "evaluation.report.signed"
    # R53: a member who neither signed nor gave reasons by the deadline counts as agreeing
    report_deemed = "evaluation.report.signature.deemed"
    # every member signed or is deemed to agree: the tender leaves evaluation
    report_completed = "evaluation.report.completed"
