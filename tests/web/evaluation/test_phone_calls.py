"""The centre's expert calls page: the waiting seats with their phone numbers for administrators only, a bad
record re-shown with what was typed and what is wrong, a good one recorded and redirected (a reload does not
post again)."""

from __future__ import annotations

import pytest

from core import clock
from evaluation.committee import draws
from evaluation.committee.models import SeatStatus
from tests.factories.experts import drawn
from tests.web.support import login, zh


@pytest.fixture
def site(w, client):  # type: ignore[no-untyped-def]
    for expert in w.civil + w.power:
        expert.user_id, expert.phone = None, "13800138000"
    w.db.flush()
    w.draw = drawn(
        w,
        draws.DrawInput(
            committee_size=5, quotas=[("A", 3), ("B", 2)], evaluation_date=w.eval_day, substitutes=3
        ),
    )
    w.db.commit()
    w.client = client
    return w


def waiting(site):  # type: ignore[no-untyped-def]
    site.db.expire_all()
    seats = [s for s in site.draw.seats if s.status == SeatStatus.notified]
    site.db.commit()  # the read ends: on SQLite an open read would hold off the app's write
    return seats


def test_only_administrators_see_the_calls_page(site):
    login(site.client, site.agency_user.username)
    assert site.client.get("/admin/expert-calls").status_code == 403
    login(site.client, site.admin_user.username)
    page = site.client.get("/admin/expert-calls")
    assert page.status_code == 200 and zh("Expert calls") in page.text and "13800138000" in page.text
    assert page.text.count('action="/admin/expert-calls/') == len(waiting(site))


def test_a_bad_record_keeps_what_was_typed_and_a_good_one_redirects(site):
    token = login(site.client, site.admin_user.username)
    seat = waiting(site)[0]
    bad = site.client.post(
        f"/admin/expert-calls/{seat.id}",
        data={
            "accepted": "yes",
            "called_at": "",
            "spoke_with": "王工的同事",
            "note": "",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert bad.status_code == 422
    assert zh("Give the time of the call.") in bad.text and zh("Write down what was said.") in bad.text
    assert 'value="王工的同事"' in bad.text
    now = clock.to_cst(clock.now()).strftime("%Y-%m-%dT%H:%M")
    good = site.client.post(
        f"/admin/expert-calls/{seat.id}",
        data={
            "accepted": "yes",
            "called_at": now,
            "spoke_with": "本人",
            "note": "同意参加",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/admin/expert-calls"
    assert seat.id not in {s.id for s in waiting(site)}
    page = site.client.get("/admin/expert-calls")
    assert zh("The answer is recorded: the seat is confirmed.") in page.text
