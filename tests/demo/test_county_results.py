"""The demo county's results (demo/results_publicity.py and demo/results_award.py, wired into demo/county.py):
one tender in its candidates' publicity with an objection answered, one awarded with its contract, one whose
signed report waits for its agency; every deadline of the procedure kept, and what the public, a monitor and
the parties read of them on their pages."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import TestClient
from sqlalchemy import select

from accounts.models import User, actor_for
from audit.verify import verify_chain
from award.decision import overdue, rules, services
from award.decision.models import AwardNotice
from award.models import Contract
from award.publicity import publicity
from award.publicity import rules as publicity_rules
from award.publicity.models import ResultObjection
from core import clock
from core.identity import anonymous
from demo import county as demo
from demo import evaluation_stages, results_award, results_publicity
from storage import open_store
from tender.models import Tender
from web.app import create_app
from web.i18n import translate


def _tender(db, key: str) -> Tender:  # type: ignore[no-untyped-def]
    title = next(s.spec.title for s in evaluation_stages.STAGES if s.key == key)
    return db.scalars(select(Tender).where(Tender.title == title)).one()


def _actor(db, username: str):  # type: ignore[no-untyped-def]
    return actor_for(db.scalars(select(User).where(User.username == username)).one(), "192.0.2.7")


def _login(client: TestClient, username: str, password: str) -> None:
    client.cookies.clear()
    client.get("/login")
    token = client.cookies.get("etender_csrf")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_the_demo_shows_the_publicity_the_award_and_the_contract(db, settings):  # type: ignore[no-untyped-def]
    demo.load(db, open_store(settings))
    db.commit()
    now = clock.now()
    in_publicity = _tender(db, "stage_evaluated")
    awarded = _tender(db, "stage_evaluated_dissent")
    waiting = _tender(db, "stage_evaluated_recent")

    # the candidates' publicity (R54, not government procurement), under way, published on time
    pub = publicity.publicity_of(db, in_publicity.id)
    report = publicity.signed_report(db, in_publicity.id)
    assert in_publicity.status == "publicity" and pub is not None and report is not None
    assert publicity.kind_of(in_publicity) is publicity_rules.Kind.candidates
    assert (
        report.completed_at
        < pub.published_at
        <= publicity_rules.publish_due(publicity_rules.Kind.candidates, report.completed_at)
    )
    assert pub.published_at < now < pub.ends_at
    public = publicity.view(db, anonymous("192.0.2.9"), in_publicity.id)
    assert public.may_object and public.open_objections == 0
    assert public.objections == []  # the public never learns who objected, nor what
    # its objection: raised during the publicity by a bidder other than no. 1, answered within its 3 days
    (obj,) = db.scalars(select(ResultObjection).where(ResultObjection.tender_id == in_publicity.id)).all()
    assert pub.published_at < obj.raised_at < obj.answered_at <= obj.answer_due
    assert obj.organisation_id != pub.candidates[0]["organisation_id"]
    (seen,) = publicity.view(db, _actor(db, "monitor1"), in_publicity.id).objections
    assert seen.item.text == results_publicity.OBJECTION and seen.item.answer == results_publicity.ANSWER
    assert seen.author and not seen.overdue

    # the award: after its publicity (a government-procurement result notice, on time), to no. 1 (R55)
    apub = publicity.publicity_of(db, awarded.id)
    areport = publicity.signed_report(db, awarded.id)
    assert awarded.status == "awarded" and apub is not None and areport is not None
    assert publicity.kind_of(awarded) is publicity_rules.Kind.result
    assert apub.published_at <= publicity_rules.publish_due(publicity_rules.Kind.result, areport.completed_at)
    result = services.result_view(db, anonymous("192.0.2.9"), awarded.id)
    award = result.active
    assert award is not None and award.rank == 1 and award.savings > 0
    assert result.names[award.organisation_id] == apub.candidates[0]["name"]
    assert apub.ends_at < award.decided_at
    notices = db.scalars(select(AwardNotice).where(AwardNotice.award_id == award.id)).all()
    assert len(notices) == 3 and all(n.issued_at == notices[0].issued_at for n in notices)
    # the contract within the 30 days of the award notice (L46), its bond 5% (R58), published (GR50)
    contract = db.scalars(select(Contract).where(Contract.award_id == award.id)).one()
    assert result.contract is not None and result.contract.id == contract.id
    issued = clock.to_cst(notices[0].issued_at).date()
    assert issued + timedelta(days=results_award.CONTRACT_AFTER_DAYS) == contract.signed_on
    assert not rules.contract_late(notices[0].issued_at, contract.signed_on)
    assert contract.performance_bond * 10 <= contract.amount and contract.starts_on and contract.ends_on
    # the one security still held is overdue by now: the monitors' alert (R57)
    late = [o for o in overdue.overdue(db, now) if o.tender_id == awarded.id]
    assert [o.kind for o in late] == ["refund_overdue"]

    # the third signed report waits for its agency, still in time to publish it (G87-69)
    view = publicity.view(db, _actor(db, "agency3"), waiting.id)
    assert waiting.status == "evaluated" and view.to_publish and view.publicity is None
    assert view.publish_due is not None and now < view.publish_due

    assert verify_chain(db).ok
    db.commit()  # the test's read transaction ends: the app's logins write (SQLite has one writer)

    # the pages: the public reads the publicity and the result notice, a monitor the objection
    with TestClient(app=create_app(settings)) as client:
        page = client.get(f"/tenders/{in_publicity.id}/publicity")
        assert page.status_code == 200
        assert translate("zh", "Publicity of the winning candidates") in page.text
        assert pub.candidates[0]["name"] in page.text and results_publicity.OBJECTION not in page.text
        page = client.get(f"/tenders/{awarded.id}/result")
        assert page.status_code == 200 and result.names[award.organisation_id] in page.text
        assert translate("zh", "Awarded on") in page.text
        _login(client, "monitor1", "Demo-2026-monitor")
        page = client.get(f"/tenders/{in_publicity.id}/publicity")
        assert results_publicity.OBJECTION in page.text and results_publicity.ANSWER in page.text
        assert (
            f"/tenders/{in_publicity.id}/publicity" in client.get(f"/monitor/tenders/{in_publicity.id}").text
        )
        # the purchaser's workbench leads to the publicity and to the award's page
        _login(client, "purchaser1", "Demo-2026-purchaser")
        page = client.get("/purchaser").text
        assert f"/tenders/{in_publicity.id}/publicity" in page and f"/award/tenders/{in_publicity.id}" in page
        # the agency's page offers to publish the waiting one
        _login(client, "agency3", "Demo-2026-agency")
        page = client.get(f"/agency/tenders/{waiting.id}").text
        assert f"/agency/tenders/{waiting.id}/publicity" in page
