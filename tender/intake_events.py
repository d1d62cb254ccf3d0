"""The audit tags of the trading centre's records around a tender (issue 16): intake, opening-room bookings
and
witnessing (audit.events explains the vocabulary)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class CentreTag(enum.StrEnum):
    intake_registered = "centre.intake.registered"  # 进场登记
    intake_linked = "centre.intake.linked"  # the agency's draft named as the intake's tender
    opening_room_booked = "centre.opening_room.booked"
    witness_recorded = "centre.witness.recorded"  # 见证
