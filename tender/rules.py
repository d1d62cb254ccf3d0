"""The rules of rules.md §1 as plain functions: no database, no clock (the caller passes `now`).

Days are counted on calendar dates in China Standard Time, as the law counts them."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from core.clock import CST, as_utc, to_cst
from core.errors import N_, Problem

MIN_DAYS_TO_DEADLINE = 20  # L24: issue of documents to bid deadline
MIN_DOC_ISSUE_DAYS = 5  # R16: documents available at least 5 days
CLARIFICATION_LEAD_DAYS = 15  # R21: clarifications at least 15 days before the deadline
OBJECTION_LEAD_DAYS = 10  # R22: objections at least 10 days before the deadline
OBJECTION_ANSWER_DAYS = 3  # R22: answer within 3 days
MAX_SECURITY_PERMILLE = 20  # R26 / GR33: bid security at most 2% of the estimated price
MIN_PRICE_SHARE_GOODS = 30  # G87 art. 55: price weight at least 30% for goods
MIN_PRICE_SHARE_SERVICES = 10  # G87 art. 55: at least 10% for services
MIN_KEY_THRESHOLD = 2  # policy (check_key_holders): no single key holder opens the bids
MIN_KEY_ORGANISATIONS = 2  # policy (check_key_holders): the key holders span organisations
CATEGORIES = ("works", "goods", "services")
METHODS = ("lowest_price", "comprehensive", "average_benchmark")
TOTAL_POINTS = 100


class OpeningPolicy(enum.StrEnum):
    """Who together open a tender's bids. The value is also written into key bundles and sealed-bid headers
    (docs/sealed-bid-format.md)."""

    quorum = "quorum"  # k of the n key holders
    quorum_bidder = "quorum+bidder"  # E30: the quorum and each bid's own bidder


OPENING_POLICIES = tuple(OpeningPolicy)


def days_between(start: datetime, end: datetime) -> int:
    """Calendar days from start's date to end's date in CST (the first day is not counted)."""
    return (to_cst(end).date() - to_cst(start).date()).days


def end_of_day_cst(moment: datetime) -> datetime:
    return as_utc(datetime.combine(to_cst(moment).date(), time.max, CST))


@dataclass
class LotFacts:
    number: int
    name: str
    estimated_price: int | None  # fen
    price_ceiling: int | None
    bid_security: int | None


@dataclass
class TenderFacts:
    title: str
    category: str
    government_procurement: bool
    evaluation_method: str
    criteria: dict[str, Any]
    doc_issue_start: datetime | None
    doc_issue_end: datetime | None
    question_deadline: datetime | None
    bid_deadline: datetime | None
    lots: list[LotFacts] = field(default_factory=list)
    document_count: int = 0
    key_holder_orgs: tuple[int | None, ...] = ()  # each named key holder's organisation (None: it has none)
    agency_org: int | None = None  # the organisation of the agency running the tender
    key_threshold: int = 2
    opening_policy: str = OpeningPolicy.quorum


class NamedLot(Protocol):
    @property
    def name(self) -> str: ...


class DraftInput(Protocol):
    """What the agency entered for a draft, as the draft's rules read it (tender.drafting.TenderInput)."""

    @property
    def title(self) -> str: ...
    @property
    def purchaser_id(self) -> int | None: ...
    @property
    def category(self) -> str: ...
    @property
    def evaluation_method(self) -> str: ...
    @property
    def lots(self) -> Sequence[NamedLot]: ...
    @property
    def criteria(self) -> Mapping[str, Any]: ...
    @property
    def opening_policy(self) -> str: ...


def _p(code: str, message: str, field: str, rule: str | None = None, **params: Any) -> Problem:
    return Problem(code=code, message=message, field=field, rule=rule, params=params)


# Checks that a draft and a publication share, so that both name a problem the same way.


def _title(title: str) -> list[Problem]:
    return [] if title.strip() else [_p("title_missing", N_("Give the tender a title."), "title")]


def _category(category: str) -> list[Problem]:
    if category in CATEGORIES:
        return []
    return [_p("category_invalid", N_("Choose works, goods or services."), "category")]


