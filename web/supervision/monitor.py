"""The monitor's view (监督): every published procedure, its objections and their answer times, its audit
trail, and the supervisory instructions to suspend and resume it (E52). tender.supervision and tender.listings
decide who may do what; these handlers parse the form, call one service, and render or redirect."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from accounts import services as accounts
from accounts.events import AccountTag
from audit import feed, registered
from audit.queries import Entry, entries_for_subject
from core import clock
from core.disclosure import Fact
from core.errors import N_, DomainError, ValidationFailed
from core.identity import Actor, Role
from evaluation.committee import draws as committee_draws
from evaluation.report.events import ReportTag
from supervision import alerts, centre, subjects
from tender import disclosure, listings, notices, participation
from tender import supervision as tender_supervision
from tender.events import PARTICIPATION, TenderTag
from tender.lifecycle import Status
from tender.models import Objection, Tender
from web import i18n
from web.award.decision import EVENT_LABELS as AWARD_EVENT_LABELS  # noqa: I001 - issue 14
from web.award.publicity import EVENT_LABELS as PUBLICITY_EVENT_LABELS
from web.deps import locale_of, page, redirect
from web.evaluation.report import EVENT_LABELS as REPORT_EVENT_LABELS
from web.evaluation.review import EVENT_LABELS as REVIEW_EVENT_LABELS
from web.evaluation.room import EVENT_LABELS as ROOM_EVENT_LABELS
from web.evaluation.scoring import EVENT_LABELS as SCORING_EVENT_LABELS
from web.event_labels import EVENT_LABELS as OTHER_EVENT_LABELS
from web.forms import FormState, submit

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

# E21/L22: before the bid deadline even the number of downloads, registrations and bids is confidential, so
# the monitor's trail leaves these entries out until then (core.disclosure: Fact.participation).
CONFIDENTIAL_BEFORE_DEADLINE = tuple(sorted(t.value for t in PARTICIPATION))

# Entries that change the tender's status: the status history.
STATUS_EVENTS = {
    TenderTag.tender_published.value: Status.published.value,
    TenderTag.tender_suspended.value: Status.suspended.value,
    TenderTag.tender_resumed.value: None,  # back to what it was
    TenderTag.tender_bidding_closed.value: Status.bidding_closed.value,
    TenderTag.tender_cancelled.value: Status.cancelled.value,
    TenderTag.tender_failed.value: Status.failed.value,
    ReportTag.report_completed.value: Status.evaluated.value,
}

EVENT_LABELS = {
    TenderTag.tender_created.value: N_("Draft created"),
    TenderTag.tender_updated.value: N_("Draft edited"),
    TenderTag.tender_document_added.value: N_("Tender document added"),
    TenderTag.tender_document_removed.value: N_("Tender document removed"),
    TenderTag.tender_published.value: N_("Notice published"),
    TenderTag.tender_publish_refused.value: N_("Publication refused"),
    TenderTag.tender_clarified.value: N_("Clarification or amendment issued"),
    TenderTag.tender_deadline_extended.value: N_("Bid deadline extended"),
    TenderTag.tender_question_asked.value: N_("Question asked"),
    TenderTag.tender_question_answered.value: N_("Question answered"),
    TenderTag.tender_objection_raised.value: N_("Objection raised"),
    TenderTag.tender_objection_answered.value: N_("Objection answered"),
    TenderTag.tender_suspended.value: N_("Procedure suspended"),
    TenderTag.tender_resumed.value: N_("Procedure resumed"),
    TenderTag.tender_cancelled.value: N_("Tender cancelled"),
    TenderTag.tender_bidding_closed.value: N_("Bidding closed at the deadline"),
    TenderTag.tender_failed.value: N_("Tender failed"),
    TenderTag.tender_document_downloaded.value: N_("Tender document downloaded"),
    TenderTag.tender_registered.value: N_("A bidder registered for a lot"),
    AccountTag.access_refused.value: N_("Access refused"),
    **ROOM_EVENT_LABELS,
    **REPORT_EVENT_LABELS,
    **SCORING_EVENT_LABELS,
    **REVIEW_EVENT_LABELS,
    **OTHER_EVENT_LABELS,
    **PUBLICITY_EVENT_LABELS,  # issue 14
    **AWARD_EVENT_LABELS,
}

# Detail keys worth showing beside an entry, with their labels (digests and ids of confidential data are not
# shown).
DETAIL_LABELS = {
    "reason": N_("Reason"),
    "rule": N_("Legal basis"),
    "title": N_("Title"),
    "number": N_("Serial number"),
    "filename": N_("File"),
    "from": N_("From"),
    "to": N_("To"),
    "bid_deadline": N_("Bid deadline"),
    "objection_deadline": N_("Last moment for objections"),
    "doc_issue_end": N_("Documents issued until"),
    "answer_due": N_("Answer due"),
    # an objection's answer (R22, R54), and the publicity itself within its 3 days of the report (R54)
    "on_time": N_("Done on time"),
    "still_paused_by_objection": N_("Still paused by an objection"),
}
TIME_DETAILS = {"from", "to", "bid_deadline", "answer_due", "objection_deadline", "doc_issue_end"}
# Reasons the platform itself records (R22 pauses), in words a person reads.
SYSTEM_REASONS = {
    "objection": N_("an objection to the tender documents awaits its answer"),
    "objection answered": N_("the objection was answered"),
}


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return "" if value is None else str(value)


@dataclass
class TrailRow:
    entry: Entry
    details: list[tuple[str, Any]]  # (label msgid, value); a value that is a msgid is wrapped in Msg


@dataclass(frozen=True)
class Msg:
    """A detail value to be translated (booleans, reasons recorded by the platform)."""

    msgid: str


@dataclass(frozen=True)
class RuleCode:
    """A detail naming a rule (E32): shown as its plain reference, linked to the rules page (rule_refs)."""

    rule: str


def _detail_value(key: str, value: Any) -> Any:
    if key == "rule" and isinstance(value, str) and value:
        return RuleCode(value)
    if key in TIME_DETAILS and isinstance(value, str):
        try:
            return clock.to_cst(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    if isinstance(value, bool):
        return Msg(N_("yes") if value else N_("no"))
    if key == "reason" and value in SYSTEM_REASONS:
        return Msg(SYSTEM_REASONS[value])
    return value


def trail_row(entry: Entry) -> TrailRow:
    details = entry.details or {}
    return TrailRow(
        entry,
        [(label, _detail_value(key, details[key])) for key, label in DETAIL_LABELS.items() if key in details],
    )


def _overdue(obj: Objection, now: datetime) -> bool:
    return obj.answered_at is None and obj.answer_due < now


# ---------------------------------------------------------------- all procedures


@dataclass
class MonitoredRow:
    tender: Tender
    open_objections: int
    overdue_objections: int


@get("/monitor", sync_to_thread=True)
def home(request: Request, db: Session, actor: Actor) -> Template:
    now = clock.now()
    rows = []
    for tender in listings.monitored_tenders(db, actor):
        objections = listings.objections_for(db, actor, tender)
        open_ = [o for o in objections if o.answered_at is None]
        rows.append(MonitoredRow(tender, len(open_), sum(1 for o in open_ if _overdue(o, now))))
    counts = {
        "suspended": sum(1 for r in rows if r.tender.status == Status.suspended),
        "open_objections": sum(r.open_objections for r in rows),
        "overdue": sum(r.overdue_objections for r in rows),
    }
    return page(request, "monitor/index.html", rows=rows, counts=counts, now=now)


# ---------------------------------------------------------------- one procedure


@dataclass
class MonitorTenderView:
    notice: notices.NoticeDetail
    trail: list[TrailRow]
    status_history: list[TrailRow]
    objections: list[Objection]
    confidential: bool  # before the bid deadline: no download or registration figures (E21)
    deadline_passed: bool
    registrations_by_lot: dict[int, int] = field(
        default_factory=dict
    )  # lot number -> count, after the deadline only


def monitor_view(db: Session, actor: Actor, tender_id: int) -> MonitorTenderView:
    notice = notices.notice_detail(db, actor, tender_id)
    tender = notice.tender
    now = clock.now()
    confidential = not disclosure.may_see(db, actor, tender, Fact.participation)
    # entries_for_subject refuses anyone but monitors and administrators (403; anonymous: log in).
    trail = entries_for_subject(
        db, actor, f"tender:{tender.id}", exclude_tags=CONFIDENTIAL_BEFORE_DEADLINE if confidential else ()
    )
    by_lot: dict[int, int] = {}
    if not confidential:
        numbers = {lot.id: lot.number for lot in tender.lots}
        for reg in participation.registrations_for(db, actor, tender.id):
            by_lot[numbers.get(reg.lot_id, 0)] = by_lot.get(numbers.get(reg.lot_id, 0), 0) + 1
    return MonitorTenderView(
        notice=notice,
        trail=[trail_row(e) for e in trail],
        status_history=[trail_row(e) for e in trail if e.tag in STATUS_EVENTS],
        objections=listings.objections_for(db, actor, tender),
        confidential=confidential,
        deadline_passed=tender.bid_deadline is not None and tender.bid_deadline <= now,
        registrations_by_lot=by_lot,
    )


def _detail(
    request: Request,
    db: Session,
    actor: Actor,
    tender_id: int,
    form: FormState | None = None,
    status_code: int = 200,
) -> Template:
    view = monitor_view(db, actor, tender_id)
    form = form or FormState()
    return page(
        request,
        "monitor/tender.html",
        status_code=status_code,
        v=view,
        t=view.notice.tender,
        form=form,
        errors=form.errors,
        bad=form.fields_in_error(),
        now=clock.now(),
        labels=EVENT_LABELS,
        is_monitor=actor.has(Role.monitor),
        # the tender's expert draw, where the monitors add their random number (E48: they supervise it)
        draw_view=committee_draws.monitor_draw(db, actor, tender_id) if actor.has(Role.monitor) else None,
        witnesses=centre.witnesses(db, actor, view.notice.tender),  # issue 16: the centre's witnessing (见证)
    )


@get("/monitor/tenders/{tender_id:int}", sync_to_thread=True)
def tender_page(request: Request, db: Session, actor: Actor, tender_id: int) -> Template:
    return _detail(request, db, actor, tender_id)


def _again(
    request: Request, db: Session, actor: Actor, tender_id: int, failed: str, values: dict[str, str]
) -> Callable[[DomainError], Template]:
    """The procedure's page again, with what was typed into the refused form and why it was refused."""
    return lambda e: _detail(request, db, actor, tender_id, FormState(failed, values, e.problems), e.status)


