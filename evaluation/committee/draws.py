"""Committee draws for a tender (rules.md §3, design.md "Random expert draw, verifiable afterwards"):
the request, avoidance with every exclusion kept, the commitment logged first with the contributing parties
named, each party's random value committed then revealed (etender-draw-2, docs/expert-draw.md "The
protocol"), the draw on the last reveal (or its logged failure), abandonment, confirmations with automatic
substitutes, and the public record once the tender is final.

Services take a session and an actor and never commit. Who sees what:
- the agency: how many seats are confirmed, awaiting an answer or vacant; never names before the result is
  final;
- a drawn expert: their own seat; the names of the committee once the tender is being evaluated (L37, P8);
- everyone: the draw record, with the server seed, once the tender's status is final (awarded, failed,
  cancelled).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from accounts.access import require_login
from accounts.models import Organisation, User
from accounts.notifications import Channel, tell, tell_address
from audit import record
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import SYSTEM, Actor, OrgKind, Role
from evaluation.committee import avoidance
from evaluation.committee import draw as pure
from evaluation.committee.models import (
    ENDED,
    VACATED,
    Draw,
    DrawContribution,
    DrawExclusion,
    DrawStatus,
    Seat,
    SeatKind,
    SeatStatus,
)
from evaluation.events import EvaluationTag
from evaluation.pool.models import (
    Expert,
    ExpertConflict,
    ExpertEmployment,
    ExpertSpecialty,
    ExpertStatus,
    ExpertStatusChange,
    ExpertUnavailability,
    Specialty,
)
from tender import access
from tender.bids import submission as bids
from tender.lifecycle import FINAL, Status
from tender.models import Tender

LARGE_BUDGET_FEN = 10_000_000 * 100  # G87 art. 47: 10 million yuan or more
LARGE_BUDGET_MIN_SIZE = 7
OPEN_FOR_DRAW = frozenset({Status.published, Status.bidding_closed, Status.opening, Status.evaluating})
NAMES_TO_COMMITTEE = frozenset({Status.evaluating, Status.evaluated, Status.publicity}) | FINAL
MAX_CONFIRM_HOURS = 72


@dataclass
class DrawInput:
    committee_size: int
    quotas: list[tuple[str, int]]
    evaluation_date: date
    substitutes: int = 3
    representative_seats: int = 0
    regions: list[str] = field(default_factory=list)
    exclude_local: bool = False
    confirm_hours: int = 24
    public_entropy: bytes | None = None


@dataclass(frozen=True)
class SeatCounts:
    seats: int  # drawn seats (the committee minus the representative seats)
    confirmed: int
    awaiting: int
    vacant: int
    substitutes_left: int


def _today() -> date:
    return clock.to_cst(clock.now()).date()


# ---------------------------------------------------------------- the tender's side


def tender_bidder_codes(session: Session, tender: Tender) -> frozenset[str]:
    """The credit codes of "the tender's bidders" for avoidance (R46): the companies whose sealed bid counts
    (tender.bids.counted_bids: the newest complete submission, neither withdrawn nor replaced). A company that
    only registered or downloaded is not a bidder."""
    org_ids = {bid.organisation_id for bid in bids.counted_bids(session, tender.id)}
    if not org_ids:
        return frozenset()
    return frozenset(session.scalars(select(Organisation.credit_code).where(Organisation.id.in_(org_ids))))


def _supervisor_codes(session: Session, tender: Tender) -> frozenset[str]:
    """R46: the supervising departments of the tender's region (every supervisor when the tender has none)."""
    query = select(Organisation.credit_code).where(Organisation.kind == OrgKind.supervisor)
    if tender.region:
        query = query.where(Organisation.region.in_([tender.region, ""]))
    return frozenset(session.scalars(query))


def _org_code(session: Session, org_id: int) -> str:
    org = session.get(Organisation, org_id)
    return org.credit_code if org else ""


def budget_fen(tender: Tender) -> int:
    return sum(lot.estimated_price for lot in tender.lots)


def minimum_size(tender: Tender) -> int:
    if tender.government_procurement and budget_fen(tender) >= LARGE_BUDGET_FEN:
        return LARGE_BUDGET_MIN_SIZE  # G87 art. 47
    return pure.MIN_COMMITTEE_SIZE  # L37, P9


# ---------------------------------------------------------------- checks


def _check(
    session: Session, tender: Tender, data: DrawInput, catalogue: dict[str, str | None]
) -> list[Problem]:
    problems: list[Problem] = []
    least = minimum_size(tender)
    if data.committee_size < least:
        problems.append(
            Problem(
                "draw_committee_too_small",
                N_(
                    "This tender's budget is 10 million yuan or more: government procurement needs a "
                    "committee of at least %(least)s."
                ),
                "committee_size",
                {"least": least},
                rule="G87 art. 47",
            )
        )
    for code, _seats in data.quotas:
        if code and code not in catalogue:
            problems.append(
                Problem(
                    "draw_unknown_specialty",
                    N_("There is no specialty with the code %(specialty)s in the catalogue."),
                    "quotas",
                    {"specialty": code},
                )
            )
    if data.evaluation_date < _today():
        problems.append(
            Problem(
                "draw_evaluation_date_past",
                N_("The evaluation date has passed; choose today or a later day."),
                "evaluation_date",
            )
        )
    if not 1 <= data.confirm_hours <= MAX_CONFIRM_HOURS:
        problems.append(
            Problem(
                "draw_confirm_hours",
                N_("Experts answer within 1 to %(max)s hours; %(hours)s is outside that."),
                "confirm_hours",
                {"max": MAX_CONFIRM_HOURS, "hours": data.confirm_hours},
            )
        )
    if data.exclude_local and data.regions and tender.region in data.regions:
        problems.append(
            Problem(
                "draw_regions_conflict",
                N_(
                    "The allowed regions include the tender's own region %(region)s, which is also excluded; "
                    "remove one of the two."
                ),
                "regions",
                {"region": tender.region},
            )
        )
    return problems


def _catalogue(session: Session) -> dict[str, str | None]:
    return {code: parent for code, parent in session.execute(select(Specialty.code, Specialty.parent_code))}


def _ancestors(code: str, catalogue: dict[str, str | None]) -> list[str]:
    out = []
    seen: set[str] = set()
    current: str | None = code
    while current is not None and current not in seen:
        seen.add(current)
        out.append(current)
        current = catalogue.get(current)
    return out


# ---------------------------------------------------------------- the pool and avoidance


@dataclass
class Pool:
    candidates: list[pure.Candidate]
    exclusions: list[pure.Exclusion]


