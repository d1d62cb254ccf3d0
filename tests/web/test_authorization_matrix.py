"""The authorisation matrix: every endpoint of the app x every role, anonymous included.

The endpoints are read from the Litestar app itself, so an endpoint added later without a row makes
`test_every_endpoint_has_a_row_in_the_matrix` fail. Each cell is one test: one request by one role, and the
class of its outcome:

    ok         2xx, or a 3xx that is not the login redirect
    login      anonymous sent to log in: 303 to /login on pages, 401 JSON under /api
    forbidden  403 (a CSRF refusal never counts as one: it is reported as "csrf")
    notfound   404 (drafts that must not be revealed)
    allowed    anything but login/forbidden/notfound: the request reached the service and was either
               done (2xx/3xx) or refused for what it carried (400/409/422/429)

One world (organisations, users, a draft and published tenders, a question, an objection) is built per
backend and shared by the cells; a POST that succeeded may have changed it, so the next cell builds it
afresh. The order of the cells therefore does not matter.

The rows, the world and how a cell is requested are in tests/web/matrix.py; the `env` fixture (the app, its
client and the world, once per module) in tests/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.matrix import MATRIX, ROLES, Env, Row, app_endpoints, matches, request_cell

# ---------------------------------------------------------------- one cell


def _cells() -> list[Any]:
    out = []
    for row in MATRIX:
        for role in ROLES:
            marks = []
            if role in row.known_bugs:
                marks.append(pytest.mark.xfail(strict=True, reason=row.known_bugs[role]))
            out.append(pytest.param(row, role, id=f"{row.label}-{role}", marks=marks))
    return out


@pytest.mark.parametrize(("row", "role"), _cells())
def test_cell(env: Env, row: Row, role: str) -> None:
    expected = row.expect[role]
    actual, r = request_cell(env, row, role)
    assert matches(expected, actual), (
        f"{row.label} as {role}: expected {expected}, got {actual} "
        f"(HTTP {r.status_code}{' -> ' + r.headers['location'] if 'location' in r.headers else ''})"
    )


# ---------------------------------------------------------------- the matrix covers the app, and only the app


def test_every_endpoint_has_a_row_in_the_matrix(env: Env) -> None:
    declared = {row.key for row in MATRIX}
    missing = sorted(app_endpoints(env.app) - declared)
    assert not missing, "\n".join(f"route {m} {p} has no expectation in the matrix" for m, p in missing)


def test_every_row_of_the_matrix_is_an_endpoint(env: Env) -> None:
    stale = sorted({row.key for row in MATRIX} - app_endpoints(env.app))
    assert not stale, "\n".join(
        f"the matrix has a row for {m} {p}, which the app does not serve" for m, p in stale
    )


def test_every_row_names_every_role() -> None:
    for row in MATRIX:
        assert set(row.expect) == set(ROLES), row.label
        assert set(row.expect.values()) <= {"ok", "login", "forbidden", "notfound", "allowed"}, row.label
        assert set(row.known_bugs) <= set(ROLES), row.label
