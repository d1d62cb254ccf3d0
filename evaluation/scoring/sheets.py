"""The members' score sheets (issue 13 step 3; G87 art. 55, 62, 64): once the review is closed, each present
member scores every valid bid on every factor of the tender's criteria, alone.

- Saves come as the member types (the page's autosave): each entry checked (formulas.check_entry), the
  refused ones reported in the member's language, the others of the same save kept. A member's saves lock
  their own sheet only (steps.working_member(lock=False)): nine members typing never wait on each other.
  Drafts are not audited one by one (like a bid's upload chunks): the sheet's first save is, and its
  submission commits to every score by the sheet's digest (formulas.sheet_digest) in the audit log.
- Independence (G87 art. 62, L37, E33): until every present member has submitted, a member sees their own
  sheet only and everybody else (the other members, the agency, the purchaser, monitors, the public) sees the
  progress: members finished n/m (progress()).
- A replaced member's sheet stays, void (R48): its seat is no longer present; the replacement scores on a
  sheet of their own.
- The tie lottery (etender-tie-1, formulas.tie_seed): the server seed is made when scoring opens (the first
  sheet) and its commitment logged before any sheet can be submitted; ranking.close_ranking reveals it.
- After the summary (every present member submitted) the four checks run (formulas.checks); a score changes
  only for a flag of the member's, with the reason, old and new value (FlagAction and one audit entry); an
  abnormally high or low score may instead be confirmed with a reason.

Services take a session and an actor and never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import record
from core import clock, fairdraw
from core.disclosure import Fact
from core.errors import N_, Conflict, Problem, ValidationFailed
from core.identity import Actor
from evaluation.committee.models import Draw
from evaluation.room import reading, sessions, steps
from evaluation.room.models import EvaluationSession, EvaluationStep, Step
from evaluation.scoring import formulas, prices
from evaluation.scoring.events import ScoringTag
from evaluation.scoring.models import FlagAction, PriceCorrection, ScoreEntry, ScoreSheet, ScoringSeed
from tender.models import Tender
from tender.notices import Factor, criteria_of

MAX_ENTRIES_PER_SAVE = 5000  # a whole sheet of 50 bids × 100 factors fits in one save

ENTRY_MESSAGES = {
    "score_not_number": N_("Enter the score for %(factor)s as a number, for example 7.5."),
    "score_not_finite": N_("Enter the score for %(factor)s as a number, for example 7.5."),
    "score_decimals": N_("A score for %(factor)s has at most 2 decimals."),
    "score_negative": N_("A score for %(factor)s is from 0 to %(points)s points."),
    "score_above_points": N_("A score for %(factor)s is from 0 to %(points)s points."),
    "score_unknown_cell": N_("This bid or factor is not on your sheet; reload the page."),
}

REFUSALS = {
    "scoring_submitted": N_(
        "Your sheet is submitted and no longer changes; after the summary a flagged score is changed with "
        "its reason."
    ),
    "scoring_incomplete": N_("Score every bid on every factor before you submit: %(n)s scores are missing."),
    "scoring_not_summarised": N_("The summary is made once every present member has submitted their sheet."),
    "scoring_no_flag": N_(
        "After the summary a score changes only where the checks flagged it; this one is not flagged."
    ),
    "scoring_reason": N_("Give the reason."),
    "scoring_not_abnormal": N_(
        "Only an abnormally high or low score is confirmed with a reason; correct this one."
    ),
    "scoring_same_value": N_("The corrected score is the score already on your sheet: enter the new score."),
}


def field_name(bid_id: int, factor_index: int) -> str:
    """The form field (and problem field) of a cell of the sheet."""
    return f"score-{bid_id}-{factor_index}"


def _h(value: Decimal | int) -> int:
    return int(Decimal(value) * 100)


def _d(hundredths: int) -> Decimal:
    return Decimal(hundredths).scaleb(-2)


# ---------------------------------------------------------------- the step's facts


@dataclass
class Context:
    w: steps.Working
    closed: dict[Step, EvaluationStep]
    factors: list[Factor]
    bids: list[int]  # the valid bids (the review's outcome), ascending


def valid_bids(closed: dict[Step, EvaluationStep]) -> list[int]:
    review = closed.get(Step.review)
    raw = (review.outcome or {}).get("valid", []) if review is not None else []
    return sorted(int(b) for b in raw if isinstance(b, int) and not isinstance(b, bool))


def _context(
    session: Session,
    actor: Actor,
    tender_id: int,
    lock: bool,
    need_open: bool = True,
    share: bool = False,
    working: steps.Working | None = None,
) -> Context:
    # `working`: the caller's own steps.working_member(lock=False) of this unit of work (the autosave's
    # handler asks it first), not asked twice: it is half of a save's statements (bench/evaluation_saves.py)
    assert working is None or (not lock and working.tender.id == tender_id)
    w = working or steps.working_member(session, actor, tender_id, lock=lock)
    if share:
        # a member's own saves and submission take the session row's shared lock: they never wait for each
        # other, but a save and the chair's decisions (the row's update lock: price corrections, closing) are
        # one after the other, so nothing changes under a decision once it is taken
        session.execute(
            select(EvaluationSession.id)
            .where(EvaluationSession.id == w.session.id)
            .with_for_update(read=True)
        )
    closed = (
        steps.require_open(session, w, Step.scoring) if need_open else steps.closed_steps(session, w.session)
    )
    return Context(w, closed, criteria_of(w.tender).factors, valid_bids(closed))


def require_member(session: Session, actor: Actor, tender_id: int) -> steps.Working:
    """The acting member at work in this tender's room, or the room's refusal (steps.working_member)."""
    return steps.working_member(session, actor, tender_id, lock=False)


def _present(session: Session, sess: EvaluationSession) -> list[int]:
    draw_row = session.get(Draw, sess.draw_id)
    assert draw_row is not None
    return [a.seat_id for a in sessions._present(sess, draw_row)]


def _sheets(session: Session, sess: EvaluationSession) -> list[ScoreSheet]:
    return list(
        session.scalars(select(ScoreSheet).where(ScoreSheet.session_id == sess.id).order_by(ScoreSheet.id))
    )


def progress(session: Session, sess: EvaluationSession) -> tuple[int, int]:
    """(members who submitted, members present): what everybody allowed to see the evaluation's progress
    sees of the scoring (counts, never names or scores)."""
    present = set(_present(session, sess))
    submitted = session.scalars(
        select(ScoreSheet.seat_id).where(
            ScoreSheet.session_id == sess.id, ScoreSheet.submitted_at.is_not(None)
        )
    ).all()
    return len(present & set(submitted)), len(present)


def all_submitted(session: Session, sess: EvaluationSession) -> bool:
    done, total = progress(session, sess)
    return total > 0 and done == total


# ---------------------------------------------------------------- the seed and the member's sheet


def seed_of(session: Session, sess: EvaluationSession) -> ScoringSeed | None:
    return session.scalars(select(ScoringSeed).where(ScoringSeed.session_id == sess.id)).one_or_none()


def ensure_seed(session: Session, actor: Actor, w: steps.Working) -> ScoringSeed:
    """The session's server seed, made (and its commitment logged) on the first call: scoring opens."""
    found = seed_of(session, w.session)
    if found is not None:
        return found
    server_seed = secrets.token_bytes(32)
    row = ScoringSeed(
        session_id=w.session.id,
        server_seed=server_seed.hex(),
        commitment=fairdraw.commitment(server_seed).hex(),
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():  # two members' first saves at once: the first one's seed counts
            session.add(row)
            session.flush()
    except IntegrityError:
        found = seed_of(session, w.session)
        assert found is not None
        return found
    record(
        session,
        ScoringTag.seed_committed,
        actor=actor,
        subject=w.subject,
        details={"session": w.session.id, "protocol": formulas.TIE_PROTOCOL, "commitment": row.commitment},
        conceal_actor=True,
    )
    return row


def _my_sheet(session: Session, w: steps.Working, lock: bool) -> ScoreSheet | None:
    query = select(ScoreSheet).where(ScoreSheet.session_id == w.session.id, ScoreSheet.seat_id == w.seat.id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def _sheet_for_work(session: Session, actor: Actor, w: steps.Working) -> ScoreSheet:
    """The member's own sheet, locked (their saves and their submission one after the other), made on the
    first save."""
    sheet = _my_sheet(session, w, lock=True)
    if sheet is not None:
        return sheet
    ensure_seed(session, actor, w)
    now = clock.now()
    try:
        with session.begin_nested():  # the same member's two tabs saving at once
            session.add(ScoreSheet(session_id=w.session.id, seat_id=w.seat.id, created_at=now, saved_at=now))
            session.flush()
    except IntegrityError:
        pass
    else:
        record(
            session,
            ScoringTag.sheet_started,
            actor=actor,
            subject=w.subject,
            details={"session": w.session.id},
            conceal_actor=True,
        )
    sheet = _my_sheet(session, w, lock=True)
    assert sheet is not None
    return sheet


def scores_of(sheet: ScoreSheet) -> dict[int, dict[str, Decimal]]:
    """bid id -> factor name -> score: the sheet as formulas reads it."""
    out: dict[int, dict[str, Decimal]] = {}
    for e in sheet.entries:
        out.setdefault(e.bid_id, {})[e.factor] = _d(e.hundredths)
    return out


# ---------------------------------------------------------------- saving as the member types


@dataclass(frozen=True)
class EntryIn:
    bid_id: int
    factor_index: int  # the factor's place in the criteria (the page's column)
    value: Any  # a number or its text; None or "" clears the cell


@dataclass
class Saved:
    saved: list[str]  # the fields saved (field_name)
    problems: list[Problem]  # the refused ones, each naming its field
    saved_at: datetime


def _entry_problem(code: str, f: Factor | None, cell: str) -> Problem:
    params = {"factor": f.name, "points": formulas.round2(formulas.exact(f.points))} if f else {}
    return Problem(code, ENTRY_MESSAGES[code], cell, params, "G87 art. 64")


def save(
    session: Session,
    actor: Actor,
    tender_id: int,
    entries: list[EntryIn],
    working: steps.Working | None = None,
) -> Saved:
    """Save some of the member's scores (one or many cells; saving the same value again changes nothing).
    The refused cells are in Saved.problems; the others are saved all the same. `working`: require_member's
    answer in this unit of work, when the caller has it already."""
    c = _context(session, actor, tender_id, lock=False, share=True, working=working)
    if len(entries) > MAX_ENTRIES_PER_SAVE:
        raise ValidationFailed.one(
            "scoring_too_many", N_("Save at most %(n)s scores at once."), n=MAX_ENTRIES_PER_SAVE
        )
    sheet = _sheet_for_work(session, actor, c.w)
    if sheet.submitted_at is not None:
        raise Conflict.one("scoring_submitted", REFUSALS["scoring_submitted"])
    bids = set(c.bids)
    cells = {(e.bid_id, e.factor): e for e in sheet.entries}
    now = clock.now()
    out = Saved([], [], now)
    for item in entries:
        cell = field_name(item.bid_id, item.factor_index)
        f = c.factors[item.factor_index] if 0 <= item.factor_index < len(c.factors) else None
        if f is None or item.bid_id not in bids:
            out.problems.append(_entry_problem("score_unknown_cell", None, cell))
            continue
        value = item.value.strip() if isinstance(item.value, str) else item.value
        existing = cells.get((item.bid_id, f.name))
        if value is None or value == "":
            if existing is not None:
                sheet.entries.remove(existing)
                del cells[(item.bid_id, f.name)]
            out.saved.append(cell)
            continue
        error = formulas.check_entry(f.points, value)
        if error is not None:
            out.problems.append(_entry_problem(error, f, cell))
            continue
        h = int(formulas.exact(value) * 100)
        if existing is None:
            entry = ScoreEntry(bid_id=item.bid_id, factor=f.name, hundredths=h, saved_at=now)
            sheet.entries.append(entry)
            cells[(item.bid_id, f.name)] = entry
        elif existing.hundredths != h:
            existing.hundredths, existing.saved_at = h, now
        out.saved.append(cell)
    sheet.saved_at = now
    session.flush()
    return out


def _missing(c: Context, sheet: ScoreSheet | None) -> int:
    have = {(e.bid_id, e.factor) for e in sheet.entries} if sheet else set()
    return sum(1 for b in c.bids for f in c.factors if (b, f.name) not in have)


def submit(session: Session, actor: Actor, tender_id: int) -> ScoreSheet:
    """The member submits their sheet, once and complete: its digest goes into the audit log (the scores do
    not), so that no sheet changes silently afterwards."""
    c = _context(session, actor, tender_id, lock=False, share=True)
    sheet = _sheet_for_work(session, actor, c.w)
    if sheet.submitted_at is not None:
        raise Conflict.one("scoring_submitted", REFUSALS["scoring_submitted"])
    missing = _missing(c, sheet)
    if missing:
        raise ValidationFailed.one("scoring_incomplete", REFUSALS["scoring_incomplete"], n=missing)
    ensure_seed(session, actor, c.w)  # made with the sheet; the commitment precedes every submission
    sheet.digest = formulas.sheet_digest(scores_of(sheet)).hex()
    sheet.submitted_at = clock.now()
    session.flush()
    record(
        session,
        ScoringTag.sheet_submitted,
        actor=actor,
        subject=c.w.subject,
        details={"session": c.w.session.id, "sheet": sheet.id, "digest": sheet.digest},
        conceal_actor=True,
    )
    return sheet


# ---------------------------------------------------------------- the summary and the checks


@dataclass
class FlagView:
    flag: formulas.Flag
    seat_id: int
    factor_index: int
    resolved: bool  # objective differences never are: the members correct until they agree
    confirmation: FlagAction | None = None


@dataclass
class Checked:
    """The summary of the present members' submitted sheets and the four checks' flags."""

    members: list[int]  # seat ids
    sheets: dict[int, ScoreSheet]
    summary: formulas.Summary | None  # None without valid bids
    flags: list[FlagView]
    price: dict[str, Any]  # prices.price_workings

    @property
    def unresolved(self) -> list[FlagView]:
        return [f for f in self.flags if not f.resolved]


def _actions(session: Session, sheet_ids: list[int]) -> list[FlagAction]:
    if not sheet_ids:
        return []
    return list(
        session.scalars(select(FlagAction).where(FlagAction.sheet_id.in_(sheet_ids)).order_by(FlagAction.id))
    )


def checked(
    session: Session,
    tender: Tender,
    sess: EvaluationSession,
    bids: list[int],
    members: list[int] | None = None,
) -> Checked:
    """The summary and the flags, once every present member has submitted (call all_submitted first), over
    the sheets of `members` (seat ids; default: the members present now)."""
    present = _present(session, sess) if members is None else members
    by_seat = {s.seat_id: s for s in _sheets(session, sess)}
    sheets = {seat: by_seat[seat] for seat in present if seat in by_seat}
    factors = criteria_of(tender).factors
    price = prices.price_workings(session, tender, sess, bids)
    raw = {str(seat): scores_of(s) for seat, s in sheets.items()}
    summary = None
    flags: list[FlagView] = []
    if bids:
        summary = formulas.summary(raw, factors, {b: Fraction(price["scores_exact"][str(b)]) for b in bids})
        index = {f.name: i for i, f in enumerate(factors)}
        confirmations = {
            (a.sheet_id, a.bid_id, a.factor, a.new_hundredths): a
            for a in _actions(session, [s.id for s in sheets.values()])
            if a.action == "confirmed"
        }
        for flag in formulas.checks(raw, factors):
            seat = int(flag.member) if flag.member is not None else 0
            view = FlagView(flag, seat, index.get(flag.factor or "", -1), False)
            if flag.kind in (formulas.FLAG_HIGH, formulas.FLAG_LOW) and seat in sheets:
                value = raw[str(seat)][flag.bid_id][flag.factor or ""]
                key = (sheets[seat].id, flag.bid_id, flag.factor or "", _h(value))
                view.confirmation = confirmations.get(key)
                view.resolved = view.confirmation is not None
            flags.append(view)
    return Checked(present, sheets, summary, flags, price)


def _flag_context(
    session: Session, actor: Actor, tender_id: int, bid_id: int, factor_index: int
) -> tuple[Context, ScoreSheet, FlagView]:
    c = _context(session, actor, tender_id, lock=True)  # flags depend on every sheet: one after the other
    if not all_submitted(session, c.w.session):
        raise Conflict.one("scoring_not_summarised", REFUSALS["scoring_not_summarised"])
    result = checked(session, c.w.tender, c.w.session, c.bids)
    factor = c.factors[factor_index].name if 0 <= factor_index < len(c.factors) else None
    allowing = (
        formulas.may_change([f.flag for f in result.flags], str(c.w.seat.id), bid_id, factor)
        if factor is not None
        else None
    )
    if allowing is None:
        raise Conflict.one("scoring_no_flag", REFUSALS["scoring_no_flag"])
    sheet = _my_sheet(session, c.w, lock=True)
    assert sheet is not None
    return c, sheet, next(f for f in result.flags if f.flag is allowing)


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ValidationFailed.one("scoring_reason", REFUSALS["scoring_reason"], "reason")
    return text[:2000]


def confirm_flag(
    session: Session, actor: Actor, tender_id: int, bid_id: int, factor_index: int, reason: str
) -> FlagAction:
    """G87 art. 64 (4): the member confirms an abnormally high or low score with the reason."""
    c, sheet, flag = _flag_context(session, actor, tender_id, bid_id, factor_index)
    if flag.flag.kind not in (formulas.FLAG_HIGH, formulas.FLAG_LOW):
        raise Conflict.one("scoring_not_abnormal", REFUSALS["scoring_not_abnormal"])
    text = _reason(reason)
    factor = c.factors[factor_index].name
    h = next(e.hundredths for e in sheet.entries if e.bid_id == bid_id and e.factor == factor)
    action = FlagAction(
        sheet_id=sheet.id,
        bid_id=bid_id,
        factor=factor,
        kind=flag.flag.kind,
        action="confirmed",
        old_hundredths=h,
        new_hundredths=h,
        reason=text,
        at=clock.now(),
    )
    session.add(action)
    session.flush()
    record(
        session,
        ScoringTag.flag_confirmed,
        actor=actor,
        subject=c.w.subject,
        details={"session": c.w.session.id, "sheet": sheet.id, "flag": flag.flag.kind},
        confidential={"bid": bid_id, "factor": factor, "reason": text},
        conceal_actor=True,
    )
    return action


def correct_score(
    session: Session, actor: Actor, tender_id: int, bid_id: int, factor_index: int, value: Any, reason: str
) -> FlagAction:
    """G87 art. 64: after the summary the member corrects a flagged score of theirs, with the reason; the
    old and new values go into the correction table and the sheet's new digest into the audit log."""
    c, sheet, flag = _flag_context(session, actor, tender_id, bid_id, factor_index)
    f = c.factors[factor_index]
    cell = field_name(bid_id, factor_index)
    text = value.strip() if isinstance(value, str) else value
    error = formulas.check_entry(f.points, text) if text not in (None, "") else "score_not_number"
    if error is not None:
        raise ValidationFailed([_entry_problem(error, f, cell)])
    why = _reason(reason)
    entry = next(e for e in sheet.entries if e.bid_id == bid_id and e.factor == f.name)
    h = int(formulas.exact(text) * 100)
    if h == entry.hundredths:
        raise ValidationFailed.one("scoring_same_value", REFUSALS["scoring_same_value"], cell)
    now = clock.now()
    action = FlagAction(
        sheet_id=sheet.id,
        bid_id=bid_id,
        factor=f.name,
        kind=flag.flag.kind,
        action="corrected",
        old_hundredths=entry.hundredths,
        new_hundredths=h,
        reason=why,
        at=now,
    )
    entry.hundredths, entry.saved_at = h, now
    session.add(action)
    session.flush()
    sheet.digest = formulas.sheet_digest(scores_of(sheet)).hex()
    sheet.saved_at = now
    session.flush()
    record(
        session,
        ScoringTag.score_corrected,
        actor=actor,
        subject=c.w.subject,
        details={
            "session": c.w.session.id,
            "sheet": sheet.id,
            "flag": flag.flag.kind,
            "digest": sheet.digest,
        },
        confidential={"bid": bid_id, "factor": f.name, "reason": why},
        conceal_actor=True,
    )
    return action


# ---------------------------------------------------------------- what the member's page shows


@dataclass
class SheetView:
    tender: Tender
    w: steps.Working
    step_open: bool  # the scoring step is open (the review closed, scoring not)
    step_closed: bool
    factors: list[Factor]
    bids: list[dict[str, Any]]  # reading.opened_bids' rows of the valid bids
    values: dict[str, str]  # field_name -> the saved score, as text
    sheet: ScoreSheet | None
    submitted: int
    members: int
    checked: Checked | None = None  # once every present member has submitted
    my_flags: list[FlagView] = field(default_factory=list)
    corrections: list[PriceCorrection] = field(default_factory=list)
    outcome: dict[str, Any] | None = None  # the ranking's, once closed
    scoring_outcome: dict[str, Any] | None = None

    @property
    def all_submitted(self) -> bool:
        return self.members > 0 and self.submitted == self.members


def view(session: Session, actor: Actor, tender_id: int) -> SheetView:
    """The member's scoring page: their own sheet (nobody else's scores before every present member has
    submitted), then the summary, their flags, and for the chair the price corrections and the closing."""
    c = _context(session, actor, tender_id, lock=False, need_open=False)
    step_open = steps.current_step(c.closed) is Step.scoring
    sheet = _my_sheet(session, c.w, lock=False)
    values: dict[str, str] = {}
    if sheet is not None:
        index = {f.name: i for i, f in enumerate(c.factors)}
        for e in sheet.entries:
            if e.factor in index:
                values[field_name(e.bid_id, index[e.factor])] = str(_d(e.hundredths))
    rows = {b["opened_bid"]: b for b in reading.opened_bids(session, c.w.tender.id)}
    done, total = progress(session, c.w.session)
    out = SheetView(
        tender=c.w.tender,
        w=c.w,
        step_open=step_open,
        step_closed=Step.scoring in c.closed,
        factors=c.factors,
        bids=[rows[b] for b in c.bids if b in rows],
        values=values,
        sheet=sheet,
        submitted=done,
        members=total,
    )
    if Step.review in c.closed:
        out.corrections = prices.corrections_of(session, c.w.session)
    # G87 art. 62: the summary once every present member has submitted, and only to whom the disclosure
    # policy shows scores (Fact.scores: the committee during the evaluation)
    scores_shown = sessions._may_see(session, actor, c.w.tender, c.w.seat, Fact.scores)
    if scores_shown and (out.all_submitted or Step.scoring in c.closed):
        out.checked = checked(session, c.w.tender, c.w.session, c.bids)
        out.my_flags = [f for f in out.checked.flags if f.seat_id == c.w.seat.id]
    if Step.scoring in c.closed:
        out.scoring_outcome = c.closed[Step.scoring].outcome
    if Step.ranking in c.closed:
        out.outcome = c.closed[Step.ranking].outcome
    return out


# ---------------------------------------------------------------- the report's section (evaluation.report)


def _iso(t: datetime | None) -> str | None:
    return clock.as_utc(t).isoformat() if t is not None else None


def report_section(session: Session, sess: EvaluationSession) -> dict[str, Any]:
    """Everything of the scoring the report shows, JSON-able: each sheet by seat (void ones marked: their
    member was replaced, R48) with its digest and submission time, the price workings with the corrections
    and adjustments and their reasons, the summary per bid, the flags and what became of them, and the
    changes after the summary (old, new, reason)."""
    tender = session.get(Tender, sess.tender_id)
    assert tender is not None
    closed = steps.closed_steps(session, sess)
    bids = valid_bids(closed)
    factors = criteria_of(tender).factors
    # the members counted: those present when the scoring was closed (its outcome), else those present now
    scoring = closed.get(Step.scoring)
    counted = scoring.outcome.get("members") if scoring is not None else None
    present = set(counted) if counted else set(_present(session, sess))
    all_sheets = _sheets(session, sess)
    actions = _actions(session, [s.id for s in all_sheets])
    seat_of = {s.id: s.seat_id for s in all_sheets}
    out: dict[str, Any] = {
        "method": tender.evaluation_method,
        "bids": bids,
        "factors": [{"name": f.name, "points": str(f.points), "kind": f.kind} for f in factors],
        "sheets": [
            {
                "seat": s.seat_id,
                "void": s.seat_id not in present,
                "submitted_at": _iso(s.submitted_at),
                "digest": s.digest or None,
                "scores": {
                    str(b): {k: str(v) for k, v in row.items()} for b, row in sorted(scores_of(s).items())
                },
            }
            for s in all_sheets
        ],
        "price": prices.price_workings(session, tender, sess, bids) if bids else None,
        "summary": None,
        "flags": [],
        "changes": [
            {
                "seat": seat_of[a.sheet_id],
                "bid": a.bid_id,
                "factor": a.factor,
                "flag": a.kind,
                "action": a.action,
                "old": str(_d(a.old_hundredths)),
                "new": str(_d(a.new_hundredths)),
                "reason": a.reason,
                "at": _iso(a.at),
            }
            for a in actions
        ],
    }
    seed = seed_of(session, sess)
    out["seed_commitment"] = seed.commitment if seed else None
    if bids and (counted or all_submitted(session, sess)):
        result = checked(session, tender, sess, bids, sorted(present))
        assert result.summary is not None
        out["summary"] = [
            {
                "bid": b,
                "member_sums": {str(k): str(v) for k, v in s.member_sums.items()},
                "factor_means": {k: str(v) for k, v in s.factor_means.items()},
                "price_score": str(s.price_score),
                "total": str(s.total),
            }
            for b, s in sorted(result.summary.bids.items())
        ]
        out["flags"] = [
            {
                "kind": f.flag.kind,
                "seat": f.seat_id,
                "bid": f.flag.bid_id,
                "factor": f.flag.factor,
                "figures": {k: str(v) for k, v in f.flag.figures.items()},
                "resolved": f.resolved,
                "confirmed_reason": f.confirmation.reason if f.confirmation else None,
            }
            for f in result.flags
        ]
    return out