def build_pool(
    session: Session, tender: Tender, data: DrawInput, cap: avoidance.DrawCap, now: datetime
) -> Pool:
    """The experts in scope (holding a quota's specialty or a child of it, within the region rules), split
    into the eligible candidates and the excluded with their reasons."""
    catalogue = _catalogue(session)
    wanted = {code for code, _ in data.quotas}
    scope_codes = [code for code in catalogue if set(_ancestors(code, catalogue)) & wanted]
    served: dict[int, set[str]] = defaultdict(set)
    for expert_id, code in session.execute(
        select(ExpertSpecialty.expert_id, ExpertSpecialty.specialty_code).where(
            ExpertSpecialty.specialty_code.in_(scope_codes)
        )
    ):
        # a quota on a parent specialty is served by its children
        served[expert_id].update(c for c in _ancestors(code, catalogue) if c in wanted)
    in_scope = select(ExpertSpecialty.expert_id).where(ExpertSpecialty.specialty_code.in_(scope_codes))
    query = select(Expert).where(Expert.id.in_(in_scope))
    if data.regions:
        query = query.where(Expert.region.in_(data.regions))
    if data.exclude_local and tender.region:
        query = query.where(Expert.region != tender.region)
    experts = list(session.scalars(query.order_by(Expert.id)))
    ids_query = select(Expert.id).where(Expert.id.in_(in_scope))

    employments: dict[int, list[avoidance.Period]] = defaultdict(list)
    for e in session.scalars(select(ExpertEmployment).where(ExpertEmployment.expert_id.in_(ids_query))):
        employments[e.expert_id].append(avoidance.Period(e.org_code, e.start, e.end))
    interests: dict[int, list[avoidance.Period]] = defaultdict(list)
    for c in session.scalars(select(ExpertConflict).where(ExpertConflict.expert_id.in_(ids_query))):
        interests[c.expert_id].append(avoidance.Period(c.org_code, c.start, c.end))
    unavailable: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for u in session.scalars(
        select(ExpertUnavailability).where(ExpertUnavailability.expert_id.in_(ids_query))
    ):
        unavailable[u.expert_id].append((u.start, u.end))
    penalised = set(
        session.scalars(
            select(ExpertStatusChange.expert_id).where(
                ExpertStatusChange.expert_id.in_(ids_query),
                ExpertStatusChange.status == ExpertStatus.penalised,
            )
        )
    )
    recent: dict[int, int] = {}
    if cap.max_draws > 0:
        since = now - timedelta(days=cap.period_days)
        recent = {
            expert_id: count
            for expert_id, count in session.execute(
                select(Seat.expert_id, func.count())
                .join(Draw, Draw.id == Seat.draw_id)
                .where(
                    Draw.created_at >= since,
                    Seat.expert_id.in_(ids_query),
                    Seat.status.notin_([SeatStatus.standby, SeatStatus.unused]),
                )
                .group_by(Seat.expert_id)
            )
        }
    facts = avoidance.TenderFacts(
        evaluation_date=data.evaluation_date,
        bidder_codes=tender_bidder_codes(session, tender),
        purchaser_code=_org_code(session, tender.purchaser_id),
        agency_code=_org_code(session, tender.agency_id),
        supervisor_codes=_supervisor_codes(session, tender),
    )
    candidates: list[pure.Candidate] = []
    excluded: list[pure.Exclusion] = []
    for expert in experts:
        periods = list(employments.get(expert.id, []))
        if expert.employer_code:
            periods.append(avoidance.Period(expert.employer_code))  # the current employer, open-ended
        found = avoidance.exclusions(
            avoidance.ExpertFacts(
                expert_id=expert.id,
                status=expert.status,
                status_until=expert.status_until,
                ever_penalised=expert.id in penalised,
                employments=tuple(periods),
                interests=tuple(interests.get(expert.id, [])),
                unavailable=tuple(unavailable.get(expert.id, [])),
                recent_draws=recent.get(expert.id, 0),
            ),
            facts,
            cap,
        )
        if found:
            excluded.extend(found)
        else:
            candidates.append(pure.Candidate(expert.id, tuple(sorted(served[expert.id]))))
    return Pool(candidates, excluded)


# ---------------------------------------------------------------- requesting a draw


def _draw_request(request_id: str, data: DrawInput) -> pure.DrawRequest:
    return pure.DrawRequest(
        request_id=request_id,
        committee_size=data.committee_size,
        quotas=[pure.Quota(code, seats) for code, seats in data.quotas],
        substitutes=data.substitutes,
        representative_seats=data.representative_seats,
    )


