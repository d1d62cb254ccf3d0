"""A request body that never arrives ends with 408 after ETENDER_BODY_TIMEOUT_SECONDS, on a real server."""

import json
import socket
import time
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support import serving

TIMEOUT = 0.5


def _stalled(url: str, request: bytes) -> tuple[float, bytes]:
    """Send `request` (headers announcing a body, and at most part of it), then wait: the answer and its
    delay."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        start = time.monotonic()
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):  # the server answers and closes the connection
            data += chunk
        return time.monotonic() - start, data


@pytest.fixture
def live(settings):
    with serving(replace(settings, body_timeout_seconds=TIMEOUT)) as url:
        yield url


def test_a_form_whose_body_never_arrives_is_408_with_the_error_page(live):
    head = (
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 500\r\n\r\nusername=ali"
    )
    took, answer = _stalled(live, head)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert TIMEOUT <= took < TIMEOUT + 3
    assert "请求内容中断".encode() in answer and b"<html" in answer.lower()


def test_an_api_body_that_never_arrives_is_408_with_the_error_json(live):
    c = httpx.Client(base_url=live)
    c.get("/login")
    token = c.cookies["etender_csrf"]
    head = (
        f"POST /api/v1/tenders/1/bids HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: 200\r\nx-csrftoken: {token}\r\nCookie: etender_csrf={token}\r\n\r\n"
    ).encode()
    took, answer = _stalled(live, head)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "request_timeout" and body["error"]["message"]
    assert took < TIMEOUT + 3


def test_a_body_that_arrives_slowly_but_steadily_is_read(live):
    def slow():
        for piece in (b"username=", b"nobody", b"&password=", b"x"):
            time.sleep(TIMEOUT / 3)
            yield piece

    c = httpx.Client(base_url=live)
    c.get("/login")
    token = c.cookies["etender_csrf"]
    # chunked, each piece well within the timeout, the whole body longer than it: answered, not 408
    r = c.post(
        "/login",
        content=(p for p in [f"_csrf_token={token}&".encode(), *slow()]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422, r.text[:300]  # the wrong password, read in full
