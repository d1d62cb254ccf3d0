"""The qualification and compliance review (the committee's first step, Step.review; R18-R20, R51): each
present member records pass or fail for every opened bid against every criterion, a fail with its R51 ground
and a reason; the committee decides each by majority and keeps the minority's reasons (rules.decide); the
chair closes the review once every present member has entered everything and no tie is left, and its outcome
(rules.outcome) is what the scoring step and the report read.

Independence (G87 art. 55, 62; E33): before the review is closed a member sees their own verdicts only, and
nobody else sees anyone's: the committee's tally is shown once it is closed; before that everyone allowed sees
the progress (how many members are done). A replaced member's verdicts stay, void (R48).

Services take a session and an actor and never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor
from evaluation.committee.models import Seat, SeatStatus
from evaluation.review import clarifications, rules
from evaluation.review.events import ReviewTag
from evaluation.review.models import ReviewVerdict
from evaluation.room import reading, sessions, steps
from evaluation.room.models import Attendance, AttendanceStatus, EvaluationSession, EvaluationStep, Step
from evaluation.room.steps import Working
from evaluation.scoring.formulas import LowPrice
from tender.models import Tender
from tender.notices import criteria_of


def criteria_for(tender: Tender) -> list[rules.Criterion]:
    c = criteria_of(tender)
    return rules.criteria(c.qualification, c.compliance)


def _verdict(v: ReviewVerdict) -> rules.Verdict:
    return rules.Verdict(v.seat_id, v.opened_bid_id, v.kind, v.criterion_index, v.passed, v.ground, v.reason)


def _verdicts(session: Session, sess: EvaluationSession, seat_id: int | None = None) -> list[ReviewVerdict]:
    query = select(ReviewVerdict).where(ReviewVerdict.session_id == sess.id)
    if seat_id is not None:
        query = query.where(ReviewVerdict.seat_id == seat_id)
    return list(session.scalars(query.order_by(ReviewVerdict.id)))


def _present(session: Session, sess: EvaluationSession) -> tuple[int, ...]:
    """The present members' seats (evaluation.room.sessions' rule: checked in, seat still confirmed)."""
    draw_row = sessions._draw(session, sess.tender_id)
    if draw_row is None:
        return ()
    return tuple(a.seat_id for a in sessions._present(sess, draw_row))


def _tally(
    session: Session, sess: EvaluationSession, tender: Tender, present: tuple[int, ...]
) -> rules.Tally:
    bids = [b["opened_bid"] for b in reading.opened_bids(session, tender.id)]
    return rules.tally(bids, criteria_for(tender), [_verdict(v) for v in _verdicts(session, sess)], present)


# ---------------------------------------------------------------- the member's page


@dataclass
class ReviewView:
    w: Working
    bids: list[dict[str, Any]]
    criteria: list[rules.Criterion]
    mine: dict[tuple[int, str, int], ReviewVerdict]  # my verdicts: (opened bid, kind, index) -> verdict
    low: dict[int, LowPrice]  # abnormally low prices, by opened bid
    low_explained: set[int]  # opened bids whose low price the bidder has explained (or let the deadline pass)
    requests: list[clarifications.RequestView]
    closed: EvaluationStep | None
    members_done: int
    members_total: int
    tally: rules.Tally | None = None  # only once the review is closed
    close_problems: list[Problem] = field(default_factory=list)  # for the chair
    # once every present member has entered everything: the criteria the members are evenly divided on, for
    # the committee to discuss (the split is then the committee's matter, no longer one member's view before
    # the others have entered theirs)
    ties: list[tuple[int, rules.Criterion]] = field(default_factory=list)
    now: datetime = field(default_factory=clock.now)

    @property
    def open(self) -> bool:
        return self.closed is None

    def bid_done(self, bid: int) -> bool:
        return all((bid, *c.key) in self.mine for c in self.criteria)


def review_view(session: Session, actor: Actor, tender_id: int) -> ReviewView:
    """The member's review page: their own verdicts, the abnormally low prices with their figures, the
    clarification requests; the committee's tally once the review is closed."""
    w = steps.working_member(session, actor, tender_id, lock=False)
    closed = steps.closed_steps(session, w.session)
    bids = reading.opened_bids(session, w.tender.id)
    crits = criteria_for(w.tender)
    mine = {(v.opened_bid_id, v.kind, v.criterion_index): v for v in _verdicts(session, w.session, w.seat.id)}
    outcome = closed.get(Step.review)
    # P21: during the review every opened bid is compared; once closed, the valid ones (the rejected ones
    # are no yardstick for the others)
    compared = (
        bids if outcome is None else [b for b in bids if b["opened_bid"] in set(outcome.outcome["valid"])]
    )
    view = ReviewView(
        w=w,
        bids=bids,
        criteria=crits,
        mine=mine,
        low=rules.low_prices(compared),
        low_explained=clarifications.explained_bids(session, w.session),
        requests=clarifications.of_session(session, w.session),
        closed=outcome,
        members_done=0,
        members_total=len(w.present),
    )
    # once closed, the tally of the members present at the closing (the outcome's), whoever left since
    counted = w.present if outcome is None else tuple(sorted(_seats_counted(session, w.session, outcome)))
    t = _tally(session, w.session, w.tender, counted)
    view.members_done = sum(1 for n in t.missing.values() if not n)
    if outcome is not None:
        # the committee's review results (Fact.scores: the committee during the evaluation, L37, E33)
        if sessions._may_see(session, actor, w.tender, w.seat, Fact.scores):
            view.tally = t
    else:
        view.ties = t.ties if t.complete else []
        if w.chair:
            view.close_problems = _close_problems(session, w, t)
    return view


