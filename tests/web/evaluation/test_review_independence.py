"""Independence (G87 art. 55, 62; E33): before the review is closed no GET route of the app shows anyone but
the member who entered it a member's verdict. The matrix's world (tests/web/matrix_review.py) has the room's
only member's verdict, its reason REVIEW_MARKER; every GET route is requested as every other role."""

from __future__ import annotations

from typing import Any

from tests.web import matrix
from tests.web.matrix_review import REVIEW_MARKER
from tests.web.matrix_room import ROOM


def _get_paths(e: Any, w: Any) -> list[tuple[str, dict[str, str]]]:
    """Every GET route, its {tender_id} the room's tender, other parameters from the matrix's rows."""
    rows = {row.path: row for row in matrix.MATRIX if row.method == "GET"}
    out = []
    for method, path in sorted(matrix.app_endpoints(e.app)):
        if method != "GET":
            continue
        row = rows[path]
        probe = matrix.Row("GET", path, row.expect, target=ROOM, params=row.params, query=row.query)
        out.append((matrix.concrete_path(probe, w), row.query))
    return out


def _get(e: Any, w: Any, role: str, path: str, query: dict[str, str]) -> Any:
    client = e.client
    client.cookies.clear()
    client.cookies.set("lang", "en")
    if role != "anonymous":
        uid, acting = w.users[role]
        client.set_session_data({matrix.SESSION_USER: uid, matrix.SESSION_ROLE: acting})
    return client.get(path, params=query, follow_redirects=False)


def test_before_the_review_closes_no_route_shows_a_members_verdict_to_anyone_else(env):
    w = env.current_world()
    review = f"/expert/tenders/{w.room_tender}/room/review"
    # the check finds what it looks for: the member who entered it sees it on their own page
    mine = _get(env, w, "expert", review, {})
    assert mine.status_code == 200 and REVIEW_MARKER in mine.text
    leaks = [
        f"{role} GET {path}"
        for role in matrix.ROLES
        if role != "expert"
        for path, query in _get_paths(env, w)
        if REVIEW_MARKER in _get(env, w, role, path, query).text
    ]
    assert not leaks, "\n".join(leaks)
