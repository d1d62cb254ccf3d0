"""The demo's intermediary marketplace (issue 15): the shipped service catalogue; intermediaries in several
states (approved for testing, surveying or design; one waiting for review; one returned with reasons; one
suspended by an expired qualification; one on the black list; one exited by the misconduct rule); a project
owner's purchase selected by random draw three weeks ago, its contract confirmed, its result accepted and
rated; an optimal-price purchase open for sign-up with three sealed quotes; a lowest-price purchase nobody has
signed up for yet.

Accounts (password Demo-2026-market): zhongjie1 … zhongjie8 (intermediaries), yezhu1 (project owner of the
county education bureau). Called by demo.county's loader (load(loader)), through the same services as
everything else."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from accounts import services as accounts
from accounts.models import actor_for
from accounts.services import OrgInput, UserInput
from core import clock, credit_code
from demo.files import pdf_document
from marketplace import aftercare, credit, documents, entries, exits, purchases, rules
from tender import keyfiles, sealing

PASSWORD = "Demo-2026-market"
IP = "127.0.0.1"
FIRMS = (
    # name, region, services, final state
    ("某某市冀东工程检测有限公司", "某某市", ["testing"], "approved"),
    ("某某县建科检测中心有限公司", "某某县", ["testing", "consulting"], "approved"),
    ("某某华测检验认证有限公司", "某某市", ["testing"], "approved"),
    ("某某市勘察设计院有限公司", "某某县", ["survey", "design"], "approved"),
    ("某某宏远工程咨询有限公司", "某某县", ["consulting"], "submitted"),
    # credit states (issue 15): suspended by an expired qualification, on the black list, exited by a rule
    ("某某恒信检测技术有限公司", "某某县", ["testing"], "suspended"),
    ("某某诚达检测有限公司", "某某市", ["testing"], "blacklisted"),
    ("某某正元检验有限公司", "某某县", ["testing"], "exited"),
)
# The demo owner's key for the sealed quotes of its priced purchases (marketplace.sealedquotes), made from a
# fixed seed so that the demo can be walked: its key file is written beside the key holders' (write_key_file),
# passphrase PURCHASE_KEY_PASSPHRASE. Demo only: a real owner's key is made in the owner's browser.
PURCHASE_KEY = X25519PrivateKey.from_private_bytes(hashlib.sha256(b"etender demo purchase key").digest())
PURCHASE_KEY_PASSPHRASE = "demo-key-passphrase"
STAFF = ["赵磊", "孙丽", "周强", "吴敏", "郑浩", "钱进", "冯源", "褚亮"]
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


def _pdf(title: str) -> bytes:
    """A one-page demo file standing in for a scanned, signed original."""
    return pdf_document(
        [title.encode("ascii", "ignore").decode() or "etender demo file", "Demo file: no legal effect."]
    )


def _entry(services: list[str], n: int, expires_on: date | None = None) -> rules.EntryInput:
    return rules.EntryInput(
        services=services,
        licence_number=f"某市监营字第{130200 + n}号",
        independent_legal_person=True,
        no_violation_3y=True,
        internal_rules=True,
        credit_report="信用中国 2026-11 信用报告",
        commitment_signed_by=["王建国", "李明", "张伟", "刘洋", "陈静", "杨帆", "黄磊", "何平"][n],
        qualifications=[
            rules.Qualification(*QUALIFICATIONS[s], expires_on or date(2029, 6, 30))
            for s in services
            if s in QUALIFICATIONS
        ],
        staff=[
            rules.Staff(
                ["赵磊", "孙丽", "周强", "吴敏", "郑浩", "钱进", "冯源", "褚亮"][n],
                "注册工程师",
                f"ZC-{2026000 + n}",
            )
        ],
    )


def load(loader: Any) -> None:
    s, admin = loader.session, loader.admin
    rng = random.Random(20261504)
    entries.load_catalogue(s)
    firms = []
    states: dict[int, str] = {}
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
            # the suspended one's qualification was valid when it applied and expired 5 days ago
            expires = clock.to_cst(clock.now()).date() + timedelta(days=35) if state == "suspended" else None
            entry = entries.submit_entry(s, actor, _entry(services, n, expires))
            if n == 3:  # returned once with reasons, then resubmitted and approved
                entries.return_entry(s, admin, entry.id, "信用报告已超过有效期，请提供近三个月内的信用报告。")
                entry = entries.submit_entry(s, actor, _entry(services, n))
            if state != "submitted":
                entries.approve_entry(s, admin, entry.id)
            firms.append((org, actor))
            states[org.id] = state
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
                quote_key=sealing.b64u(sealing.public_bytes(PURCHASE_KEY)) if method in rules.PRICED else "",
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
        contract = documents.store_file(
            loader.blobs,
            "主体结构检测服务合同.pdf",
            [_pdf("Service contract JY-ZJ-2026-017: structural testing, 76,500.00 yuan")],
        )
        aftercare.enter_contract(s, chosen, done.id, "JY-ZJ-2026-017", 76_500 * 100, contract)
        aftercare.confirm_contract(s, owner, done.id)
    with _days_ago(5):
        report = documents.store_file(
            loader.blobs,
            "主体结构检测报告.pdf",
            [_pdf("Test report: main structure of the No. 1 middle school teaching building")],
        )
        aftercare.upload_result(s, chosen, done.id, report)
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
    # the credit states: a black-list entry in force, and an exit by the misconduct rule (the periodic sweep)
    today = clock.to_cst(clock.now()).date()
    by_state = {state: org for org, _ in firms if (state := states[org.id])}
    credit.add_listing(
        s,
        admin,
        by_state["blacklisted"].id,
        credit.BLACK,
        "在县城区道路检测项目中串通报价，经县发展和改革局查实。",
        "某某县发展和改革局",
        today - timedelta(days=10),
        today + timedelta(days=355),
    )
    exits.record_finding(
        s,
        admin,
        by_state["exited"].id,
        "misconduct",
        "出具的检测报告数据与原始记录不符。",
        "某某县市场监督管理局",
        today - timedelta(days=2),
    )
    exits.sweep(s)


def write_key_file(key_dir: Path) -> None:
    """The demo owner's purchase key file (yezhu1-purchase.etkey.json), to open the demo's sealed quotes."""
    key_dir.mkdir(parents=True, exist_ok=True)
    doc = keyfiles.protect(PURCHASE_KEY, PURCHASE_KEY_PASSPHRASE, label="yezhu1 purchase quotes")
    (key_dir / "yezhu1-purchase.etkey.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2))
