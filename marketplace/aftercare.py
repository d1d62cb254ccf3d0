"""After the selection (rules.md §5.4): the contract, entered by either side with its signed file and
confirmed by the other; the intermediary's service result, uploaded; the owner's acceptance of it or its
failure; the ratings of the owner, the supervising authority and the centre, weighted 5 : 3 : 2 into the
intermediary's stars (marketplace.ratings). Every rating is kept; none is changed in place. Services take a
session and an actor and never commit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.access import require_login
from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from marketplace import credit, disclosure, documents, entries, purchases, ratings, rules
from marketplace.events import MarketplaceTag
from marketplace.models import DocumentKind, MarketDocument, Purchase, PurchaseStatus, Rating


def side_of(actor: Actor, purchase: Purchase) -> str | None:
    """Which side of the contract the actor speaks for: the owner, the selected intermediary, or neither."""
    if actor.has(Role.project_owner) and actor.organisation_id == purchase.owner_org_id:
        return "owner"
    if actor.has(Role.intermediary) and actor.organisation_id == purchase.chosen_org_id:
        return "intermediary"
    return None


def _selected(session: Session, actor: Actor, purchase_id: int) -> tuple[Purchase, str]:
    require_login(actor)
    purchase = purchases.get(session, purchase_id, lock=True)
    side = side_of(actor, purchase)
    if side is None:
        raise Forbidden.one(
            "not_contract_party", N_("Only the owner and the selected intermediary may do this.")
        )
    if purchase.status != PurchaseStatus.selected or purchase.chosen_org_id is None:
        raise Conflict.one("not_selected", N_("The purchase has no selected intermediary."))
    return purchase, side


def contract_party(session: Session, actor: Actor, purchase_id: int) -> None:
    """Refused (403, 409) unless the actor is a side of the selected purchase: checked before a file is
    stored for it."""
    _selected(session, actor, purchase_id)


def enter_contract(
    session: Session,
    actor: Actor,
    purchase_id: int,
    number: str,
    amount_fen: int | None,
    file: documents.Stored | None,
) -> Purchase:
    """Either side enters the signed contract: its number, its amount (within the ceiling) and its file
    (documents.store_file first); entering it again before the other side confirms replaces it."""
    purchase, _ = _selected(session, actor, purchase_id)
    if purchase.contract_confirmed_at is not None:
        raise Conflict.one("contract_confirmed", N_("The contract is already confirmed by both sides."))
    problems = rules.too_long({"number": number}, {"number": 60})
    if not number.strip():
        problems.append(Problem("contract_number_missing", N_("Enter the contract's number."), "number"))
    if amount_fen is None or amount_fen <= 0:
        problems.append(
            Problem("contract_amount_missing", N_("Enter the contract's amount in yuan."), "amount")
        )
    elif amount_fen > purchase.ceiling_fen:
        problems.append(
            Problem(
                "contract_above_ceiling",
                N_("The contract's amount is above the purchase's ceiling."),
                "amount",
            )
        )
    if file is None:
        problems.append(
            Problem("contract_file_missing", N_("Attach the signed contract (PDF, OFD, JPG or PNG)."), "file")
        )
    if problems:
        raise ValidationFailed(problems)
    assert file is not None
    purchase.contract_number, purchase.contract_amount_fen = number.strip(), amount_fen
    purchase.contract_by_org_id, purchase.contract_at = actor.organisation_id, clock.now()
    doc = documents.attach(session, actor, purchase, DocumentKind.contract, file)
    record(
        session,
        MarketplaceTag.contract_entered,
        actor=actor,
        subject=f"purchase:{purchase.id}",
        details={
            "number": purchase.contract_number,
            "amount_fen": amount_fen,
            "file": {"name": doc.filename, "sha256": doc.sha256, "size": doc.size},
        },
    )
    return purchase


def confirm_contract(session: Session, actor: Actor, purchase_id: int) -> Purchase:
    purchase, _ = _selected(session, actor, purchase_id)
    if purchase.contract_by_org_id is None:
        raise Conflict.one("contract_missing", N_("No contract has been entered yet."))
    if purchase.contract_confirmed_at is not None:
        raise Conflict.one("contract_confirmed", N_("The contract is already confirmed by both sides."))
    if purchase.contract_by_org_id == actor.organisation_id:
        raise Conflict.one("contract_own", N_("The other side confirms the contract you entered."))
    purchase.contract_confirmed_at = clock.now()
    session.flush()
    signed = documents.current(session, purchase.id, DocumentKind.contract)
    record(
        session,
        MarketplaceTag.contract_confirmed,
        actor=actor,
        subject=f"purchase:{purchase.id}",
        # the file confirmed, by its digest: a later upload cannot pass for the one the other side agreed to
        details={"number": purchase.contract_number, "sha256": signed.sha256 if signed else None},
    )
    return purchase


def upload_result(session: Session, actor: Actor, purchase_id: int, file: documents.Stored) -> MarketDocument:
    """The selected intermediary uploads its service result (服务成果) once the contract is confirmed and
    until the owner has recorded the acceptance; a new upload before then replaces it as the current one."""
    purchase, side = _selected(session, actor, purchase_id)
    if side != "intermediary":
        raise Forbidden.one(
            "not_selected_intermediary", N_("Only the selected intermediary uploads the result.")
        )
    if purchase.contract_confirmed_at is None:
        raise Conflict.one("contract_unconfirmed", N_("The contract must be confirmed by both sides first."))
    if purchase.acceptance:
        raise Conflict.one("acceptance_recorded", N_("The acceptance is already recorded."))
    doc = documents.attach(session, actor, purchase, DocumentKind.service_result, file)
    record(
        session,
        MarketplaceTag.result_uploaded,
        actor=actor,
        subject=f"purchase:{purchase.id}",
        details={"file": {"name": doc.filename, "sha256": doc.sha256, "size": doc.size}},
    )
    return doc


def may_read_files(actor: Actor, purchase: Purchase) -> bool:
    """The purchase's files are its contract (core.disclosure Fact.contract, as a tender's: L46): the owner,
    the selected intermediary, the monitors and the centre's administrators, once the selection is final."""
    return disclosure.may_see(actor, purchase, Fact.contract, clock.now(), party_id=purchase.chosen_org_id)


