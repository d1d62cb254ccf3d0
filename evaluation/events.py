"""The audit tags of the expert pool, the committee draws and the evaluation room (audit.events explains the
vocabulary)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class EvaluationTag(enum.StrEnum):
    # expert pool
    expert_created = "evaluation.expert.created"
    expert_updated = "evaluation.expert.updated"
    expert_status_changed = "evaluation.expert.status.changed"
    expert_conflict_declared = "evaluation.expert.conflict.declared"
    expert_unavailability_set = "evaluation.expert.unavailability.set"
    experts_imported = "evaluation.experts.imported"
    # expert draws and committees (R46-R48, L37)
    draw_requested = "evaluation.draw.requested"
    draw_committed = "evaluation.draw.committed"
    draw_completed = "evaluation.draw.completed"
    # etender-draw-2: each party's random value, committed then revealed; a draw that ends without a committee
    draw_contribution_committed = "evaluation.draw.contribution.committed"
    draw_contribution_revealed = "evaluation.draw.contribution.revealed"
    draw_failed = "evaluation.draw.failed"
    draw_abandoned = "evaluation.draw.abandoned"
    draw_refused = "evaluation.draw.refused"
    draw_record_published = "evaluation.draw.record.published"
    seat_notified = "evaluation.seat.notified"
    seat_confirmed = "evaluation.seat.confirmed"
    seat_declined = "evaluation.seat.declined"
    seat_timed_out = "evaluation.seat.timed_out"
    seat_conflict_declared = "evaluation.seat.conflict.declared"
    seat_substituted = "evaluation.seat.substituted"
    seat_phone_answer_recorded = "evaluation.seat.phone_answer.recorded"  # the centre took it by phone
    # the sealed evaluation room (E33, E49; R46, R48; G87 art. 45)
    room_booked = "evaluation.room.booked"
    room_checked_in = "evaluation.room.checked_in"
    room_member_left = "evaluation.room.member.left"
    room_chair_voted = "evaluation.room.chair.voted"
    room_chair_elected = "evaluation.room.chair.elected"
    room_paused = "evaluation.room.paused"
    room_resumed = "evaluation.room.resumed"
    room_bid_file_read = "evaluation.room.bid_file.read"
    room_read_refused = "evaluation.room.read.refused"
    room_step_closed = "evaluation.room.step.closed"
