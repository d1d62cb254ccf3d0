"""The marketplace's browser world (tests/e2e/test_marketplace_walk.py): the catalogue, the centre's
administrator, a project owner, two approved intermediaries and one that has not applied yet, each with a
password to log in with."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy.orm import Session

from accounts.models import actor_for
from marketplace import entries
from tests.factories.accounts import TEST_PASSWORD, Maker
from tests.factories.marketplace import entry_input

PASSWORD = TEST_PASSWORD


def walk_world(session: Session) -> SimpleNamespace:
    make = Maker(session)
    make.n = 500
    entries.load_catalogue(session)
    w = SimpleNamespace()
    centre = make.org("trading_centre", "县公共资源交易中心")
    admin = make.user(centre, "admin", username="mc-admin")
    owner_org = make.org("purchaser", "县水利局")
    make.user(owner_org, "project_owner", username="mc-owner")
    w.firms = []
    for i, name in enumerate(("冀东检测有限公司", "唐山水质检测中心")):
        org = make.org("intermediary", name)
        org.region = "开发区"
        u = make.user(org, "intermediary", username=f"mc-firm{i + 1}")
        entry = entries.submit_entry(session, actor_for(u), entry_input())
        entries.approve_entry(session, actor_for(admin), entry.id)
        w.firms.append(u.username)
    newcomer = make.org("intermediary", "燕山检验检测有限公司")
    newcomer.region = "开发区"
    make.user(newcomer, "intermediary", username="mc-new")
    session.flush()
    return w
