"""The timings and choices of the results' publicity, objections and complaints as plain functions: no
database, no clock (the caller passes `now`).

Calendar days are counted on dates in China Standard Time, as the law counts them (a period "within n days"
of an event starts the next day and ends at the end of its n-th day); working days on the State Council's
calendar (core.workdays). docs/results.md says the same in words."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from core.clock import CST, as_utc, to_cst
from core.workdays import workday_deadline

PUBLISH_WITHIN_DAYS = 3  # R54: the candidates are published within 3 days of receiving the report
PUBLICITY_DAYS = 3  # R54: for at least 3 days
OBJECTION_ANSWER_DAYS = 3  # R54: an objection during the publicity is answered within 3 days
MAX_CANDIDATES = 3  # R53: the report recommends 1 to 3 ranked candidates
# G87-69: a government-procurement result notice (中标/成交结果公告) is published within 2 working days of
# the winner being determined and stays up for 1 working day
RESULT_NOTICE_WITHIN_WORKDAYS = 2
RESULT_NOTICE_WORKDAYS = 1
COMPLAINT_DAYS = 10  # R60: a complaint within 10 days of knowing (or of having to know) the facts
ACCEPTANCE_WORKDAYS = 3  # R61: the supervisor decides whether to accept a complaint within 3 working days
DECISION_WORKDAYS = 30  # R61: and decides the case within 30 working days of accepting it
MAX_TEXT = 5000  # policy: an objection, a complaint or an answer is a text of at most this many characters


class Kind(enum.StrEnum):
    candidates = "candidates"  # 中标候选人公示 (R54)
    result = "result"  # government procurement: 中标/成交结果公告 (G87-69)


class Matter(enum.StrEnum):
    """What a complaint is about. For the first three an objection must have come first (R60)."""

    documents = "documents"  # the tender documents (R22)
    opening = "opening"  # the opening (R44)
    result = "result"  # the evaluation result, the candidates (R54)
    other = "other"  # anything else in the procedure (R60)


OBJECTION_FIRST = {Matter.documents: "R22", Matter.opening: "R44", Matter.result: "R54"}


class ComplaintStatus(enum.StrEnum):
    received = "received"  # awaiting the decision on acceptance (R61: 3 working days)
    rejected = "rejected"  # not accepted (out of time, no objection first, not a matter for complaint)
    accepted = "accepted"  # accepted: the case is decided within 30 working days (R61)
    decided = "decided"


class Outcome(enum.StrEnum):
    dismissed = "dismissed"  # 驳回: the complaint is unfounded
    upheld = "upheld"  # 成立: with its remedy


class Remedy(enum.StrEnum):
    """What the supervisor orders when a complaint is upheld (R61, R81); the platform carries it out."""

    re_evaluation = "re_evaluation"  # the committee evaluates again: the tender goes back to evaluation
    new_candidate = "new_candidate"  # the candidate at fault is dropped: publicity again with the next ones
    re_tender = "re_tender"  # the tender fails and is tendered again
    cancellation = "cancellation"  # the procedure is cancelled


def end_of_day(day: date) -> datetime:
    return as_utc(datetime.combine(day, time.max, CST))


def after_days(moment: datetime, days: int) -> datetime:
    """The end (CST) of the `days`-th calendar day after `moment`'s day."""
    return end_of_day(to_cst(moment).date() + timedelta(days=days))


def publish_due(kind: Kind, report_signed_at: datetime) -> datetime:
    """The last moment to publish: R54 (3 days of the report) or G87-69 (2 working days)."""
    if kind is Kind.result:
        return workday_deadline(report_signed_at, RESULT_NOTICE_WITHIN_WORKDAYS)
    return after_days(report_signed_at, PUBLISH_WITHIN_DAYS)


def publicity_ends(kind: Kind, published_at: datetime) -> datetime:
    """The earliest end of the publicity: R54 (at least 3 days) or G87-69 (1 working day)."""
    if kind is Kind.result:
        return workday_deadline(published_at, RESULT_NOTICE_WORKDAYS)
    return after_days(published_at, PUBLICITY_DAYS)


def objection_open(now: datetime, published_at: datetime, ends_at: datetime) -> bool:
    """R54: objections to the result are raised during the publicity."""
    return published_at <= now <= ends_at


def objection_answer_due(raised_at: datetime) -> datetime:
    """R54: the answer within 3 days of the objection."""
    return after_days(raised_at, OBJECTION_ANSWER_DAYS)


def award_may_follow(now: datetime, ends_at: datetime, open_objections: int) -> bool:
    """R54: no award before the publicity has run its course, nor while an objection awaits its answer."""
    return now > ends_at and open_objections == 0


def complaint_deadline(known_on: date) -> datetime:
    """R60: the last moment for a complaint, 10 days from the day the complainant knew the facts."""
    return end_of_day(known_on + timedelta(days=COMPLAINT_DAYS))