@post("/monitor/tenders/{tender_id:int}/suspend", sync_to_thread=True)
def suspend(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    reason = _text(data, "reason")
    return submit(
        db,
        lambda: tender_supervision.suspend(db, actor, tender_id, reason),
        done=lambda _: redirect(
            f"/monitor/tenders/{tender_id}",
            flash=N_("The procedure is suspended. The agency and the bidders were notified."),
            request=request,
        ),
        refused=_again(request, db, actor, tender_id, "suspend", {"reason": reason}),
    )


def parse_cst(value: str, fieldname: str, message: str) -> datetime | None:
    """A datetime-local input, typed in China Standard Time; blank means none."""
    if not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=clock.CST)
    except ValueError as e:
        raise ValidationFailed.one("datetime_invalid", message, fieldname) from e


@post("/monitor/tenders/{tender_id:int}/resume", sync_to_thread=True)
def resume(request: Request, db: Session, actor: Actor, tender_id: int, data: Form) -> Template | Redirect:
    values = {"reason": _text(data, "reason"), "new_deadline": _text(data, "new_deadline")}
    bad_deadline = N_("The new bid deadline is not a valid date and time, e.g. 2025-06-30 09:30.")
    return submit(
        # a deadline that is not a date is refused (422) like the service's own refusals
        db,
        lambda: tender_supervision.resume(
            db,
            actor,
            tender_id,
            values["reason"],
            parse_cst(values["new_deadline"], "new_deadline", bad_deadline),
        ),
        done=lambda _: redirect(
            f"/monitor/tenders/{tender_id}", flash=N_("The procedure is resumed."), request=request
        ),
        refused=_again(request, db, actor, tender_id, "resume", values),
    )


