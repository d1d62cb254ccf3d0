"""Purchases of intermediary services, sign-ups and the verifiable selection (rules.md §5.3;
docs/marketplace-selection.md).

A project owner posts a purchase; approved intermediaries of its service sign up (with a quote for a priced
method) before the deadline; after it the owner (or an administrator) closes sign-up, which fixes the
applicant list and commits the server seed; the owner commits to a random value of its own, then reveals it;
the reveal runs marketplace.selection and publishes the record. Direct choice, below the policy threshold, is
made when posting and has no draw. The credit shortlist (信用择优) freezes the applicants' credit scores at
sign-up close, draws the short list at the reveal and waits for the owner's choice from it (`choose`), which
completes and publishes the record.

Who sees what (marketplace.disclosure): who signed up and how many (Fact.participation) only the intermediary
itself before the deadline, then the owner, monitors and administrators; the quotes (Fact.bids) only the
intermediary itself until the selection ran, then everyone. The sign-up's audit entry is withheld as
participation (its tag, time and subject hidden from the public log) until sign-up closes, and the quote is
never in it: the completion entry publishes the record, quotes included. Services take a session and an
actor and never commit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.access import require_role
from accounts.models import Organisation, User
from accounts.notifications import notify
from audit import record, release_where
from core import clock, fairdraw
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from marketplace import credit, disclosure, entries, rules, sealedquotes, selection
from marketplace import shortlist_events as shortlist
from marketplace.events import MarketplaceTag
from marketplace.models import Purchase, PurchaseStatus, Selection, SelectionStatus, SignUp


def _subject(purchase: Purchase) -> str:
    return f"purchase:{purchase.id}"


def get(session: Session, purchase_id: int, lock: bool = False) -> Purchase:
    query = select(Purchase).where(Purchase.id == purchase_id)
    if lock:
        query = query.with_for_update()
    purchase = session.scalars(query).one_or_none()
    if purchase is None:
        raise NotFound.one("purchase_not_found", N_("No such purchase."))
    return purchase


def _owned(session: Session, actor: Actor, purchase_id: int, lock: bool = False) -> Purchase:
    require_role(actor, Role.project_owner, Role.admin)
    purchase = get(session, purchase_id, lock)
    if not actor.has(Role.admin) and actor.organisation_id != purchase.owner_org_id:
        raise Forbidden.one("not_purchase_owner", N_("Only the purchase's owner may do this."))
    return purchase


# ---------------------------------------------------------------- posting


def post(session: Session, actor: Actor, data: rules.PurchaseInput) -> Purchase:
    require_role(actor, Role.project_owner)
    now = clock.now()
    problems = rules.purchase_problems(data, entries.requirements(session), now)
    if data.method == rules.DIRECT and data.chosen_org_id is not None and not problems:
        entry = entries.entry_of_org(session, data.chosen_org_id)
        if entry is None or data.service_code not in entries.active_services(session, entry):
            problems.append(
                Problem(
                    "not_approved_for_service",
                    N_("Only intermediaries approved for this service type may be chosen."),
                    "chosen_org",
                )
            )
    excluded_orgs: dict[str, tuple[int, str]] = {}
    if data.excluded:
        excluded_orgs = {
            code: (org_id, name)
            for code, org_id, name in session.execute(
                select(Organisation.credit_code, Organisation.id, Organisation.name).where(
                    Organisation.credit_code.in_([c for c, _ in data.excluded]),
                    Organisation.kind == "intermediary",
                )
            )
        }
        excluded_ids = {code: org_id for code, (org_id, _) in excluded_orgs.items()}
        problems.extend(rules.exclusion_problems(data.excluded, excluded_ids))
        if data.method == rules.DIRECT and data.chosen_org_id in set(excluded_ids.values()):
            problems.append(
                Problem(
                    "chosen_excluded",
                    N_("The intermediary you chose is on your exclusion list."),
                    "chosen_org",
                )
            )
    quote_key = ""
    if data.method in rules.PRICED:
        # the quotes are sealed to a key the owner made on its own side (marketplace.sealedquotes)
        try:
            quote_key = sealedquotes.check_public_key(data.quote_key)
        except ValidationFailed as e:
            problems.extend(e.problems)
    if problems:
        raise ValidationFailed(problems)
    assert data.ceiling_fen is not None and actor.organisation_id is not None and actor.user_id is not None
    count = session.scalar(select(func.count(Purchase.id))) or 0
    purchase = Purchase(
        reference=f"ZJ-{now.year}-{count + 1:04d}-{secrets.token_hex(2)}",
        owner_org_id=actor.organisation_id,
        created_by=actor.user_id,
        service_code=data.service_code,
        project=data.project.strip(),
        ceiling_fen=data.ceiling_fen,
        requirements=data.requirements.strip(),
        state_funds=data.state_funds,
        method=data.method,
        signup_deadline=data.signup_deadline or now,
        selection_at=data.selection_at or now,
        quote_key=quote_key,
        # the name as it was when published, beside the id and the code people check it by
        excluded=[
            {
                "organisation_id": excluded_orgs[code][0],
                "name": excluded_orgs[code][1],
                "credit_code": code,
                "reason": reason,
            }
            for code, reason in dict(data.excluded).items()
        ],
    )
    if data.method == rules.DIRECT:
        purchase.status = PurchaseStatus.selected.value
        purchase.chosen_org_id = data.chosen_org_id
    session.add(purchase)
    session.flush()
    record(
        session,
        MarketplaceTag.purchase_posted,
        actor=actor,
        subject=_subject(purchase),
        details={
            "reference": purchase.reference,
            "service": purchase.service_code,
            "project": purchase.project,
            "ceiling_fen": purchase.ceiling_fen,
            "state_funds": purchase.state_funds,
            "method": purchase.method,
            "signup_deadline": purchase.signup_deadline.isoformat(),
            "selection_at": purchase.selection_at.isoformat(),
            "quote_key": purchase.quote_key,
            "excluded": purchase.excluded,
        },
    )
    if data.method == rules.DIRECT:
        record(
            session,
            MarketplaceTag.purchase_chosen_directly,
            actor=actor,
            subject=_subject(purchase),
            details={"organisation_id": data.chosen_org_id, "ceiling_fen": purchase.ceiling_fen},
        )
    return purchase


def open_for(session: Session, actor: Actor) -> list[Purchase]:
    """The open purchases an intermediary may sign up for: its active services, before the deadline, unless
    the owner excluded it."""
    require_role(actor, Role.intermediary)
    entry = entries.entry_of_org(session, actor.organisation_id)
    offered = entries.active_services(session, entry) if entry else []
    if not offered:
        return []
    return list(
        p
        for p in session.scalars(
            select(Purchase)
            .where(
                Purchase.status == PurchaseStatus.open.value,
                Purchase.service_code.in_(offered),
                Purchase.signup_deadline > clock.now(),
            )
            .order_by(Purchase.signup_deadline)
        )
        if exclusion_of(p, actor.organisation_id) is None
    )


def exclusion_of(purchase: Purchase, organisation_id: int | None) -> str | None:
    """The owner's reason for excluding the organisation from the purchase, or None."""
    return next(
        (e["reason"] for e in purchase.excluded or [] if e.get("organisation_id") == organisation_id), None
    )