def complaint_in_time(now: datetime, known_on: date) -> bool:
    return now <= complaint_deadline(known_on)


def objection_needed(matter: Matter) -> str | None:
    """R60: the rule under which an objection must come before a complaint about this matter, or None."""
    return OBJECTION_FIRST.get(matter)


def acceptance_due(received_at: datetime) -> datetime:
    """R61: whether to accept is decided within 3 working days of receiving the complaint."""
    return workday_deadline(received_at, ACCEPTANCE_WORKDAYS)


def decision_due(accepted_at: datetime) -> datetime:
    """R61: the case is decided within 30 working days of its acceptance."""
    return workday_deadline(accepted_at, DECISION_WORKDAYS)


def overdue(now: datetime, due: datetime | None, done_at: datetime | None) -> bool:
    """A deadline passed with nothing done: the monitors are alerted."""
    return due is not None and done_at is None and now > due


def _by_id(rows: Iterable[Mapping[str, Any]], key: str) -> dict[Any, Mapping[str, Any]]:
    return {r.get(key): r for r in rows if isinstance(r, Mapping)}


def candidate_ids(document: Mapping[str, Any], excluded: Iterable[int] = ()) -> list[int]:
    """The candidates to publish, from the signed report, never retyped (R53, R54): the report's candidates
    in rank order; with candidates dropped by an upheld complaint (R61: a new candidate), the next ones in the
    report's ranking take their places, as many as the report recommended."""
    out = set(excluded)
    recommended = [int(b) for b in document.get("candidates") or []]
    if not out:
        return recommended
    ranking = (document.get("ranking") or {}).get("ranking") or []
    ranked = [int(r["bid"]) for r in sorted(ranking, key=lambda r: r.get("rank") or 0) if "bid" in r]
    for b in recommended:  # a recommended bid missing from the ranking rows still counts, after them
        if b not in ranked:
            ranked.append(b)
    return [b for b in ranked if b not in out][: max(len(recommended), 1) if recommended else 0]


def qualification_answers(document: Mapping[str, Any], opened_bid: int) -> list[dict[str, Any]]:
    """The qualification conditions the bid answered, as the review found them (the report's review section;
    a candidate passed the review, so the tender's conditions stand as passed where no verdict is kept)."""
    section = ((document.get("sections") or {}).get("review") or {}).get("bids") or []
    for row in section:
        if isinstance(row, Mapping) and row.get("opened_bid") == opened_bid:
            found = [
                {"criterion": c.get("criterion", ""), "outcome": c.get("outcome", "")}
                for c in row.get("criteria") or []
                if isinstance(c, Mapping) and c.get("kind") == "qualification"
            ]
            if found:
                return found
    crits = ((document.get("tender") or {}).get("criteria") or {}).get("qualification") or []
    return [{"criterion": str(c), "outcome": "pass"} for c in crits if str(c).strip()]


def snapshot(
    document: Mapping[str, Any],
    forms: Mapping[int, Mapping[str, Any]],
    names: Mapping[int, tuple[int, int, str]],
    excluded: Iterable[int] = (),
) -> list[dict[str, Any]]:
    """The publicity's candidates, generated from the signed report and the opened bids' price forms:
    `forms` maps an opened-bid id to its price form (tender.models.OpenedBid.price_form), `names` to
    (bid id, organisation id, bidder name). Only what the bid holds is shown (a bid carries no project
    manager or certificate today: docs/sealed-bid-format.md); nothing is invented."""
    ranking = _by_id((document.get("ranking") or {}).get("ranking") or [], "bid")
    bidders = _by_id(document.get("bidders") or [], "opened_bid")
    out = []
    for position, ob in enumerate(candidate_ids(document, excluded), start=1):
        form = forms.get(ob) or {}
        row = ranking.get(ob) or {}
        bid_id, org_id, name = names.get(ob, (None, None, str((bidders.get(ob) or {}).get("bidder", ""))))
        out.append(
            {
                "rank": position,
                "report_rank": row.get("rank"),
                "opened_bid": ob,
                "bid_id": bid_id,
                "organisation_id": org_id,
                "name": name,
                "price_fen": form.get("total_price_fen", row.get("price_fen")),
                "evaluated_price_fen": row.get("evaluated_price_fen"),
                "total": row.get("total"),
                "duration_days": form.get("duration_days"),
                "quality": form.get("quality_commitment") or "",
                "project_manager": form.get("project_manager") or "",
                "certificate": form.get("project_manager_certificate") or "",
                "qualifications": qualification_answers(document, ob),
                "lot": (bidders.get(ob) or {}).get("lot"),
            }
        )
    return out


def is_text_ok(text: str) -> bool:
    return bool(text.strip()) and len(text) <= MAX_TEXT
