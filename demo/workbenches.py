"""The demo's trading-centre records (issue 16), so that `make run` shows the workbenches filled in: two
projects
registered at the centre (进场登记), one linked to its agency's draft and one not drafted yet; the openings of
two tenders booked in the centre's opening rooms (so that the rooms' week has something in it besides the
evaluation session), and centre1's witnessing (见证) of the opening of the tender being evaluated.

Called at the end of demo.county's loader (load(loader)), through the same services as everything else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core import clock
from core.settings import Settings
from supervision import centre
from tender.centre import intake, rooms
from tender.models import Opening


def load(loader: Any, settings: Settings | None = None) -> None:
    s = loader.session
    staff = loader.actor("centre1")
    opening_rooms = settings.opening_rooms if settings else Settings.opening_rooms  # the default rooms' names
    playground = loader.tenders["playground"]  # a draft of agency1 for the education bureau
    now = clock.now()
    registered = intake.register(
        s,
        staff,
        intake.IntakeInput(
            reference="JY-2026-0318",
            title=playground.title,
            purchaser_id=playground.purchaser_id,
            agency_id=playground.agency_id,
            category=playground.category,
            funding="fiscal",
            planned_publication=now + timedelta(days=3),
            planned_opening=now + timedelta(days=28),
            remarks="县财政局批复资金，已完成项目审批。",
        ),
    )
    intake.link_draft(s, loader.actor("agency1"), playground.id, registered.id)
    intake.register(
        s,
        staff,
        intake.IntakeInput(
            reference="JY-2026-0325",
            title="某某县第二小学运动场改造工程",
            purchaser_id=playground.purchaser_id,
            agency_id=playground.agency_id,
            category="works",
            funding="mixed",
            planned_publication=now + timedelta(days=10),
            planned_opening=now + timedelta(days=35),
        ),
    )
    # the openings of the school (published) and the playground (the draft): at their deadlines
    school = loader.tenders["school"]
    for tender, room, actor in ((school, 1, staff), (playground, 2, loader.actor("agency1"))):
        if tender.bid_deadline is not None:
            start = clock.as_utc(tender.bid_deadline) - timedelta(minutes=30)  # set up the room first
            rooms.book_opening(s, actor, tender.id, rooms.OpeningBookingInput(room, start, 3), opening_rooms)
    # centre1 witnessed the opening of the tender now being evaluated (demo.evaluation_room)
    evaluated = loader.tenders.get("evaluation_room")
    opening = (
        s.scalars(select(Opening).where(Opening.tender_id == evaluated.id)).one_or_none()
        if evaluated
        else None
    )
    if evaluated is not None and opening is not None:
        at = min(clock.as_utc(opening.opens_at) + timedelta(minutes=5), now)
        centre.witness(
            s, staff, evaluated.id, centre.WitnessInput("opening", at, "开标过程规范，投标文件解密正常。")
        )
    s.flush()