def _close_problems(session: Session, w: Working, t: rules.Tally) -> list[Problem]:
    open_n, unassessed = clarifications.pending_counts(session, w.session)
    return [
        Problem(code, message, None, params)
        for code, message, params in rules.close_problems(t, open_n, unassessed)
    ]


# ---------------------------------------------------------------- a member's verdicts


@dataclass(frozen=True)
class VerdictInput:
    kind: str
    index: int
    passed: bool | None  # None: not entered (left for later)
    ground: str = ""
    reason: str = ""


def field_name(what: str, c: rules.Criterion) -> str:
    """The form's field for one criterion's verdict, ground or reason ("verdict-qualification-0")."""
    return f"{what}-{c.kind}-{c.index}"


def save_verdicts(
    session: Session, actor: Actor, tender_id: int, opened_bid_id: int, entries: list[VerdictInput]
) -> list[ReviewVerdict]:
    """A present member saves their verdicts on one opened bid (those they have entered; the others wait).
    No update lock on the session (steps.working_member lock=False): nine members save at once."""
    w = steps.working_member(session, actor, tender_id, lock=False)
    # a shared lock: members' saves do not wait for each other, but a save and the chair's closing (which
    # takes the row's update lock) are one after the other, so no verdict changes once the outcome is taken
    session.execute(
        select(EvaluationSession.id).where(EvaluationSession.id == w.session.id).with_for_update(read=True)
    )
    steps.require_open(session, w, Step.review)
    bids = {b["opened_bid"]: b for b in reading.opened_bids(session, w.tender.id)}
    if opened_bid_id not in bids:
        raise NotFound.one("review_bid_not_found", N_("No such opened bid of this tender."))
    attendance = next(
        a for a in w.session.attendances if a.seat_id == w.seat.id and a.status == AttendanceStatus.present
    )
    crits = {c.key: c for c in criteria_for(w.tender)}
    explained = opened_bid_id in clarifications.explained_bids(session, w.session)
    problems: list[Problem] = []
    wanted: list[tuple[rules.Criterion, VerdictInput]] = []
    for e in entries:
        c = crits.get((e.kind, e.index))
        if c is None or e.passed is None:
            continue
        for code, message, which in rules.verdict_problems(e.passed, e.ground, e.reason, not explained):
            problems.append(Problem(code, message, field_name(which, c)))
        if len(e.reason) > rules.REASON_MAX:
            problems.append(
                Problem(
                    "review_reason_long",
                    N_("The reason is too long: at most %(n)s characters."),
                    field_name("reason", c),
                    {"n": rules.REASON_MAX},
                )
            )
        wanted.append((c, e))
    if problems:
        raise ValidationFailed(problems)
    if not wanted:
        raise ValidationFailed.one(
            "review_nothing_entered", N_("Choose pass or fail for at least one criterion, then save.")
        )
    mine = {
        (v.kind, v.criterion_index): v
        for v in _verdicts(session, w.session, w.seat.id)
        if v.opened_bid_id == opened_bid_id
    }
    now = clock.now()
    saved = []
    for c, e in wanted:
        assert e.passed is not None
        ground = e.ground if not e.passed else ""
        row = mine.get(c.key)
        if row is None:
            row = _insert(session, w, attendance, opened_bid_id, c, e.passed, ground, e.reason.strip(), now)
        else:
            row.passed, row.ground, row.reason, row.changed_at = e.passed, ground, e.reason.strip(), now
            row.attendance_id = attendance.id
        saved.append(row)
    session.flush()
    record(
        session,
        ReviewTag.review_verdicts_saved,
        actor=actor,
        subject=w.subject,
        details={"session": w.session.id, "opened_bid": opened_bid_id, "verdicts": len(saved)},
        # G87 art. 55, 62: independent until the committee decides; E49: still recorded, with the member
        confidential={
            "seat": w.seat.id,
            "verdicts": [
                {"kind": r.kind, "index": r.criterion_index, "passed": r.passed, "ground": r.ground}
                for r in saved
            ],
        },
        conceal_actor=True,
    )
    return saved


