"""A micro-cache for the public notice list (page and JSON): identical anonymous requests within a couple of
seconds share one rendering. The list is public, the same for every anonymous visitor, and changes a few
times an hour; a notice published, suspended or cancelled shows in the list at most `ttl` seconds later
(the notice page itself is never cached). Logged-in people are never served from it (their header differs).
ETENDER_PUBLIC_CACHE_SECONDS=0 turns it off."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from litestar import Request
from litestar.response import Template

from web.deps import locale_of

REFRESH_TIMEOUT = 10.0  # seconds after which a refresh that never finished (an error) is tried again


class PublicCache:
    def __init__(self, ttl: float, max_entries: int = 512):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, ...], tuple[float, bytes]] = OrderedDict()
        self._refreshing: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def key(self, request: Request, kind: str, anonymous: bool) -> tuple[str, ...] | None:
        if self.ttl <= 0 or not anonymous or request.cookies.get("etender_session"):
            return None
        return (kind, locale_of(request), request.url.path, str(sorted(request.query_params.multi_items())))

    def get(self, key: tuple[str, ...] | None) -> bytes | None:
        """A fresh body; or, once it expired, the old one to everyone but the single request that renders
        the new one (None tells the caller to render and put()), so that an expiry under load does not
        send every concurrent request to the database at once."""
        if key is None:
            return None
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            expires, body = hit
            if expires >= now:
                return body
            started = self._refreshing.get(key)
            if started is not None and now - started < REFRESH_TIMEOUT:
                return body
            self._refreshing[key] = now
            return None

    def put(self, key: tuple[str, ...] | None, body: bytes) -> bytes:
        if key is not None:
            with self._lock:
                self._entries[key] = (time.monotonic() + self.ttl, body)
                self._refreshing.pop(key, None)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return body


def render(request: Request, template_name: str, **context: Any) -> bytes:
    """Render a page to bytes now (what Template does when the response is sent), so it can be cached."""
    ctx = Template(template_name=template_name, context=context).create_template_context(request)
    engine = request.app.template_engine
    assert engine is not None  # create_app always configures Jinja
    return engine.get_template(template_name).render(**ctx).encode()