def request_draw(
    session: Session,
    actor: Actor,
    tender_id: int,
    data: DrawInput,
    channel: Channel,
    cap: avoidance.DrawCap = avoidance.DrawCap(),
) -> Draw:
    """R46: the committee drawn at random from the pool after the bid deadline. Refused with every problem at
    once; an unfillable quota is refused naming the quota and the shortfall, and then nothing is kept."""
    # the tender row locked: two requests at once cannot both pass the "already drawn" check
    tender = session.scalars(
        select(Tender)
        .where(Tender.id == tender_id)
        .options(selectinload(Tender.lots))
        .with_for_update(of=Tender)
    ).one_or_none()
    if tender is None:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    access.require_tender_agency(actor, tender)
    now = clock.now()
    if not open_for_draw(tender):
        raise Conflict.one(
            "draw_not_open",
            N_(
                "The committee is drawn after the bid deadline, while the tender is open, being opened or "
                "evaluated."
            ),
        )
    live = session.scalars(
        select(Draw.status).where(Draw.tender_id == tender.id, Draw.status.notin_([s.value for s in ENDED]))
    ).first()
    if live == DrawStatus.collecting:
        raise Conflict.one(
            "draw_collecting",
            N_(
                "A draw of this tender is waiting for the parties' contributions; finish it, or abandon it "
                "before requesting another."
            ),
        )
    if live is not None:
        raise Conflict.one(
            "draw_exists",
            N_("This tender's committee has already been drawn; replacements come from its substitutes."),
        )
    request_id = f"{tender.reference}/draw-{secrets.token_hex(6)}"
    request = _draw_request(request_id, data)
    catalogue = _catalogue(session)
    problems = pure._request_problems(request) + _check(session, tender, data, catalogue)
    if problems:
        raise ValidationFailed(problems)

    pool = build_pool(session, tender, data, cap, now)
    short = pure.feasibility_problems(request, pool.candidates)
    if short:
        # no seed could fill it: refused before anything is logged, as before the contributions existed
        specialty, needed, missing = short[0]
        raise ValidationFailed(
            Problem(
                "draw_insufficient_pool",
                N_(
                    "Not enough eligible experts for specialty %(specialty)s: %(needed)s seat(s) asked, "
                    "%(short)s missing. Nothing was drawn; change the quotas or the region rules and "
                    "draw again."
                ),
                "quotas",
                {"specialty": specialty, "needed": needed, "short": missing},
                rule="R46",
            )
        )
    parties = _parties(session, tender)
    server_seed = secrets.token_bytes(32)
    ids = [c.expert_id for c in pool.candidates]
    root = pure.pool_root(ids)
    excl_digest = pure.exclusions_digest(pool.exclusions)
    quotas = [{"specialty": q.specialty, "seats": q.seats} for q in request.quotas]
    before = _ended_draws(session, tender.id)
    draw_row = Draw(
        tender_id=tender.id,
        requested_by=actor.user_id,
        request_id=request_id,
        status=DrawStatus.collecting,
        committee_size=data.committee_size,
        representative_seats=data.representative_seats,
        quotas=quotas,
        substitutes=data.substitutes,
        regions=list(data.regions),
        exclude_local=data.exclude_local,
        evaluation_date=data.evaluation_date,
        confirm_hours=data.confirm_hours,
        algorithm_version=pure.ALGORITHM_VERSION,
        server_seed=server_seed.hex(),
        public_entropy=data.public_entropy.hex() if data.public_entropy is not None else None,
        commitment=pure.commitment(server_seed).hex(),
        pool_root=root.hex(),
        exclusions_digest=excl_digest.hex(),
        candidates=[
            {"expert_id": c.expert_id, "specialties": list(c.specialties)}
            for c in sorted(pool.candidates, key=lambda c: c.expert_id)
        ],
        seed="",
        created_at=now,
    )
    session.add(draw_row)
    session.flush()
    for e in pool.exclusions:
        session.add(
            DrawExclusion(
                draw_id=draw_row.id, expert_id=e.expert_id, reason=e.reason, rule=e.rule, detail=e.detail
            )
        )
    for party, role, org_id in parties:
        session.add(DrawContribution(draw_id=draw_row.id, party=party, role=role, organisation_id=org_id))
    # design.md step 1: the pool snapshot, exclusions, quotas, version, the commitment and who contributes,
    # logged before any party contributes
    entry = record(
        session,
        EvaluationTag.draw_committed,
        actor=actor,
        subject=f"draw:{draw_row.id}",
        details={
            "tender": tender.id,
            "request_id": request_id,
            "algorithm_version": pure.ALGORITHM_VERSION,
            "commitment": draw_row.commitment,
            "pool_root": draw_row.pool_root,
            "pool_size": len(ids),
            "exclusions_digest": draw_row.exclusions_digest,
            "exclusions": len(pool.exclusions),
            "quotas": quotas,
            "committee_size": data.committee_size,
            "representative_seats": data.representative_seats,
            "substitutes": data.substitutes,
            "public_entropy": draw_row.public_entropy,
            "evaluation_date": data.evaluation_date.isoformat(),
            "parties": [party for party, _, _ in parties],
            "abandoned_before": len(before),
        },
        confidential={"exclusions": [e.__dict__ for e in pool.exclusions]},
    )
    draw_row.commitment_entry = getattr(entry, "index", None)
    session.flush()
    _tell_parties(session, channel, tender, draw_row, parties)
    return draw_row


# ---------------------------------------------------------------- the parties' contributions (etender-draw-2)


def supervising_organisation(session: Session, tender: Tender) -> Organisation | None:
    """R46, E48: the monitors who supervise the tender, a supervising department of its region (one without a
    region supervises every region; the tender's own region first, then the oldest)."""
    query = select(Organisation).where(Organisation.kind == OrgKind.supervisor, Organisation.active.is_(True))
    if tender.region:
        query = query.where(Organisation.region.in_([tender.region, ""]))
    orgs = list(session.scalars(query.order_by(Organisation.id)))
    orgs.sort(key=lambda o: o.region != tender.region)
    return orgs[0] if orgs else None


def _parties(session: Session, tender: Tender) -> list[tuple[str, str, int]]:
    """(party, role, organisation id) of the draw's contributors, in the seed's order: the requesting
    agency and the supervising monitors, each named by its unified social credit code (public, and fixed
    for good)."""
    agency = session.get(Organisation, tender.agency_id)
    supervisor = supervising_organisation(session, tender)
    if agency is None or supervisor is None:
        raise Conflict.one(
            "draw_no_supervisor",
            N_(
                "No monitoring organisation supervises this tender's region, and the draw needs the "
                "monitors' contribution. Ask the trading centre's administrator to set one up."
            ),
            rule="R46",
        )
    parties = [
        (f"agency:{agency.credit_code}", Role.agency.value, agency.id),
        (f"monitor:{supervisor.credit_code}", Role.monitor.value, supervisor.id),
    ]
    return sorted(parties, key=lambda p: p[0].encode("utf-8"))


def _org_users(session: Session, org_id: int, role: str) -> set[int]:
    return {
        u.id
        for u in session.scalars(select(User).where(User.organisation_id == org_id, User.active.is_(True)))
        if role in (u.roles or [])
    }


def _tell_parties(
    session: Session, channel: Channel, tender: Tender, draw_row: Draw, parties: list[tuple[str, str, int]]
) -> None:
    for _party, role, org_id in parties:
        if role != Role.monitor.value:
            continue  # the agency asked: its own page shows the contribution
        tell(
            session,
            channel,
            _org_users(session, org_id, role),
            "draw.contribute",
            title=N_("%(reference)s: the expert draw waits for your organisation's random contribution"),
            params={"reference": tender.reference},
            link=f"/monitor/tenders/{tender.id}#draw",
        )


def _ended_draws(session: Session, tender_id: int) -> list[Draw]:
    return list(
        session.scalars(
            select(Draw)
            .where(Draw.tender_id == tender_id, Draw.status.in_([s.value for s in ENDED]))
            .order_by(Draw.id)
        )
    )


def _locked_draw(session: Session, actor: Actor, draw_id: int) -> tuple[Draw, Tender]:
    require_login(actor)  # a stranger learns nothing, not even whether the draw exists
    draw_row = session.get(Draw, draw_id, with_for_update=True)
    tender = session.get(Tender, draw_row.tender_id) if draw_row is not None else None
    if draw_row is None or tender is None:
        raise NotFound.one("draw_not_found", N_("No such draw."))
    return draw_row, tender