def owned(session: Session, actor: Actor) -> list[Purchase]:
    require_role(actor, Role.project_owner)
    return list(
        session.scalars(
            select(Purchase)
            .where(Purchase.owner_org_id == actor.organisation_id)
            .order_by(Purchase.id.desc())
        )
    )


def public_list(session: Session) -> list[Purchase]:
    return list(session.scalars(select(Purchase).order_by(Purchase.id.desc()).limit(200)))


# ---------------------------------------------------------------- sign-up


def my_signup(session: Session, actor: Actor, purchase: Purchase) -> SignUp | None:
    if actor.anonymous or actor.organisation_id is None:
        return None
    return session.scalars(
        select(SignUp).where(
            SignUp.purchase_id == purchase.id, SignUp.organisation_id == actor.organisation_id
        )
    ).one_or_none()


def sign_up(session: Session, actor: Actor, purchase_id: int, quote_fen: int | None) -> SignUp:
    """Sign up (or change the quote) before the deadline, the quote given in clear: checked against the
    ceiling, then sealed at once to the purchase key (marketplace.sealedquotes) so that only the sealed file
    is stored (the form's path for a browser without the sealing script; sign_up_sealed is the one where the
    quote never reaches the platform in clear). The entry is withheld as participation and carries no quote:
    nobody learns from the log who signed up, or what they quoted, before the selection."""
    purchase, signup = _signup_checked(session, actor, purchase_id, quote_fen, sealed=False)
    if purchase.method in rules.PRICED and purchase.quote_key:
        assert quote_fen is not None
        sealedquotes.store(signup, purchase, sealedquotes.seal_quote(purchase, quote_fen))
    else:  # a random draw asks no quote (a priced purchase posted before sealing: as it was then)
        signup.quote_fen = quote_fen if purchase.method in rules.PRICED else None
    return _signed_up(session, actor, purchase, signup)