def _method(method: str) -> list[Problem]:
    if method in METHODS:
        return []
    return [_p("method_unknown", N_("Choose an evaluation method."), "evaluation_method")]


def _lots_present(count: int) -> list[Problem]:
    return [] if count else [_p("lots_missing", N_("A tender needs at least one lot."), "lots")]


def _lot_name(name: str, number: int, prefix: str) -> list[Problem]:
    if name.strip():
        return []
    return [_p("lot_name_missing", N_("Lot %(number)s needs a name."), f"{prefix}name", number=number)]


def _policy(policy: str) -> list[Problem]:
    if policy in OPENING_POLICIES:
        return []
    return [_p("policy_invalid", N_("Choose an opening policy."), "opening_policy")]


def check_draft(t: DraftInput) -> list[Problem]:
    """What a draft needs before it is saved: the agency's form shows these beside what it could not read,
    and the service refuses a draft that has any. The database's part (the purchaser and the key holders
    exist and may act) is the service's; the rest of §1 waits for publication (check_publication)."""
    out = _title(t.title)
    if t.purchaser_id is None:
        out.append(
            _p("purchaser_invalid", N_("Choose the purchaser this tender is run for."), "purchaser_id")
        )
    out += _category(t.category) + _method(t.evaluation_method) + _lots_present(len(t.lots))
    for i, lot in enumerate(t.lots):
        out += _lot_name(lot.name, i + 1, f"lots.{i}.")
    for i, factor in enumerate(t.criteria.get("factors") or []):
        if factor.get("points") is None:
            out.append(
                _p(
                    "points_missing",
                    N_("Scoring factor %(n)s needs points above zero."),
                    f"criteria.factors.{i}.points",
                    n=i + 1,
                )
            )
    return out + _policy(t.opening_policy)


def check_lot(lot: LotFacts, prefix: str) -> list[Problem]:
    out = _lot_name(lot.name, lot.number, prefix)
    if not lot.estimated_price or lot.estimated_price < 0:
        out.append(
            _p(
                "estimate_missing",
                N_("Lot %(number)s needs an estimated contract price above zero."),
                f"{prefix}estimated_price",
                number=lot.number,
            )
        )
    if not lot.price_ceiling or lot.price_ceiling < 0:
        out.append(
            _p(
                "ceiling_missing",
                N_("Lot %(number)s needs a published price ceiling (R27: a ceiling must be published)."),
                f"{prefix}price_ceiling",
                "R27",
                number=lot.number,
            )
        )
    elif lot.estimated_price and lot.estimated_price > 0 and lot.price_ceiling < lot.estimated_price:
        out.append(
            _p(
                "ceiling_below_estimate",
                N_(
                    "Lot %(number)s: the price ceiling is below the estimated price; raise the "
                    "ceiling or lower the estimate."
                ),
                f"{prefix}price_ceiling",
                number=lot.number,
            )
        )
    if lot.bid_security is not None and lot.bid_security < 0:
        out.append(
            _p(
                "security_negative",
                N_("Lot %(number)s: bid security cannot be negative."),
                f"{prefix}bid_security",
                number=lot.number,
            )
        )
    if lot.bid_security is not None and lot.estimated_price and lot.estimated_price > 0:
        limit = lot.estimated_price * MAX_SECURITY_PERMILLE // 1000
        if lot.bid_security > limit:
            out.append(
                _p(
                    "security_over_2_percent",
                    N_(
                        "Lot %(number)s: bid security may be at most 2%% of the estimated price (R26), "
                        "that is %(limit)s yuan; lower it."
                    ),
                    f"{prefix}bid_security",
                    "R26",
                    number=lot.number,
                    limit=f"{limit / 100:,.2f}",
                )
            )
    return out


