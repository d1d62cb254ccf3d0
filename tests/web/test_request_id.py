"""Every request has an id (issue 17): answered in X-Request-ID, the balancer's own kept when well formed, and
carried by every log record of the request, as one JSON object per line with ETENDER_LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import re

import pytest

from core import logs


@pytest.fixture
def json_logs(capsys):  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure("json", "INFO")
    capsys.readouterr()
    yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


def test_each_answer_carries_a_request_id(client):
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", first) and first != second
    assert (
        client.get("/healthz", headers={"X-Request-ID": "lb-4f2a.9"}).headers["x-request-id"] == "lb-4f2a.9"
    )
    forged = client.get("/healthz", headers={"X-Request-ID": 'x" injected\nline'}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", forged)  # not well formed: a new one, nothing of it in the logs


def test_the_access_record_is_json_with_the_request_id(client, json_logs):
    rid = client.get("/tenders/999999").headers["x-request-id"]
    records = [r for r in json_logs() if r.get("logger") == "etender.access"]
    mine = [r for r in records if r["request_id"] == rid]
    assert mine, records
    assert mine[0]["status"] == 404 and mine[0]["route"] == "/tenders/{tender_id}" and mine[0]["ms"] >= 0
    assert {"time", "level", "message"} <= mine[0].keys()


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="json"):
        logs.configure("xml")
