"""The demo's tenders at the later stages of the evaluation (issue 13), beside demo.evaluation_room's tender
whose session is about to start: one mid-scoring (the review closed, some members' sheets submitted),
one whose report waits for its members' signatures, and three whose report every member has signed
(evaluated), one of them with a clarification the bidder answered, a flagged score confirmed with its
reason, a minority's dissent in the review and a written dissent at signing. demo.county carries two of them
on (demo.results_award, demo.results_publicity); the third, signed yesterday, waits for its agency to publish.

Everything goes through the services, as a committee would: the draw with the agency's and a monitor's
contributions, the check-in, the chair's election, each member's verdicts and sheet, the chair's closing of
each step, the report; the loader makes each member's Ed25519 signing key on their behalf (in earnest each
browser makes its own, web/static/js/report-signing.js). The earlier stages happened on earlier days: the
clock is moved back for them, as demo.evaluation_room does.

The committees are the same five experts (the draw's quotas are chosen so that every eligible holder of their
specialties is drawn: the draw stays the real, verifiable draw, its outcome forced by its quotas); those of
them without an account get one (expert6 …, the experts' demo password), so that every member can be logged
in as. evaluated_tenders(loader) returns the evaluated tenders, for the results stages (publicity, award) to
be chained onto."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from accounts import services as accounts
from accounts.notifications import LogChannel
from accounts.services import UserInput
from core import clock
from core.identity import Actor
from core.settings import Settings
from evaluation.committee import draws
from evaluation.committee.avoidance import DrawCap
from evaluation.committee.models import Seat, SeatStatus
from evaluation.pool import experts as pool
from evaluation.pool.models import Expert, ExpertSpecialty, Specialty
from evaluation.report import rules as report_rules
from evaluation.report import signing
from evaluation.review import clarifications, review
from evaluation.room import reading, sessions
from evaluation.scoring import ranking, sheets
from tender import drafting, keyholders
from tender.models import Tender

COMMITTEE = 5
SEED = 20261207
# demo.county's expert password (docs/demo-accounts.md; not imported: demo.county imports this module)
EXPERT_PASSWORD = "Demo-2026-expert"


@dataclass(frozen=True)
class _Spec:
    """What the loader's tender_input and documents read of a demo tender (demo.county.TenderSpec's fields;
    not imported: demo.county imports this module)."""

    title: str
    agency_user: str
    purchaser: str
    category: str
    method: str
    lots: list[tuple[str, int, int, int]]
    description: str
    government_procurement: bool = True
    region: str = "某某县"


@dataclass(frozen=True)
class Stage:
    key: str
    spec: _Spec
    bidders: tuple[tuple[str, int, int], ...]  # username, price (yuan), delivery days
    hours_ago: int  # when the session started
    room: int
    upto: str  # "scoring" (some sheets submitted), "report" (awaiting signatures), "signed"
    submitted: int = COMMITTEE  # for "scoring": how many members have submitted
    rich: bool = False  # a clarification, a flagged score confirmed, a review dissent and a signing dissent
    base: tuple[tuple[int, ...], ...] = field(default_factory=tuple)  # each bid's scores per factor


# The goods scoring's factors (demo.county._criteria, comprehensive goods): 技术参数响应程度 30 objective,
# 产品质量与性能 15, 供货、安装及培训方案 10, 售后服务承诺 10 subjective, 近三年类似项目业绩 5 objective.
GOODS = ((27, 12, 8, 8, 5), (24, 11, 8, 7, 4), (21, 10, 7, 7, 3))

STAGES = (
    Stage(
        "stage_evaluated_dissent",
        _Spec(
            "某某县人民医院医用耗材集中采购（2026年第四季度）",
            "agency2",
            "hospital",
            "goods",
            "comprehensive",
            [("医用耗材集中采购", 1_860_000, 1_900_000, 30_000)],
            "一次性注射器、输液器、医用敷料等 46 个品目，供货期一年，按月配送至院内各科室。",
        ),
        (("bidder4", 1_742_500, 7), ("bidder5", 1_698_000, 10), ("bidder6", 1_815_300, 5)),
        hours_ago=24 * 20,
        room=1,
        upto="signed",
        rich=True,
        base=GOODS,
    ),
    Stage(
        "stage_evaluated",
        _Spec(
            "某某县教育局中小学课桌椅采购",
            "agency1",
            "education",
            "goods",
            "comprehensive",
            [("中小学课桌椅", 980_000, 1_000_000, 15_000)],
            "升降式课桌椅 2400 套，含运输、安装及旧桌椅回收，质保三年。",
            # not government procurement: its winning candidates are published (中标候选人公示, R54) for 3
            # days, rather than the 1 working day of a result notice (G87-69) that may end by the time a
            # reader logs in
            government_procurement=False,
        ),
        (("bidder6", 912_000, 20), ("bidder7", 948_600, 15), ("bidder8", 936_400, 18)),
        # signed two days ago: its publicity (demo.results_publicity, a day ago) is on time and under way
        hours_ago=24 * 2,
        room=1,
        upto="signed",
        base=GOODS,
    ),
    Stage(
        "stage_evaluated_recent",
        _Spec(
            "某某县住房和城乡建设局保障性住房小区路灯采购",
            "agency3",
            "housing",
            "goods",
            "comprehensive",
            [("太阳能路灯", 560_000, 580_000, 10_000)],
            "6 米太阳能 LED 路灯 180 套，含基础施工、安装调试及五年质保。",
        ),
        # not bidder2: expert1, one of the committee's five, declared an interest in it (demo.county)
        (("bidder5", 538_000, 25), ("bidder7", 529_600, 30), ("bidder8", 547_900, 20)),
        # signed yesterday and left so: its agency has 2 working days to publish the result notice (G87-69)
        hours_ago=26,
        room=2,
        upto="signed",
        base=GOODS,
    ),
    Stage(
        "stage_signing",
        _Spec(
            "某某县住房和城乡建设局办公设备采购",
            "agency3",
            "housing",
            "goods",
            "comprehensive",
            [("办公设备", 420_000, 450_000, 8_000)],
            "台式计算机 60 台、激光打印机 20 台、复印一体机 6 台，含安装调试及三年上门保修。",
        ),
        (("bidder4", 409_800, 15), ("bidder7", 398_500, 20), ("bidder8", 431_200, 10)),
        hours_ago=3,
        room=3,
        upto="report",
        base=GOODS,
    ),
    Stage(
        "stage_scoring",
        _Spec(
            "某某县人民医院病房护理床采购",
            "agency4",
            "hospital",
            "goods",
            "comprehensive",
            [("病房护理床", 760_000, 800_000, 12_000)],
            "多功能电动护理床 120 张、床头柜 120 个，含安装、培训及五年质保。",
        ),
        (("bidder5", 742_000, 25), ("bidder6", 728_900, 30), ("bidder8", 751_600, 20)),
        hours_ago=2,
        room=2,
        upto="scoring",
        submitted=3,
        base=GOODS,
    ),
)


@contextmanager
def _hours_ago(hours: float) -> Iterator[None]:
    clock.shift(timedelta(hours=-hours))
    try:
        yield
    finally:
        clock.reset()


def _publish(loader: Any, stage: Stage) -> Tender:
    """Published 40 days before its session, with 21 days to bid; three bids sealed and uploaded."""
    s, spec = loader.session, stage.spec
    with _hours_ago(stage.hours_ago + 24 * 40):
        agent = loader.actor(spec.agency_user)
        tender = drafting.create_tender(s, agent, loader.tender_input(spec, 21))
        loader.documents(stage.key, tender, spec)
        keyholders.generate_keys_for(s, tender, loader.holder_keys)
        loader.tenders[stage.key] = tender
        tender = drafting.publish(s, agent, tender.id)
        loader.download_all(tender, *(b for b, _, _ in stage.bidders))
        for bidder, _, _ in stage.bidders:
            loader.register(tender, bidder)
    with _hours_ago(stage.hours_ago + 24 * 25):
        for bidder, price, days in stage.bidders:
            loader.bid(tender, bidder, price, days)
    return tender  # type: ignore[no-any-return]


def _leaves(loader: Any) -> set[str]:
    s = loader.session
    parents = set(s.scalars(select(Specialty.parent_code).where(Specialty.parent_code.is_not(None))))
    return set(s.scalars(select(ExpertSpecialty.specialty_code))) - parents


def _fixed_quotas(loader: Any, tender: Tender, day: Any) -> list[tuple[str, int]]:
    """Quotas whose eligible holders are drawn every one, COMMITTEE in all: specialties whose eligible holders
    no other chosen specialty shares, each quota as large as its holders. The committee is then known before
    the draw, whatever its seed; among such sets, the one with the most experts who have an account."""
    s = loader.session
    codes = sorted(_leaves(loader))
    scope = draws.DrawInput(COMMITTEE, [(c, 1) for c in codes], day)
    found = draws.build_pool(s, tender, scope, DrawCap(), clock.now())
    holders: dict[str, set[int]] = {}
    for c in found.candidates:
        for code in c.specialties:
            holders.setdefault(code, set()).add(c.expert_id)
    accounts_ = set(s.scalars(select(Expert.id).where(Expert.user_id.is_not(None))))
    options = sorted(
        ((code, ids) for code, ids in holders.items() if len(ids) <= COMMITTEE),
        key=lambda x: (len(x[1] - accounts_), len(x[1]), x[0]),
    )
    best: tuple[int, list[tuple[str, int]]] | None = None

    def walk(i: int, chosen: list[tuple[str, set[int]]], used: set[int]) -> None:
        nonlocal best
        if len(used) == COMMITTEE:
            cost = len(used - accounts_)
            if best is None or cost < best[0]:
                best = (cost, [(code, len(ids)) for code, ids in chosen])
            return
        for j in range(i, len(options)):
            code, ids = options[j]
            if ids & used or len(used) + len(ids) > COMMITTEE:
                continue
            # a chosen expert holding this code too would make its quota draw from the chosen ones
            walk(j + 1, [*chosen, (code, ids)], used | ids)
            if best is not None and best[0] == 0:
                return

    walk(0, [], set())
    assert best is not None, "the demo pool has no set of specialties that fixes a committee of five"
    return best[1]


def _account_for(loader: Any, expert: Expert) -> None:
    """A drawn expert without an account gets one (expert6 …), linked to their pool entry."""
    n = 6 + sum(1 for name in loader.users if name.startswith("expert") and name[6:].isdigit()) - 5
    username = f"expert{n}"
    user = accounts.create_user(
        loader.session,
        loader.admin,
        UserInput(
            username=username,
            full_name=expert.name,
            organisation_id=None,
            roles=["expert"],
            email=f"{username}@example.com",
            phone=expert.phone,
            password=EXPERT_PASSWORD,
        ),
    )
    loader.users[username] = user
    pool.update_expert(
        loader.session,
        loader.admin,
        expert.id,
        pool.ExpertInput(
            name=expert.name,
            id_number=expert.id_number or "",
            title=expert.title,
            title_level=expert.title_level,
            years=expert.years,
            specialties=[x.specialty_code for x in expert.specialties],
            employer_code=expert.employer_code,
            employer_name=expert.employer_name,
            region=expert.region,
            phone=expert.phone,
            email=expert.email,
            account=username,
        ),
    )


def _member(loader: Any, expert_id: int) -> Actor:
    expert = loader.session.get(Expert, expert_id)
    if expert.user_id is None:
        _account_for(loader, expert)
    user = next(u for u in loader.users.values() if u.id == expert.user_id)
    return loader.actor(user.username)  # type: ignore[no-any-return]


def _committee(loader: Any, stage: Stage, tender: Tender, rooms: tuple[str, ...]) -> list[tuple[Seat, Actor]]:
    """The draw (the whole protocol, the parties' numbers made by the loader), every seat confirmed, the
    session booked to start a minute later."""
    s = loader.session
    agent = loader.actor(stage.spec.agency_user)
    day = clock.to_cst(clock.now()).date()
    channel = LogChannel()
    draw = draws.request_draw(
        s,
        agent,
        tender.id,
        draws.DrawInput(COMMITTEE, _fixed_quotas(loader, tender, day), day, substitutes=0, confirm_hours=72),
        channel,
    )
    rng = random.Random(f"{SEED}:{stage.key}")
    parties = (agent, loader.actor("monitor1"))
    values = {actor.user_id: rng.randbytes(32) for actor in parties}
    for actor in parties:
        draws.commit_contribution(s, actor, draw.id, hashlib.sha256(values[actor.user_id]).hexdigest())
    for actor in parties:
        draws.reveal_contribution(s, actor, draw.id, values[actor.user_id].hex(), channel)
    s.refresh(draw)
    members = []
    for seat in sorted(draw.seats, key=lambda x: x.position):
        if seat.status != SeatStatus.notified:
            continue
        actor = _member(loader, seat.expert_id)
        draws.respond(s, actor, seat.id, True, channel)
        members.append((seat, actor))
    assert len(members) == COMMITTEE, "the fixed quotas draw the whole committee"
    sessions.book(
        s, agent, tender.id, sessions.Booking(stage.room, clock.now() + timedelta(minutes=1), 8), rooms
    )
    s.flush()
    return members


def _sit(loader: Any, tender: Tender, members: list[tuple[Seat, Actor]]) -> None:
    s = loader.session
    for seat, actor in members:
        sessions.check_in(s, actor, tender.id, sessions.CheckIn(s.get(Expert, seat.expert_id).name, True))
    chair = members[0][0].id
    for _, actor in members[: COMMITTEE // 2 + 1]:
        sessions.vote_chair(s, actor, tender.id, chair)
    s.flush()


def _review(loader: Any, stage: Stage, tender: Tender, members: list[tuple[Seat, Actor]]) -> None:
    """Every member passes every bid on every criterion; in the rich stage one member fails the second
    bidder's after-sales criterion with a reason (the minority's dissent, G87 art. 64) and the chair asks the
    first bidder for a clarification it answers."""
    s = loader.session
    bids = [b["opened_bid"] for b in reading.opened_bids(s, tender.id)]
    criteria = review.criteria_for(tender)
    for m, (_, actor) in enumerate(members):
        for b, bid in enumerate(bids):
            entries = []
            for c in criteria:
                if stage.rich and m == 3 and b == 1 and c.kind == "compliance":
                    entries.append(
                        review.VerdictInput(
                            c.kind,
                            c.index,
                            False,
                            "no_substantive_response",
                            "投标文件对配送时效的响应为“48小时内”，招标文件要求24小时内，本人认为未实质性响应。",
                        )
                    )
                else:
                    entries.append(review.VerdictInput(c.kind, c.index, True, "", ""))
            review.save_verdicts(s, actor, tender.id, bid, entries)
    chair = members[0][1]
    if stage.rich:
        request = clarifications.send(
            s,
            chair,
            tender.id,
            clarifications.RequestInput(
                bids[0],
                "请澄清投标文件分项报价表第 17 项“医用敷料（10cm×10cm）”的单价与总价不一致之处，以何者为准。",
                clock.now() + timedelta(hours=1),
            ),
            LogChannel(),
        )
        bidder = loader.actor(stage.bidders[0][0])
        clarifications.answer(
            s,
            bidder,
            tender.id,
            request.id,
            clarifications.AnswerInput(
                "以单价为准：单价 0.86 元，数量 120000 片，总价应为 103200.00 元，投标总价不变（笔误）。",
                True,
            ),
        )
        clarifications.assess(
            s, chair, tender.id, request.id, True, "澄清未改变投标文件的实质性内容，予以采纳。"
        )
    review.close_review(s, chair, tender.id)
    s.flush()


def _scores(stage: Stage, m: int, b: int) -> list[int]:
    """Member m's scores for bid b: the bid's base, the subjective factors a point apart between members; the
    rich stage's member 1 scores the third bid's product quality far above the others (flagged)."""
    row = list(stage.base[b])
    for i in (1, 2, 3):  # the subjective factors
        row[i] = max(0, row[i] - (m + b + i) % 2)
    if stage.rich and m == 1 and b == 2:
        row[1] = 15
    return row


def _score(loader: Any, stage: Stage, tender: Tender, members: list[tuple[Seat, Actor]]) -> None:
    s = loader.session
    bids = sorted(b["opened_bid"] for b in reading.opened_bids(s, tender.id))
    for m, (_, actor) in enumerate(members[: stage.submitted]):
        entries = [
            sheets.EntryIn(bid, i, v)
            for b, bid in enumerate(bids)
            for i, v in enumerate(_scores(stage, m, b))
        ]
        saved = sheets.save(s, actor, tender.id, entries)
        assert not saved.problems, saved.problems
        sheets.submit(s, actor, tender.id)
    if stage.submitted < COMMITTEE:
        # the others have typed part of their sheets (saved as they type), not submitted
        for m, (_, actor) in enumerate(members[stage.submitted :], start=stage.submitted):
            sheets.save(
                s,
                actor,
                tender.id,
                [sheets.EntryIn(bids[0], i, v) for i, v in enumerate(_scores(stage, m, 0))],
            )
        s.flush()
        return
    if stage.rich:
        sheets.confirm_flag(
            s,
            members[1][1],
            tender.id,
            bids[2],
            1,
            "该投标人提供的产品通过了第三方质量检测且有三甲医院使用案例，质量明显优于其他投标人。",
        )
    chair = members[0][1]
    ranking.close_scoring(s, chair, tender.id)
    ranking.close_ranking(s, chair, tender.id, ranking.RankingInput(candidates=3))
    s.flush()


def _key(stage: Stage, seat: Seat) -> Ed25519PrivateKey:
    """The member's signing key, made by the loader on their browser's behalf (deterministic for the demo)."""
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"{SEED}:{stage.key}:{seat.id}".encode()).digest()
    )


def _report(loader: Any, stage: Stage, tender: Tender, members: list[tuple[Seat, Actor]]) -> None:
    s = loader.session
    chair = members[0][1]
    report = signing.generate(s, chair, tender.id, LogChannel())
    if stage.upto != "signed":
        # two members have made their keys and signed; the others have not yet
        members = members[:2]
    for m, (seat, actor) in enumerate(members):
        key = _key(stage, seat)
        signing.register_key(s, actor, tender.id, key.public_key().public_bytes_raw().hex())
        signature = key.sign(report_rules.signing_message(report.sha256)).hex()
        dissent = (
            "本人对第二名投标人配送时效的符合性审查结论持不同意见，理由已在初步评审中载明。"
            if stage.rich and m == 3
            else ""
        )
        signing.sign(s, actor, tender.id, signing.Signing(report.sha256, signature, dissent))
    s.flush()


def _evaluate(loader: Any, stage: Stage, rooms: tuple[str, ...]) -> None:
    from demo.evaluation_room import open_bids  # the key holders' parts and the ceremony, as there

    tender = _publish(loader, stage)
    with _hours_ago(stage.hours_ago + 1):
        open_bids(loader, tender, stage.spec.agency_user)
        members = _committee(loader, stage, tender, rooms)
    with _hours_ago(stage.hours_ago):
        _sit(loader, tender, members)
        _review(loader, stage, tender, members)
    with _hours_ago(max(stage.hours_ago - 1, 0.5)):
        _score(loader, stage, tender, members)
        if stage.upto in ("report", "signed"):
            _report(loader, stage, tender, members)


def load(loader: Any, settings: Settings | None = None) -> None:
    rooms = settings.evaluation_rooms if settings else Settings.evaluation_rooms
    for stage in STAGES:
        _evaluate(loader, stage, rooms)
    loader.session.flush()


def evaluated_tenders(loader: Any) -> list[Tender]:
    """The demo's tenders whose evaluation report every member has signed (status evaluated), oldest first:
    where the results stages (publicity of the candidates, the award) are chained on."""
    out = [loader.tenders[st.key] for st in STAGES if st.upto == "signed" and st.key in loader.tenders]
    for t in out:
        loader.session.refresh(t)
    return sorted((t for t in out if t.status == "evaluated"), key=lambda t: t.id)