def check_criteria(
    method: str, criteria: dict[str, Any], category: str, government_procurement: bool
) -> list[Problem]:
    """P35: the method and its criteria are fixed in the tender documents; check they are complete and
    coherent."""
    out: list[Problem] = []
    if method not in METHODS:
        return _method(method)
    if not [q for q in criteria.get("qualification") or [] if str(q).strip()]:
        out.append(
            _p(
                "qualification_missing",
                N_(
                    "List at least one qualification requirement (R18-20: reviewed pass/fail before scoring)."
                ),
                "criteria.qualification",
                "R18",
            )
        )
    factors = criteria.get("factors") or []
    for i, f in enumerate(factors):
        if not str(f.get("name", "")).strip():
            out.append(
                _p(
                    "factor_name_missing",
                    N_("Scoring factor %(n)s needs a name."),
                    f"criteria.factors.{i}.name",
                    n=i + 1,
                )
            )
        points = f.get("points")
        if not isinstance(points, int | float) or points <= 0:
            out.append(
                _p(
                    "factor_points_invalid",
                    N_("Scoring factor %(n)s needs points above zero."),
                    f"criteria.factors.{i}.points",
                    n=i + 1,
                )
            )
        if f.get("kind") not in ("objective", "subjective"):
            out.append(
                _p(
                    "factor_kind_invalid",
                    N_("Scoring factor %(n)s must be objective or subjective."),
                    f"criteria.factors.{i}.kind",
                    n=i + 1,
                )
            )
    qualification_names = {str(q).strip() for q in criteria.get("qualification") or []}
    for i, f in enumerate(factors):
        if str(f.get("name", "")).strip() in qualification_names:
            out.append(
                _p(
                    "qualification_as_factor",
                    N_(
                        "Scoring factor %(n)s repeats a qualification requirement; qualifications are "
                        "pass/fail, not scored (G87 art. 55)."
                    ),
                    f"criteria.factors.{i}.name",
                    "G87-55",
                    n=i + 1,
                )
            )
    price_points = (criteria.get("price") or {}).get("points")
    if method == "lowest_price":
        if factors:
            out.append(
                _p(
                    "lowest_price_with_factors",
                    N_(
                        "The lowest evaluated price method has no scoring factors (P30); remove them or "
                        "choose comprehensive scoring."
                    ),
                    "criteria.factors",
                    "P30",
                )
            )
        return out
    if not isinstance(price_points, int | float) or price_points <= 0:
        out.append(_p("price_points_missing", N_("Give the points for price."), "criteria.price.points"))
        return out
    total = (
        sum(f.get("points", 0) for f in factors if isinstance(f.get("points"), int | float)) + price_points
    )
    if abs(total - TOTAL_POINTS) > 1e-9:
        out.append(
            _p(
                "points_not_100",
                N_("Price and scoring factors must add up to 100 points; they add up to %(total)s."),
                "criteria.factors",
                "P35",
                total=f"{total:g}",
            )
        )
    if government_procurement and category in ("goods", "services"):
        minimum = MIN_PRICE_SHARE_GOODS if category == "goods" else MIN_PRICE_SHARE_SERVICES
        if price_points < minimum:
            out.append(
                _p(
                    "price_share_too_low",
                    N_(
                        "In government procurement of %(category)s, price must weigh at least "
                        "%(minimum)s points (G87 art. 55)."
                    ),
                    "criteria.price.points",
                    "G87-55",
                    category=category,
                    minimum=minimum,
                )
            )
    if method == "average_benchmark":
        bench = criteria.get("benchmark") or {}
        for key in ("e1", "e2"):
            value = bench.get(key)
            if not isinstance(value, int | float) or value <= 0:
                out.append(
                    _p(
                        "benchmark_coefficient_missing",
                        N_(
                            "The average benchmark method needs deduction coefficient %(name)s above zero "
                            "(points per 1%% deviation)."
                        ),
                        f"criteria.benchmark.{key}",
                        name=key.upper(),
                    )
                )
    return out


