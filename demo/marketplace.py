"""The demo's intermediary marketplace (issue 15): the shipped service catalogue; intermediaries in several
states (approved for testing, surveying or design; one waiting for review; one returned with reasons); a
project owner's purchase selected by random draw three weeks ago, its contract confirmed, its result accepted
and rated; an optimal-price purchase open for sign-up with three sealed quotes; a lowest-price purchase
nobody has signed up for yet.

Accounts (password Demo-2026-market): zhongjie1 … zhongjie5 (intermediaries), yezhu1 (project owner of the
county education bureau). Called by demo.county's loader (load(loader)), through the same services as
everything else."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from accounts import services as accounts
from accounts.models import actor_for
from accounts.services import OrgInput, UserInput
from core import clock, credit_code
from marketplace import aftercare, entries, purchases, rules

PASSWORD = "Demo-2026-market"
IP = "127.0.0.1"
FIRMS = (
    # name, region, services, final state
    ("某某市冀东工程检测有限公司", "某某市", ["testing"], "approved"),
    ("某某县建科检测中心有限公司", "某某县", ["testing", "consulting"], "approved"),
    ("某某华测检验认证有限公司", "某某市", ["testing"], "approved"),
    ("某某市勘察设计院有限公司", "某某县", ["survey", "design"], "approved"),
    ("某某宏远工程咨询有限公司", "某某县", ["consulting"], "submitted"),
)
QUALIFICATIONS = {
    "testing": ("检验检测机构资质认定（CMA）", "甲级"),
    "survey": ("工程勘察资质", "甲级"),
    "design": ("工程设计资质", "乙级"),
}


@contextmanager
def _days_ago(days: int) -> Iterator[None]:
    clock.shift(timedelta(days=-days))
    try:
        yield
    finally:
        clock.shift(timedelta(days=days))


def _entry(services: list[str], n: int) -> rules.EntryInput:
    return rules.EntryInput(
        services=services,
        licence_number=f"某市监营字第{130200 + n}号",
        independent_legal_person=True,
        no_violation_3y=True,
        internal_rules=True,
        credit_report="信用中国 2026-11 信用报告",
        commitment_signed_by=["王建国", "李明", "张伟", "刘洋", "陈静"][n],
        qualifications=[
            rules.Qualification(*QUALIFICATIONS[s], date(2029, 6, 30))
            for s in services
            if s in QUALIFICATIONS
        ],
        staff=[rules.Staff(["赵磊", "孙丽", "周强", "吴敏", "郑浩"][n], "注册工程师", f"ZC-{2026000 + n}")],
    )


def load(loader: Any) -> None:
    s, admin = loader.session, loader.admin
    rng = random.Random(20261504)
    entries.load_catalogue(s)
    firms = []
    with _days_ago(40):
        for n, (name, region, services, state) in enumerate(FIRMS):
            org = accounts.create_organisation(
                s,
                admin,
                OrgInput(
                    credit_code=credit_code.generate(rng), name=name, kind="intermediary", region=region
                ),
            )
            user = accounts.create_user(
                s,
                admin,
                UserInput(
                    username=f"zhongjie{n + 1}",
                    full_name=name[:4] + "联系人",
                    organisation_id=org.id,
                    roles=["intermediary"],
                    email=f"zhongjie{n + 1}@example.com",
                    phone=loader.phone(),
                    password=PASSWORD,
                ),
            )
            loader.users[user.username] = user
            actor = actor_for(user, IP)
            entry = entries.submit_entry(s, actor, _entry(services, n))
            if n == 3:  # returned once with reasons, then resubmitted and approved
                entries.return_entry(s, admin, entry.id, "信用报告已超过有效期，请提供近三个月内的信用报告。")
                entry = entries.submit_entry(s, actor, _entry(services, n))
            if state == "approved":
                entries.approve_entry(s, admin, entry.id)
            firms.append((org, actor))
    owner_user = accounts.create_user(
        s,
        admin,
        UserInput(
            username="yezhu1",
            full_name="冯涛",
            organisation_id=loader.orgs["education"].id,
            roles=["project_owner"],
            email="yezhu1@example.com",
            phone=loader.phone(),
            password=PASSWORD,
        ),
    )
    loader.users[owner_user.username] = owner_user
    owner = actor_for(owner_user, IP)
    testers = firms[:3]

    def purchase(method: str, project: str, ceiling_yuan: int, days: int) -> Any:
        now = clock.now()
        return purchases.post(
            s,
            owner,
            rules.PurchaseInput(
                service_code="testing",
                project=project,
                ceiling_fen=ceiling_yuan * 100,
                requirements="具备 CMA 资质，至少 3 名持证检测人员；服务期 30 日。",
                state_funds=True,
                method=method,
                signup_deadline=now + timedelta(days=days),
                selection_at=now + timedelta(days=days, hours=1),
            ),
        )

    # selected by random draw three weeks ago, contract confirmed, accepted and rated
    with _days_ago(30):
        done = purchase("random", "县第一中学教学楼主体结构检测", 80_000, 7)
        for _, actor in testers:
            purchases.sign_up(s, actor, done.id, None)
    with _days_ago(22):
        purchases.close_signup(s, owner, done.id)
        value = rng.randbytes(32)
        purchases.commit_contribution(s, owner, done.id, hashlib.sha256(value).hexdigest())
    with _days_ago(21):
        purchases.reveal_contribution(s, owner, done.id, value.hex())
        chosen = next(a for o, a in testers if o.id == done.chosen_org_id)
        aftercare.enter_contract(s, chosen, done.id, "JY-ZJ-2026-017", 76_500 * 100)
        aftercare.confirm_contract(s, owner, done.id)
    with _days_ago(3):
        aftercare.record_acceptance(s, owner, done.id, True, "检测报告齐全，结论明确。")
        aftercare.rate(
            s,
            owner,
            done.id,
            dict.fromkeys(("quality", "timeliness", "attitude", "fees", "conduct"), 5),
            "按时完成，报告规范。",
        )
        aftercare.rate(
            s, admin, done.id, {"quality": 5, "timeliness": 4, "attitude": 5, "fees": 4, "conduct": 5}, ""
        )
    # open for sign-up, three sealed quotes
    open_ = purchase("optimal", "县实验小学运动场塑胶跑道检测", 60_000, 7)
    for (_, actor), quote in zip(testers, (56_800, 54_200, 58_900), strict=True):
        purchases.sign_up(s, actor, open_.id, quote * 100)
    purchase("lowest", "县第二幼儿园室内空气质量检测", 20_000, 10)