def _my_contribution(session: Session, actor: Actor, draw_row: Draw, tender: Tender) -> DrawContribution:
    """The contribution the actor makes for its organisation: the tender's agency staff for the agency, the
    supervising organisation's monitors for the monitors."""
    for c in draw_row.contributions:
        if actor.organisation_id == c.organisation_id and actor.has(Role(c.role)):
            if c.role == Role.agency.value:
                access.require_tender_agency(actor, tender)
            return c
    raise Forbidden.one(
        "draw_not_a_party",
        N_("Only the requesting agency and the supervising monitors contribute to this draw."),
    )


def _open_for_contributions(draw_row: Draw, tender: Tender) -> None:
    if draw_row.status != DrawStatus.collecting:
        raise Conflict.one(
            "draw_not_collecting",
            N_("This draw takes no more contributions: it has been made, has failed or was abandoned."),
        )
    if Status(tender.status) in FINAL:
        raise Conflict.one(
            "draw_tender_closed",
            N_("This tender is closed (awarded, failed or cancelled): its draw takes no contributions."),
        )


def _hex32(value: str, code: str, message: str) -> bytes:
    text = value.strip().lower() if isinstance(value, str) else ""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != pure.CONTRIBUTION_BYTES or raw.hex() != text:
        raise ValidationFailed.one(code, message, "value")
    return raw


def commit_contribution(
    session: Session, actor: Actor, draw_id: int, commitment_hex: str
) -> DrawContribution:
    """A party's first step: SHA-256 of its 32 random bytes, made in its own browser. Logged with the party;
    the value stays in the browser until every party has committed. Sending the same commitment again is a
    no-op (a page reloaded in between)."""
    draw_row, tender = _locked_draw(session, actor, draw_id)
    mine = _my_contribution(session, actor, draw_row, tender)
    _open_for_contributions(draw_row, tender)
    committed = _hex32(
        commitment_hex,
        "contribution_commitment_invalid",
        N_("The commitment is the SHA-256 of the random value: 64 hexadecimal digits."),
    )
    if mine.commitment is not None:
        if mine.commitment == committed.hex():
            return mine
        raise Conflict.one(
            "contribution_committed_already",
            N_(
                "Your organisation has already committed to a value for this draw; a second one is not "
                "accepted. If the value is lost, the agency abandons the draw and requests a new one."
            ),
        )
    now = clock.now()
    mine.commitment = committed.hex()
    mine.committed_at = now
    mine.committed_by = actor.user_id
    entry = record(
        session,
        EvaluationTag.draw_contribution_committed,
        actor=actor,
        subject=f"draw:{draw_row.id}",
        details={"tender": tender.id, "party": mine.party, "commitment": mine.commitment},
    )
    mine.committed_entry = getattr(entry, "index", None)
    return mine


def reveal_contribution(
    session: Session, actor: Actor, draw_id: int, value_hex: str, channel: Channel
) -> Draw:
    """A party's second step, accepted only once every party has committed: the value itself, checked against
    its commitment and logged. The last reveal makes the draw in the same transaction (seats and
    notifications, or a logged failure when the ranking leaves a quota short). Revealing the same value again
    is a no-op."""
    draw_row, tender = _locked_draw(session, actor, draw_id)
    mine = _my_contribution(session, actor, draw_row, tender)
    value = _hex32(
        value_hex,
        "contribution_value_invalid",
        N_("The contribution is 32 random bytes written as 64 hexadecimal digits."),
    )
    if mine.value is not None and mine.value == value.hex():
        return draw_row  # already revealed (the page was reopened): nothing changes
    _open_for_contributions(draw_row, tender)
    if any(c.commitment is None for c in draw_row.contributions):
        raise Conflict.one(
            "contribution_reveal_early",
            N_("Not every party has committed yet; the values are revealed only after all commitments."),
        )
    if mine.value is not None:
        raise Conflict.one(
            "contribution_revealed_already", N_("Your organisation has already revealed its value.")
        )
    if pure.sha256(value).hex() != mine.commitment:
        raise ValidationFailed.one(
            "contribution_value_mismatch",
            N_(
                "This value does not match your organisation's commitment (its SHA-256 differs). Reveal the "
                "value kept by the browser that committed."
            ),
            "value",
        )
    now = clock.now()
    mine.value = value.hex()
    mine.revealed_at = now
    mine.revealed_by = actor.user_id
    entry = record(
        session,
        EvaluationTag.draw_contribution_revealed,
        actor=actor,
        subject=f"draw:{draw_row.id}",
        details={
            "tender": tender.id,
            "party": mine.party,
            "commitment": mine.commitment,
            "value": mine.value,
        },
    )
    mine.revealed_entry = getattr(entry, "index", None)
    session.flush()
    if all(c.value is not None for c in draw_row.contributions):
        _make_draw(session, channel, draw_row, tender, actor, now)
    return draw_row


def _pure_request(draw_row: Draw) -> pure.DrawRequest:
    return pure.DrawRequest(
        request_id=draw_row.request_id,
        committee_size=draw_row.committee_size,
        quotas=[pure.Quota(q["specialty"], q["seats"]) for q in draw_row.quotas],
        substitutes=draw_row.substitutes,
        representative_seats=draw_row.representative_seats,
    )


def _contributions(draw_row: Draw) -> list[pure.Contribution]:
    return [pure.Contribution(c.party, bytes.fromhex(c.value or "")) for c in draw_row.contributions]