def check_timeline(t: TenderFacts, now: datetime, published_at: datetime | None = None) -> list[Problem]:
    """The timeline of a notice published at `published_at` (None: it is published now)."""
    out: list[Problem] = []
    if t.doc_issue_start is None:
        out.append(
            _p("issue_start_missing", N_("Set the first day tender documents are issued."), "doc_issue_start")
        )
    if t.doc_issue_end is None:
        out.append(
            _p("issue_end_missing", N_("Set the last day tender documents are issued."), "doc_issue_end")
        )
    if t.bid_deadline is None:
        out.append(
            _p(
                "deadline_missing",
                N_("Set the bid deadline (it is also the opening time, L34)."),
                "bid_deadline",
                "L34",
            )
        )
    if out:
        return out
    assert t.doc_issue_start and t.doc_issue_end and t.bid_deadline
    issue_start = max(t.doc_issue_start, published_at or now)  # documents cannot be issued before publication
    if t.bid_deadline <= now:
        out.append(
            _p("deadline_past", N_("The bid deadline is in the past; choose a later date."), "bid_deadline")
        )
    days = days_between(issue_start, t.bid_deadline)
    if days < MIN_DAYS_TO_DEADLINE:
        out.append(
            _p(
                "deadline_too_soon",
                N_(
                    "At least 20 days must pass from the issue of tender documents to the bid deadline "
                    "(L24); now there are %(days)s. Move the deadline to %(earliest)s or later."
                ),
                "bid_deadline",
                "L24",
                days=days,
                earliest=(to_cst(issue_start).date() + timedelta(days=MIN_DAYS_TO_DEADLINE)).isoformat(),
            )
        )
    if t.doc_issue_end < t.doc_issue_start:
        out.append(
            _p(
                "issue_end_before_start",
                N_("The document issue period ends before it starts."),
                "doc_issue_end",
            )
        )
    else:
        issue_days = days_between(issue_start, t.doc_issue_end) + 1
        if issue_days < MIN_DOC_ISSUE_DAYS:
            out.append(
                _p(
                    "issue_period_too_short",
                    N_(
                        "Tender documents must be available for at least 5 days (R16); the period gives "
                        "%(days)s. End it on %(earliest)s or later."
                    ),
                    "doc_issue_end",
                    "R16",
                    days=max(issue_days, 0),
                    earliest=(
                        to_cst(issue_start).date() + timedelta(days=MIN_DOC_ISSUE_DAYS - 1)
                    ).isoformat(),
                )
            )
    if t.doc_issue_end > t.bid_deadline:
        out.append(
            _p(
                "issue_end_after_deadline",
                N_("The document issue period must end by the bid deadline."),
                "doc_issue_end",
            )
        )
    if t.question_deadline is not None and not (issue_start <= t.question_deadline <= t.bid_deadline):
        out.append(
            _p(
                "question_deadline_outside",
                N_(
                    "The deadline for questions must fall between the issue of "
                    "documents and the bid deadline."
                ),
                "question_deadline",
            )
        )
    return out


def check_publication(t: TenderFacts, now: datetime) -> list[Problem]:
    """Everything rules.md §1 requires before a notice goes out; each problem names its rule and field."""
    out = _title(t.title) + _category(t.category) + _lots_present(len(t.lots))
    for i, lot in enumerate(t.lots):
        out.extend(check_lot(lot, f"lots.{i}."))
    out.extend(check_timeline(t, now))
    out.extend(check_criteria(t.evaluation_method, t.criteria, t.category, t.government_procurement))
    if t.document_count == 0:
        out.append(_p("documents_missing", N_("Upload the tender documents before publishing."), "documents"))
    out.extend(check_key_holders(t.key_holder_orgs, t.agency_org, t.key_threshold, t.opening_policy))
    return out


def check_key_holders(
    holder_orgs: Sequence[int | None], agency_org: int | None, threshold: int, policy: str
) -> list[Problem]:
    """Who holds the keys of a tender's bids, and how many of them it takes to open them.

    `holder_orgs` has one entry per named key holder: its organisation, or None for a holder without one
    (it counts as a holder but for no organisation). The custody rules are policy, not statute: E27 says
    nobody may decrypt a bid before the deadline, and the security model (shared design.md) adds that
    neither the agency nor any single key holder can; no article says how the keys are to be split, so the
    numbers are the platform's own:
    - at least MIN_KEY_THRESHOLD (2) holders are needed, so no one person opens the bids alone;
    - the holders come from at least MIN_KEY_ORGANISATIONS (2) organisations;
    - fewer than k of them are from the tender's agency, so the agency alone can never open the bids.
    A draft is checked against the same custody rules as soon as it names key holders (check_key_custody)."""
    out = _policy(policy)
    if not holder_orgs:
        out.append(
            _p("key_holders_missing", N_("Name the key holders who will open the bids."), "key_holder_ids")
        )
        return out
    return out + check_key_custody(holder_orgs, agency_org, threshold)