def sign_up_sealed(session: Session, actor: Actor, purchase_id: int, sealed: bytes) -> SignUp:
    """Sign up with a quote sealed on the intermediary's own side (the sign-up page's script, or `etender
    marketplace seal-quote`): the platform checks its structure without any key and stores it."""
    purchase, signup = _signup_checked(session, actor, purchase_id, None, sealed=True)
    if purchase.method not in rules.PRICED or not purchase.quote_key:
        raise ValidationFailed.one("quote_not_sealed", N_("This purchase takes no sealed quote."), "quote")
    try:
        sealedquotes.store(signup, purchase, sealed)
    except sealedquotes.sealing.SealedBidInvalid as e:
        raise ValidationFailed.one(
            "sealed_quote_invalid",
            N_("The sealed quote is not one for this purchase: seal it again with this purchase's key."),
            "quote",
        ) from e
    return _signed_up(session, actor, purchase, signup)


def _signup_checked(
    session: Session, actor: Actor, purchase_id: int, quote_fen: int | None, sealed: bool
) -> tuple[Purchase, SignUp]:
    require_role(actor, Role.intermediary)
    purchase = get(session, purchase_id, lock=True)
    entry = entries.entry_of_org(session, actor.organisation_id)
    ok = entry is not None and purchase.service_code in entries.active_services(session, entry)
    problems = rules.signup_problems(
        method=purchase.method,
        ceiling_fen=purchase.ceiling_fen,
        deadline=purchase.signup_deadline,
        now=clock.now(),
        approved=ok,
        quote_fen=1 if sealed else quote_fen,  # a sealed quote's amount is checked at its opening
    )
    if ok and actor.organisation_id in barred(session):
        problems.append(
            Problem(
                "intermediary_barred",
                N_(
                    "Your organisation is on the black list or has exited the marketplace; it cannot sign up."
                ),
            )
        )
    if (reason := exclusion_of(purchase, actor.organisation_id)) is not None:
        problems.append(
            Problem(
                "intermediary_excluded",
                N_("The owner excluded your organisation from this purchase: %(reason)s"),
                params={"reason": reason},
            )
        )
    if purchase.status != PurchaseStatus.open:
        problems.insert(0, Problem("signup_closed", N_("The sign-up deadline has passed.")))
    if problems:
        raise ValidationFailed(problems)
    signup = my_signup(session, actor, purchase)
    if signup is None:
        assert actor.organisation_id is not None and actor.user_id is not None
        signup = SignUp(
            purchase_id=purchase.id, organisation_id=actor.organisation_id, signed_up_by=actor.user_id
        )
        session.add(signup)
    return purchase, signup


def barred(session: Session) -> set[int]:
    """The organisations on the black list today (marketplace.credit): they may not sign up."""
    return credit.blacklisted(session, clock.to_cst(clock.now()).date())


def _signed_up(session: Session, actor: Actor, purchase: Purchase, signup: SignUp) -> SignUp:
    signup.signed_up_at = clock.now()
    session.flush()
    record(
        session,
        MarketplaceTag.purchase_signed_up,
        actor=actor,
        subject=_subject(purchase),
        details={"quoted": bool(signup.sealed_quote) or signup.quote_fen is not None},
        conceal_actor=True,
        withhold=Fact.participation,
    )
    return signup


@dataclass(frozen=True)
class Applicants:
    """Who signed up and how many, for a reader the policy lets see it (None otherwise)."""

    count: int | None
    names: list[tuple[int, str, int | None]] | None  # (organisation id, name, quote shown or None)


