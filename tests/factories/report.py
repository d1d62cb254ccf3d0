"""The evaluation report's world: room_world's committee checked in, a chair elected, the three steps closed
by the chair with outcomes of the shapes the review and scoring services write (evaluation.review, evaluation.
scoring), and Ed25519 keys for the members as their browsers would make them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from evaluation.report import rules, signing
from evaluation.room import steps
from evaluation.room.models import Step
from tender.models import Bid, OpenedBid
from tests.factories.room import check_in_all, elect_chair, start


def opened_bid_ids(w: SimpleNamespace) -> list[int]:
    return list(
        w.db.scalars(
            select(OpenedBid.id)
            .join(Bid, Bid.id == OpenedBid.bid_id)
            .where(Bid.tender_id == w.tender.id)
            .order_by(OpenedBid.id)
        )
    )


def outcomes(ids: list[int], members: list[Any], failed: bool = False) -> dict[Step, dict[str, Any]]:
    """Outcome JSON of the shapes the step services write."""
    valid, rejected = (ids[:-1], ids[-1:]) if not failed else ([], ids)
    review = {
        "valid": valid,
        "rejected": [
            {
                "bid": b,
                "criteria": [
                    {
                        "criterion": "营业执照",
                        "kind": "qualification",
                        "ground": "not_qualified",
                        "reasons": ["营业执照已过期"],
                        "for": 1,
                        "against": 4,
                    }
                ],
                "dissent": [{"seat": members[1][0].id, "criterion": "营业执照", "reason": "应予通过"}],
            }
            for b in rejected
        ],
        "dissent": [],
        "clarifications": [],
    }
    # the scoring step's shape (docs/scoring.md) without its "members": these worlds hold no sheets, which the
    # scoring's report section would otherwise sum (evaluation.scoring.sheets.report_section)
    scoring = {
        "method": "comprehensive",
        "bids": valid,
        "digests": {},
        "totals": {str(b): f"{90.5 - i:.2f}" for i, b in enumerate(valid)},
        "price": None,
    }
    if failed:
        ranking: dict[str, Any] = {
            "method": "comprehensive",
            "ranking": [],
            "candidates": [],
            "failed": {"reason": "all_rejected"},
            "tie": None,
        }
    else:
        ranking = {
            "method": "comprehensive",
            "ranking": [
                {
                    "rank": i + 1,
                    "bid": b,
                    "total": f"{90.5 - i:.2f}",
                    "price_fen": 100_000_00 + i,
                    "evaluated_price_fen": 100_000_00 + i,
                    "tie_break": None,
                }
                for i, b in enumerate(valid)
            ],
            "candidates": valid[:3],
            "failed": None,
            "tie": None,
        }
    return {Step.review: review, Step.scoring: scoring, Step.ranking: ranking}


def close_steps(w: SimpleNamespace, failed: bool = False, upto: Step = Step.ranking) -> None:
    chair = w.members[0][1]
    wm = steps.working_member(w.db, chair, w.tender.id)
    for step, outcome in outcomes(opened_bid_ids(w), w.members, failed).items():
        steps.close(w.db, chair, wm, step, outcome)
        if step is upto:
            break
    w.db.flush()


def report_world(w: SimpleNamespace, failed: bool = False) -> SimpleNamespace:
    """The session open, every member checked in, member 0 chairs, the steps closed; each member's key."""
    start(w)
    check_in_all(w)
    elect_chair(w, 0)
    close_steps(w, failed)
    w.private = {seat.id: Ed25519PrivateKey.generate() for seat, _ in w.members}
    return w


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def sign_as(w: SimpleNamespace, index: int, dissent: str = "", sha: str | None = None) -> Any:
    seat, actor = w.members[index]
    report = signing.report_of(w.db, steps.working_member(w.db, actor, w.tender.id).session)
    assert report is not None
    digest = sha or report.sha256
    signature = w.private[seat.id].sign(rules.signing_message(digest)).hex()
    return signing.sign(w.db, actor, w.tender.id, signing.Signing(digest, signature, dissent))
