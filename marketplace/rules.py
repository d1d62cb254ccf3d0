"""The marketplace's pure rules (rules.md §5), each with its source. No database, no clock: the services
pass in what the rule needs.

- Entry (Tangshan; rules.md §5.2): an independent legal person with the qualifications each service needs,
  no violation or bad credit in 3 years, internal management rules, a licence, a credit report and a signed
  commitment letter; applications at any time, no quota.
- Direct choice only below a policy threshold (优化营商环境条例 art. 43: administrative bodies may not
  designate an intermediary; rules.md §5.1, §5.3).
- Sign-up before the deadline, by an intermediary approved for the service; a quote within the ceiling
  (rules.md §5.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from core.errors import N_, Problem
from marketplace import selection

DIRECT = "direct"
# the credit shortlist (信用择优, Guangdong; rules.md §5.3) asks no quote: the long list is by credit score
METHODS = (*selection.DRAWN_METHODS, selection.CREDIT, DIRECT)
PRICED = (selection.LOWEST, selection.OPTIMAL)  # the methods that ask for a quote

# Policy (优化营商环境条例 art. 43 leaves the amount to local rules): direct choice only for a ceiling below
# this, in fen (100,000 yuan).
DIRECT_CHOICE_THRESHOLD_FEN = 100_000 * 100


@dataclass(frozen=True)
class Qualification:
    name: str
    grade: str
    expires_on: date


@dataclass(frozen=True)
class Staff:
    name: str
    certificate: str
    number: str


@dataclass
class EntryInput:
    services: list[str]
    licence_number: str = ""
    independent_legal_person: bool = False
    no_violation_3y: bool = False
    internal_rules: bool = False
    credit_report: str = ""
    commitment_signed_by: str = ""
    qualifications: list[Qualification] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)


def _lines(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.strip():
            rows.append([part.strip() for part in line.replace("｜", "|").split("|")])
    return rows


def parse_qualifications(text: str) -> tuple[list[Qualification], list[Problem]]:
    """One qualification a line: `name | grade | expiry (YYYY-MM-DD)`."""
    found, problems = [], []
    for n, parts in enumerate(_lines(text), start=1):
        if len(parts) != 3 or not parts[0]:
            problems.append(
                Problem(
                    "qualification_line",
                    N_("Line %(line)s of the qualifications: write name | grade | expiry date."),
                    "qualifications",
                    {"line": n},
                )
            )
            continue
        try:
            expires = date.fromisoformat(parts[2])
        except ValueError:
            problems.append(
                Problem(
                    "qualification_expiry",
                    N_("Line %(line)s of the qualifications: the expiry date must be YYYY-MM-DD."),
                    "qualifications",
                    {"line": n},
                )
            )
            continue
        found.append(Qualification(parts[0], parts[1], expires))
    return found, problems


def parse_staff(text: str) -> tuple[list[Staff], list[Problem]]:
    """One practising staff member a line: `name | certificate | certificate number`."""
    found, problems = [], []
    for n, parts in enumerate(_lines(text), start=1):
        if len(parts) != 3 or not all(parts):
            problems.append(
                Problem(
                    "staff_line",
                    N_("Line %(line)s of the staff: write name | certificate | certificate number."),
                    "staff",
                    {"line": n},
                )
            )
            continue
        found.append(Staff(*parts))
    return found, problems


def too_long(values: Mapping[str, str], limits: Mapping[str, int]) -> list[Problem]:
    """A field longer than its column holds, refused at the field (rather than by the database)."""
    return [
        Problem("too_long", N_("At most %(n)s characters."), name, {"n": limit})
        for name, limit in limits.items()
        if len(values.get(name, "")) > limit
    ]


def entry_problems(entry: EntryInput, catalogue: Mapping[str, list[str]], today: date) -> list[Problem]:
    """Why an application cannot enter (Tangshan, rules.md §5.2). `catalogue`: the active service types'
    codes with the qualifications each needs."""
    out: list[Problem] = too_long(
        {
            "licence_number": entry.licence_number,
            "credit_report": entry.credit_report,
            "commitment_signed_by": entry.commitment_signed_by,
        },
        {"licence_number": 60, "credit_report": 300, "commitment_signed_by": 100},
    )

    def need(ok: bool, code: str, message: str, field_name: str) -> None:
        if not ok:
            out.append(Problem(code, message, field_name, rule="Tangshan"))

    need(bool(entry.services), "services_missing", N_("Choose at least one service type."), "services")
    for code in entry.services:
        if code not in catalogue:
            out.append(
                Problem("service_unknown", N_("That service type is not in the catalogue."), "services")
            )
    need(
        bool(entry.licence_number.strip()),
        "licence_missing",
        N_("Enter the business licence's number."),
        "licence_number",
    )
    need(
        entry.independent_legal_person,
        "not_independent",
        N_("Only an independent legal person may enter the marketplace."),
        "independent_legal_person",
    )
    need(
        entry.no_violation_3y,
        "violation_3y",
        N_("Confirm that the organisation had no violation or bad credit record in the last 3 years."),
        "no_violation_3y",
    )
    need(
        entry.internal_rules,
        "internal_rules_missing",
        N_("Confirm that the organisation has internal management rules."),
        "internal_rules",
    )
    need(
        bool(entry.credit_report.strip()),
        "credit_report_missing",
        N_("Enter the credit report's number or source."),
        "credit_report",
    )
    need(
        bool(entry.commitment_signed_by.strip()),
        "commitment_missing",
        N_("Sign the commitment letter with the legal representative's name."),
        "commitment_signed_by",
    )
    need(bool(entry.staff), "staff_missing", N_("List at least one practising staff member."), "staff")
    for q in entry.qualifications:
        if q.expires_on < today:
            out.append(
                Problem(
                    "qualification_expired",
                    N_("The qualification %(name)s expired on %(date)s."),
                    "qualifications",
                    {"name": q.name, "date": q.expires_on.isoformat()},
                    "Tangshan",
                )
            )
    held = {q.name for q in entry.qualifications if q.expires_on >= today}
    for code in entry.services:
        for needed in catalogue.get(code, []):
            if needed not in held:
                out.append(
                    Problem(
                        "qualification_missing",
                        N_("The service needs the qualification %(name)s, valid today."),
                        "qualifications",
                        {"name": needed},
                        "Tangshan",
                    )
                )
    return out


# ---------------------------------------------------------------- purchases


@dataclass
class PurchaseInput:
    service_code: str
    project: str
    ceiling_fen: int | None
    requirements: str
    state_funds: bool
    method: str
    signup_deadline: datetime | None
    selection_at: datetime | None
    chosen_org_id: int | None = None  # direct choice only
    # intermediaries excluded from this purchase, each with its reason: (unified social credit code, reason)
    excluded: tuple[tuple[str, str], ...] = ()
    # the public key (base64url X25519) the quotes of a priced method are sealed to (marketplace.sealedquotes)
    quote_key: str = ""


def purchase_problems(p: PurchaseInput, services: Iterable[str], now: datetime) -> list[Problem]:
    out: list[Problem] = too_long({"project": p.project}, {"project": 300})
    if p.service_code not in set(services):
        out.append(Problem("service_unknown", N_("Choose a service type of the catalogue."), "service_code"))
    if not p.project.strip():
        out.append(Problem("project_missing", N_("Name the project the service is for."), "project"))
    if p.ceiling_fen is None or p.ceiling_fen <= 0:
        out.append(Problem("ceiling_missing", N_("Enter the budget ceiling in yuan."), "ceiling"))
    if p.method not in METHODS:
        out.append(Problem("method_unknown", N_("Choose a selection method."), "method"))
    if p.method == DIRECT:
        if p.ceiling_fen is not None and p.ceiling_fen >= DIRECT_CHOICE_THRESHOLD_FEN:
            out.append(
                Problem(
                    "direct_above_threshold",
                    N_(
                        "Direct choice is only allowed below %(amount)s yuan; above it the intermediary is "
                        "selected by the platform."
                    ),
                    "method",
                    {"amount": f"{DIRECT_CHOICE_THRESHOLD_FEN // 100:,}"},
                    "优化营商环境条例 art. 43",
                )
            )
        if p.chosen_org_id is None:
            out.append(
                Problem("direct_choice_missing", N_("Choose the approved intermediary."), "chosen_org")
            )
        return out
    if p.signup_deadline is None or p.signup_deadline <= now:
        out.append(
            Problem("deadline_past", N_("The sign-up deadline must be in the future."), "signup_deadline")
        )
    if p.selection_at is None or (p.signup_deadline is not None and p.selection_at < p.signup_deadline):
        out.append(
            Problem(
                "selection_before_deadline",
                N_("The selection time must not be before the sign-up deadline."),
                "selection_at",
            )
        )
    return out


MAX_EXCLUDED = 20  # policy: an exclusion is for a named conflict (the firm that did the design is not its
# reviewer), not a way round the selection; more than a handful is a designation by elimination (§5.1)


def parse_exclusions(text: str) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    """One exclusion a line, `unified social credit code | reason` (the code people see on the directory)."""
    out: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        code, sep, reason = line.partition("|")
        if not sep:
            problems.append(
                Problem(
                    "excluded_format",
                    N_("Write each exclusion as: unified social credit code | reason."),
                    "excluded",
                )
            )
            continue
        out.append((code.strip().upper(), reason.strip()))
    return tuple(out), problems


def exclusion_problems(excluded: Sequence[tuple[str, str]], intermediaries: Iterable[str]) -> list[Problem]:
    """The owner may exclude intermediaries, each with its reason, published with the purchase; an
    administrative body may not designate one (rules.md §5.1, 优化营商环境条例 art. 43), so the list is short
    and every exclusion says why."""
    out: list[Problem] = []
    known = set(intermediaries)
    if len(excluded) > MAX_EXCLUDED:
        out.append(
            Problem(
                "excluded_too_many",
                N_("Exclude at most %(n)s intermediaries; the selection chooses among the others."),
                "excluded",
                {"n": MAX_EXCLUDED},
                "§5.1",
            )
        )
    for code, reason in excluded:
        if code not in known:
            out.append(
                Problem(
                    "excluded_unknown",
                    N_("%(code)s is not the credit code of an intermediary of the marketplace."),
                    "excluded",
                    {"code": code},
                )
            )
        elif not reason.strip():
            out.append(
                Problem("excluded_reason_missing", N_("Say why each intermediary is excluded."), "excluded")
            )
        elif len(reason) > 300:
            out.append(
                Problem("excluded_reason_long", N_("Keep each reason under 300 characters."), "excluded")
            )
    return out


def signup_problems(
    *, method: str, ceiling_fen: int, deadline: datetime, now: datetime, approved: bool, quote_fen: int | None
) -> list[Problem]:
    out: list[Problem] = []
    if now >= deadline:
        out.append(Problem("signup_closed", N_("The sign-up deadline has passed."), rule="§5.3"))
    if not approved:
        out.append(
            Problem(
                "not_approved_for_service",
                N_("Only intermediaries approved for this service type may sign up."),
                rule="Tangshan",
            )
        )
    if method in PRICED:
        if quote_fen is None or quote_fen <= 0:
            out.append(Problem("quote_missing", N_("Enter your quote in yuan."), "quote"))
        elif quote_fen > ceiling_fen:
            out.append(
                Problem("quote_above_ceiling", N_("The quote is above the purchase's ceiling."), "quote")
            )
    return out