def applicants(session: Session, actor: Actor, purchase: Purchase) -> Applicants:
    now = clock.now()
    # the quotes with their names are public once the selection ran (Fact.bids, as a tender's opened bids)
    quotes = disclosure.may_see(actor, purchase, Fact.bids, now)
    if not (quotes or disclosure.may_see(actor, purchase, Fact.participation, now)):
        return Applicants(None, None)
    rows = session.execute(
        select(SignUp, Organisation)
        .join(Organisation, Organisation.id == SignUp.organisation_id)
        .where(SignUp.purchase_id == purchase.id)
        .order_by(SignUp.organisation_id)
    )
    names = [(o.id, o.name, s.quote_fen if quotes else None) for s, o in rows]
    return Applicants(len(names), names)


# ---------------------------------------------------------------- the selection


def owner_party(session: Session, purchase: Purchase) -> str:
    org = session.get(Organisation, purchase.owner_org_id)
    assert org is not None
    return f"owner:{org.credit_code}"


def selection_of(session: Session, purchase: Purchase) -> Selection | None:
    return session.scalars(select(Selection).where(Selection.purchase_id == purchase.id)).one_or_none()


def close_signup(session: Session, actor: Actor, purchase_id: int) -> Selection:
    """After the deadline: fix the applicant list, commit the server seed and log its commitment before the
    owner contributes (docs/marketplace-selection.md, step 1). Releases the withheld sign-up entries."""
    purchase = _owned(session, actor, purchase_id, lock=True)
    if purchase.status != PurchaseStatus.open:
        raise Conflict.one("signup_not_open", N_("Sign-up for this purchase is already closed."))
    if clock.now() < purchase.signup_deadline:
        raise Conflict.one(
            "signup_still_open", N_("Sign-up can only be closed after its deadline."), rule="§5.3"
        )
    ids = sorted(s.organisation_id for s in purchase.signups)
    server_seed = secrets.token_bytes(32)
    frozen = _freeze_credit(session, ids) if purchase.method == selection.CREDIT else None
    sel = Selection(
        purchase_id=purchase.id,
        request_id=f"{purchase.reference}/selection",
        server_seed=server_seed.hex(),
        commitment=fairdraw.commitment(server_seed).hex(),
        pool_root=fairdraw.pool_root(ids).hex(),
        applicant_ids=ids,
        parties=[owner_party(session, purchase)],
        contributions={},
        credit_frozen=frozen,
    )
    session.add(sel)
    purchase.status = PurchaseStatus.selecting.value
    session.flush()
    release_where(session, actor, subject=_subject(purchase), fact=Fact.participation)
    details = {
        "algorithm_version": selection.version_of(purchase.method),
        "request_id": sel.request_id,
        "method": purchase.method,
        "state_funds": purchase.state_funds,
        "commitment": sel.commitment,
        "pool_root": sel.pool_root,
        "applicants": len(ids),
        "parties": sel.parties,
    }
    if frozen is not None:
        # the frozen scores pinned before any seed is known, by their hash only (the ids stay confidential)
        details |= {
            "long_list_max": frozen["long_list_max"],
            "short_list_size": frozen["short_list_size"],
            "scores_on": frozen["on"],
            "applicants_sha256": selection.applicants_sha256(_scored(frozen, ids)),
        }
    record(
        session, MarketplaceTag.selection_committed, actor=actor, subject=_subject(purchase), details=details
    )
    return sel


def _freeze_credit(session: Session, ids: list[int]) -> dict[str, Any]:
    """The applicants' credit scores (and stars, for the owner's page) as marketplace.credit computes them
    from the rows today, frozen at sign-up close with the policy's list sizes (the credit shortlist,
    Guangdong): a later rating or complaint does not change a selection under way, and the record re-runs
    alone."""
    today = clock.to_cst(clock.now()).date()
    computed = credit.all_scores(session, today)
    newcomer = credit.score(None, 0, 0, False, False)  # no input at all: all_scores leaves it out
    scores = {}
    for i in ids:
        stars, count, value = computed.get(i, (None, 0, newcomer))
        scores[str(i)] = {"credit": value, "stars": stars, "ratings": count}
    return {
        "on": today.isoformat(),
        "long_list_max": selection.LONG_LIST_MAX,
        "short_list_size": selection.SHORT_LIST_SIZE,
        "scores": scores,
    }


