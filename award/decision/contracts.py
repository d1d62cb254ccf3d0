"""The contract (L46, R57, R58, GR50): recorded by the tender's agency or purchaser with its amount, dates,
performance bond and the signed file; a government-procurement contract is published with it (GR50 and
G87-72: within 2 working days of its signature), on the public contract page. A contract signed after the 30
days is recorded as late, not refused: hiding it would hide the breach from the monitors. Services never
commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import record
from award.decision import rules
from award.decision.events import AwardTag
from award.decision.models import AwardNotice, NoticeKind
from award.decision.services import active_award, ensure_securities
from award.models import Award, Contract
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor
from storage.base import BlobStore, TooLarge
from tender import access, disclosure
from tender.models import Tender

MAX_FILE = 50 << 20
REFUSALS = {
    "contract_not_party": N_("Only the tender's agency or purchaser records the contract."),
    "contract_no_award": N_("No award stands: the contract follows the award and its notice (L46)."),
    "contract_exists": N_("The contract of this award is recorded already."),
    "contract_amount_missing": N_("Enter the contract amount in yuan."),
    "contract_amount_differs": N_(
        "The contract amount must be the awarded price, %(awarded)s yuan: the contract's price follows the "
        "winning bid (R57)."
    ),
    "contract_bond_over": N_(
        "The performance bond may be at most 10%% of the contract amount, %(max)s yuan (R58)."
    ),
    "contract_before_notice": N_("The contract cannot be signed before the award notice (%(notice)s)."),
    "contract_in_future": N_("The signing date is in the future; record the contract once it is signed."),
    "contract_ends_before_start": N_("The contract cannot end before it starts."),
    "contract_file_missing": N_("Attach the signed contract (PDF)."),
    "contract_file_large": N_("The signed contract may be at most %(mb)s MB."),
    "contract_file_unknown": N_("The uploaded contract file is gone; attach it again."),
    "contract_not_visible": N_(
        "The contract is published for government-procurement tenders only, once recorded."
    ),
}
FIELDS = {
    "contract_amount_missing": "amount",
    "contract_amount_differs": "amount",
    "contract_bond_over": "performance_bond",
    "contract_before_notice": "signed_on",
    "contract_in_future": "signed_on",
    "contract_ends_before_start": "ends_on",
}
RULES = {"contract_amount_differs": "R57", "contract_bond_over": "R58"}


@dataclass(frozen=True)
class ContractInput:
    amount: int  # fen
    signed_on: date
    starts_on: date | None
    ends_on: date | None
    performance_bond: int  # fen
    filename: str
    blob_key: str  # the signed file, stored first (store_file) so that the confirmation posts only its key


def _party(actor: Actor, tender: Tender) -> None:
    access.require_login(actor)
    if not (access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender)):
        raise Forbidden.one("contract_not_party", REFUSALS["contract_not_party"])


def require_party(session: Session, actor: Actor, tender_id: int) -> None:
    """The contract's forms are the tender's agency's and purchaser's: refused before anything is read."""
    _party(actor, access.get_tender(session, tender_id))


def store_file(
    session: Session, actor: Actor, store: BlobStore, tender_id: int, filename: str, chunks: Iterable[bytes]
) -> tuple[str, int]:
    """The signed file into blob storage (content-addressed: storing it twice is harmless): key, size."""
    tender = access.get_tender(session, tender_id)
    _party(actor, tender)
    if not filename:
        raise ValidationFailed.one("contract_file_missing", REFUSALS["contract_file_missing"], "file")
    try:
        info = store.put(chunks, max_size=MAX_FILE)
    except TooLarge as e:
        raise ValidationFailed.one(
            "contract_file_large", REFUSALS["contract_file_large"], "file", mb=MAX_FILE >> 20
        ) from e
    if info.size == 0:
        raise ValidationFailed.one("contract_file_missing", REFUSALS["contract_file_missing"], "file")
    return info.key, info.size


def award_notice_of(session: Session, award_id: int) -> AwardNotice | None:
    return session.scalar(
        select(AwardNotice).where(AwardNotice.award_id == award_id, AwardNotice.kind == NoticeKind.award)
    )


def check_contract(
    session: Session,
    actor: Actor,
    store: BlobStore,
    tender_id: int,
    data: ContractInput,
    *,
    lock: bool = False,
) -> tuple[Tender, Award, AwardNotice]:
    """Everything record_contract refuses, without writing: the form is checked before its confirmation."""
    tender = access.get_tender(session, tender_id, lock=lock)
    _party(actor, tender)
    award = active_award(session, tender.id)
    if award is None:
        raise Conflict.one("contract_no_award", REFUSALS["contract_no_award"], rule="L46")
    if session.scalar(select(Contract.id).where(Contract.award_id == award.id)) is not None:
        raise Conflict.one("contract_exists", REFUSALS["contract_exists"])
    notice = award_notice_of(session, award.id)
    assert notice is not None  # issued with the award
    now = clock.now()
    codes = rules.contract_problems(
        amount=data.amount,
        awarded=award.amount,
        bond=data.performance_bond,
        signed_on=data.signed_on,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        notice_issued_at=notice.issued_at,
        now=now,
    )
    if not data.blob_key or not store.exists(data.blob_key):
        codes.append("contract_file_unknown" if data.blob_key else "contract_file_missing")
    if codes:
        params = {
            "awarded": f"{award.amount / 100:,.2f}",
            "max": f"{max(data.amount, 0) * rules.BOND_MAX_PERCENT / 100 / 100:,.2f}",
            "notice": clock.to_cst(notice.issued_at).strftime("%Y-%m-%d"),
        }
        raise ValidationFailed(
            [Problem(c, REFUSALS[c], FIELDS.get(c, "file"), dict(params), RULES.get(c)) for c in codes]
        )
    return tender, award, notice


def record_contract(
    session: Session, actor: Actor, store: BlobStore, tender_id: int, data: ContractInput
) -> Contract:
    tender, award, notice = check_contract(session, actor, store, tender_id, data, lock=True)
    now = clock.now()
    late = rules.contract_late(notice.issued_at, data.signed_on)
    assert actor.user_id is not None
    contract = Contract(
        award_id=award.id,
        tender_id=tender.id,
        amount=data.amount,
        signed_on=data.signed_on,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        performance_bond=data.performance_bond,
        filename=data.filename[:255],
        blob_key=data.blob_key,
        sha256=data.blob_key,
        recorded_at=now,
        recorded_by=actor.user_id,
        # GR50: a government-procurement contract is published as it is recorded
        published_at=now if tender.government_procurement else None,
    )
    entry = record(
        session,
        AwardTag.contract_recorded,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "award": award.id,
            "amount_fen": data.amount,
            "signed_on": data.signed_on.isoformat(),
            "performance_bond_fen": data.performance_bond,
            "sha256": data.blob_key,
            "late": late,
            "published": tender.government_procurement,
            "publication_late": tender.government_procurement
            and now >= rules.publication_due(data.signed_on),
            "rule": "L46",
        },
    )
    contract.audit_index = entry.index
    session.add(contract)
    session.flush()
    ensure_securities(session, tender)  # R57: the refund deadlines start with the signature
    return contract


def published_contract(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, Contract]:
    """The public contract page: a government-procurement contract once published (GR50)."""
    tender = access.visible_tender(session, actor, tender_id)
    award = active_award(session, tender.id)
    contract = (
        session.scalar(select(Contract).where(Contract.award_id == award.id)) if award is not None else None
    )
    party = access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender)
    if contract is None:
        raise NotFound.one("contract_not_found", N_("No contract is recorded for this tender."))
    if party or disclosure.may_see(
        session, actor, tender, Fact.contract, award.organisation_id if award else None
    ):
        return tender, contract
    if contract.published_at is not None and disclosure.may_see(session, actor, tender, Fact.gp_contract):
        return tender, contract
    raise Forbidden.one("contract_not_visible", REFUSALS["contract_not_visible"])