def readable_document(session: Session, actor: Actor, document_id: int) -> MarketDocument:
    """A purchase's file for those who may read its contract (may_read_files); nobody else learns that it
    exists (404)."""
    require_login(actor)
    doc = session.get(MarketDocument, document_id)
    purchase = session.get(Purchase, doc.purchase_id) if doc else None
    if doc is None or purchase is None or not may_read_files(actor, purchase):
        raise NotFound.one("document_not_found", N_("No such file."))
    return doc


def record_acceptance(
    session: Session, actor: Actor, purchase_id: int, accepted: bool, note: str
) -> Purchase:
    purchase, side = _selected(session, actor, purchase_id)
    if side != "owner":
        raise Forbidden.one("not_purchase_owner", N_("Only the purchase's owner may do this."))
    if purchase.contract_confirmed_at is None:
        raise Conflict.one("contract_unconfirmed", N_("The contract must be confirmed by both sides first."))
    if purchase.acceptance:
        raise Conflict.one("acceptance_recorded", N_("The acceptance is already recorded."))
    result = documents.current(session, purchase.id, DocumentKind.service_result)
    if result is None:
        raise Conflict.one("result_missing", N_("The intermediary has not uploaded the service result yet."))
    if not accepted and not note.strip():
        raise ValidationFailed.one("failure_note_missing", N_("Say why the service result failed."), "note")
    purchase.acceptance = "accepted" if accepted else "failed"
    purchase.acceptance_note, purchase.accepted_at = note.strip(), clock.now()
    session.flush()
    record(
        session,
        MarketplaceTag.service_accepted if accepted else MarketplaceTag.service_failed,
        actor=actor,
        subject=f"purchase:{purchase.id}",
        details={"note": purchase.acceptance_note, "result_sha256": result.sha256},
    )
    return purchase


def rater_kind(actor: Actor, purchase: Purchase) -> str | None:
    if actor.has(Role.project_owner) and actor.organisation_id == purchase.owner_org_id:
        return ratings.OWNER
    if actor.has(Role.monitor):
        return ratings.AUTHORITY
    if actor.has(Role.admin):
        return ratings.CENTRE
    return None


def rate(
    session: Session, actor: Actor, purchase_id: int, scores: Mapping[str, int | None], comment: str
) -> Rating:
    require_login(actor)
    purchase = purchases.get(session, purchase_id, lock=True)
    kind = rater_kind(actor, purchase)
    if kind is None:
        raise Forbidden.one(
            "not_a_rater", N_("The owner, the supervising authority and the centre rate a service.")
        )
    problems = ratings.window_problems(
        purchase.accepted_at if purchase.acceptance == "accepted" else None, clock.now()
    ) + ratings.score_problems(scores)
    if problems:
        raise ValidationFailed(problems)
    if session.scalars(
        select(Rating).where(Rating.purchase_id == purchase.id, Rating.rater_kind == kind)
    ).first():
        raise Conflict.one("rated_already", N_("This service has already been rated from your side."))
    assert purchase.chosen_org_id is not None and actor.user_id is not None
    row = Rating(
        purchase_id=purchase.id,
        intermediary_org_id=purchase.chosen_org_id,
        rater_kind=kind,
        rated_by=actor.user_id,
        scores={k: int(scores[k]) for k in ratings.INDICATORS},  # type: ignore[arg-type]
        comment=comment.strip(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        MarketplaceTag.rating_recorded,
        actor=actor,
        subject=f"purchase:{purchase.id}",
        details={"rater": kind, "intermediary": purchase.chosen_org_id, "scores": row.scores},
    )
    credit.refresh(session, [row.intermediary_org_id])
    return row


def ratings_of(session: Session, purchase_id: int) -> list[Rating]:
    return list(session.scalars(select(Rating).where(Rating.purchase_id == purchase_id).order_by(Rating.id)))


def standing(session: Session, org_ids: Iterable[int] | None = None) -> dict[int, tuple[int | None, int]]:
    """Each intermediary's stars and number of ratings, from every rating kept (recomputed, never stored); a
    rating whose appeal was upheld counts with its reviewed scores (marketplace.appeals)."""
    query = select(Rating)
    if org_ids is not None:
        query = query.where(Rating.intermediary_org_id.in_(list(org_ids)))
    rows = list(session.scalars(query))
    counted = credit.effective_scores(session, rows)
    means, counts = credit.rating_means(
        (r.intermediary_org_id, r.purchase_id, r.rater_kind, counted[r.id]) for r in rows
    )
    return {org: (credit.stars_of(mean), counts[org]) for org, mean in means.items()}


def ranked_directory(
    session: Session, service: str = "", region: str = ""
) -> list[tuple[entries.Listed, int | None, int]]:
    """The public directory with each intermediary's stars and number of ratings, 5-star intermediaries first
    (rules.md §5.4), then by name."""
    listed = entries.directory(session, service=service, region=region)
    found = standing(session, [x.organisation.id for x in listed])
    rows = [(x, *found.get(x.organisation.id, (None, 0))) for x in listed]
    rows.sort(key=lambda r: (-(r[1] or 0), r[0].organisation.name))
    return rows
