"""The draw's pages and API: the agency's request form (values kept on refusal) and seat counts without names,
the expert's confirm / decline / declare a conflict, and the record refused until the tender is final."""

from __future__ import annotations

import hashlib
import re
import secrets

import pytest
from sqlalchemy import select

from evaluation.committee import draw as pure
from evaluation.committee import draws
from evaluation.committee.models import Draw, Seat, SeatStatus
from evaluation.pool.models import Expert
from tender import supervision
from tests.web.support import login, zh

FORM = {
    "committee_size": "5",
    "substitutes": "3",
    "confirm_hours": "24",
    "quota_specialty_0": "A",
    "quota_seats_0": "3",
    "quota_specialty_1": "B",
    "quota_seats_1": "2",
}


@pytest.fixture
def site(w, client):
    w.db.commit()
    w.client = client
    return w


def request_only(site, **changes):  # type: ignore[no-untyped-def]
    token = login(site.client, site.agency_user.username)
    form = {**FORM, "evaluation_date": site.eval_day.isoformat(), **changes, "_csrf_token": token}
    return site.client.post(
        f"/agency/tenders/{site.tender.id}/draw/request", data=form, follow_redirects=False
    )


def post_json(site, username: str, path: str, body: dict):  # type: ignore[no-untyped-def,type-arg]
    token = login(site.client, username)
    return site.client.post(path, json=body, headers={"x-csrftoken": token})


def post_draw(site, **changes):  # type: ignore[no-untyped-def]
    """The agency's request, then both parties' numbers through the pages' JSON routes, as the browsers
    send them: each commits, then each reveals."""
    r = request_only(site, **changes)
    if r.status_code != 303:
        return r
    draw_id = site.db.scalars(select(Draw.id).order_by(Draw.id.desc())).first()
    site.db.commit()
    values = {u: secrets.token_bytes(32) for u in (site.agency_user.username, site.monitor_user.username)}
    for username, value in values.items():
        body = {"commitment": hashlib.sha256(value).hexdigest()}
        assert post_json(site, username, f"/draws/{draw_id}/contributions/commit", body).status_code == 201
    for username, value in values.items():
        done = post_json(site, username, f"/draws/{draw_id}/contributions/reveal", {"value": value.hex()})
        assert done.status_code == 201, done.text
    assert done.json() == {"status": "drawn"}
    login(site.client, site.agency_user.username)
    return r


def the_draw(site) -> Draw:  # type: ignore[no-untyped-def]
    """The draw as it is now, read and released: on SQLite an open test transaction would lock out the app."""
    site.db.expire_all()
    d = site.db.scalars(select(Draw)).one()
    for seat in d.seats:
        site.db.refresh(seat)
    for one in [*site.expert_actors.values()]:
        assert one.user.username  # loaded now, so reading it later needs no transaction
    assert site.agency_user.username and site.tender.reference
    site.db.commit()
    return d


def count(page: str, name: str) -> int:
    m = re.search(rf'data-count="{name}">(\d+)<', page)
    assert m, f"no {name} count on the page"
    return int(m.group(1))


def test_the_workspace_links_to_the_draw_after_the_deadline(site):
    login(site.client, site.agency_user.username)
    page = site.client.get(f"/agency/tenders/{site.tender.id}").text
    assert f"/agency/tenders/{site.tender.id}/draw" in page
    form = site.client.get(f"/agency/tenders/{site.tender.id}/draw").text
    assert 'name="committee_size"' in form and zh("Request the draw") in form


def test_a_refused_request_keeps_the_values_and_says_why(site):
    r = post_draw(site, committee_size="6", quota_seats_0="4", regions="North, South")
    assert r.status_code == 422
    assert (
        zh("The committee needs an odd number of members, at least 5; %(size)s is not allowed.", size=6)
        in r.text
    )
    assert 'value="6"' in r.text and 'value="North, South"' in r.text
    assert '<option value="A" selected' in r.text
    assert site.db.scalars(select(Draw)).first() is None


def test_an_unfillable_quota_names_the_specialty_and_the_shortfall(site):
    r = post_draw(site, quota_seats_0="1", quota_seats_1="4", committee_size="5", regions="Nowhere")
    assert r.status_code == 422
    assert (
        zh(
            "Not enough eligible experts for specialty %(specialty)s: %(needed)s seat(s) asked, %(short)s "
            "missing. Nothing was drawn; change the quotas or the region rules and draw again.",
            specialty="A",
            needed=1,
            short=1,
        )
        in r.text
    )


def test_the_agency_sees_counts_never_names(site):
    r = post_draw(site)
    assert r.status_code == 303 and r.headers["location"].endswith("/draw")
    d = the_draw(site)
    page = site.client.get(f"/agency/tenders/{site.tender.id}/draw").text
    assert count(page, "seats") == 5 and count(page, "confirmed") == 0 and count(page, "awaiting") == 5
    names = site.db.scalars(select(Expert.name).where(Expert.id.in_([s.expert_id for s in d.seats]))).all()
    assert names and not any(n in page for n in names)