def _make_draw(
    session: Session, channel: Channel, draw_row: Draw, tender: Tender, actor: Actor, now: datetime
) -> None:
    """The draw proper, once every value is revealed: the seed over the server seed and every contribution."""
    request = _pure_request(draw_row)
    candidates = [pure.Candidate(c["expert_id"], tuple(c["specialties"])) for c in draw_row.candidates]
    server_seed = bytes.fromhex(draw_row.server_seed)
    entropy = bytes.fromhex(draw_row.public_entropy) if draw_row.public_entropy is not None else None
    try:
        result = pure.draw(
            request,
            candidates,
            server_seed,
            entropy,
            root=bytes.fromhex(draw_row.pool_root),
            contributions=_contributions(draw_row),
        )
    except pure.InsufficientPool as short:
        # its commitment and contributions are in the log: the failure is logged too, never dropped
        draw_row.status = DrawStatus.failed
        draw_row.ended_at = now
        draw_row.end_note = f"{short.specialty}: {short.needed} seat(s), {short.short_by} missing"
        record(
            session,
            EvaluationTag.draw_failed,
            actor=SYSTEM,
            subject=f"draw:{draw_row.id}",
            details={
                "tender": tender.id,
                "specialty": short.specialty,
                "needed": short.needed,
                "short": short.short_by,
            },
        )
        agency_users = _org_users(session, tender.agency_id, Role.agency.value)
        tell(
            session,
            channel,
            agency_users,
            "draw.failed",
            title=N_("%(reference)s: the expert draw could not fill a quota; request a new draw"),
            params={"reference": tender.reference},
            link=f"/agency/tenders/{tender.id}/draw",
        )
        return
    draw_row.seed = result.seed.hex()
    draw_row.status = DrawStatus.drawn
    respond_by = now + timedelta(hours=draw_row.confirm_hours)
    position = 0
    for expert_id, specialty in result.members:
        position += 1
        session.add(
            Seat(
                draw_id=draw_row.id,
                expert_id=expert_id,
                position=position,
                specialty=specialty,
                kind=SeatKind.member,
                status=SeatStatus.notified,
                notified_at=now,
                respond_by=respond_by,
                created_at=now,
            )
        )
    for expert_id, specialty in result.substitutes:
        position += 1
        session.add(
            Seat(
                draw_id=draw_row.id,
                expert_id=expert_id,
                position=position,
                specialty=specialty,
                kind=SeatKind.substitute,
                status=SeatStatus.standby,
                created_at=now,
            )
        )
    session.flush()
    session.refresh(draw_row, ["seats"])
    record(
        session,
        EvaluationTag.draw_completed,
        actor=actor,
        subject=f"draw:{draw_row.id}",
        details={
            "tender": tender.id,
            "members": len(result.members),
            "substitutes": len(result.substitutes),
        },
        confidential={
            "seed": result.seed.hex(),
            "members": [list(m) for m in result.members],
            "substitutes": [list(s) for s in result.substitutes],
        },
    )
    _notify_seats(session, channel, draw_row, [s for s in draw_row.seats if s.status == SeatStatus.notified])


def abandon_draw(session: Session, actor: Actor, draw_id: int, reason: str, channel: Channel) -> Draw:
    """The agency gives up a draw still collecting contributions (a party lost its value, or will not reveal):
    logged with its reason and told to the monitors; the record of the next draw counts it. Its server seed is
    never used."""
    draw_row, tender = _locked_draw(session, actor, draw_id)
    access.require_tender_agency(actor, tender)
    if draw_row.status != DrawStatus.collecting:
        raise Conflict.one(
            "draw_not_collecting",
            N_("This draw takes no more contributions: it has been made, has failed or was abandoned."),
        )
    if not reason.strip():
        raise ValidationFailed.one(
            "draw_abandon_reason",
            N_("Say why the draw is abandoned (it is logged and shown to monitors)."),
            "reason",
        )
    draw_row.status = DrawStatus.abandoned
    draw_row.ended_at = clock.now()
    draw_row.end_note = reason.strip()[:2000]
    record(
        session,
        EvaluationTag.draw_abandoned,
        actor=actor,
        subject=f"draw:{draw_row.id}",
        details={
            "tender": tender.id,
            "reason": draw_row.end_note,
            "committed": [c.party for c in draw_row.contributions if c.commitment is not None],
            "revealed": [c.party for c in draw_row.contributions if c.value is not None],
        },
    )
    for c in draw_row.contributions:
        if c.role == Role.monitor.value:
            tell(
                session,
                channel,
                _org_users(session, c.organisation_id, c.role),
                "draw.abandoned",
                title=N_("%(reference)s: the agency abandoned an expert draw"),
                params={"reference": tender.reference},
                body=draw_row.end_note,
                link=f"/monitor/tenders/{tender.id}#draw",
            )
    return draw_row


@dataclass(frozen=True)
class PartyView:
    party: str
    role: str
    name: str  # the organisation's name
    committed: bool
    revealed: bool
    mine: bool
    commitment: str | None
    value: str | None


@dataclass(frozen=True)
class ContributionView:
    draw: Draw
    tender: Tender
    parties: list[PartyView]
    ended_before: list[Draw]  # this tender's earlier draws that failed or were abandoned

    @property
    def all_committed(self) -> bool:
        return all(p.committed for p in self.parties)

    @property
    def mine(self) -> PartyView | None:
        return next((p for p in self.parties if p.mine), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "draw": self.draw.id,
            "status": self.draw.status,
            "all_committed": self.all_committed,
            "parties": [
                {
                    "party": p.party,
                    "name": p.name,
                    "role": p.role,
                    "committed": p.committed,
                    "revealed": p.revealed,
                    "mine": p.mine,
                    "commitment": p.commitment,
                }
                for p in self.parties
            ],
        }


def _view(session: Session, actor: Actor, draw_row: Draw, tender: Tender) -> ContributionView:
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(
            Organisation.id.in_([c.organisation_id for c in draw_row.contributions])
        )
    )
    names: dict[int, str] = {org_id: name for org_id, name in rows}
    parties = [
        PartyView(
            party=c.party,
            role=c.role,
            name=names.get(c.organisation_id, ""),
            committed=c.commitment is not None,
            revealed=c.value is not None,
            mine=actor.organisation_id == c.organisation_id and actor.has(Role(c.role)),
            commitment=c.commitment,
            value=c.value,
        )
        for c in draw_row.contributions
    ]
    ended = [d for d in _ended_draws(session, tender.id) if d.id != draw_row.id]
    return ContributionView(draw_row, tender, parties, ended)


def contribution_view(session: Session, actor: Actor, draw_id: int) -> ContributionView:
    """Where a draw's contributions stand, for its parties' pages: the tender's agency and the monitors.
    Commitments and revealed values are public in the audit log anyway; nothing here is about bidders."""
    require_login(actor)
    draw_row = session.get(Draw, draw_id)
    tender = session.get(Tender, draw_row.tender_id) if draw_row is not None else None
    if draw_row is None or tender is None:
        raise NotFound.one("draw_not_found", N_("No such draw."))
    if not actor.has(Role.monitor):
        access.require_tender_agency(actor, tender)
    return _view(session, actor, draw_row, tender)


def monitor_draw(session: Session, actor: Actor, tender_id: int) -> ContributionView | None:
    """The monitors' view of a tender's latest draw (E48: they supervise the draw), None before any."""
    access.require_role(actor, Role.monitor)
    draw_row = session.scalars(
        select(Draw).where(Draw.tender_id == tender_id).order_by(Draw.id.desc()).limit(1)
    ).one_or_none()
    tender = session.get(Tender, tender_id)
    if draw_row is None or tender is None:
        return None
    return _view(session, actor, draw_row, tender)


