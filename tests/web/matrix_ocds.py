"""Rows of the authorisation matrix for the OCDS open-data API (issue 14, web/opendata/api.py), and the world
they need.

tests/web/matrix.py adds ROWS to the matrix and calls extend_world(env, session, w) last while building its
world: the open-data sync runs once over the whole world, so the feed and the published tender's record hold
what is public at that moment. The adversary suite (tests/web/test_adversary.py) reads these routes too,
runs the sync again after its bidder took part, and finds no difference: no release says who bid before the
opening record."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from opendata import releases
from tests.web.matrix_support import Row, public

ROWS: list[Any] = [
    Row("GET", "/api/v1/ocds/releases", public()),
    Row("GET", "/api/v1/ocds/records/{ocid:str}", public(), params={"ocid": "ocds_ocid"}),
    Row(
        "GET",
        "/api/v1/ocds/extensions/{name:str}/{filename:str}",
        public(),
        params={"name": "ocds_extension", "filename": "ocds_extension_file"},
    ),
]


def extend_world(env: Any, s: Any, w: SimpleNamespace) -> None:
    releases.sync(s, env.settings)
    w.ocds_ocid = releases.ocid_for(env.settings, w.published)
    w.ocds_extension, w.ocds_extension_file = "etender_evaluation", "release-schema.json"