def test_an_expert_confirms_and_the_agency_count_moves(site):
    post_draw(site)
    d = the_draw(site)
    seat = next(s for s in d.seats if s.status == SeatStatus.notified)
    who = site.expert_actors[seat.expert_id].user
    token = login(site.client, who.username)
    page = site.client.get("/expert/draws").text
    assert site.tender.reference in page and f"/expert/seats/{seat.id}/confirm" in page
    r = site.client.post(
        f"/expert/seats/{seat.id}/confirm", data={"_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    login(site.client, site.agency_user.username)
    assert count(site.client.get(f"/agency/tenders/{site.tender.id}/draw").text, "confirmed") == 1


def test_a_decline_calls_a_substitute_who_then_sees_the_seat(site):
    post_draw(site, substitutes="8")
    d = the_draw(site)
    seat = next(s for s in d.seats if s.status == SeatStatus.notified)
    token = login(site.client, site.expert_actors[seat.expert_id].user.username)
    assert (
        site.client.post(
            f"/expert/seats/{seat.id}/decline",
            data={"_csrf_token": token, "confirmed": "1"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    site.db.expire_all()
    called = site.db.scalars(select(Seat).where(Seat.replaces_seat_id == seat.id)).one()
    assert site.expert_actors[called.expert_id].user.username
    site.db.commit()
    login(site.client, site.expert_actors[called.expert_id].user.username)
    assert f"/expert/seats/{called.id}/confirm" in site.client.get("/expert/draws").text


def test_a_conflict_needs_a_reason_and_then_replaces_the_member(site):
    post_draw(site, substitutes="8")
    d = the_draw(site)
    seat = next(s for s in d.seats if s.status == SeatStatus.notified)
    token = login(site.client, site.expert_actors[seat.expert_id].user.username)
    r = site.client.post(
        f"/expert/seats/{seat.id}/conflict", data={"note": " ", "_csrf_token": token}, follow_redirects=False
    )
    assert (
        r.status_code == 422
        and zh("Say what the conflict is (for example, the bidder and your tie to it).") in r.text
    )
    r = site.client.post(
        f"/expert/seats/{seat.id}/conflict",
        data={"note": "My sister works there", "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    site.db.expire_all()
    assert site.db.get(Seat, seat.id).status == SeatStatus.conflict


def test_another_experts_seat_is_not_found(site):
    post_draw(site)
    d = the_draw(site)
    seat = next(s for s in d.seats if s.status == SeatStatus.notified)
    other = next(v for k, v in site.expert_actors.items() if k not in {s.expert_id for s in d.seats})
    token = login(site.client, other.user.username)
    assert (
        site.client.post(
            f"/expert/seats/{seat.id}/confirm", data={"_csrf_token": token}, follow_redirects=False
        ).status_code
        == 404
    )


def test_the_record_is_refused_until_final_then_public_and_verifiable(site):
    post_draw(site)
    d = the_draw(site)
    site.client.cookies.clear()
    r = site.client.get(f"/api/v1/draws/{d.id}/record")
    assert r.status_code == 403 and r.json()["error"]["code"] == "draw_record_not_public"
    assert site.client.get(f"/api/v1/draws/{d.id + 99}/record").json()["error"]["code"] == "draw_not_found"
    supervision.cancel(site.db, site.agency, site.tender.id, "Budget withdrawn")
    site.db.commit()
    r = site.client.get(f"/api/v1/draws/{d.id}/record")
    assert r.status_code == 409 and r.json()["error"]["code"] == "draw_record_pending"
    assert draws.publish_due_records(site.db) == [d.id]  # the scheduler's sweep
    site.db.commit()
    r = site.client.get(f"/api/v1/draws/{d.id}/record")
    assert r.status_code == 200
    doc = r.json()
    assert pure.verify(doc) == [] and doc["draw"]["id"] == d.id
    assert sorted(m[0] for m in doc["result"]["members"]) == sorted(
        s.expert_id for s in d.seats if s.kind == "member"
    )


def test_export_and_verify_draw_commands(site, database_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli.experts import experts

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ETENDER_DATA", str(tmp_path / "data"))
    post_draw(site)
    d = the_draw(site)
    runner = CliRunner()
    early = runner.invoke(experts, ["export-draw", str(d.id)])
    assert early.exit_code == 1 and "draw_record_not_public" in early.output
    supervision.cancel(site.db, site.agency, site.tender.id, "Budget withdrawn")
    site.db.commit()
    path = tmp_path / "record.json"
    assert runner.invoke(experts, ["export-draw", str(d.id), "-o", str(path)]).exit_code == 0
    ok = runner.invoke(experts, ["verify-draw", str(path)])
    assert ok.exit_code == 0 and ok.output.startswith("OK:")

    import json

    doc = json.loads(path.read_text())
    # a record rewritten so that it agrees with itself: a different server seed, its commitment and result
    # redone
    other_seed = bytes(range(32))
    doc["server_seed"], doc["commitment"] = other_seed.hex(), pure.commitment(other_seed).hex()
    request = pure.DrawRequest(
        doc["request"]["request_id"],
        5,
        [pure.Quota(q["specialty"], q["seats"]) for q in doc["request"]["quotas"]],
        3,
    )
    redone = pure.draw(
        request,
        [pure.Candidate(c["expert_id"], tuple(c["specialties"])) for c in doc["candidates"]],
        other_seed,
        None,
        contributions=[
            pure.Contribution(c["party"], bytes.fromhex(c["value"])) for c in doc["contributions"]
        ],
    )
    doc["result"] = {
        "seed": redone.seed.hex(),
        "ranking": redone.ranking,
        "members": [list(m) for m in redone.members],
        "substitutes": [list(s) for s in redone.substitutes],
    }
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    offline = runner.invoke(experts, ["verify-draw", "--offline", str(forged)])
    assert offline.exit_code == 0  # it agrees with itself...
    online = runner.invoke(experts, ["verify-draw", str(forged)])
    assert (
        online.exit_code == 1 and "commitment differs from the audit log" in online.output
    )  # ...but not with the log
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    assert runner.invoke(experts, ["verify-draw", str(bad)]).exit_code == 2


# ---------------------------------------------------------------- the parties' numbers (etender-draw-2)


def test_the_draw_page_waits_for_both_numbers_and_the_routes_refuse_what_the_protocol_forbids(site):
    r = request_only(site)
    assert r.status_code == 303
    draw_id = site.db.scalars(select(Draw.id)).one()
    site.db.commit()
    page = site.client.get(f"/agency/tenders/{site.tender.id}/draw").text
    assert 'id="draw-contribution"' in page and "/static/js/draw-contribution.js" in page
    assert zh("Add our random number") in page and 'data-count="seats"' not in page
    value = secrets.token_bytes(32)
    commitment = hashlib.sha256(value).hexdigest()
    agency = site.agency_user.username
    assert (
        post_json(
            site, agency, f"/draws/{draw_id}/contributions/commit", {"commitment": commitment}
        ).status_code
        == 201
    )
    early = post_json(site, agency, f"/draws/{draw_id}/contributions/reveal", {"value": value.hex()})
    assert early.status_code == 409 and early.json()["error"]["code"] == "contribution_reveal_early"
    state = site.client.get(f"/draws/{draw_id}/contributions").json()
    assert [(p["role"], p["committed"], p["mine"]) for p in state["parties"]] == [
        ("agency", True, True),
        ("monitor", False, False),
    ]
    outsider = post_json(
        site, site.bidder_user.username, f"/draws/{draw_id}/contributions/commit", {"commitment": commitment}
    )
    assert outsider.status_code == 403 and outsider.json()["error"]["code"] == "draw_not_a_party"
    # the monitor's tender page shows the draw and the monitor's own button
    login(site.client, site.monitor_user.username)
    monitor_page = site.client.get(f"/monitor/tenders/{site.tender.id}").text
    assert 'id="draw-contribution"' in monitor_page and f'data-draw="{draw_id}"' in monitor_page
    assert commitment[:4].upper() + "-" + commitment[4:8].upper() in monitor_page  # the agency's fingerprint


def test_the_agency_abandons_a_draw_with_a_reason_and_may_request_again(site):
    request_only(site)
    draw_id = site.db.scalars(select(Draw.id)).one()
    site.db.commit()
    token = login(site.client, site.agency_user.username)
    path = f"/agency/tenders/{site.tender.id}/draw/{draw_id}/abandon"
    refused = site.client.post(path, data={"reason": " ", "_csrf_token": token}, follow_redirects=False)
    assert (
        refused.status_code == 422
        and zh("Say why the draw is abandoned (it is logged and shown to monitors).") in refused.text
    )
    r = site.client.post(
        path, data={"reason": "Our stored number was lost", "_csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    page = site.client.get(f"/agency/tenders/{site.tender.id}/draw").text
    assert "Our stored number was lost" in page and 'name="committee_size"' in page
    login(site.client, site.monitor_user.username)
    assert "Our stored number was lost" in site.client.get(f"/monitor/tenders/{site.tender.id}").text
    assert post_draw(site).status_code == 303
    assert count(site.client.get(f"/agency/tenders/{site.tender.id}/draw").text, "seats") == 5