# ------------------------------------------------------------ the live audit feed, its entries and the alerts

ALERT_TEXTS = {
    "sealed_access_refused": N_("Refused attempt to read sealed data on %(subject)s (by %(actor)s)."),
    # %(tag)s is the refusal's label ("Bid refused"), %(window)s the window's ("the bid deadline")
    "outside_window": N_("%(tag)s on %(subject)s: outside its time window (%(window)s)."),
    "login_throttled": N_("Logins to the account %(account)s were throttled after repeated failures."),
    "failed_logins:account": N_("%(n)s failed logins to the account %(who)s within %(minutes)s minutes."),
    "failed_logins:address": N_("%(n)s failed logins from the address %(who)s within %(minutes)s minutes."),
    "same_address_bids": N_(
        "%(n)s bids of different bidders on lot %(lot)s of %(subject)s came from one network address."
    ),
    "reused_sealed_bids:file": N_(
        "Identical sealed bid files from two companies on %(subject)s (lot %(lot)s): %(second)s sent the "
        "file %(first)s had submitted; it was refused (%(rule)s)."
    ),
    "refused_writes": N_(
        "%(actor)s (%(organisation)s) was refused %(n)s times when trying to change %(subject)s: it is not "
        "theirs, or not theirs to change."
    ),
    "csrf_failures:account": N_(
        "%(n)s requests of the account %(who)s failed the form check: sent from another site, or from a form "
        "kept open too long."
    ),
    "csrf_failures:address": N_(
        "%(n)s requests from the address %(who)s failed the form check: sent from another site, or from a "
        "form kept open too long."
    ),
    "repeated_bid_refusals": N_(
        "%(n)s bid attempts of the account %(who)s were refused (the latest on %(subject)s)."
    ),
    "service_outages": N_(
        "The document store did not answer %(n)s requests (from %(first)s): bidders may have been kept from "
        "sending their bids. Check whether the bid deadline must be extended."
    ),
    "reused_sealed_bids:bid_id": N_(
        "Two companies' sealed bids on %(subject)s (lot %(lot)s) carry the same bid id: %(second)s sent a "
        "file with the bid id of %(first)s's bid; it was refused (%(rule)s)."
    ),
    # issue 14: results deadlines passed with nothing done (award.publicity.deadlines)
    "publicity_overdue": N_(
        "%(reference)s: the winning candidates were due to be published by %(due)s and are not (R54)."
    ),
    "objection_overdue": N_(
        "%(reference)s: an objection on the result was due to be answered by %(due)s and is not (R54)."
    ),
    "complaint_acceptance_overdue": N_(
        "%(reference)s: whether to accept a complaint was due to be decided by %(due)s (R61)."
    ),
    "complaint_decision_overdue": N_(
        "%(reference)s: an accepted complaint was due to be decided by %(due)s (R61)."
    ),
    # issue 14 (award.decision.overdue)
    "contract_overdue": N_(
        "%(subject)s: no contract is recorded though the award notice was issued more than 30 days ago "
        "(due by %(due)s, L46)."
    ),
    "contract_late": N_(
        "%(subject)s: the contract was signed on %(signed)s, after the 30 days from the award notice (due by "
        "%(due)s, L46)."
    ),
    "contract_published_late": N_(
        "%(subject)s: the government-procurement contract signed on %(signed)s was published after its 2 "
        "working days (due by %(due)s, GR50)."
    ),
    "refund_overdue": N_(
        "%(subject)s: %(count)s bid securities are not refunded by their deadline (the first due by %(due)s, "
        "R57)."
    ),
}