def check_key_custody(
    holder_orgs: Sequence[int | None], agency_org: int | None, threshold: int
) -> list[Problem]:
    """The custody rules of check_key_holders for the holders named (at least one); policy, see there."""
    out: list[Problem] = []
    count = len(holder_orgs)
    if threshold < MIN_KEY_THRESHOLD:  # policy: no single key holder opens the bids
        out.append(
            _p(
                "threshold_too_low",
                N_(
                    "At least %(minimum)s key holders must be needed to open the bids, so that no one "
                    "person can open them alone; set the number needed to %(minimum)s or more."
                ),
                "key_threshold",
                minimum=MIN_KEY_THRESHOLD,
            )
        )
    elif threshold > count:
        out.append(
            _p(
                "threshold_invalid",
                N_(
                    "%(threshold)s key holders are needed to open the bids but only %(count)s are named; "
                    "name more key holders or lower the number needed."
                ),
                "key_threshold",
                threshold=threshold,
                count=count,
            )
        )
    if (
        len({org for org in holder_orgs if org is not None}) < MIN_KEY_ORGANISATIONS
    ):  # policy: span organisations
        out.append(
            _p(
                "key_holders_one_organisation",
                N_(
                    "The key holders must come from at least two organisations; name at least one key "
                    "holder from another organisation, e.g. the trading centre or the monitor."
                ),
                "key_holder_ids",
            )
        )
    # policy: the agency alone never reaches the quorum. Measured against at least the lowest allowed k, so
    # that a threshold of 1, already refused above, does not also count as the agency's quorum.
    from_agency = sum(1 for org in holder_orgs if org is not None and org == agency_org)
    needed = max(threshold, MIN_KEY_THRESHOLD)
    if from_agency >= needed:
        out.append(
            _p(
                "agency_holds_quorum",
                N_(
                    "%(agency)s of the key holders are from the tender's agency and %(k)s are enough to "
                    "open the bids, so the agency alone could open them. Fewer than %(k)s may come from "
                    "the agency: name key holders from other organisations (e.g. the trading centre or the "
                    "monitor) in place of agency officers, or raise the number needed above %(agency)s."
                ),
                "key_holder_ids",
                agency=from_agency,
                k=needed,
            )
        )
    return out


def extended_deadline(deadline: datetime, issued_at: datetime, affects_bids: bool) -> datetime:
    """R21/L23: a clarification that can affect bids needs 15 days before the deadline; otherwise the
    deadline moves (same time of day) so that 15 days remain."""
    if not affects_bids:
        return deadline
    short = CLARIFICATION_LEAD_DAYS - days_between(issued_at, deadline)
    if short <= 0:
        return deadline
    return deadline + timedelta(days=short)


def resumed_timeline(t: TenderFacts, new_deadline: datetime) -> TenderFacts:
    """The timeline after a monitor's resume with a new bid deadline (E52): documents stop being issued and
    questions stop being taken by the new deadline, as they do when a clarification moves it (R16, R21). The
    objection deadline is not stored: objection_deadline() reads it from the bid deadline (R22)."""
    assert t.doc_issue_end is not None
    question = t.question_deadline
    return dataclasses.replace(
        t,
        bid_deadline=new_deadline,
        doc_issue_end=min(t.doc_issue_end, new_deadline),
        question_deadline=min(question, new_deadline) if question is not None else None,
    )


# A resume names one thing, the new deadline, so it reports every problem on that field; these problems of
# the sale and question periods follow from a deadline that is too early (the periods now end by it), and
# the deadline's own problem already says what to change.
_FOLLOW_FROM_THE_DEADLINE = frozenset(
    {"issue_period_too_short", "issue_end_before_start", "question_deadline_outside"}
)