def earlier_draws(session: Session, tender_id: int) -> list[Draw]:
    """The tender's draws that failed or were abandoned, oldest first."""
    return _ended_draws(session, tender_id)


def _expert_users(session: Session, expert_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Expert.id, Expert.user_id).where(Expert.id.in_(expert_ids), Expert.user_id.is_not(None))
    )
    return {expert_id: user_id for expert_id, user_id in rows if user_id is not None}


SEAT_MESSAGE = N_(
    "Evaluation committee sitting on %(date)s: please confirm or decline by %(respond_by)s "
    "(China Standard Time)"
)


def _specialty_names(session: Session, code: str) -> dict[str, str] | str:
    """A specialty by its name in both languages (a message parameter; the code is not for people)."""
    row = session.get(Specialty, code)
    return {"zh": row.name_zh, "en": row.name_en} if row is not None else code


def _notify_seats(session: Session, channel: Channel, draw_row: Draw, seats: list[Seat]) -> None:
    """Each drawn expert is told: in the product and by the channel when they have an account, else by
    e-mail when the pool holds an address (an expert with neither is reached by the centre's phone call, which
    staff record)."""
    users = _expert_users(session, [s.expert_id for s in seats])
    for seat in seats:
        params = {
            "date": draw_row.evaluation_date.isoformat(),
            "respond_by": clock.to_cst(seat.respond_by).strftime("%Y-%m-%d %H:%M") if seat.respond_by else "",
        }
        if seat.expert_id in users:
            tell(
                session,
                channel,
                {users[seat.expert_id]},
                "draw.seat",
                title=SEAT_MESSAGE,
                link="/expert/draws",
                params=params,
            )
        else:
            expert = session.get(Expert, seat.expert_id)
            if expert is not None:
                tell_address(session, channel, expert.email, expert.name, SEAT_MESSAGE, params=params)
        record(
            session,
            EvaluationTag.seat_notified,
            actor=SYSTEM,
            subject=f"draw:{draw_row.id}",
            details={"seat": seat.id, "respond_by": seat.respond_by.isoformat() if seat.respond_by else None},
        )


# ---------------------------------------------------------------- confirmations and substitutes


def _candidate_specialties(draw_row: Draw) -> dict[int, set[str]]:
    return {c["expert_id"]: set(c["specialties"]) for c in draw_row.candidates}


def _call_substitute(
    session: Session, channel: Channel, draw_row: Draw, vacated: Seat, now: datetime
) -> Seat | None:
    """R46, R48: a vacated seat goes to the next substitute in rank order who holds its specialty."""
    held = _candidate_specialties(draw_row)
    for seat in sorted(draw_row.seats, key=lambda s: s.position):
        if seat.status == SeatStatus.standby and vacated.specialty in held.get(seat.expert_id, set()):
            seat.status = SeatStatus.notified
            seat.specialty = vacated.specialty
            seat.replaces_seat_id = vacated.id
            seat.notified_at = now
            seat.respond_by = now + timedelta(hours=draw_row.confirm_hours)
            session.flush()
            record(
                session,
                EvaluationTag.seat_substituted,
                actor=SYSTEM,
                subject=f"draw:{draw_row.id}",
                details={"vacated_seat": vacated.id, "seat": seat.id, "specialty": vacated.specialty},
                confidential={"vacated_expert": vacated.expert_id, "expert": seat.expert_id},
            )
            _notify_seats(session, channel, draw_row, [seat])
            return seat
    tender = session.get(Tender, draw_row.tender_id)
    if tender is not None:
        agency_users = set(
            session.scalars(
                select(User.id).where(User.organisation_id == tender.agency_id, User.active.is_(True))
            )
        )
        tell(
            session,
            channel,
            agency_users,
            "draw.vacant",
            title=N_("%(reference)s: a committee seat (%(specialty)s) is vacant and no substitute is left"),
            params={"reference": tender.reference, "specialty": _specialty_names(session, vacated.specialty)},
            link=f"/agency/tenders/{tender.id}/draw",
        )
    return None


def _my_expert(session: Session, actor: Actor) -> Expert | None:
    """The pool entry of the acting expert; None when the account is not linked to one (yet)."""
    access.require_role(actor, Role.expert)
    return session.scalars(select(Expert).where(Expert.user_id == actor.user_id)).one_or_none()


def _my_seat(session: Session, actor: Actor, seat_id: int) -> tuple[Seat, Draw]:
    expert = _my_expert(session, actor)
    seat = session.get(Seat, seat_id, with_for_update=True)
    if (
        seat is None
        or expert is None
        or seat.expert_id != expert.id
        or seat.status in (SeatStatus.standby, SeatStatus.unused)
    ):
        # a substitute in standby has not been told of the draw, so the seat does not exist for them
        raise NotFound.one("seat_not_found", N_("No such committee seat among your draws."))
    tender_status = session.scalar(select(Tender.status).where(Tender.id == seat.draw.tender_id))
    if tender_status in FINAL:
        # the draw record is published once the tender is final: an answer now would change it after the fact
        raise Conflict.one(
            "seat_closed",
            N_(
                "This tender is closed (awarded, failed or cancelled): its "
                "committee seats take no more answers."
            ),
        )
    return seat, seat.draw


def respond(session: Session, actor: Actor, seat_id: int, accept: bool, channel: Channel) -> Seat:
    seat, draw_row = _my_seat(session, actor, seat_id)
    return take_answer(session, actor, seat, draw_row, accept, channel)


def take_answer(
    session: Session,
    actor: Actor,
    seat: Seat,
    draw_row: Draw,
    accept: bool,
    channel: Channel,
    details: dict[str, Any] | None = None,
) -> Seat:
    """A notified seat's answer, from the expert (respond) or taken by phone (committee.phone): confirmed,
    or declined and handed to the next substitute. `details`: what the audit entry adds (the phone call's
    record)."""
    now = clock.now()
    if seat.status != SeatStatus.notified:
        raise Conflict.one(
            "seat_not_awaiting",
            N_("This seat is not waiting for your answer any more (it is %(status)s)."),
            status=seat.status,
        )
    if seat.respond_by is not None and now > seat.respond_by:
        # the scheduler's sweep hands the seat to the next substitute within seconds
        raise Conflict.one(
            "seat_answer_late", N_("The time to answer has passed; the seat goes to a substitute.")
        )
    seat.responded_at = now
    if accept:
        seat.status = SeatStatus.confirmed
        record(
            session,
            EvaluationTag.seat_confirmed,
            actor=actor,
            subject=f"draw:{draw_row.id}",
            details={"seat": seat.id, **(details or {})},
            conceal_actor=True,
        )
    else:
        _vacate(session, channel, draw_row, seat, SeatStatus.declined, now, "", actor, details)
    return seat


