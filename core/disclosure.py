"""The one disclosure policy: for each kind of fact, which audience may see it from which phase of a tender.

Pure: it knows phases and audiences, not tenders or users. tender.disclosure maps a tender (its status, its
deadline, a suspension's resume state) to a phase and a user to the audiences they belong to for that
tender, and asks here. docs/disclosure.md is this table in words; tests/core/test_disclosure.py checks that
the two agree.

A fact's row names, for each audience, the first phase in which that audience may see it (None: never).
Phases are ordered: once a fact is disclosed to an audience, it stays disclosed in every later phase.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Phase(enum.IntEnum):
    """Where a tender stands, for disclosure. A suspended tender is in the phase it will resume to."""

    draft = 0  # not published: only its agency works on it
    bidding = 1  # published and bids may still come in (a suspension that resumes to bidding included)
    opening = 2  # the deadline has passed: bidding closed, the bids are being decrypted
    opened = 3  # the opening record is published (E32), the ceremony not yet closed
    evaluation = 4  # the committee evaluates (E33)
    publicity = 5  # the winning candidates are published (R54)
    final = 6  # awarded, failed or cancelled: the result is final


class Audience(enum.StrEnum):
    public = "public"  # anyone, logged in or not
    own_party = "own_party"  # the organisation the fact is about (its own registration, its own bid)
    agency = "agency"  # the tender's agency
    purchaser = "purchaser"  # the tender's purchaser
    committee = "committee"  # the tender's evaluation committee, once checked in
    monitor = "monitor"  # the supervising monitors
    admin = "admin"  # the centre's administrators
    # issue 16: the trading centre's staff (交易中心人员), who keep its rooms, host openings and witness them
    centre = "centre"


class Fact(enum.StrEnum):
    participation = "participation"  # who registered, downloaded or bid, and how many (E21, L22)
    bids = "bids"  # the bidders' names and prices (E29: published once decryption is done)
    login = "login"  # logins, failed logins and network addresses (E49: recorded, never published)
    draft = "draft"  # a draft tender's content, key holders and documents
    expert_pool = "expert_pool"  # who is an expert, their employers, conflicts, availability, penalties
    committee_names = "committee_names"  # who sits on a tender's committee (L37, P8)
    committee_contacts = "committee_contacts"  # a drawn expert's name and phone, to take an answer by phone
    scores = "scores"  # the committee's scores and review results (L37, E33)
    evaluation_session = "evaluation_session"  # the evaluation session's room and time (E33; policy)
    evaluation_progress = "evaluation_progress"  # session booked, started or paused; how many checked in
    bid_files = "bid_files"  # the content of the opened bids' files (E33: read in the sealed room)
    evaluation_report = "evaluation_report"  # the evaluation report, its signatures and dissents (R53, L37)
    refusals = "refusals"  # refused attempts: who was refused what, from where (E49: recorded, never public)
    alerts = "alerts"  # the monitors' risk alerts (E48), which may name facts before their own row allows
    archive = "archive"  # the procedure file (招投标档案): the documents, sealed bids, audit trail (E49)
    publicity = "publicity"  # the published candidates or result notice, its period, open objections (R54)
    result_objections = "result_objections"  # an objection on the result: its author, text, answer (R54)
    complaints = "complaints"  # a complaint to the supervisor: its author, text, acceptance, decision (R60)
    award = "award"  # the award, its savings, an ended award's ground (R55, L45)
    award_notices = "award_notices"  # the signed award and result notices (L45)
    contract = "contract"  # the contract, its dates, bond and signed file (L46, R58)
    gp_contract = "gp_contract"  # a published government-procurement contract (GR50, G87 art. 72)
    bid_securities = "bid_securities"  # each bid security's status and refund deadline (R35, R57)


P = Phase
# For each fact: audience -> the first phase it may see it in. An audience that is not listed never sees it.
POLICY: dict[Fact, dict[Audience, Phase]] = {
    # E21/L22: nobody learns who or how many took part before the deadline; the party knows its own.
    Fact.participation: {
        Audience.own_party: P.bidding,
        Audience.agency: P.opening,
        Audience.purchaser: P.opening,
        Audience.monitor: P.opening,
        Audience.admin: P.opening,
        Audience.committee: P.evaluation,
    },
    # E29/E30: names and prices are public once decryption is done; the opening record carries them (E32).
    # Before the record is published only the bidder itself knows its price (E27: nobody may decrypt).
    Fact.bids: {
        Audience.own_party: P.bidding,
        Audience.public: P.opened,
    },
    # E49 asks for a record of every operation with its address; publishing who logged in when would name
    # bidders next to their concealed entries. Policy: the person themself, monitors and administrators.
    Fact.login: {Audience.own_party: P.draft, Audience.monitor: P.draft, Audience.admin: P.draft},
    # A draft is the agency's work in progress; it becomes public with its publication.
    Fact.draft: {
        Audience.agency: P.draft,
        Audience.public: P.bidding,
    },
    # Policy: knowing the pool narrows down who can be drawn for a tender (R46: a random draw).
    Fact.expert_pool: {Audience.monitor: P.draft, Audience.admin: P.draft},
    # L37, P8: the committee list stays confidential until the result is final. Monitors supervise the draw
    # and the evaluation (E48); the committee knows itself once it sits.
    Fact.committee_names: {
        Audience.monitor: P.opening,
        Audience.admin: P.opening,
        Audience.committee: P.evaluation,
        Audience.agency: P.final,
        Audience.purchaser: P.final,
        Audience.public: P.final,
    },
    # Policy (R46: the draw is the centre's): its administrators telephone drawn experts without an account,
    # or take an answer by phone, from the draw on (a draw may come before the deadline); nobody else learns
    # who was drawn before the result is final (L37).
    # Issue 16: the centre's staff too. R46 makes the draw and its notification the centre's work, and at a
    # county centre the calls are made by its staff on duty, not by the system administrators; they are the
    # centre as much as its administrators are; L37 binds them alike (nobody outside the centre learns it).
    Fact.committee_contacts: {Audience.admin: P.bidding, Audience.centre: P.bidding},
    # E33: evaluation happens in a confidential environment; the scores are published with the candidates.
    Fact.scores: {
        Audience.committee: P.evaluation,
        Audience.monitor: P.evaluation,
        Audience.agency: P.publicity,
        Audience.purchaser: P.publicity,
        Audience.own_party: P.publicity,
        Audience.public: P.publicity,
        Audience.admin: P.publicity,
    },
    # Policy: where and when the committee sits is for the tender's parties, the monitors and the centre;
    # published with the result, as the committee is (L37).
    # Issue 16: the centre's staff keep the rooms' calendar (E33: the centre provides the closed room),
    # so they
    # see which tender sits where and when, as the administrators do.
    Fact.evaluation_session: {
        Audience.agency: P.opening,
        Audience.purchaser: P.opening,
        Audience.committee: P.opening,
        Audience.monitor: P.opening,
        Audience.admin: P.opening,
        Audience.centre: P.opening,
        Audience.public: P.final,
    },
    # E33: the evaluation is confidential, its progress is not: booked, started, paused, how many members
    # checked in (a count, never names: L37) for everyone once the tender is being evaluated.
    Fact.evaluation_progress: {
        Audience.agency: P.opening,
        Audience.purchaser: P.opening,
        Audience.committee: P.opening,
        Audience.monitor: P.opening,
        Audience.admin: P.opening,
        Audience.centre: P.opening,  # issue 16: the centre hosts and witnesses the session
        Audience.public: P.evaluation,
    },
    # E33: the committee reads the bids in the sealed room (evaluation.room: checked in, the session open);
    # before the deadline nobody may decrypt them (E27), the bidder holds its own.
    Fact.bid_files: {
        Audience.own_party: P.bidding,
        Audience.committee: P.evaluation,
    },
    # R53: the committee signs its report in the room; it names the members and their scores, so beyond the
    # committee and the monitors supervising it (E48) it is public only once the result is final (L37, P8).
    # The agency and the purchaser follow its signing as counts (Fact.evaluation_progress).
    Fact.evaluation_report: {
        Audience.committee: P.evaluation,
        Audience.monitor: P.evaluation,
        Audience.admin: P.final,
        Audience.agency: P.final,
        Audience.purchaser: P.final,
        Audience.public: P.final,
    },
    # E49 asks for a record of every refused attempt too; it names the person, the object and the address
    # (another company's bid, a tender the person may not touch). Policy: monitors and administrators only.
    Fact.refusals: {Audience.monitor: P.draft, Audience.admin: P.draft},
    # E48: the supervisors see the platform's data. The alerts are the exception to the rows above: to
    # supervise as it happens, an alert names a company refused on a tender's bids (participation before
    # the opening), the companies behind identical sealed files, an address that failed to log in.
    Fact.alerts: {Audience.monitor: P.draft, Audience.admin: P.draft},
    # E49: the records are archived. The procedure file (award.archive) holds the committee's names and the
    # report (final for everyone), who bid with the sealed files and receipts (participation), and the whole
    # trail: the tender's parties, its monitors and the centre, once the result is final, never before (a
    # procedure that has not ended has no file). Policy: a bidder and the public read the published parts.
    Fact.archive: {
        Audience.agency: P.final,
        Audience.purchaser: P.final,
        Audience.monitor: P.final,
        Audience.admin: P.final,
    },
    # R54: the candidates are published for everyone (with how many objections await their answer: the
    # procedure is suspended meanwhile); they stay public once the result is final.
    Fact.publicity: {Audience.public: P.publicity},
    # R54: an objection goes to the purchaser and its agency, who answer it; the monitors supervise the
    # deadline (E48). Policy: its author is never published (nobody learns who objected), only its count.
    Fact.result_objections: {
        Audience.own_party: P.publicity,
        Audience.agency: P.publicity,
        Audience.purchaser: P.publicity,
        Audience.monitor: P.publicity,
        Audience.admin: P.publicity,
    },
    # R60, R61: a complaint goes to the supervising monitors, who hear the purchaser and its agency on it;
    # a complaint on the tender documents may come while bids are still open. Policy: never public.
    Fact.complaints: {
        Audience.own_party: P.bidding,
        Audience.monitor: P.bidding,
        Audience.admin: P.bidding,
        Audience.agency: P.bidding,
        Audience.purchaser: P.bidding,
    },
    # R55, L45: the award, its savings and the grounds of an ended award are the result notice's: public once
    # the result is final (the names and prices have been public since the opening record, E32).
    Fact.award: {Audience.public: P.final},
    # L45: the award notice and the result notices carry nothing the result notice does not: public with it,
    # so that anyone can check a notice's signature against the platform's copy.
    Fact.award_notices: {Audience.public: P.final},
    # L46: the contract and its signed file for the tender's parties and the winner, monitors and the centre
    Fact.contract: {
        Audience.agency: P.final,
        Audience.purchaser: P.final,
        Audience.own_party: P.final,
        Audience.monitor: P.final,
        Audience.admin: P.final,
    },
    # GR50, G87 art. 72: a government-procurement contract is public once published (the service checks that
    # the tender is one and the contract is published)
    Fact.gp_contract: {Audience.public: P.final},
    # R35, R57: who gave a bid security is who took part (E21): the bidder its own; the tender's parties and
    # the supervisors once the bids are opened
    Fact.bid_securities: {
        Audience.own_party: P.bidding,
        Audience.agency: P.opened,
        Audience.purchaser: P.opened,
        Audience.monitor: P.opened,
        Audience.admin: P.opened,
    },
}

# The legal source of each row, shown in docs/disclosure.md.
SOURCES: dict[Fact, str] = {
    Fact.participation: "E21, L22",
    Fact.bids: "E27, E29, E32",
    Fact.login: "E49; policy",
    Fact.draft: "policy",
    Fact.expert_pool: "R46; policy",
    Fact.committee_names: "L37, P8, E48",
    Fact.committee_contacts: "R46, L37; policy",
    Fact.scores: "E33, R54",
    Fact.evaluation_session: "E33, L37; policy",
    Fact.evaluation_progress: "E33, L37",
    Fact.bid_files: "E27, E33",
    Fact.evaluation_report: "R53, L37, P8, E48",
    Fact.refusals: "E49; policy",
    Fact.alerts: "E48; policy",
    Fact.archive: "E49, L37; policy",
    Fact.publicity: "R54",
    Fact.result_objections: "R54, E48; policy",
    Fact.complaints: "R60, R61; policy",
    Fact.award: "R55, L45, E32",
    Fact.award_notices: "L45",
    Fact.contract: "L46, R58; policy",
    Fact.gp_contract: "GR50, G87-72",
    Fact.bid_securities: "R35, R57, E21",
}


def first_phase(fact: Fact, audience: Audience) -> Phase | None:
    """The first phase in which `audience` may see `fact`; None when it never may."""
    return POLICY[fact].get(audience)


def effective_phase(fact: Fact, audience: Audience) -> Phase | None:
    """The first phase in which a reader in `audience` sees `fact`: its own row or the public's, whichever
    comes first (every reader is also in the public)."""
    starts = [p for p in (first_phase(fact, audience), first_phase(fact, Audience.public)) if p is not None]
    return min(starts) if starts else None


def table() -> str:
    """The policy as the Markdown table of docs/disclosure.md: each cell the first phase the audience sees
    the fact in."""
    audiences = list(Audience)
    rows = [
        "| fact | " + " | ".join(a.value for a in audiences) + " | source |",
        "|" + "---|" * (len(audiences) + 2),
    ]
    for fact in Fact:
        cells = [(p.name if (p := effective_phase(fact, a)) is not None else "never") for a in audiences]
        rows.append(f"| {fact.value} | " + " | ".join(cells) + f" | {SOURCES[fact]} |")
    return "\n".join(rows)


def may_see(fact: Fact, audiences: Iterable[Audience], phase: Phase) -> bool:
    """True when any of the reader's audiences may see `fact` in `phase`. Everyone is in the public."""
    for audience in {Audience.public, *audiences}:
        start = first_phase(fact, audience)
        if start is not None and phase >= start:
            return True
    return False