@dataclass
class FeedRow:
    item: dict[str, Any]  # what the public API shows of the entry (audit.feed.published)
    time: datetime | None  # None: withheld from this reader until its disclosure time
    organisation: str

    @property
    def doc(self) -> dict[str, Any]:
        return self.item.get("decoded") or {}


def feed_row(item: dict[str, Any], orgs: dict[int, str]) -> FeedRow:
    if item.get("withheld"):
        return FeedRow(item, None, "")
    doc = item["decoded"]
    when = datetime.strptime(doc["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    org = doc.get("organisation")
    return FeedRow(item, when, orgs.get(org, str(org)) if org is not None else "")


# The time windows a refusal names (tender.bids.submission, tender.opening.base), by their plain name.
WINDOW_LABELS = {
    "bid_deadline": N_("the bid deadline"),
    "opening_time": N_("the opening time"),
}


def alert_text(
    alert: alerts.Alert,
    names: dict[str, str] | None = None,
    lots: dict[int, int] | None = None,
    locale: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The alert's message and parameters, its subject by name (`names`: supervision.subjects.names) and
    its lot by number (`lots`: lot id to number; the log records the lot's id), its event and time window
    by label in `locale` (None: the codes, as the log has them)."""
    key = {
        "failed_logins": f"{alert.kind}:{alert.params.get('by')}",
        "csrf_failures": f"{alert.kind}:{alert.params.get('by')}",
        "reused_sealed_bids": f"{alert.kind}:{alert.params.get('what')}",
    }.get(alert.kind, alert.kind)
    params: dict[str, Any] = {"subject": alert.subject, "n": alert.count, **alert.params}
    params["subject"] = (names or {}).get(str(alert.subject), params["subject"])
    if isinstance(params.get("lot"), int):
        params["lot"] = (lots or {}).get(params["lot"], params["lot"])
    if locale is not None:
        if params.get("tag") in EVENT_LABELS:
            params["tag"] = i18n.gettext(locale, EVENT_LABELS[params["tag"]])
        if params.get("window") in WINDOW_LABELS:
            params["window"] = i18n.gettext(locale, WINDOW_LABELS[params["window"]])
    return ALERT_TEXTS[key], params


def _alert_texts(db: Session, found: list[alerts.Alert], locale: str) -> list[tuple[str, dict[str, Any]]]:
    names = subjects.names(db, {str(a.subject) for a in found})
    lots = subjects.lot_numbers(db, {a.params["lot"] for a in found if isinstance(a.params.get("lot"), int)})
    return [alert_text(a, names, lots, locale) for a in found]


def _int_or_none(value: str, field_name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationFailed.one(
            "filter_not_a_number", N_("The filter must be a whole number."), field_name
        )
    return int(value)


def _tender_filter(db: Session, value: str) -> int | None:
    """The tender filter takes the reference number people see everywhere (ET-2026-000001), or the id."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    found = subjects.tender_by_reference(db, value)
    if found is None:
        raise ValidationFailed.one(
            "filter_unknown_tender",
            N_("No tender has the reference number %(reference)s; check it, or leave the field empty."),
            "tender",
            reference=value[:40],
        )
    return found


PAGE = 100  # entries per page of the feed


@get("/monitor/audit", sync_to_thread=True)
def audit_feed(
    request: Request,
    db: Session,
    actor: Actor,
    tender: str = "",
    tag: str = "",
    organisation: str = "",
    who: str = "",
    before: str = "",
) -> Template:
    feed.require_supervisor(actor)  # 403 (anonymous: log in) before reading the filters
    filt = feed.FeedFilter(
        tender=_tender_filter(db, tender),
        tag=tag.strip()[:60],
        organisation=_int_or_none(organisation, "organisation"),
        actor=who.strip()[:64],
    )
    older_than = _int_or_none(before, "before")
    items = feed.recent(db, actor, filt, before=older_than)  # monitors and administrators only
    orgs = accounts.organisation_names(db)
    found = alerts.alerts(db, actor)
    return page(
        request,
        "monitor/audit.html",
        rows=[feed_row(i, orgs) for i in items],
        subjects=subjects.names(db, {str((i.get("decoded") or {}).get("subject", "")) for i in items}),
        filter_tender=tender.strip(),
        before=older_than,
        oldest=min((i["index"] for i in items), default=None),
        page_size=PAGE,
        filt=filt,
        orgs=orgs,
        alerts=[
            (a, *text) for a, text in zip(found, _alert_texts(db, found, locale_of(request)), strict=True)
        ],
        labels=EVENT_LABELS,
        # the live feed's rows (static/js/audit-feed.js) name events and roles as the page's rows do
        live_names={
            "events": {tag: i18n.gettext(locale_of(request), label) for tag, label in EVENT_LABELS.items()},
            "roles": {r.value: i18n.gettext(locale_of(request), f"role:{r.value}") for r in Role},
        },
        tags=registered(),
        last_index=max((i["index"] for i in items), default=feed.size(db) - 1)
        if items
        else feed.size(db) - 1,
    )


@get("/monitor/audit/entries/{index:int}", sync_to_thread=True)
def audit_entry(request: Request, db: Session, actor: Actor, index: int) -> Template:
    feed.require_supervisor(actor)
    item = feed.entry(db, index, actor)
    orgs = accounts.organisation_names(db)
    return page(
        request,
        "monitor/audit_entry.html",
        row=feed_row(item, orgs),
        subjects=subjects.names(db, {str((item.get("decoded") or {}).get("subject", ""))}),
        labels=EVENT_LABELS,
        details_json=json.dumps(item.get("details", {}), ensure_ascii=False, indent=1, sort_keys=True),
        disclosed_json=json.dumps(item["disclosed"]["data"], ensure_ascii=False, indent=1, sort_keys=True)
        if "disclosed" in item
        else "",
    )


ROUTES = [home, tender_page, suspend, resume, audit_feed, audit_entry]