def _insert(
    session: Session,
    w: Working,
    attendance: Attendance,
    opened_bid_id: int,
    c: rules.Criterion,
    passed: bool,
    ground: str,
    reason: str,
    now: datetime,
) -> ReviewVerdict:
    row = ReviewVerdict(
        session_id=w.session.id,
        seat_id=w.seat.id,
        attendance_id=attendance.id,
        opened_bid_id=opened_bid_id,
        kind=c.kind,
        criterion_index=c.index,
        criterion=c.text,
        passed=passed,
        ground=ground,
        reason=reason,
        entered_at=now,
        changed_at=now,
    )
    try:
        with session.begin_nested():  # the same member's second tab saved the same verdict first
            session.add(row)
            session.flush()
    except IntegrityError:
        row = session.scalars(
            select(ReviewVerdict).where(
                ReviewVerdict.session_id == w.session.id,
                ReviewVerdict.seat_id == w.seat.id,
                ReviewVerdict.opened_bid_id == opened_bid_id,
                ReviewVerdict.kind == c.kind,
                ReviewVerdict.criterion_index == c.index,
            )
        ).one()
        row.passed, row.ground, row.reason, row.changed_at = passed, ground, reason, now
    return row


# ---------------------------------------------------------------- closing the review


def close_review(session: Session, actor: Actor, tender_id: int) -> EvaluationStep:
    """The chair closes the review with its outcome (rules.outcome) once every present member has entered
    every verdict, no tie is left and every clarification is answered (or past its deadline) and assessed."""
    w = steps.working_member(session, actor, tender_id, lock=True)
    if not w.chair:
        raise Forbidden.one("step_not_chair", steps.STEP_REFUSALS["step_not_chair"])
    steps.require_open(session, w, Step.review)
    t = _tally(session, w.session, w.tender, w.present)
    problems = _close_problems(session, w, t)
    if problems:
        raise Conflict(problems)
    ids = [r.id for r in clarifications.requests_of(session, w.session)]
    return steps.close(session, actor, w, Step.review, rules.outcome(t, ids))


# ---------------------------------------------------------------- for the other steps and the report


def progress(session: Session, sess: EvaluationSession) -> tuple[int, int]:
    """(members done, members present): how many present members have entered every verdict. Counts only: for
    the progress everybody allowed sees (Fact.evaluation_progress)."""
    tender = session.get(Tender, sess.tender_id)
    assert tender is not None
    present = _present(session, sess)
    t = _tally(session, sess, tender, present)
    return sum(1 for n in t.missing.values() if not n), len(present)