def _scored(frozen: dict[str, Any], ids: list[int]) -> list[dict[str, Any]]:
    """The record's `applicants` of a credit shortlist: each id with its frozen score, sorted by id."""
    return [{"organisation_id": i, "credit_score": frozen["scores"][str(i)]["credit"]} for i in sorted(ids)]


def _collecting(session: Session, actor: Actor, purchase_id: int) -> tuple[Purchase, Selection, str]:
    purchase = _owned(session, actor, purchase_id, lock=True)
    require_role(actor, Role.project_owner)  # the owner's own value: an administrator cannot contribute it
    sel = selection_of(session, purchase)
    if sel is None or sel.status != SelectionStatus.collecting:
        raise Conflict.one(
            "selection_not_collecting", N_("This selection is not waiting for a random value.")
        )
    return purchase, sel, owner_party(session, purchase)


def _hex32(text: str, field: str) -> bytes:
    text = text.strip().lower()
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise ValidationFailed.one("not_hex32", N_("Enter 64 hexadecimal digits."), field)
    return value


def commit_contribution(session: Session, actor: Actor, purchase_id: int, commitment_hex: str) -> Selection:
    purchase, sel, party = _collecting(session, actor, purchase_id)
    commitment = _hex32(commitment_hex, "commitment").hex()
    known = sel.contributions.get(party)
    if known:
        if known["commitment"] == commitment:
            return sel
        raise Conflict.one(
            "contribution_committed_already", N_("A fingerprint was already submitted for this selection.")
        )
    sel.contributions = {**sel.contributions, party: {"commitment": commitment, "value": ""}}
    session.flush()
    record(
        session,
        MarketplaceTag.selection_contribution_committed,
        actor=actor,
        subject=_subject(purchase),
        details={"party": party, "commitment": commitment},
    )
    return sel


def reveal_contribution(session: Session, actor: Actor, purchase_id: int, value_hex: str) -> Selection:
    """Reveal the owner's value once every party has committed; the last reveal runs the selection."""
    purchase, sel, party = _collecting(session, actor, purchase_id)
    if clock.now() < purchase.selection_at:
        # the quotes are opened at the selection time the purchase announced, not earlier (rules.md §5.3)
        raise Conflict.one(
            "selection_time_not_reached",
            N_("The selection runs at its announced time, %(time)s; show your number then."),
            time=clock.to_cst(purchase.selection_at).strftime("%Y-%m-%d %H:%M"),
        )
    if any(p not in sel.contributions for p in sel.parties):
        raise Conflict.one(
            "contribution_reveal_early", N_("Submit the fingerprint first; reveal the number after it.")
        )
    value = _hex32(value_hex, "value")
    if fairdraw.sha256(value).hex() != sel.contributions[party]["commitment"]:
        raise ValidationFailed.one(
            "contribution_value_mismatch",
            N_("This number does not match the fingerprint submitted for it."),
            "value",
        )
    sel.contributions = {**sel.contributions, party: {**sel.contributions[party], "value": value.hex()}}
    session.flush()
    record(
        session,
        MarketplaceTag.selection_contribution_revealed,
        actor=actor,
        subject=_subject(purchase),
        details={"party": party, "commitment": sel.contributions[party]["commitment"], "value": value.hex()},
    )
    _run_when_ready(session, actor, purchase, sel)
    return sel


def release_quotes(session: Session, actor: Actor, purchase_id: int, private_key: str) -> Purchase:
    """The owner releases the purchase key at or after the selection time (marketplace.sealedquotes): the
    sealed quotes open; once the owner's value is shown too, the selection runs."""
    purchase = _owned(session, actor, purchase_id, lock=True)
    require_role(actor, Role.project_owner)  # the owner's key: an administrator does not hold it
    if purchase.method not in rules.PRICED or not purchase.quote_key:
        raise Conflict.one("quotes_not_sealed", N_("This purchase has no sealed quotes."))
    sel = selection_of(session, purchase)
    if sel is None or sel.status != SelectionStatus.collecting:
        raise Conflict.one("signup_not_closed", N_("Close sign-up first; the quotes open at the selection."))
    sealedquotes.release_key(session, actor, purchase, private_key)
    _run_when_ready(session, actor, purchase, sel)
    return purchase