def declare_conflict(session: Session, actor: Actor, seat_id: int, note: str, channel: Channel) -> Seat:
    """R46, R48: an expert who finds a conflict at check-in steps down and is replaced by the same random
    draw."""
    seat, draw_row = _my_seat(session, actor, seat_id)
    if seat.status not in (SeatStatus.notified, SeatStatus.confirmed):
        raise Conflict.one(
            "seat_not_held", N_("You do not hold this seat (it is %(status)s)."), status=seat.status
        )
    if not note.strip():
        raise ValidationFailed.one(
            "conflict_note_missing",
            N_("Say what the conflict is (for example, the bidder and your tie to it)."),
            "note",
        )
    _vacate(session, channel, draw_row, seat, SeatStatus.conflict, clock.now(), note.strip()[:2000], actor)
    return seat


def leave_seat(session: Session, actor: Actor, seat_id: int, note: str, channel: Channel) -> Seat:
    """R48: a confirmed member who leaves the evaluation (evaluation.room records why) gives up the seat; the
    next substitute is called by the same draw. Recorded as a seat given up (declined)."""
    seat, draw_row = _my_seat(session, actor, seat_id)
    if seat.status != SeatStatus.confirmed:
        raise Conflict.one(
            "seat_not_held", N_("You do not hold this seat (it is %(status)s)."), status=seat.status
        )
    _vacate(session, channel, draw_row, seat, SeatStatus.declined, clock.now(), note.strip()[:2000], actor)
    return seat


_VACATE_TAG = {
    SeatStatus.declined: EvaluationTag.seat_declined,
    SeatStatus.timed_out: EvaluationTag.seat_timed_out,
    SeatStatus.conflict: EvaluationTag.seat_conflict_declared,
}


def _vacate(
    session: Session,
    channel: Channel,
    draw_row: Draw,
    seat: Seat,
    status: SeatStatus,
    now: datetime,
    note: str,
    actor: Actor = SYSTEM,
    details: dict[str, Any] | None = None,
) -> None:
    seat.status = status
    seat.responded_at = now
    seat.note = note
    session.flush()
    record(
        session,
        _VACATE_TAG[status],
        actor=actor,
        subject=f"draw:{draw_row.id}",
        details={"seat": seat.id, **(details or {})},
        confidential={"note": note} if note else None,
        conceal_actor=actor is not SYSTEM,
    )
    _call_substitute(session, channel, draw_row, seat, now)


def sweep_timeouts(session: Session, channel: Channel, now: datetime | None = None) -> list[int]:
    """Seats not answered in time go to the next substitute. Safe to run twice: a swept seat is no longer
    notified."""
    now = now or clock.now()
    due = list(
        session.scalars(
            select(Seat)
            .join(Draw, Draw.id == Seat.draw_id)
            .join(Tender, Tender.id == Draw.tender_id)
            # a final tender's draw record is published: its seats no longer change (not even by timing out)
            .where(Seat.status == SeatStatus.notified, Seat.respond_by < now, Tender.status.notin_(FINAL))
            .order_by(Seat.id)
            .with_for_update(of=Seat)
        )
    )
    for seat in due:
        _vacate(session, channel, seat.draw, seat, SeatStatus.timed_out, now, "")
    return [s.id for s in due]


# ---------------------------------------------------------------- what each party sees


def specialty_choices(session: Session) -> list[Specialty]:
    return list(session.scalars(select(Specialty).order_by(Specialty.code)))


def open_for_draw(tender: Tender) -> bool:
    return (
        tender.bid_deadline is not None
        and clock.now() >= tender.bid_deadline
        and Status(tender.status) in OPEN_FOR_DRAW
    )


def counts(draw_row: Draw) -> SeatCounts:
    drawn = draw_row.committee_size - draw_row.representative_seats
    confirmed = sum(1 for s in draw_row.seats if s.status == SeatStatus.confirmed)
    awaiting = sum(1 for s in draw_row.seats if s.status == SeatStatus.notified)
    left = sum(1 for s in draw_row.seats if s.status == SeatStatus.standby)
    return SeatCounts(
        seats=drawn,
        confirmed=confirmed,
        awaiting=awaiting,
        vacant=max(0, drawn - confirmed - awaiting),
        substitutes_left=left,
    )


def tender_draw(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, Draw | None]:
    """The agency's view: the tender and its current draw, collecting contributions or made (the caller shows
    counts, never names before the result is final); None when there is none, or the last one failed or was
    abandoned."""
    tender = session.scalars(
        select(Tender).where(Tender.id == tender_id).options(selectinload(Tender.lots))
    ).one_or_none()
    if tender is None:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    access.require_tender_agency(actor, tender)
    draw_row = session.scalars(
        select(Draw)
        .where(Draw.tender_id == tender.id, Draw.status.notin_([s.value for s in ENDED]))
        .options(selectinload(Draw.seats))
        .order_by(Draw.id.desc())
        .limit(1)
    ).one_or_none()
    return tender, draw_row


@dataclass(frozen=True)
class MySeat:
    seat: Seat
    draw: Draw
    tender: Tender
    committee: list[str]  # names, once the tender is being evaluated and the seat is held; else empty


def my_seats(session: Session, actor: Actor) -> list[MySeat]:
    expert = _my_expert(session, actor)
    if expert is None:
        return []
    seats = list(
        session.scalars(
            select(Seat)
            .where(Seat.expert_id == expert.id, Seat.status != SeatStatus.unused)
            .order_by(Seat.id.desc())
        )
    )
    out = []
    for seat in seats:
        if seat.status == SeatStatus.standby:
            continue  # a substitute not called is not told: the standby list is confidential too
        draw_row = seat.draw
        tender = session.get(Tender, draw_row.tender_id)
        assert tender is not None
        names: list[str] = []
        if seat.status == SeatStatus.confirmed and Status(tender.status) in NAMES_TO_COMMITTEE:
            names = committee_names(session, draw_row)
        out.append(MySeat(seat, draw_row, tender, names))
    return out


def committee_names(session: Session, draw_row: Draw) -> list[str]:
    held = [s.expert_id for s in draw_row.seats if s.status in (SeatStatus.confirmed, SeatStatus.notified)]
    return list(session.scalars(select(Expert.name).where(Expert.id.in_(held)).order_by(Expert.name)))


# ---------------------------------------------------------------- the public record


