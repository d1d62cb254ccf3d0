"""The evaluation room's world: draw_world's tender opened by its key holders, its ceremony closed (the tender
is being evaluated), a committee of five drawn (three civil, two power experts, two substitutes each way) with
every member confirmed, and a session booked in room 1 an hour ahead."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from core import clock
from evaluation.committee import draws
from evaluation.committee.models import Seat, SeatStatus
from evaluation.room import sessions
from tender.models import Bid, OpenedBid
from tender.opening import ceremony, decryption
from tender.opening import parts as opening_parts
from tests.factories.bids import header_doc_parts
from tests.factories.experts import draw_world, drawn
from tests.factories.tenders import move_to

ROOMS = ("Room A", "Room B", "Room C")


def open_and_close(w: SimpleNamespace, blobs) -> None:  # type: ignore[no-untyped-def]
    """The key holders submit their parts, every bid is decrypted, the agency closes the ceremony."""
    db = w.db
    made = list(db.scalars(select(Bid).where(Bid.tender_id == w.tender.id, Bid.status == "submitted")))
    for actor, uid in ((w.agency, w.agency_user.id), (w.monitor, w.monitor_user.id)):
        docs = header_doc_parts(db, blobs, w.tender, w.holder_keys[uid], made)
        opening_parts.submit_parts(db, actor, blobs, w.tender.id, {"bids": docs})
    db.flush()
    for ob_id in db.scalars(select(OpenedBid.id).where(OpenedBid.status == "pending")):
        job = decryption.claim(db, ob_id)
        if job is not None:
            decryption.finish_bid(db, job, decryption.decrypt(blobs, job))
    db.flush()
    ceremony.close(db, w.agency, w.tender.id)
    db.flush()


def member_actors(w: SimpleNamespace, status: str = SeatStatus.confirmed) -> list[tuple[Seat, object]]:
    """(seat, actor) of the draw's seats in `status`, in seat order."""
    seats = w.db.scalars(
        select(Seat).where(Seat.draw_id == w.draw.id, Seat.status == status).order_by(Seat.position)
    )
    return [(s, w.expert_actors[s.expert_id].actor) for s in seats]


def _specialties(draw, expert_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    for c in draw.candidates:
        if c["expert_id"] == expert_id:
            return set(c["specialties"])
    return set()


def room_world(db, make, blobs, tmp_path, *, book: bool = True, evaluate: bool = True) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    w = draw_world(db, make, blobs, tmp_path)
    if evaluate:
        open_and_close(w, blobs)
    w.draw = drawn(  # the whole protocol: the agency's request, the agency's and the monitors' contributions
        w,
        draws.DrawInput(
            committee_size=5, quotas=[("A01", 3), ("B01", 2)], evaluation_date=w.eval_day, substitutes=4
        ),
    )
    db.refresh(w.draw)
    for seat in [s for s in w.draw.seats if s.status == SeatStatus.notified]:
        draws.respond(db, w.expert_actors[seat.expert_id].actor, seat.id, True, w.channel)
    w.members = member_actors(w)
    # the tests that replace a member take the first ones: members whose specialty a substitute standing by
    # holds come first (the draw is random: its four substitutes may all serve one quota)
    standby = [
        c for c in w.draw.seats if c.status == SeatStatus.standby
    ]  # their specialties, as the draw's candidates list them
    held = {sp for c in standby for sp in _specialties(w.draw, c.expert_id)}
    w.members.sort(key=lambda m: m[0].specialty not in held)
    w.starts_at = clock.now() + timedelta(hours=1)
    if book:
        w.session = sessions.book(db, w.agency, w.tender.id, sessions.Booking(1, w.starts_at, 4), ROOMS)
    db.flush()
    return w


def start(w: SimpleNamespace) -> None:
    move_to(w.starts_at + timedelta(minutes=1))


def check_in_all(w: SimpleNamespace, n: int | None = None) -> None:
    for seat, actor in w.members[:n]:
        name = w.db.get(type(w.civil[0]), seat.expert_id).name
        sessions.check_in(w.db, actor, w.tender.id, sessions.CheckIn(name, True))
    w.db.flush()


def elect_chair(w: SimpleNamespace, index: int = 0) -> None:
    """The present members vote for member `index` until the majority elects them (the later votes would be
    refused: the chair is elected)."""
    chair_seat = w.members[index][0]
    for _, actor in w.members:
        sess = sessions.session_of(w.db, w.tender.id)
        if sess is not None and sess.chair_seat_id == chair_seat.id:
            break
        sessions.vote_chair(w.db, actor, w.tender.id, chair_seat.id)
    w.db.flush()