def check_resume(
    t: TenderFacts,
    new_deadline: datetime,
    now: datetime,
    published_at: datetime,
    bid_changes: Sequence[datetime],
) -> list[Problem]:
    """A monitor's resume with a new bid deadline, checked like the publication (E52): the timeline of
    resumed_timeline() counted from the publication (L24: 20 days from the issue of documents; R16), and 15
    days after each published change that can affect bids (R21, L23): `bid_changes` are the times such
    clarifications were issued; bringing the deadline forward is one such change itself, issued now. Every
    problem is on the field "new_deadline", and every one that names an earliest deadline names the same,
    the first day that satisfies them all. The objection deadline (R22), 10 days before the new deadline,
    then falls at least 10 days after the publication, as L24 leaves 20."""
    assert t.bid_deadline is not None
    out = check_timeline(resumed_timeline(t, new_deadline), now, published_at=published_at)
    if any(p.field == "bid_deadline" for p in out):
        out = [p for p in out if p.code not in _FOLLOW_FROM_THE_DEADLINE]
    changes = sorted(bid_changes)
    if changes and extended_deadline(new_deadline, changes[-1], affects_bids=True) > new_deadline:
        out.append(
            _p(
                "deadline_too_soon_after_change",
                N_(
                    "At least 15 days must remain after a change that can affect bids (R21); the last one "
                    "was published on %(issued)s. Move the deadline to %(earliest)s or later."
                ),
                "new_deadline",
                "R21",
                issued=to_cst(changes[-1]).date().isoformat(),
                earliest=to_cst(extended_deadline(new_deadline, changes[-1], affects_bids=True))
                .date()
                .isoformat(),
            )
        )
    if (
        new_deadline < t.bid_deadline
        and extended_deadline(new_deadline, now, affects_bids=True) > new_deadline
    ):
        out.append(
            _p(
                "deadline_brought_forward",
                N_(
                    "Bringing the bid deadline forward affects the preparation of bids: at least 15 days "
                    "must remain after the resumption (R21). Move the deadline to %(earliest)s or later, "
                    "or keep the current deadline."
                ),
                "new_deadline",
                "R21",
                earliest=to_cst(extended_deadline(new_deadline, now, affects_bids=True)).date().isoformat(),
            )
        )
    on_deadline = [p for p in out if p.field in ("bid_deadline", "new_deadline") and "earliest" in p.params]
    earliest = max((str(p.params["earliest"]) for p in on_deadline), default="")  # ISO dates sort as dates
    return [
        dataclasses.replace(
            p,
            field="new_deadline",
            params={**p.params, "earliest": earliest} if p in on_deadline else p.params,
        )
        for p in out
    ]


def objection_deadline(bid_deadline: datetime) -> datetime:
    """R22: the last moment (end of day, CST) for objections to the tender documents."""
    last_day = to_cst(bid_deadline).date() - timedelta(days=OBJECTION_LEAD_DAYS)
    return as_utc(datetime.combine(last_day, time.max, CST))


def objection_allowed(now: datetime, bid_deadline: datetime) -> bool:
    return now <= objection_deadline(bid_deadline)


def objection_answer_due(raised_at: datetime) -> datetime:
    """R22: the purchaser answers within 3 days of receiving the objection."""
    return end_of_day_cst(raised_at + timedelta(days=OBJECTION_ANSWER_DAYS))


def documents_available(now: datetime, start: datetime | None, end: datetime | None) -> bool:
    """E20: anyone may download during the issue period, without registering."""
    return start is not None and end is not None and start <= now <= end_of_day_cst(end)


def bids_open(now: datetime, deadline: datetime | None) -> bool:
    """E27/L28: bids are accepted strictly before the bid deadline by the server clock; the opening is AT the
    deadline (L34), so a bid completing exactly at it is late and refused."""
    return deadline is not None and as_utc(now) < as_utc(deadline)


MIN_BIDS_TO_OPEN = 3


def enough_bids(count: int) -> bool:
    # R44, L28: with fewer than 3 bids the tender (or the lot) is not opened and is tendered again
    return count >= MIN_BIDS_TO_OPEN