def quotes_waiting(purchase: Purchase) -> bool:
    """A priced purchase whose sealed quotes are not open yet: the selection waits for the owner's key."""
    return purchase.method in rules.PRICED and bool(purchase.quote_key) and purchase.quotes_opened_at is None


def _run_when_ready(session: Session, actor: Actor, purchase: Purchase, sel: Selection) -> None:
    if quotes_waiting(purchase):
        return
    if all(sel.contributions.get(p, {}).get("value") for p in sel.parties):
        _run(session, actor, purchase, sel)


def _run(session: Session, actor: Actor, purchase: Purchase, sel: Selection) -> None:
    if purchase.method == selection.CREDIT:
        _run_credit(session, actor, purchase, sel)
        return
    quotes = {s.organisation_id: s.quote_fen for s in purchase.signups}
    applicants_ = [selection.Applicant(i, quotes.get(i)) for i in sel.applicant_ids]
    server_seed, pairs = _seed_inputs(sel)
    outcome = selection.select(
        purchase.method, purchase.state_funds, applicants_, server_seed, sel.request_id, pairs
    )
    doc = _record(purchase, sel, purchase.method, applicants_, outcome)
    _done(session, actor, purchase, sel, doc, outcome.winner, outcome.reason, outcome.coefficient_bp)


def _seed_inputs(sel: Selection) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The revealed server seed and the parties' revealed values, as selection and record take them."""
    # (one place, so that the record is built from exactly what the selection was run with)
    return bytes.fromhex(sel.server_seed), [
        (p, bytes.fromhex(sel.contributions[p]["value"])) for p in sel.parties
    ]


def _record(
    purchase: Purchase,
    sel: Selection,
    method: str,
    applicants_: list[selection.Applicant],
    outcome: selection.Outcome,
    **extra: Any,
) -> dict[str, Any]:
    """The selection's published record (docs/marketplace-selection.md); the credit shortlist adds its own."""
    server_seed, pairs = _seed_inputs(sel)
    return selection.to_record(
        purchase={"id": purchase.id, "reference": purchase.reference},
        method=method,
        state_funds=purchase.state_funds,
        request_id=sel.request_id,
        applicants=applicants_,
        server_seed=server_seed,
        contributions=pairs,
        outcome=outcome,
        **extra,
    )


