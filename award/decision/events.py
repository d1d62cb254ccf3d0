"""The audit tags of the award, its notices, the contract, the bid securities and re-tendering (audit.events
explains the vocabulary)."""

from __future__ import annotations

import enum

from audit.events import register


@register
class AwardTag(enum.StrEnum):
    # R55: the purchaser confirms the award after the publicity (to candidate no. 1 on state-funded projects)
    award_confirmed = "award.decision.confirmed"
    # R55: the winner declined, could not perform, gave no performance bond or was found in breach
    award_declined = "award.decision.declined"
    # no candidate can be awarded: the tender fails and is tendered again
    award_impossible = "award.decision.impossible"
    # L45: the award notice to the winner and the result notices to every other bidder, signed
    notices_issued = "award.notices.issued"
    # L46, R57, R58: the signed contract recorded; GR50: a government-procurement contract published
    contract_recorded = "award.contract.recorded"
    # R35, R57: a bid security refunded or forfeited
    security_refunded = "award.security.refunded"
    security_forfeited = "award.security.forfeited"
    # R44, L42: a failed tender copied into a new draft linked to it
    retendered = "award.retendered"
