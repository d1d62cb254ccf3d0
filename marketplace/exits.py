"""Exit (清退) rules as data (marketplace/exit_rules.json, rules.md §5.4-§5.5), evaluated by a periodic task
(marketplace.tasks.sweep_exits): each exit is recorded with the facts that triggered it, the intermediary is
notified (a message key with its parameters) and leaves the marketplace (its entry's status `exited`), and
the exit is open to appeal and, later, to credit repair (信用修复), both decided by the centre.

`evaluate` is pure: one intermediary's facts in, the rules' triggers out. Each trigger has a key naming the
facts that fired it, so a re-run never exits twice on the same facts, and an exit reversed on appeal or
repaired is not brought back by them; new facts (a fourth complaint, a new sanction) exit again.

The window of "3 verified quality complaints within 1 year": three complaints filed (Beijing dates) on days
that fit in 365 consecutive days, the first complaint's day being day 1: a third on day 365 exits, a third on
day 366 does not. Services never commit."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.access import require_role
from accounts.models import User
from accounts.notifications import notify
from audit import record
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import SYSTEM, Actor, Role
from marketplace import credit, directory, entries, ratings
from marketplace.events import MarketplaceTag
from marketplace.models import Complaint, Entry, EntryStatus, Exit, Finding, Rating, Sanction

RULES_FILE = Path(__file__).with_name("exit_rules.json")
FINDINGS = ("entry_fraud", "poor_service", "misconduct", "leaked_secrets", "refused_management")
APPEAL_DAYS = 15  # policy: an exit is appealed within 15 days of its notice
REPAIR_AFTER_DAYS = 180  # policy: credit repair may be asked for 180 days after the exit
IN_FORCE, APPEALED, REPAIR_ASKED, REVERSED, REPAIRED = (
    "in_force",
    "appealed",
    "repair_requested",
    "reversed",
    "repaired",
)
ACTIVE = (IN_FORCE, APPEALED, REPAIR_ASKED)  # the exit holds while any of these

RULE_LABELS = {
    "entry_fraud": N_("Fraud in the entry materials"),
    "poor_service": N_("Poor service"),
    "misconduct": N_("Misconduct"),
    "leaked_secrets": N_("Leaking secrets"),
    "sanction": N_("A sanction by an authority"),
    "quality_complaints": N_("3 verified quality complaints within 1 year"),
    "refused_management": N_("Refusing management"),
    "one_star": N_("A 1-star rating"),
}


@cache
def load_rules(path: Path = RULES_FILE) -> tuple[dict[str, Any], ...]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("format") != "etender-marketplace-exit-rules" or doc.get("version") != 1:
        raise ValueError("not an exit rules table of version 1")
    rules = tuple(doc["rules"])
    for rule in rules:
        if rule["trigger"] not in ("finding", "sanction", "complaints", "rating") or not rule.get("source"):
            raise ValueError(f"exit rule {rule.get('code')}: unknown trigger or no source")
    return rules


@dataclass(frozen=True)
class Facts:
    """What the rules read about one intermediary (each item carries its row's id)."""

    findings: Sequence[tuple[int, str, date]] = ()  # (id, kind, found on)
    sanctions: Sequence[tuple[int, str, date]] = ()  # (id, authority, decided on)
    complaints: Sequence[tuple[int, date]] = ()  # verified quality complaints: (id, filed on, Beijing date)
    purchase_scores: Sequence[tuple[int, Decimal]] = ()  # (purchase id, combined 5:3:2 score)


@dataclass(frozen=True)
class Trigger:
    rule_code: str
    key: str
    facts: dict[str, Any] = field(default_factory=dict)


def evaluate(rules: Sequence[Mapping[str, Any]], facts: Facts, today: date) -> list[Trigger]:
    out: list[Trigger] = []
    for rule in rules:
        code, kind = rule["code"], rule["trigger"]
        base = {"rule": code, "source": rule["source"]}
        if kind == "finding":
            for fid, fkind, on in facts.findings:
                if fkind == rule["finding"]:
                    out.append(
                        Trigger(code, f"finding:{fid}", {**base, "finding": fid, "found_on": on.isoformat()})
                    )
        elif kind == "sanction":
            since = today - timedelta(days=int(rule["within_days"]))
            for sid, authority, on in facts.sanctions:
                if since < on <= today:
                    out.append(
                        Trigger(
                            code,
                            f"sanction:{sid}",
                            {**base, "sanction": sid, "authority": authority, "decided_on": on.isoformat()},
                        )
                    )
        elif kind == "complaints":
            n, span = int(rule["count"]), int(rule["within_days"])
            dated = sorted(facts.complaints, key=lambda c: (c[1], c[0]))
            for i in range(len(dated) - n + 1):
                group = dated[i : i + n]
                # day 1 is the first complaint's day: the n-th must fall on day `span` at the latest
                if (group[-1][1] - group[0][1]).days <= span - 1:
                    out.append(
                        Trigger(
                            code,
                            "complaints:" + ",".join(str(c[0]) for c in group),
                            {
                                **base,
                                "complaints": [c[0] for c in group],
                                "filed_on": [c[1].isoformat() for c in group],
                                "within_days": span,
                            },
                        )
                    )
                    break  # one trigger per sweep: the first group that fits
        elif kind == "rating":
            top = int(rule["max_stars"])
            for pid, value in facts.purchase_scores:
                stars = max(1, min(5, int(value.quantize(Decimal(1), ROUND_HALF_UP))))
                if stars <= top:
                    out.append(
                        Trigger(
                            code,
                            f"purchase:{pid}",
                            {**base, "purchase": pid, "score": str(value), "stars": stars},
                        )
                    )
    return out


# ---------------------------------------------------------------- gathering the facts, the sweep


def facts_of(session: Session, org_id: int) -> Facts:
    findings = [
        (f.id, f.kind, f.found_on)
        for f in session.scalars(
            select(Finding).where(Finding.organisation_id == org_id).order_by(Finding.id)
        )
    ]
    sanctions = [
        (s.id, s.authority, s.decided_on)
        for s in session.scalars(
            select(Sanction).where(Sanction.organisation_id == org_id).order_by(Sanction.id)
        )
    ]
    complaints = [
        (c.id, clock.to_cst(c.filed_at).date())
        for c in session.scalars(
            select(Complaint).where(
                Complaint.intermediary_org_id == org_id,
                Complaint.kind == "quality",
                Complaint.status == "verified",
            )
        )
    ]
    rows = list(session.scalars(select(Rating).where(Rating.intermediary_org_id == org_id)))
    counted = credit.effective_scores(session, rows)
    per: dict[int, dict[str, Decimal]] = {}
    for r in rows:
        per.setdefault(r.purchase_id, {})[r.rater_kind] = ratings.overall(counted[r.id])
    scores = [(pid, ratings.combined(kinds)) for pid, kinds in sorted(per.items())]
    return Facts(findings, sanctions, complaints, scores)


def _users_of(session: Session, org_id: int) -> set[int]:
    return set(session.scalars(select(User.id).where(User.organisation_id == org_id, User.active.is_(True))))


def sweep(session: Session, today: date | None = None) -> list[Exit]:
    """Evaluate every rule for every intermediary in the marketplace; record and notify each new exit. Safe
    to run twice (the trigger key is unique per intermediary and rule)."""
    today = today or clock.to_cst(clock.now()).date()
    rules = load_rules()
    made: list[Exit] = []
    for entry in session.scalars(
        select(Entry).where(Entry.status == EntryStatus.approved.value).order_by(Entry.id)
    ):
        known = set(
            session.execute(
                select(Exit.rule_code, Exit.trigger_key).where(Exit.organisation_id == entry.organisation_id)
            ).tuples()
        )
        for trig in evaluate(rules, facts_of(session, entry.organisation_id), today):
            if (trig.rule_code, trig.key) in known:
                continue
            row = Exit(
                organisation_id=entry.organisation_id,
                rule_code=trig.rule_code,
                trigger_key=trig.key,
                facts=trig.facts,
            )
            session.add(row)
            entry.status = EntryStatus.exited.value
            session.flush()
            directory.sync_offers(session, entry, entries.requirements(session))
            record(
                session,
                MarketplaceTag.exit_recorded,
                actor=SYSTEM,
                subject=f"org:{entry.organisation_id}",
                details={
                    "exit": row.id,
                    "rule": row.rule_code,
                    "trigger": row.trigger_key,
                    "facts": row.facts,
                },
            )
            notify(
                session,
                _users_of(session, entry.organisation_id),
                "marketplace.exit",
                title=N_(
                    "Your organisation has left the marketplace: %(rule)s. You may appeal within %(days)s "
                    "days."
                ),
                params={"rule": RULE_LABELS.get(row.rule_code, row.rule_code), "days": APPEAL_DAYS},
                link="/intermediary/entry",
            )
            made.append(row)
            break  # the intermediary is out: the next sweep records no second exit on top
    return made


# ---------------------------------------------------------------- findings, appeals, credit repair


def record_finding(
    session: Session, actor: Actor, org_id: int, kind: str, note: str, authority: str, found_on: date | None
) -> Finding:
    require_role(actor, Role.admin)
    problems = []
    if kind not in FINDINGS:
        problems.append(("finding_unknown", N_("Choose what was found."), "kind"))
    if not note.strip():
        problems.append(("finding_note_missing", N_("Describe the facts found."), "note"))
    today = clock.to_cst(clock.now()).date()
    if found_on is None or found_on > today:
        problems.append(("date_invalid", N_("Enter the date of the finding, not after today."), "found_on"))
    if problems:
        raise ValidationFailed([Problem(code, msg, f) for code, msg, f in problems])
    assert found_on is not None and actor.user_id is not None
    row = Finding(
        organisation_id=org_id,
        kind=kind,
        note=note.strip(),
        authority=authority.strip(),
        found_on=found_on,
        recorded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    record(
        session,
        MarketplaceTag.finding_recorded,
        actor=actor,
        subject=f"org:{org_id}",
        details={"finding": row.id, "kind": kind, "note": row.note, "found_on": found_on.isoformat()},
    )
    return row


def _exit_of_mine(session: Session, actor: Actor, exit_id: int) -> Exit:
    require_role(actor, Role.intermediary)
    row = session.get(Exit, exit_id, with_for_update=True)
    if row is None:
        raise NotFound.one("exit_not_found", N_("No such exit."))
    if row.organisation_id != actor.organisation_id:
        raise Forbidden.one("not_your_exit", N_("Only the intermediary that left may appeal its exit."))
    return row


def appeal(session: Session, actor: Actor, exit_id: int, grounds: str, repair: bool = False) -> Exit:
    """The intermediary appeals its exit (within APPEAL_DAYS of it), or asks for credit repair (from
    REPAIR_AFTER_DAYS after it)."""
    row = _exit_of_mine(session, actor, exit_id)
    if row.status != IN_FORCE:
        raise Conflict.one("exit_not_open", N_("This exit is not open to an appeal or a repair request now."))
    if not grounds.strip():
        raise ValidationFailed.one("grounds_missing", N_("Give your grounds."), "grounds")
    age = clock.now() - row.exited_at
    if not repair and age > timedelta(days=APPEAL_DAYS):
        raise Conflict.one(
            "exit_appeal_late",
            N_(
                "An exit is appealed within %(days)s days; ask for credit repair after %(repair)s "
                "days instead."
            ),
            days=APPEAL_DAYS,
            repair=REPAIR_AFTER_DAYS,
        )
    if repair and age < timedelta(days=REPAIR_AFTER_DAYS):
        raise Conflict.one(
            "repair_too_early",
            N_("Credit repair may be asked for %(days)s days after the exit, from %(date)s."),
            days=REPAIR_AFTER_DAYS,
            date=clock.to_cst(row.exited_at + timedelta(days=REPAIR_AFTER_DAYS)).strftime("%Y-%m-%d"),
        )
    row.status = REPAIR_ASKED if repair else APPEALED
    row.appeal_grounds, row.appealed_at = grounds.strip(), clock.now()
    session.flush()
    record(
        session,
        MarketplaceTag.exit_appealed,
        actor=actor,
        subject=f"org:{row.organisation_id}",
        details={"exit": row.id, "repair": repair, "grounds": row.appeal_grounds},
    )
    return row


def decide(session: Session, actor: Actor, exit_id: int, granted: bool, note: str) -> Exit:
    """The centre decides an appeal (granted: the exit is reversed) or a repair request (granted: repaired);
    refused, the exit stays in force. The intermediary is back once no other exit of it holds."""
    require_role(actor, Role.admin)
    row = session.get(Exit, exit_id, with_for_update=True)
    if row is None:
        raise NotFound.one("exit_not_found", N_("No such exit."))
    if row.status not in (APPEALED, REPAIR_ASKED):
        raise Conflict.one(
            "exit_nothing_to_decide", N_("This exit has no appeal or repair request to decide.")
        )
    if not note.strip():
        raise ValidationFailed.one("decision_note_missing", N_("Give the reasons for the decision."), "note")
    asked = row.status
    row.status = (REVERSED if asked == APPEALED else REPAIRED) if granted else IN_FORCE
    row.decided_by, row.decided_at, row.decision_note = actor.user_id, clock.now(), note.strip()
    session.flush()
    if granted:
        others = session.scalars(
            select(Exit).where(
                Exit.organisation_id == row.organisation_id, Exit.id != row.id, Exit.status.in_(ACTIVE)
            )
        ).first()
        entry = session.scalars(
            select(Entry).where(Entry.organisation_id == row.organisation_id)
        ).one_or_none()
        if entry is not None and others is None and entry.status == EntryStatus.exited:
            entry.status = EntryStatus.approved.value
            directory.sync_offers(session, entry, entries.requirements(session))
    record(
        session,
        MarketplaceTag.exit_decided,
        actor=actor,
        subject=f"org:{row.organisation_id}",
        details={
            "exit": row.id,
            "asked": asked,
            "granted": granted,
            "status": row.status,
            "note": row.decision_note,
        },
    )
    notify(
        session,
        _users_of(session, row.organisation_id),
        "marketplace.exit.decided",
        title=N_("The centre has decided on your exit's appeal or repair request: %(outcome)s."),
        params={"outcome": N_("granted") if granted else N_("refused")},
        body=row.decision_note[:500],
        link="/intermediary/entry",
    )
    return row


def exits_of(session: Session, org_id: int) -> list[Exit]:
    return list(session.scalars(select(Exit).where(Exit.organisation_id == org_id).order_by(Exit.id.desc())))
