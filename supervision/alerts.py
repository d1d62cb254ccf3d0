"""Risk alerts for monitors, computed from the log (read-only, nothing stored).

The kinds:
- sealed_access_refused: a refused attempt to read sealed data (access.refused).
- outside_window: an action refused for being outside its time window. A refusal entry (tag ending in
  ".refused") says so with a "window" detail naming the window ("bid_deadline", "opening_time", ...);
  features that refuse for time reasons record it that way.
- failed_logins: at least FAILED_LOGINS failed logins for one account or from one address within
  LOGIN_WINDOW, and every throttled login.
- same_address_bids: bids of several bidders on one lot uploaded from one network address.
  tender.bid.submitted conceals its actor until the opening (E26), so the rule reads the confidential part
  server-side and the alert says only how many bids on which lot came from one address, never which address or
  which bidders.
- reused_sealed_bids: a company's sealed file refused because another company had submitted the same file, or
  a file with the same header bid id, on the tender (R40: identical bid files are deemed collusion). Read from
  the refusal's confidential part (tender/bids/submission.py); the alert names both companies, to monitors and
  administrators only, as every alert here.
- refused_writes: an account refused a write on an object (403 or 404: another organisation's bid or tender,
  an action its role may not take), from the request.refused entries the web layer records for every route;
  one alert per account and object, with the number of attempts.
- csrf_failures: at least REPEATED requests of one account (or, logged out, one address) that failed the
  CSRF check: a form posted from another site, or one kept open too long.
- repeated_bid_refusals: at least REPEATED refused bid attempts of one account (every tender.bid.refused, its
  concealed actor read server-side, and every refused request on a bid's route), with the number.

- service_outages: requests answered 503 because the blob store did not answer (request.unavailable, one
  folded entry per run): how many, from when to when, so that a monitor can tell whether bidders were kept
  from bidding before a deadline and decide on a remedy (an extension, E52).

- results_deadlines: a results deadline passed with nothing done (award.publicity.deadlines): the publicity
  not published within 3 days of the signed report (R54; G87-69 for the result notice), an objection on the
  result unanswered after 3 days (R54), a complaint's acceptance not decided within 3 working days or its case
  within 30 (R61). Read from the rows that carry the deadlines; one alert per late item.

Refused attempts are folded (audit.refusals): an entry with a "repeated" detail stands for that many
attempts, which every count here adds up. The alerts are the disclosure policy's one exception
(core.disclosure.Fact.alerts): they may name a company refused on a tender's bids before the opening."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import evaluation.events  # noqa: F401  (registers its tags: the refusals below are every feature's)
from accounts.events import AccountTag
from accounts.models import Organisation
from audit.events import RequestTag, registered
from audit.feed import readable_facts, require_supervisor
from audit.queries import Entry, confidential_parts, entries_tagged, pending_repeats
from award.decision.overdue import overdue
from award.publicity import deadlines as results_deadlines_of
from core import clock
from core.disclosure import Fact
from core.errors import N_, Forbidden
from core.identity import Actor
from tender.events import TenderTag

FAILED_LOGINS = 3
LOGIN_WINDOW = timedelta(minutes=15)
LOOKBACK = timedelta(days=30)
LIMIT = 50_000  # entries of each kind read at most
REPEATED = 3  # policy: this many refusals of one kind by one account make an alert


@dataclass
class Alert:
    kind: str
    time: datetime  # of the latest entry behind it
    subject: str
    count: int
    indexes: list[int]  # the entries behind it (their public view shows no concealed actor)
    params: dict[str, Any] = field(default_factory=dict)


def _tagged(session: Session, since: datetime, *tags: str) -> list[Entry]:
    return entries_tagged(session, tags, since=since, limit=LIMIT)


def attempts(
    details: dict[str, Any] | None, index: int | None = None, pending: dict[int, int] | None = None
) -> int:
    """How many refused attempts an entry stands for: a folded run's summary says (audit.refusals); a first
    refusal counts with the repeats counted since and not yet recorded (`pending`, by its index)."""
    repeated = (details or {}).get("repeated")
    if isinstance(repeated, int) and repeated > 0:
        return repeated
    return 1 + (pending or {}).get(index, 0) if index is not None else 1


def sealed_access_refused(session: Session, since: datetime) -> list[Alert]:
    pending = pending_repeats(session)
    return [
        Alert(
            "sealed_access_refused",
            e.time,
            e.subject,
            attempts(e.details, e.index, pending),
            [e.index],
            {"reason": (e.details or {}).get("reason", ""), "actor": e.actor},
        )
        for e in _tagged(session, since, AccountTag.access_refused.value)
    ]


def outside_window(session: Session, since: datetime) -> list[Alert]:
    refusals = [t for t in registered() if t.endswith(".refused") and t != AccountTag.access_refused]
    pending = pending_repeats(session)
    return [
        Alert(
            "outside_window",
            e.time,
            e.subject,
            attempts(e.details, e.index, pending),
            [e.index],
            {"tag": e.tag, "window": e.details["window"], "actor": e.actor},
        )
        for e in _tagged(session, since, *refusals)
        if (e.details or {}).get("window")
    ]


def failed_logins(session: Session, since: datetime) -> list[Alert]:
    entries = _tagged(
        session, since, AccountTag.auth_login_failed.value, AccountTag.auth_login_throttled.value
    )
    out = [
        Alert(
            "login_throttled", e.time, e.subject, 1, [e.index], {"account": e.subject.removeprefix("login:")}
        )
        for e in entries
        if e.tag == AccountTag.auth_login_throttled.value
    ]
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in entries:
        if e.tag == AccountTag.auth_login_failed.value:
            groups[("account", e.subject.removeprefix("login:"))].append(e)
            groups[("address", e.ip)].append(e)
    for (by, who), group in groups.items():
        # the largest number of failures inside any LOGIN_WINDOW (a sliding window over the sorted times)
        best: list[Entry] = []
        lo = 0
        for hi in range(len(group)):
            while group[hi].time - group[lo].time > LOGIN_WINDOW:
                lo += 1
            if hi - lo + 1 > len(best):
                best = group[lo : hi + 1]
        if len(best) >= FAILED_LOGINS:
            out.append(
                Alert(
                    "failed_logins",
                    best[-1].time,
                    f"login:{who}" if by == "account" else "",
                    len(best),
                    [e.index for e in best],
                    {"by": by, "who": who, "minutes": int(LOGIN_WINDOW.total_seconds() // 60)},
                )
            )
    return out


def same_address_bids(session: Session, since: datetime) -> list[Alert]:
    groups: dict[tuple[str, Any, str], dict[Any, tuple[int, datetime]]] = defaultdict(dict)
    for part in confidential_parts(session, TenderTag.bid_submitted.value, since=since, limit=LIMIT):
        who = (part.data or {}).get("actor") or {}
        # the committed address; an entry written before addresses left the bytes kept it in the actor
        ip, bidder = part.address or who.get("ip"), who.get("organisation") or who.get("user_id")
        if not ip or bidder is None:
            continue
        lot = (part.details or {}).get("lot", (part.data or {}).get("lot"))
        # the newest bid of each bidder counts
        groups[(part.subject, lot, ip)][bidder] = (part.index, part.time)
    out = []
    for (subject, lot, _ip), bidders in groups.items():
        if len(bidders) >= 2:
            latest = max(t for _, t in bidders.values())
            out.append(
                Alert(
                    "same_address_bids",
                    latest,
                    subject,
                    len(bidders),
                    sorted(i for i, _ in bidders.values()),
                    {"lot": lot},
                )
            )
    return out


REUSED = {"sealed_file_reused": "file", "sealed_bid_id_reused": "bid_id"}  # refusal reason -> what was reused


def reused_sealed_bids(session: Session, since: datetime) -> list[Alert]:
    refusals = [
        part
        for part in confidential_parts(session, TenderTag.bid_refused.value, since=since, limit=LIMIT)
        if (part.data or {}).get("reason") in REUSED
    ]
    orgs = {(p.data.get("actor") or {}).get("organisation") for p in refusals} | {
        p.data.get("same_as_organisation") for p in refusals
    }
    orgs.discard(None)
    names: dict[Any, str] = (
        dict(
            session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(orgs))).all()
        )
        if orgs
        else {}
    )
    out = []
    for part in refusals:
        data = part.data
        first, second = data.get("same_as_organisation"), (data.get("actor") or {}).get("organisation")
        out.append(
            Alert(
                "reused_sealed_bids",
                part.time,
                part.subject,
                2,
                [part.index],
                {
                    "what": REUSED[data["reason"]],
                    "lot": data.get("lot"),
                    "first": names.get(first, str(first)),
                    "second": names.get(second, str(second)),
                    "first_bid": data.get("same_as_bid"),
                    "rule": data.get("rule", "R40"),
                },
            )
        )
    return out


def _names(session: Session, ids: set[Any]) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(
        session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all()
    )


def _objects(session: Session, since: datetime) -> dict[int, str]:
    """What each request.refused entry of a bidder was about: its subject names the person only (E21), the
    object is in its confidential part (web/app.py)."""
    parts = confidential_parts(session, RequestTag.request_refused.value, since=since, limit=LIMIT)
    return {p.index: str(p.data["object"]) for p in parts if (p.data or {}).get("object")}


def _about(e: Entry, objects: dict[int, str]) -> str:
    """The object of a refused request: a folded run's summary is about its first entry's."""
    first = (e.details or {}).get("folded_into")
    return objects.get(e.index) or (objects.get(first, e.subject) if isinstance(first, int) else e.subject)


def refused_writes(session: Session, since: datetime) -> list[Alert]:
    pending = pending_repeats(session)
    objects = _objects(session, since)
    groups: dict[tuple[int, str], list[Entry]] = defaultdict(list)
    for e in _tagged(session, since, RequestTag.request_refused.value):
        if e.actor_user_id is not None and (e.details or {}).get("status") in (403, 404):
            groups[(e.actor_user_id, _about(e, objects))].append(e)
    names = _names(session, {g[0].organisation_id for g in groups.values()})
    out = []
    for (_, subject), group in groups.items():
        org = group[-1].organisation_id
        out.append(
            Alert(
                "refused_writes",
                group[-1].time,
                subject,
                sum(attempts(e.details, e.index, pending) for e in group),
                [e.index for e in group],
                {"actor": group[-1].actor, "organisation": names.get(org, "—") if org is not None else "—"},
            )
        )
    return out


def csrf_failures(session: Session, since: datetime) -> list[Alert]:
    pending = pending_repeats(session)
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in _tagged(session, since, RequestTag.request_csrf_refused.value):
        # logged in: the account; logged out: the address (monitors see it, as for failed logins)
        groups[("account", e.actor) if e.actor_user_id is not None else ("address", e.ip)].append(e)
    out = []
    for (by, who), group in groups.items():
        n = sum(attempts(e.details, e.index, pending) for e in group)
        if n >= REPEATED:
            out.append(
                Alert(
                    "csrf_failures", group[-1].time, "", n, [e.index for e in group], {"by": by, "who": who}
                )
            )
    return out


def repeated_bid_refusals(session: Session, since: datetime) -> list[Alert]:
    # (account) -> [(index, time, subject, attempts)]
    groups: dict[str, list[tuple[int, datetime, str, int]]] = defaultdict(list)
    pending = pending_repeats(session)
    for part in confidential_parts(session, TenderTag.bid_refused.value, since=since, limit=LIMIT):
        who = (part.data or {}).get("actor") or {}
        if who.get("username"):
            n = attempts(part.details, part.index, pending)
            groups[str(who["username"])].append((part.index, part.time, part.subject, n))
    objects = _objects(session, since)
    for e in _tagged(session, since, RequestTag.request_refused.value):
        route = str((e.details or {}).get("route", ""))
        if e.actor_user_id is not None and "/bids" in route:
            about = _about(e, objects)
            groups[e.actor].append((e.index, e.time, about, attempts(e.details, e.index, pending)))
    out = []
    for who, found in groups.items():
        found.sort()
        n = sum(a for *_, a in found)
        if n >= REPEATED:
            out.append(
                Alert(
                    "repeated_bid_refusals",
                    max(t for _, t, _, _ in found),
                    found[-1][2],
                    n,
                    [i for i, *_ in found],
                    {"who": who},
                )
            )
    return out


def service_outages(session: Session, since: datetime) -> list[Alert]:
    pending = pending_repeats(session)
    out = []
    for e in _tagged(session, since, RequestTag.request_unavailable.value):
        details = e.details or {}
        try:  # a folded run's summary says when the run began; a first entry is its own start
            first = datetime.fromisoformat(str(details["first_at"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            first = e.time
        out.append(
            Alert(
                "service_outages",
                e.time,
                e.subject,
                attempts(details, e.index, pending),
                [e.index],
                {
                    "service": details.get("service", ""),
                    "first": clock.to_cst(first).strftime("%Y-%m-%d %H:%M"),
                },
            )
        )
    return out


def results_deadlines(session: Session, since: datetime) -> list[Alert]:
    """Results deadlines overdue now (not bounded by `since`: a late answer stays late until given)."""
    return [
        Alert(
            o.kind,
            o.due,
            f"tender:{o.tender_id}",
            1,
            [o.audit_index],
            {"reference": o.reference, "due": clock.to_cst(o.due).strftime("%Y-%m-%d %H:%M")},
        )
        for o in results_deadlines_of.overdue(session, clock.now())
    ]


def award_overdue(session: Session) -> list[Alert]:
    """Issue 14: a contract not recorded within 30 days of the award notice or signed after them (L46), a
    government-procurement contract published late (GR50), bid securities not refunded by their deadline
    (R35, R57). Overdue whatever the lookback: they stay until done."""
    return [
        Alert(o.kind, o.since, o.reference, o.params.get("count", 1), [o.index], dict(o.params))
        for o in overdue(session)
    ]


def alerts(session: Session, actor: Actor, *, lookback: timedelta = LOOKBACK) -> list[Alert]:
    """Every alert of the last `lookback`, newest first. Monitors and administrators only: the disclosure
    policy's Fact.alerts, the one exception to its other rows."""
    require_supervisor(actor)
    if Fact.alerts.value not in readable_facts(actor):  # the policy decides, as for every fact shown
        raise Forbidden.one("supervisor_required", N_("Only monitors and administrators may see the alerts."))
    since = clock.now() - lookback
    found = [
        *sealed_access_refused(session, since),
        *outside_window(session, since),
        *failed_logins(session, since),
        *same_address_bids(session, since),
        *reused_sealed_bids(session, since),
        *refused_writes(session, since),
        *csrf_failures(session, since),
        *repeated_bid_refusals(session, since),
        *service_outages(session, since),
        *results_deadlines(session, since),
        *award_overdue(session),
    ]
    return sorted(found, key=lambda a: (a.time, a.indexes[-1]), reverse=True)