def build_record(session: Session, draw_row: Draw) -> dict[str, Any]:
    tender = session.get(Tender, draw_row.tender_id)
    assert tender is not None
    request = pure.DrawRequest(
        request_id=draw_row.request_id,
        committee_size=draw_row.committee_size,
        quotas=[pure.Quota(q["specialty"], q["seats"]) for q in draw_row.quotas],
        substitutes=draw_row.substitutes,
        representative_seats=draw_row.representative_seats,
    )
    candidates = [pure.Candidate(c["expert_id"], tuple(c["specialties"])) for c in draw_row.candidates]
    exclusions = [pure.Exclusion(e.expert_id, e.reason, e.rule, e.detail) for e in draw_row.exclusions]
    server_seed = bytes.fromhex(draw_row.server_seed)
    entropy = bytes.fromhex(draw_row.public_entropy) if draw_row.public_entropy is not None else None
    initial = sorted((s for s in draw_row.seats), key=lambda s: s.position)
    drawn_members = [
        (s.expert_id, s.specialty if s.replaces_seat_id is None else _first(s, candidates, request))
        for s in initial
        if s.kind == SeatKind.member
    ]
    drawn_subs = [
        (s.expert_id, _first(s, candidates, request)) for s in initial if s.kind == SeatKind.substitute
    ]
    result = pure.DrawResult(
        seed=bytes.fromhex(draw_row.seed),
        ranking=pure.rank(bytes.fromhex(draw_row.seed), [c.expert_id for c in candidates]),
        members=drawn_members,
        substitutes=drawn_subs,
    )
    v1 = draw_row.algorithm_version == pure.ALGORITHM_V1
    contributions = None
    if not v1:
        contributions = [
            {
                "party": c.party,
                "commitment": c.commitment,
                "value": c.value,
                "committed_audit_index": c.committed_entry,
                "revealed_audit_index": c.revealed_entry,
            }
            for c in draw_row.contributions
        ]
    doc = pure.to_record(request, candidates, server_seed, entropy, result, exclusions, contributions)
    doc["draw"] = {
        "id": draw_row.id,
        "tender": tender.reference,
        "evaluation_date": draw_row.evaluation_date.isoformat(),
        "regions": list(draw_row.regions),
        "exclude_local": draw_row.exclude_local,
        "commitment_audit_index": draw_row.commitment_entry,
    }
    if not v1:
        # a draw given up or failed before this one is visible in the record, not only in the log
        doc["draw"]["abandoned_before"] = sum(
            1 for d in _ended_draws(session, tender.id) if d.id < draw_row.id
        )
    # L37, P8: the names become public with the final result
    sitting = [s for s in initial if s.status == SeatStatus.confirmed]
    rows = session.execute(
        select(Expert.id, Expert.name).where(Expert.id.in_([s.expert_id for s in sitting]))
    )
    names: dict[int, str] = {expert_id: name for expert_id, name in rows}
    doc["committee"] = [
        {"expert_id": s.expert_id, "name": names.get(s.expert_id, ""), "specialty": s.specialty}
        for s in sitting
    ]
    doc["confirmations"] = [
        {
            "expert_id": s.expert_id,
            "position": s.position,
            "kind": s.kind,
            "status": s.status,
            "specialty": s.specialty,
            "replaces_position": next((o.position for o in initial if o.id == s.replaces_seat_id), None),
        }
        for s in initial
    ]
    return doc


def _first(seat: Seat, candidates: list[pure.Candidate], request: pure.DrawRequest) -> str:
    """The specialty a seat was drawn for: the first quota, in request order, among its specialties."""
    held = next((set(c.specialties) for c in candidates if c.expert_id == seat.expert_id), set())
    return next((q.specialty for q in request.quotas if q.specialty in held), seat.specialty)


def record_digest(doc: dict[str, Any]) -> str:
    """The SHA-256 the publication entry logs (the verifier's definition: one definition of it)."""
    return pure.record_sha256(doc)


def publish_record(session: Session, draw_row: Draw) -> dict[str, Any]:
    """L37, P8: confidentiality ends with the final result; the server seed and the record become public."""
    if draw_row.record is not None:
        return draw_row.record
    doc = build_record(session, draw_row)
    draw_row.record = doc
    draw_row.status = DrawStatus.published
    draw_row.published_at = clock.now()
    # the SeatStatus values held now stay in the record; seats still in standby are reported as never called
    for seat in draw_row.seats:
        if seat.status == SeatStatus.standby:
            seat.status = SeatStatus.unused
    entry = record(
        session,
        EvaluationTag.draw_record_published,
        actor=SYSTEM,
        subject=f"draw:{draw_row.id}",
        details={
            "tender": draw_row.tender_id,
            "server_seed": draw_row.server_seed,
            "record_sha256": record_digest(doc),
        },
    )
    draw_row.record_entry = getattr(entry, "index", None)
    return doc


def publish_due_records(session: Session) -> list[int]:
    """The scheduler's sweep: publish the record of every draw whose tender has become final. Safe to run
    twice."""
    due = list(
        session.scalars(
            select(Draw)
            .join(Tender, Tender.id == Draw.tender_id)
            .where(
                Draw.record.is_(None),
                # only a draw that was made has a record; one still collecting, failed or abandoned has none
                Draw.status == DrawStatus.drawn,
                Tender.status.in_([s.value for s in FINAL]),
            )
            .order_by(Draw.id)
            .with_for_update(of=Draw)
        )
    )
    for draw_row in due:
        publish_record(session, draw_row)
    return [d.id for d in due]


def public_record(session: Session, draw_id: int, publish: bool = True) -> dict[str, Any]:
    """The published record. With publish=False (the public API, a read-only unit of work) a record whose
    tender has just become final and that the scheduler's sweep has not published yet is refused as
    pending."""
    draw_row = session.get(Draw, draw_id)
    if draw_row is None or draw_row.status not in (DrawStatus.drawn, DrawStatus.published):
        raise NotFound.one("draw_not_found", N_("No such draw."))
    tender = session.get(Tender, draw_row.tender_id)
    if tender is None or Status(tender.status) not in FINAL:
        raise Forbidden.one(
            "draw_record_not_public",
            N_(
                "The draw record is published when the tender's result is final (L37); it is still "
                "confidential."
            ),
            rule="L37",
        )
    if draw_row.record is None and not publish:
        raise Conflict.one(
            "draw_record_pending",
            N_("The result is final and the draw record is being published; try again in a minute."),
        )
    return publish_record(session, draw_row)


def sweep(session: Session, channel: Channel) -> None:
    sweep_timeouts(session, channel)
    publish_due_records(session)


def vacated(seat: Seat) -> bool:
    return SeatStatus(seat.status) in VACATED