def outcome_of(session: Session, sess: EvaluationSession) -> dict[str, Any] | None:
    """The closed review's outcome (rules.outcome), or None while it is open."""
    row = steps.closed_steps(session, sess).get(Step.review)
    return dict(row.outcome) if row is not None else None


def report_section(session: Session, sess: EvaluationSession) -> dict[str, Any]:
    """The review's section of the evaluation report (JSON-able): the criteria; each opened bid's outcome per
    criterion with every counted member's verdict by seat, the reasons and the minority's dissent; the void
    verdicts of replaced members; the clarification requests with question, answer, times and assessment.

    Read from the closed step: the members counted are those present when the chair closed it (the verdicts of
    a member replaced before then are void)."""
    tender = session.get(Tender, sess.tender_id)
    assert tender is not None
    row = steps.closed_steps(session, sess).get(Step.review)
    crits = criteria_for(tender)
    all_verdicts = _verdicts(session, sess)
    if row is not None:
        counted_seats = tuple(sorted(_seats_counted(session, sess, row)))
    else:
        counted_seats = _present(session, sess)
    bids = reading.opened_bids(session, tender.id)
    t = rules.tally(
        [b["opened_bid"] for b in bids], crits, [_verdict(v) for v in all_verdicts], counted_seats
    )
    outcome = dict(row.outcome) if row is not None else None
    bid_rows = []
    for b in bids:
        ob = b["opened_bid"]
        per = []
        for c in crits:
            d = t.decisions[(ob, *c.key)]
            per.append(
                {
                    "criterion": c.text,
                    "kind": c.kind,
                    "outcome": {True: "pass", False: "fail", None: "undecided"}[d.outcome],
                    "ground": d.ground if d.outcome is False else "",
                    "for": len(d.passes),
                    "against": len(d.fails),
                    "verdicts": [
                        {"seat": v.seat, "passed": v.passed, "ground": v.ground, "reason": v.reason}
                        for v in sorted(d.passes + d.fails, key=lambda v: v.seat)
                    ],
                    "dissent": [{"seat": v.seat, "reason": v.reason} for v in d.minority],
                }
            )
        bid_rows.append(
            {
                "opened_bid": ob,
                "lot": b["lot"],
                "bidder": b["bidder"],
                "valid": t.bid_valid(ob),
                "criteria": per,
            }
        )
    void = [
        {
            "seat": v.seat_id,
            "opened_bid": v.opened_bid_id,
            "criterion": v.criterion,
            "kind": v.kind,
            "passed": v.passed,
            "ground": v.ground,
            "reason": v.reason,
        }
        for v in all_verdicts
        if v.seat_id not in counted_seats
    ]
    return {
        "closed": row is not None,
        "closed_at": row.closed_at.isoformat() if row is not None else None,
        "closed_by_seat": row.closed_by_seat_id if row is not None else None,
        "members": list(counted_seats),
        "criteria": [{"criterion": c.text, "kind": c.kind} for c in crits],
        "grounds": dict(rules.GROUNDS),
        "bids": bid_rows,
        "outcome": outcome,
        "void_verdicts": void,
        "clarifications": [clarifications.as_report(r) for r in clarifications.requests_of(session, sess)],
    }


def _seats_counted(session: Session, sess: EvaluationSession, row: EvaluationStep) -> set[int]:
    """The seats present when the review was closed: checked in before its closing and not left before it, the
    seat still held then (a seat given up records when: Seat.responded_at)."""
    closed_at = clock.as_utc(row.closed_at)
    out = set()
    rows = session.execute(
        select(Attendance, Seat)
        .join(Seat, Seat.id == Attendance.seat_id)
        .where(Attendance.session_id == sess.id)
    ).all()
    for a, seat in rows:
        if clock.as_utc(a.checked_in_at) > closed_at:
            continue
        if a.left_at is not None and clock.as_utc(a.left_at) <= closed_at:
            continue
        given_up = seat.status != SeatStatus.confirmed
        if given_up and (seat.responded_at is None or clock.as_utc(seat.responded_at) <= closed_at):
            continue
        out.add(a.seat_id)
    return out