def _done(
    session: Session,
    actor: Actor,
    purchase: Purchase,
    sel: Selection,
    doc: dict[str, Any],
    winner: int | None,
    reason: str,
    coefficient_bp: int | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The selection's end: the record published, the purchase selected or failed, the completion logged."""
    sel.record = doc
    sel.status = SelectionStatus.done.value
    sel.completed_at = clock.now()
    purchase.status = (PurchaseStatus.selected if winner is not None else PurchaseStatus.failed).value
    purchase.chosen_org_id = winner
    session.flush()
    record(
        session,
        MarketplaceTag.selection_completed if winner is not None else MarketplaceTag.selection_failed,
        actor=actor,
        subject=_subject(purchase),
        details={
            "server_seed": sel.server_seed,
            "record_sha256": selection.record_sha256(doc),
            "winner": winner,
            "reason": reason,
            "coefficient_bp": coefficient_bp,
            **(extra or {}),
        },
    )


def _credit_record(purchase: Purchase, sel: Selection, choice: dict[str, Any] | None) -> dict[str, Any]:
    frozen = sel.credit_frozen or {}
    applicants_ = [
        selection.Applicant(a["organisation_id"], credit_score=a["credit_score"])
        for a in _scored(frozen, sel.applicant_ids)
    ]
    server_seed, pairs = _seed_inputs(sel)
    sizes = {"long_list_max": frozen["long_list_max"], "short_list_size": frozen["short_list_size"]}
    outcome = selection.select(
        selection.CREDIT, purchase.state_funds, applicants_, server_seed, sel.request_id, pairs, **sizes
    )
    return _record(
        purchase, sel, selection.CREDIT, applicants_, outcome, scores_on=frozen["on"], choice=choice, **sizes
    )


def _run_credit(session: Session, actor: Actor, purchase: Purchase, sel: Selection) -> None:
    """The credit shortlist's draw: the long list from the frozen scores, the short list drawn from it. Too
    few applicants and the purchase fails at once; else the short list waits for the owner's choice, its
    record (without a choice) kept unpublished and pinned in the log by its SHA-256 only (who is on it stays
    with the owner until the choice; the server seed is published with the completion)."""
    doc = _credit_record(purchase, sel, None)
    result = doc["result"]
    if result["reason"]:
        _done(session, actor, purchase, sel, doc, None, result["reason"], None)
        return
    sel.record = doc
    sel.status = SelectionStatus.choosing.value
    session.flush()
    record(
        session,
        shortlist.ShortlistTag.selection_shortlisted,
        actor=actor,
        subject=_subject(purchase),
        details={
            "draw_sha256": selection.record_sha256(doc),
            "long_list": len(result["long_list"]),
            "short_list": len(result["short_list"]),
        },
    )
    params = {"reference": purchase.reference}
    notify(
        session,
        _users_of(session, result["short_list"]),
        shortlist.NOTIFICATION_KIND,
        title=shortlist.SHORTLISTED,
        params=params,
        link="/intermediary/purchases",
    )


def _users_of(session: Session, org_ids: list[int]) -> set[int]:
    if not org_ids:
        return set()
    return set(
        session.scalars(select(User.id).where(User.organisation_id.in_(org_ids), User.active.is_(True)))
    )


def short_list(session: Session, sel: Selection) -> list[tuple[int, str, dict[str, Any]]]:
    """The short list as the owner sees it: (organisation id, name, frozen {credit, stars, ratings}), in the
    drawn order. Empty unless the short list was drawn."""
    if sel.record is None or sel.record.get("method") != selection.CREDIT:
        return []
    ids = sel.record["result"]["short_list"]
    names = dict(
        session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
        .tuples()
        .all()
    )
    scores = (sel.credit_frozen or {}).get("scores", {})
    return [(i, names.get(i, ""), scores.get(str(i), {})) for i in ids]


def choose(session: Session, actor: Actor, purchase_id: int, org_id: int | None, confirmed: bool) -> Purchase:
    """The owner's choice from the credit short list (Guangdong 信用择优: "the owner chooses"): one of the
    short list, confirmed, once. Completes the record with the choice (who: the owner's party; when) and
    publishes it; the chosen and the other short-listed intermediaries are told."""
    purchase = _owned(session, actor, purchase_id, lock=True)
    require_role(actor, Role.project_owner)  # the owner's choice: the centre may not make it
    sel = selection_of(session, purchase)
    if sel is None or sel.status != SelectionStatus.choosing or sel.record is None:
        raise Conflict.one("selection_not_choosing", N_("This selection is not waiting for your choice."))
    drawn = sel.record["result"]["short_list"]
    if org_id is None or org_id not in drawn:
        raise ValidationFailed.one(
            "choice_not_shortlisted",
            N_("Choose one of the intermediaries on the short list."),
            "organisation_id",
            rule="§5.3",
        )
    if not confirmed:
        raise ValidationFailed.one(
            "choice_not_confirmed", N_("Confirm your choice: it cannot be changed afterwards."), "confirm"
        )
    now = clock.now()
    party = owner_party(session, purchase)
    choice = {"organisation_id": org_id, "party": party, "chosen_at": now.isoformat()}
    sel.chosen_by, sel.chosen_at = actor.user_id, now
    doc = selection.with_choice(sel.record, choice)
    _done(session, actor, purchase, sel, doc, org_id, "", None, {"choice": choice})
    params = {"reference": purchase.reference}
    notify(
        session,
        _users_of(session, [org_id]),
        shortlist.NOTIFICATION_KIND,
        title=shortlist.CHOSEN,
        params=params,
        link=f"/marketplace/purchases/{purchase.id}",
    )
    notify(
        session,
        _users_of(session, [i for i in drawn if i != org_id]),
        shortlist.NOTIFICATION_KIND,
        title=shortlist.NOT_CHOSEN,
        params=params,
        link=f"/marketplace/purchases/{purchase.id}",
    )
    return purchase


def public_record(session: Session, purchase_id: int) -> dict:  # type: ignore[type-arg]
    """The selection's record, public once it ran."""
    sel = selection_of(session, get(session, purchase_id))
    # a credit short list waiting for the owner's choice is not published yet (who is on it stays secret)
    if sel is None or sel.record is None or sel.status != SelectionStatus.done:
        raise NotFound.one("selection_record_not_found", N_("This purchase has no published selection."))
    return sel.record
